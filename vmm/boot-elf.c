/*
 * boot-elf.c: PVH boot of an ELF kernel (ELF64 x86-64 or ELF32 i386)
 * that carries the XEN_ELFNOTE_PHYS32_ENTRY note: validate the headers,
 * load PT_LOAD segments at their physical addresses, and build
 * struct hvm_start_info (version 1, with the memory map), the module
 * list (the initrd is module 0) and the command line at the addresses
 * of boot-layout.h. Every read from the image is bounds-checked.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vmm/boot-internal.h"
#include "vmm/boot-layout.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/util.h"

/* Xen's public elfnote.h: physical 32-bit entry point of a PVH kernel. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Xen's public start_info.h: "xEn3" with the 0x80 bit of the "E" set. */
#define HVM_START_MAGIC 0x336ec578
/* Version 1 added memmap_paddr/memmap_entries. */
#define HVM_START_VERSION 1

/* Program headers ferry accepts; a vmlinux has 5, anything near is odd. */
#define ELF_MAX_PHDRS 64

/* Layout of Xen's struct hvm_start_info (little-endian, natural alignment). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == BOOT_PVH_RSDP_OFF,
	       "rsdp_paddr offset");
_Static_assert(BOOT_START_INFO_ADDR + sizeof(struct hvm_start_info) <=
		       BOOT_MODLIST_ADDR, "modlist overlaps start_info");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* same values as e820 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");

/* Class-independent view of the parts of an ELF file ferry uses. */
struct elf_file {
	bool is64;
	uint64_t phoff;
	uint16_t phnum;
};

struct elf_seg {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

bool boot_elf__probe(const struct boot_image *img)
{
	uint8_t ident[SELFMAG];

	return boot_img_read(img, 0, ident, SELFMAG) &&
	       !memcmp(ident, ELFMAG, SELFMAG);
}

static int parse_ehdr(const struct boot_image *img, struct elf_file *ef)
{
	unsigned char ident[EI_NIDENT];
	uint16_t type, machine, phentsize, want_machine;
	uint64_t phend;

	if (!boot_img_read(img, 0, ident, EI_NIDENT)) {
		log_err("%s: truncated ELF header", img->name);
		return -EINVAL;
	}
	if (ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) {
		log_err("%s: unknown ELF class %u", img->name, ident[EI_CLASS]);
		return -ENOEXEC;
	}
	if (ident[EI_DATA] != ELFDATA2LSB || ident[EI_VERSION] != EV_CURRENT) {
		log_err("%s: not a little-endian ELF version 1 file",
			img->name);
		return -ENOEXEC;
	}
	ef->is64 = ident[EI_CLASS] == ELFCLASS64;
	if (ef->is64) {
		Elf64_Ehdr eh;

		if (!boot_img_read(img, 0, &eh, sizeof(eh))) {
			log_err("%s: truncated ELF64 header", img->name);
			return -EINVAL;
		}
		type = eh.e_type;
		machine = eh.e_machine;
		phentsize = eh.e_phentsize;
		ef->phoff = eh.e_phoff;
		ef->phnum = eh.e_phnum;
		want_machine = EM_X86_64;
	} else {
		Elf32_Ehdr eh;

		if (!boot_img_read(img, 0, &eh, sizeof(eh))) {
			log_err("%s: truncated ELF32 header", img->name);
			return -EINVAL;
		}
		type = eh.e_type;
		machine = eh.e_machine;
		phentsize = eh.e_phentsize;
		ef->phoff = eh.e_phoff;
		ef->phnum = eh.e_phnum;
		want_machine = EM_386;
	}
	if (type != ET_EXEC) {
		log_err("%s: ELF type %u is not an executable", img->name, type);
		return -ENOEXEC;
	}
	if (machine != want_machine) {
		log_err("%s: ELF machine %u is not %s", img->name, machine,
			ef->is64 ? "x86-64" : "i386");
		return -ENOEXEC;
	}
	if (phentsize != (ef->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))) {
		log_err("%s: bad program header size %u", img->name, phentsize);
		return -EINVAL;
	}
	if (ef->phnum == 0 || ef->phnum > ELF_MAX_PHDRS) {
		log_err("%s: %u program headers (want 1..%u)", img->name,
			ef->phnum, ELF_MAX_PHDRS);
		return -EINVAL;
	}
	if (add_overflow(ef->phoff, (uint64_t)ef->phnum * phentsize, &phend) ||
	    phend > img->size) {
		log_err("%s: program headers at 0x%llx run past the end of the "
			"file", img->name, (unsigned long long)ef->phoff);
		return -EINVAL;
	}
	return 0;
}

