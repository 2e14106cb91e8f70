/*
 * bootinfo.c: reads struct hvm_start_info (see bootinfo.h). All
 * addresses come from the VMM and are identity-mapped below 4 GiB; an
 * address outside that range is refused rather than dereferenced.
 */
#include "bootinfo.h"

#include "layout.h"
#include "serial.h"

/* Only the statically mapped range can be read before memtest maps more. */
static int check_range(const char *what, uint64_t addr, uint64_t len)
{
	if (addr == 0 || addr >= PT_STATIC_GIB * GiB ||
	    len > PT_STATIC_GIB * GiB - addr) {
		serial__printf("ferry-guest: error: %s at 0x%lx (+%lu) is not "
			       "in mapped memory\n", what, addr, len);
		return -1;
	}
	return 0;
}

int bootinfo__read(uint32_t paddr, struct boot_info *bi)
{
	const struct hvm_start_info *si;
	unsigned int i;

	memset(bi, 0, sizeof(*bi));
	bi->start_info = paddr;
	if (check_range("hvm_start_info", paddr, sizeof(*si)))
		return -1;
	si = (const struct hvm_start_info *)(uintptr_t)paddr;
	if (si->magic != HVM_START_MAGIC) {
		serial__printf("ferry-guest: error: bad hvm_start_info magic "
			       "0x%x at 0x%x\n", si->magic, paddr);
		return -1;
	}
	bi->version = si->version;
	bi->rsdp = si->rsdp_paddr;

	if (si->cmdline_paddr) {
		const char *s = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n;

		if (check_range("command line", si->cmdline_paddr, 1))
			return -1;
		for (n = 0; n < BOOTINFO_CMDLINE_MAX && s[n]; n++)
			bi->cmdline[n] = s[n];
		if (n == BOOTINFO_CMDLINE_MAX) {
			serial__printf("ferry-guest: error: command line longer "
				       "than %u bytes\n", BOOTINFO_CMDLINE_MAX - 1);
			return -1;
		}
	}

	if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
		const struct hvm_memmap_entry *e;

		if (si->memmap_entries > BOOTINFO_MEMMAP_MAX) {
			serial__printf("ferry-guest: error: %u memmap entries, "
				       "at most %u supported\n",
				       si->memmap_entries, BOOTINFO_MEMMAP_MAX);
			return -1;
		}
		if (check_range("memmap", si->memmap_paddr,
				si->memmap_entries * sizeof(*e)))
			return -1;
		e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
		bi->nr_memmap = si->memmap_entries;
		for (i = 0; i < bi->nr_memmap; i++) {
			bi->memmap[i] = e[i];
			if (e[i].type == HVM_MEMMAP_TYPE_RAM)
				bi->ram_bytes += e[i].size;
		}
	}
	return 0;
}
