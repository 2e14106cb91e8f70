/*
 * boot-bzimage.c: Linux bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst). Validates the setup header against
 * the file, loads the protected-mode code at pref_address (or the lowest
 * aligned address above 1 MiB when the kernel is relocatable and that
 * does not fit), builds boot_params (the "zero page") with the e820 map,
 * command line and initrd, and writes identity page tables; the entry
 * point is the load address + 0x200 in long mode. The real-mode setup
 * code is never run.
 */
#include <errno.h>
#include <string.h>

#include "vmm/boot-internal.h"
#include "vmm/boot-layout.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/util.h"

/* Setup header fields: offsets in the file and in boot_params. */
#define HDR_SETUP_SECTS 0x1f1    /* u8: 512-byte sectors of setup; 0 = 4 */
#define HDR_SYSSIZE 0x1f4        /* u32: protected-mode size / 16 */
#define HDR_BOOT_FLAG 0x1fe      /* u16: 0xaa55 */
#define HDR_JUMP_LEN 0x201       /* u8: header ends at 0x202 + this */
#define HDR_MAGIC 0x202          /* u32: "HdrS" */
#define HDR_VERSION 0x206        /* u16: protocol version */
#define HDR_TYPE_OF_LOADER 0x210 /* u8 */
#define HDR_LOADFLAGS 0x211      /* u8 */
#define HDR_CODE32_START 0x214   /* u32 */
#define HDR_RAMDISK_IMAGE 0x218  /* u32 */
#define HDR_RAMDISK_SIZE 0x21c   /* u32 */
#define HDR_CMD_LINE_PTR 0x228   /* u32 */
#define HDR_INITRD_ADDR_MAX 0x22c /* u32 (2.03+) */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 (2.05+) */
#define HDR_RELOCATABLE 0x234    /* u8 (2.05+) */
#define HDR_XLOADFLAGS 0x236     /* u16 (2.12+) */
#define HDR_CMDLINE_SIZE 0x238   /* u32 (2.06+) */
#define HDR_PREF_ADDRESS 0x258   /* u64 (2.10+) */
#define HDR_INIT_SIZE 0x260      /* u32 (2.10+) */
/* The setup header occupies boot_params from 0x1f1 up to 0x290. */
#define HDR_START 0x1f1
#define HDR_END_MAX 0x290

#define HDR_MAGIC_VALUE 0x53726448 /* "HdrS" little-endian */
#define HDR_BOOT_FLAG_VALUE 0xaa55
#define HDR_MIN_VERSION 0x020c     /* 2.12: xloadflags, 64-bit entry */

#define LOADFLAGS_LOADED_HIGH 0x01 /* protected-mode code at 1 MiB+ */
#define XLF_KERNEL_64 0x0001       /* has the 64-bit entry at +0x200 */

/* boot_params fields outside the setup header. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32: high half of ramdisk_image */
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8 /* u8 */
#define BP_E820_TABLE 0x2d0   /* 128 packed entries of {u64, u64, u32} */
#define BP_E820_MAX 128
#define BP_E820_ENTRY_SIZE 20
#define BP_SIZE 4096

#define TYPE_OF_LOADER_UNDEFINED 0xff /* boot.rst: no assigned loader id */
#define LINUX_ENTRY64_OFFSET 0x200    /* startup_64 relative to the load */
#define SECTOR 512
#define DEFAULT_SETUP_SECTS 4         /* setup_sects == 0 means 4 */
#define DEFAULT_INITRD_ADDR_MAX 0x37ffffffU /* before protocol 2.03 */
#define DEFAULT_CMDLINE_SIZE 255            /* before protocol 2.06 */
#define DEFAULT_LOAD_ADDR 0x100000ULL       /* non-relocatable default */

/* What the loader needs from the setup header. */
struct linux_hdr {
	uint64_t setup_size;   /* bytes before the protected-mode code */
	uint64_t hdr_end;      /* setup header end (exclusive) in the file */
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t syssize;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
};

bool boot_bzimage__probe(const struct boot_image *img)
{
	uint32_t magic;

	return boot_img_u32(img, HDR_MAGIC, &magic) &&
	       magic == HDR_MAGIC_VALUE;
}