static int read_phdr(const struct boot_image *img, const struct elf_file *ef,
		     unsigned int i, struct elf_seg *seg)
{
	if (ef->is64) {
		Elf64_Phdr ph;

		if (!boot_img_read(img, ef->phoff + i * sizeof(ph), &ph,
				   sizeof(ph)))
			goto truncated;
		*seg = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr,
					 ph.p_filesz, ph.p_memsz };
	} else {
		Elf32_Phdr ph;

		if (!boot_img_read(img, ef->phoff + i * sizeof(ph), &ph,
				   sizeof(ph)))
			goto truncated;
		*seg = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr,
					 ph.p_filesz, ph.p_memsz };
	}
	return 0;
truncated:
	log_err("%s: program header %u truncated", img->name, i);
	return -EINVAL;
}

/*
 * Walk the notes of PT_NOTE segment @seg; on the PVH note set *entry and
 * *found. Notes are 4-byte aligned (what Linux and Xen emit for both
 * classes).
 */
static int scan_notes(const struct boot_image *img, const struct elf_seg *seg,
		      uint64_t *entry, bool *found)
{
	uint64_t off = seg->offset, end;

	if (add_overflow(seg->offset, seg->filesz, &end) || end > img->size) {
		log_err("%s: note segment [0x%llx, +0x%llx) runs past the end "
			"of the file", img->name,
			(unsigned long long)seg->offset,
			(unsigned long long)seg->filesz);
		return -EINVAL;
	}
	while (end - off >= 12) {
		uint32_t nh[3]; /* namesz, descsz, type */
		uint64_t name_off = off + 12, desc_off, next;
		char name[4];

		boot_img_read(img, off, nh, sizeof(nh));
		desc_off = name_off + ALIGN_UP((uint64_t)nh[0], 4);
		next = desc_off + ALIGN_UP((uint64_t)nh[1], 4);
		if (next > end) {
			log_err("%s: ELF note at 0x%llx (namesz %u, descsz %u) "
				"runs past its segment", img->name,
				(unsigned long long)off, nh[0], nh[1]);
			return -EINVAL;
		}
		if (nh[0] == 4 && nh[2] == XEN_ELFNOTE_PHYS32_ENTRY &&
		    boot_img_read(img, name_off, name, 4) &&
		    !memcmp(name, "Xen", 4)) {
			uint64_t v = 0;

			if (nh[1] != 4 && nh[1] != 8) {
				log_err("%s: PVH entry note has %u bytes of "
					"data (want 4 or 8)", img->name, nh[1]);
				return -EINVAL;
			}
			boot_img_read(img, desc_off, &v, nh[1]);
			if (v >= 1ULL << 32) {
				log_err("%s: PVH entry 0x%llx is not a 32-bit "
					"address", img->name,
					(unsigned long long)v);
				return -EINVAL;
			}
			*entry = v;
			*found = true;
		}
		off = next;
	}
	return 0;
}

/* Check that PT_LOAD @seg (number @i) can be loaded. */
static int check_load(struct guest_mem *mem, const struct boot_image *img,
		      unsigned int i, const struct elf_seg *seg)
{
	uint64_t fend, mend;

	if (seg->filesz > seg->memsz) {
		log_err("%s: segment %u: file size 0x%llx > memory size 0x%llx",
			img->name, i, (unsigned long long)seg->filesz,
			(unsigned long long)seg->memsz);
		return -EINVAL;
	}
	if (add_overflow(seg->offset, seg->filesz, &fend) || fend > img->size) {
		log_err("%s: segment %u: data [0x%llx, +0x%llx) runs past the "
			"end of the file (%zu bytes)", img->name, i,
			(unsigned long long)seg->offset,
			(unsigned long long)seg->filesz, img->size);
		return -EINVAL;
	}
	if (add_overflow(seg->paddr, seg->memsz, &mend)) {
		log_err("%s: segment %u: address 0x%llx + size 0x%llx overflows",
			img->name, i, (unsigned long long)seg->paddr,
			(unsigned long long)seg->memsz);
		return -EINVAL;
	}
	if (seg->paddr < BOOT_KERNEL_MIN ||
	    !mem__gpa_ptr(mem, seg->paddr, seg->memsz)) {
		log_err("%s: segment %u: [0x%llx, 0x%llx) is not in guest RAM "
			"above 1 MiB (RAM ends at 0x%llx, hole at 0x%llx)",
			img->name, i, (unsigned long long)seg->paddr,
			(unsigned long long)mend,
			(unsigned long long)mem__end(mem), MEM_HOLE_START);
		return -ENOMEM;
	}
	return 0;
}

static int write_start_info(struct guest_mem *mem, const struct boot_info *bi)
{
	struct e820_entry e820[MEM_MAX_E820];
	struct hvm_memmap_table_entry mm[MEM_MAX_E820];
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = bi->cmdline_addr,
		.memmap_paddr = BOOT_MEMMAP_ADDR,
	};
	int n, i, ret;

	n = mem__e820(mem, e820, ARRAY_SIZE(e820));
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){
			e820[i].addr, e820[i].size, e820[i].type, 0 };
	si.memmap_entries = (uint32_t)n;
	if (bi->initrd_size) {
		struct hvm_modlist_entry mod = {
			.paddr = bi->initrd_addr, .size = bi->initrd_size,
		};

		ret = mem__write(mem, BOOT_MODLIST_ADDR, &mod, sizeof(mod));
		if (ret)
			return ret;
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_MODLIST_ADDR;
	}
	ret = mem__write(mem, BOOT_MEMMAP_ADDR, mm, (uint64_t)n * sizeof(mm[0]));
	if (ret)
		return ret;
	return mem__write(mem, BOOT_START_INFO_ADDR, &si, sizeof(si));
}

int boot_elf__load(struct guest_mem *mem, const struct boot_image *kernel,
		   const struct boot_image *initrd, const char *cmdline,
		   struct boot_info *bi)
{
	struct boot_image img = *kernel;
	struct elf_file ef;
	struct elf_seg seg;
	uint64_t entry = 0, lo = UINT64_MAX, hi = 0;
	bool found = false, entry_loaded = false;
	unsigned int i, nr_load = 0;
	int ret;

	if (!img.name)
		img.name = "kernel";
	ret = parse_ehdr(&img, &ef);
	if (ret)
		return ret;

	/* Pass 1: validate everything before writing anything. */
	for (i = 0; i < ef.phnum; i++) {
		ret = read_phdr(&img, &ef, i, &seg);
		if (ret)
			return ret;
		if (seg.type == PT_NOTE) {
			ret = scan_notes(&img, &seg, &entry, &found);
			if (ret)
				return ret;
		}
		if (seg.type != PT_LOAD || seg.memsz == 0)
			continue;
		ret = check_load(mem, &img, i, &seg);
		if (ret)
			return ret;
		nr_load++;
		lo = MIN(lo, seg.paddr);
		hi = MAX(hi, seg.paddr + seg.memsz);
	}
	if (!found) {
		log_err("%s: ELF has no XEN_ELFNOTE_PHYS32_ENTRY note; ferry "
			"boots ELF kernels through PVH only", img.name);
		return -ENOEXEC;
	}
	if (!nr_load) {
		log_err("%s: ELF has no loadable segment", img.name);
		return -EINVAL;
	}

	/* Pass 2: load; also find the segment holding the entry point. */
	for (i = 0; i < ef.phnum; i++) {
		uint8_t *dst;

		read_phdr(&img, &ef, i, &seg);
		if (seg.type != PT_LOAD || seg.memsz == 0)
			continue;
		dst = mem__gpa_ptr(mem, seg.paddr, seg.memsz);
		memcpy(dst, img.data + seg.offset, seg.filesz);
		memset(dst + seg.filesz, 0, seg.memsz - seg.filesz);
		if (entry >= seg.paddr && entry - seg.paddr < seg.filesz)
			entry_loaded = true;
	}
	if (!entry_loaded) {
		log_err("%s: PVH entry 0x%llx is not inside a loaded segment",
			img.name, (unsigned long long)entry);
		return -EINVAL;
	}

	bi->kind = BOOT_KIND_PVH;
	bi->entry = entry;
	bi->kernel_start = lo;
	bi->kernel_end = hi;
	ret = boot__place_initrd(mem, initrd, hi, MEM_HOLE_END, bi);
	if (ret)
		return ret;
	ret = boot__write_cmdline(mem, cmdline, bi);
	if (!ret)
		ret = write_start_info(mem, bi);
	if (ret) {
		log_err("%s: cannot write the PVH start info: %s", img.name,
			strerror(-ret));
		return ret;
	}
	bi->params_addr = BOOT_START_INFO_ADDR;
	return 0;
}