/* Read the header; every field read is bounds-checked against the file. */
static int parse_hdr(const struct boot_image *img, struct linux_hdr *h)
{
	uint8_t setup_sects, jump_len;
	uint16_t boot_flag;
	uint64_t pm_size;
	bool ok;

	memset(h, 0, sizeof(*h));
	ok = boot_img_u8(img, HDR_SETUP_SECTS, &setup_sects) &&
	     boot_img_u16(img, HDR_BOOT_FLAG, &boot_flag) &&
	     boot_img_u8(img, HDR_JUMP_LEN, &jump_len) &&
	     boot_img_u16(img, HDR_VERSION, &h->version) &&
	     boot_img_u32(img, HDR_SYSSIZE, &h->syssize);
	if (!ok) {
		log_err("%s: truncated Linux setup header", img->name);
		return -EINVAL;
	}
	if (boot_flag != HDR_BOOT_FLAG_VALUE) {
		log_err("%s: boot flag 0x%04x is not 0xaa55", img->name,
			boot_flag);
		return -EINVAL;
	}
	if (h->version < HDR_MIN_VERSION) {
		log_err("%s: boot protocol %u.%02u is too old; the 64-bit "
			"entry needs 2.12 or later", img->name,
			h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	h->setup_size = ((uint64_t)(setup_sects ? setup_sects
						: DEFAULT_SETUP_SECTS) + 1) *
			SECTOR;
	h->hdr_end = 0x202ULL + jump_len;
	if (h->setup_size >= img->size) {
		log_err("%s: truncated: %zu bytes, but the setup code alone is "
			"%llu", img->name, img->size,
			(unsigned long long)h->setup_size);
		return -EINVAL;
	}
	if (h->hdr_end > h->setup_size || h->hdr_end < HDR_INIT_SIZE + 4) {
		log_err("%s: setup header end 0x%llx is outside the setup code "
			"or too short for protocol 2.12", img->name,
			(unsigned long long)h->hdr_end);
		return -EINVAL;
	}
	/* The header lies inside the setup code, which is inside the file. */
	boot_img_u8(img, HDR_LOADFLAGS, &h->loadflags);
	boot_img_u16(img, HDR_XLOADFLAGS, &h->xloadflags);
	boot_img_u32(img, HDR_INITRD_ADDR_MAX, &h->initrd_addr_max);
	boot_img_u32(img, HDR_KERNEL_ALIGNMENT, &h->kernel_alignment);
	boot_img_u8(img, HDR_RELOCATABLE, &h->relocatable);
	boot_img_u32(img, HDR_CMDLINE_SIZE, &h->cmdline_size);
	boot_img_u64(img, HDR_PREF_ADDRESS, &h->pref_address);
	boot_img_u32(img, HDR_INIT_SIZE, &h->init_size);

	if (!(h->xloadflags & XLF_KERNEL_64)) {
		log_err("%s: no 64-bit entry point (XLF_KERNEL_64 clear in "
			"xloadflags 0x%04x)", img->name, h->xloadflags);
		return -ENOEXEC;
	}
	if (!(h->loadflags & LOADFLAGS_LOADED_HIGH)) {
		log_err("%s: not a bzImage (LOADED_HIGH clear)", img->name);
		return -ENOEXEC;
	}
	pm_size = img->size - h->setup_size;
	if (h->syssize == 0 || (uint64_t)h->syssize * 16 > pm_size) {
		log_err("%s: truncated: syssize says %llu bytes of kernel, the "
			"file has %llu after the setup code", img->name,
			(unsigned long long)h->syssize * 16,
			(unsigned long long)pm_size);
		return -EINVAL;
	}
	if (h->relocatable && (h->kernel_alignment == 0 ||
			       (h->kernel_alignment & (h->kernel_alignment - 1)))) {
		log_err("%s: kernel_alignment 0x%x is not a power of two",
			img->name, h->kernel_alignment);
		return -EINVAL;
	}
	return 0;
}

/* Does [addr, addr+len) lie in guest RAM at or above 1 MiB? */
static bool fits(struct guest_mem *mem, uint64_t addr, uint64_t len)
{
	return addr >= BOOT_KERNEL_MIN && mem__gpa_ptr(mem, addr, len);
}

/* Choose the load address for a footprint of @need bytes. */
static int choose_load_addr(struct guest_mem *mem, const struct boot_image *img,
			    const struct linux_hdr *h, uint64_t need,
			    uint64_t *addr)
{
	uint64_t pref = h->pref_address ? h->pref_address : DEFAULT_LOAD_ADDR;

	if (h->relocatable && pref % h->kernel_alignment)
		pref = ALIGN_UP(pref, (uint64_t)h->kernel_alignment);
	if (fits(mem, pref, need)) {
		*addr = pref;
		return 0;
	}
	if (h->relocatable) {
		uint64_t low = ALIGN_UP(BOOT_KERNEL_MIN,
					(uint64_t)h->kernel_alignment);

		if (fits(mem, low, need)) {
			*addr = low;
			return 0;
		}
	}
	log_err("%s: the kernel needs 0x%llx bytes at 0x%llx%s; guest RAM "
		"ends at 0x%llx", img->name, (unsigned long long)need,
		(unsigned long long)pref,
		h->relocatable ? " (or lower)" : " (not relocatable)",
		(unsigned long long)MIN(mem__end(mem), MEM_HOLE_START));
	return -ENOMEM;
}

static void put_u32(uint8_t *zp, unsigned int off, uint32_t v)
{
	memcpy(zp + off, &v, sizeof(v));
}

static int write_zero_page(struct guest_mem *mem, const struct boot_image *img,
			   const struct linux_hdr *h, uint64_t load,
			   const struct boot_info *bi)
{
	uint8_t zp[BP_SIZE] = { 0 };
	struct e820_entry e820[MEM_MAX_E820];
	int n, i;

	_Static_assert(BP_E820_TABLE + BP_E820_MAX * BP_E820_ENTRY_SIZE <=
			       BP_SIZE, "e820 table inside boot_params");
	/* Copy the setup header as the kernel's own tools expect. */
	memcpy(zp + HDR_START, img->data + HDR_START,
	       MIN(h->hdr_end, (uint64_t)HDR_END_MAX) - HDR_START);

	zp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
	put_u32(zp, HDR_CODE32_START, (uint32_t)load);
	put_u32(zp, HDR_CMD_LINE_PTR, (uint32_t)bi->cmdline_addr);
	put_u32(zp, BP_EXT_CMD_LINE_PTR, (uint32_t)(bi->cmdline_addr >> 32));
	put_u32(zp, HDR_RAMDISK_IMAGE, (uint32_t)bi->initrd_addr);
	put_u32(zp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(bi->initrd_addr >> 32));
	put_u32(zp, HDR_RAMDISK_SIZE, (uint32_t)bi->initrd_size);
	put_u32(zp, BP_EXT_RAMDISK_SIZE, (uint32_t)(bi->initrd_size >> 32));

	n = mem__e820(mem, e820, ARRAY_SIZE(e820));
	if (n < 0)
		return n;
	_Static_assert(MEM_MAX_E820 <= BP_E820_MAX, "e820 fits boot_params");
	for (i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;

		memcpy(e, &e820[i].addr, 8);
		memcpy(e + 8, &e820[i].size, 8);
		memcpy(e + 16, &e820[i].type, 4);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	return mem__write(mem, BOOT_ZERO_PAGE_ADDR, zp, sizeof(zp));
}

int boot_bzimage__load(struct guest_mem *mem, const struct boot_image *kernel,
		       const struct boot_image *initrd, const char *cmdline,
		       struct boot_info *bi)
{
	struct boot_image img = *kernel;
	struct linux_hdr h;
	uint64_t pm_size, need, load, initrd_end_max, cmdline_max;
	int ret;

	if (!img.name)
		img.name = "kernel";
	ret = parse_hdr(&img, &h);
	if (ret)
		return ret;

	cmdline_max = h.version >= 0x0206 ? h.cmdline_size
					  : DEFAULT_CMDLINE_SIZE;
	if (strlen(cmdline) > cmdline_max) {
		log_err("%s: command line is %zu bytes; this kernel accepts at "
			"most %llu", img.name, strlen(cmdline),
			(unsigned long long)cmdline_max);
		return -E2BIG;
	}

	pm_size = img.size - h.setup_size;
	need = MAX(pm_size, (uint64_t)h.init_size);
	ret = choose_load_addr(mem, &img, &h, need, &load);
	if (ret)
		return ret;
	ret = mem__write(mem, load, img.data + h.setup_size, pm_size);
	if (ret) {
		log_err("%s: cannot load the kernel at 0x%llx", img.name,
			(unsigned long long)load);
		return ret;
	}

	bi->kind = BOOT_KIND_LINUX64;
	bi->entry = load + LINUX_ENTRY64_OFFSET;
	bi->kernel_start = load;
	bi->kernel_end = load + need;

	/* initrd_addr_max is the highest address the initrd may occupy. */
	initrd_end_max = (uint64_t)(h.initrd_addr_max ? h.initrd_addr_max
						      : DEFAULT_INITRD_ADDR_MAX) +
			 1;
	ret = boot__place_initrd(mem, initrd, bi->kernel_end, initrd_end_max,
				 bi);
	if (ret)
		return ret;
	ret = boot__write_cmdline(mem, cmdline, bi);
	if (!ret)
		ret = write_zero_page(mem, &img, &h, load, bi);
	if (!ret)
		ret = boot__write_page_tables(mem, bi);
	if (ret) {
		log_err("%s: cannot write boot_params or page tables: %s",
			img.name, strerror(-ret));
		return ret;
	}
	bi->params_addr = BOOT_ZERO_PAGE_ADDR;
	return 0;
}
