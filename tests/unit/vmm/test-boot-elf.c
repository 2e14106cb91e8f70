/*
 * test-boot-elf.c: PVH loading of synthetic ELF64/ELF32 kernels into
 * guest memory from mem__create(): segments, bss, start_info, memory
 * map, command line, initrd as module 0; every class of malformed image
 * is refused with the right error; random corruption never crashes.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/boot-layout.h"
#include "vmm/boot.h"
#include "vmm/mem.h"
#include "vmm/util.h"

#define RAM (64ULL << 20)
#define LOAD_PADDR 0x100000ULL
#define ENTRY (LOAD_PADDR + 0x10)
#define CODE_SIZE 512
#define BSS_SIZE 0x2000
#define PH_OFF 64
#define NOTE_OFF 256
#define CODE_OFF 512

/* A synthetic PVH kernel: PT_NOTE with the Xen entry note + one PT_LOAD. */
struct fake_elf {
	uint8_t buf[2048];
	size_t size;
};

static void put_note(uint8_t *p, uint32_t namesz, uint32_t descsz,
		     uint32_t type, uint64_t entry)
{
	memcpy(p, &namesz, 4);
	memcpy(p + 4, &descsz, 4);
	memcpy(p + 8, &type, 4);
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, &entry, descsz <= 8 ? descsz : 8);
}

static void make_elf64(struct fake_elf *f, uint32_t descsz)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f->buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f->buf + PH_OFF);
	unsigned int i;

	memset(f, 0, sizeof(*f));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000000ULL; /* virtual: must be ignored */
	eh->e_phoff = PH_OFF;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			      .p_filesz = 16 + ALIGN_UP(descsz, 4),
			      .p_align = 4 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = CODE_OFF,
			      .p_vaddr = 0xffffffff81000000ULL,
			      .p_paddr = LOAD_PADDR, .p_filesz = CODE_SIZE,
			      .p_memsz = CODE_SIZE + BSS_SIZE };
	put_note(f->buf + NOTE_OFF, 4, descsz, 18, ENTRY);
	for (i = 0; i < CODE_SIZE; i++)
		f->buf[CODE_OFF + i] = (uint8_t)(i * 7 + 1);
	f->size = CODE_OFF + CODE_SIZE;
}

static void make_elf32(struct fake_elf *f)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)f->buf;
	Elf32_Phdr *ph = (Elf32_Phdr *)(f->buf + PH_OFF);
	unsigned int i;

	memset(f, 0, sizeof(*f));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = PH_OFF;
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			      .p_filesz = 20 };
	ph[1] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = CODE_OFF,
			      .p_paddr = LOAD_PADDR, .p_filesz = CODE_SIZE,
			      .p_memsz = CODE_SIZE + BSS_SIZE };
	put_note(f->buf + NOTE_OFF, 4, 4, 18, ENTRY);
	for (i = 0; i < CODE_SIZE; i++)
		f->buf[CODE_OFF + i] = (uint8_t)(i * 7 + 1);
	f->size = CODE_OFF + CODE_SIZE;
}

static Elf64_Ehdr *eh64(struct fake_elf *f)
{
	return (Elf64_Ehdr *)f->buf;
}

static Elf64_Phdr *ph64(struct fake_elf *f, unsigned int i)
{
	return (Elf64_Phdr *)(f->buf + PH_OFF) + i;
}

static int load(struct guest_mem *mem, struct fake_elf *f,
		const struct boot_image *initrd, const char *cmdline,
		struct boot_info *bi)
{
	struct boot_image k = { f->buf, f->size, "test-kernel" };

	return boot__load_image(mem, &k, initrd, cmdline, bi);
}

static int setup(void **state)
{
	struct guest_mem *mem;

	assert_int_equal(mem__create(RAM, &mem), 0);
	*state = mem;
	return 0;
}

static int teardown(void **state)
{
	mem__destroy(*state);
	return 0;
}

struct hvm_start_info_v1 {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static void check_start_info(struct guest_mem *mem, const char *cmdline,
			     uint32_t nr_modules)
{
	struct hvm_start_info_v1 si;
	struct e820_entry e820[MEM_MAX_E820];
	struct memmap_entry mm[MEM_MAX_E820];
	char cl[256];
	int n, i;

	assert_int_equal(mem__read(mem, BOOT_START_INFO_ADDR, &si, sizeof(si)),
			 0);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.nr_modules, nr_modules);
	assert_int_equal(si.cmdline_paddr, BOOT_CMDLINE_ADDR);
	assert_int_equal(si.rsdp_paddr, 0);
	assert_int_equal(si.memmap_paddr, BOOT_MEMMAP_ADDR);
	n = mem__e820(mem, e820, MEM_MAX_E820);
	assert_true(n >= 3);
	assert_int_equal(si.memmap_entries, (uint32_t)n);
	assert_int_equal(mem__read(mem, BOOT_MEMMAP_ADDR, mm, n * sizeof(mm[0])),
			 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(mm[i].addr, e820[i].addr);
		assert_int_equal(mm[i].size, e820[i].size);
		assert_int_equal(mm[i].type, e820[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}
	assert_int_equal(mem__read(mem, BOOT_CMDLINE_ADDR, cl,
				   strlen(cmdline) + 1), 0);
	assert_string_equal(cl, cmdline);
}

static void check_loaded(struct guest_mem *mem, struct fake_elf *f)
{
	const uint8_t *p = mem__gpa_ptr(mem, LOAD_PADDR, CODE_SIZE + BSS_SIZE);
	unsigned int i;

	assert_non_null(p);
	assert_memory_equal(p, f->buf + CODE_OFF, CODE_SIZE);
	for (i = CODE_SIZE; i < CODE_SIZE + BSS_SIZE; i++)
		assert_int_equal(p[i], 0);
}

static void test_elf64_good(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;
	struct boot_info bi;
	uint64_t gdt[4];

	make_elf64(&f, 8);
	/* Dirty the bss so the loader must clear it. */
	memset(mem__gpa_ptr(mem, LOAD_PADDR, 0x4000), 0xaa, 0x4000);
	assert_int_equal(load(mem, &f, NULL, "console=ttyS0", &bi), 0);
	assert_int_equal(bi.kind, BOOT_KIND_PVH);
	assert_int_equal(bi.entry, ENTRY);
	assert_int_equal(bi.params_addr, BOOT_START_INFO_ADDR);
	assert_int_equal(bi.kernel_start, LOAD_PADDR);
	assert_int_equal(bi.kernel_end, LOAD_PADDR + CODE_SIZE + BSS_SIZE);
	assert_int_equal(bi.cmdline_addr, BOOT_CMDLINE_ADDR);
	assert_int_equal(bi.cmdline_len, strlen("console=ttyS0"));
	assert_int_equal(bi.initrd_addr, 0);
	assert_int_equal(bi.gdt_base, BOOT_GDT_ADDR);
	assert_int_equal(bi.gdt_limit, 31);
	assert_int_equal(bi.stack_top, BOOT_STACK_TOP);
	check_loaded(mem, &f);
	check_start_info(mem, "console=ttyS0", 0);

	/* GDT: null, flat 32-bit code, 64-bit code, flat data. */
	assert_int_equal(mem__read(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0x00cf9b000000ffffULL);
	assert_int_equal(gdt[2], 0x00af9b000000ffffULL);
	assert_int_equal(gdt[3], 0x00cf93000000ffffULL);
}

static void test_elf32_good(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;
	struct boot_info bi;

	make_elf32(&f);
	assert_int_equal(load(mem, &f, NULL, NULL, &bi), 0);
	assert_int_equal(bi.kind, BOOT_KIND_PVH);
	assert_int_equal(bi.entry, ENTRY);
	check_loaded(mem, &f);
	check_start_info(mem, "", 0);
}

static void test_initrd_module(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;
	struct boot_info bi;
	static uint8_t rd[10000];
	struct boot_image initrd = { rd, sizeof(rd), "test-initrd" };
	uint64_t mod[4];
	uint64_t top = RAM;
	unsigned int i;

	for (i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i ^ 0x5a);
	make_elf64(&f, 4);
	assert_int_equal(load(mem, &f, &initrd, "root=/dev/ram0", &bi), 0);
	check_start_info(mem, "root=/dev/ram0", 1);
	assert_int_equal(bi.initrd_size, sizeof(rd));
	assert_int_equal(bi.initrd_addr % 4096, 0);
	assert_true(bi.initrd_addr + sizeof(rd) <= top);
	assert_true(top - (bi.initrd_addr + sizeof(rd)) < 4096);
	assert_true(bi.initrd_addr >= bi.kernel_end);
	assert_memory_equal(mem__gpa_ptr(mem, bi.initrd_addr, sizeof(rd)), rd,
			    sizeof(rd));
	assert_int_equal(mem__read(mem, BOOT_MODLIST_ADDR, mod, sizeof(mod)), 0);
	assert_int_equal(mod[0], bi.initrd_addr);
	assert_int_equal(mod[1], sizeof(rd));
	assert_int_equal(mod[2], 0);
	assert_int_equal(mod[3], 0);
}

/* Above 3 GiB RAM: memmap has the high region; initrd stays below 3 GiB. */
static void test_high_memory(void **state)
{
	struct guest_mem *mem;
	struct fake_elf f;
	struct boot_info bi;
	static uint8_t rd[4096 * 3];
	struct boot_image initrd = { rd, sizeof(rd), "test-initrd" };
	struct memmap_entry mm[4];

	(void)state;
	assert_int_equal(mem__create(4 * GiB, &mem), 0);
	make_elf64(&f, 8);
	assert_int_equal(load(mem, &f, &initrd, "x", &bi), 0);
	assert_int_equal(bi.initrd_addr, MEM_HOLE_START - sizeof(rd));
	assert_int_equal(mem__read(mem, BOOT_MEMMAP_ADDR, mm, sizeof(mm)), 0);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].size, 0x9fc00);
	assert_int_equal(mm[0].type, E820_RAM);
	assert_int_equal(mm[1].addr, 0x9fc00);
	assert_int_equal(mm[1].type, E820_RESERVED);
	assert_int_equal(mm[2].addr, 0x100000);
	assert_int_equal(mm[2].size, MEM_HOLE_START - 0x100000);
	assert_int_equal(mm[3].addr, 4 * GiB);
	assert_int_equal(mm[3].size, 1 * GiB);
	assert_int_equal(mm[3].type, E820_RAM);
	mem__destroy(mem);
}

static void expect_err(struct guest_mem *mem, struct fake_elf *f, int err)
{
	struct boot_info bi;

	assert_int_equal(load(mem, f, NULL, "", &bi), err);
}

static void test_bad_headers(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;

	make_elf64(&f, 8);
	f.size = 40; /* truncated ELF header */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	f.size = 8; /* truncated e_ident */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	f.buf[EI_CLASS] = 7;
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 8);
	f.buf[EI_DATA] = ELFDATA2MSB;
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 8);
	eh64(&f)->e_type = ET_DYN;
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 8);
	eh64(&f)->e_machine = EM_AARCH64;
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 8);
	eh64(&f)->e_phentsize = 32;
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	eh64(&f)->e_phnum = 0;
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	eh64(&f)->e_phnum = 0xffff;
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	eh64(&f)->e_phnum = 30; /* runs past the end of the file */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	eh64(&f)->e_phoff = 0xfffffffffffffff0ULL; /* overflows */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	eh64(&f)->e_phoff = 4000; /* outside the file */
	expect_err(mem, &f, -EINVAL);
}

static void test_bad_notes(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;

	make_elf64(&f, 8);
	ph64(&f, 0)->p_type = PT_NULL; /* no PVH note at all */
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 8);
	put_note(f.buf + NOTE_OFF, 4, 8, 17, ENTRY); /* another note type */
	expect_err(mem, &f, -ENOEXEC);

	make_elf64(&f, 2); /* descsz 2 */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	put_note(f.buf + NOTE_OFF, 0xfffffff0, 8, 18, ENTRY); /* huge namesz */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	put_note(f.buf + NOTE_OFF, 4, 0xffffffff, 18, ENTRY); /* huge descsz */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 0)->p_filesz = 0x10000; /* note segment past the file */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 0)->p_offset = 0xffffffffffffff00ULL;
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	put_note(f.buf + NOTE_OFF, 4, 8, 18, 0x100000000ULL); /* > 4 GiB */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	put_note(f.buf + NOTE_OFF, 4, 8, 18, LOAD_PADDR + CODE_SIZE + 16);
	expect_err(mem, &f, -EINVAL); /* entry in bss, not in loaded code */
}

static void test_bad_segments(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;

	make_elf64(&f, 8);
	ph64(&f, 1)->p_filesz = BSS_SIZE * 4; /* filesz > memsz */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_offset = 1024; /* data past the end of the file */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_offset = 0xfffffffffffffe00ULL; /* offset overflows */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_paddr = 0x9f000; /* the EBDA / below 1 MiB */
	expect_err(mem, &f, -ENOMEM);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_paddr = 0x1000; /* over ferry's boot structures */
	expect_err(mem, &f, -ENOMEM);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_paddr = RAM - 0x1000; /* runs past the end of RAM */
	expect_err(mem, &f, -ENOMEM);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_paddr = 0xfec00000; /* IOAPIC, in the MMIO hole */
	expect_err(mem, &f, -ENOMEM);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_paddr = 0xfffffffffffff000ULL; /* address overflows */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_memsz = 0xffffffffffffff00ULL; /* size overflows */
	expect_err(mem, &f, -EINVAL);

	make_elf64(&f, 8);
	ph64(&f, 1)->p_memsz = 0; /* nothing loadable */
	ph64(&f, 1)->p_filesz = 0;
	expect_err(mem, &f, -EINVAL);
}

static void test_bad_initrd_and_cmdline(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;
	struct boot_info bi;
	struct boot_image rd;
	static char longline[BOOT_CMDLINE_MAX + 10];
	uint8_t *big;

	make_elf64(&f, 8);
	memset(longline, 'a', sizeof(longline) - 1);
	assert_int_equal(load(mem, &f, NULL, longline, &bi), -E2BIG);

	/* Larger than RAM: refused before any copy (the data is not read). */
	big = malloc(16);
	assert_non_null(big);
	rd = (struct boot_image){ big, RAM + 4096, "huge-initrd" };
	assert_int_equal(load(mem, &f, &rd, "", &bi), -ENOMEM);

	/* Smaller than RAM but no room between the kernel and the top. */
	rd.size = RAM - LOAD_PADDR;
	assert_int_equal(load(mem, &f, &rd, "", &bi), -ENOMEM);

	rd.size = 0;
	assert_int_equal(load(mem, &f, &rd, "", &bi), -EINVAL);
	free(big);
}

static void test_not_a_kernel(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;

	memset(&f, 0, sizeof(f));
	memcpy(f.buf, "#!/bin/sh\necho hi\n", 18);
	f.size = 1024;
	expect_err(mem, &f, -ENOEXEC);
	f.size = 3;
	expect_err(mem, &f, -ENOEXEC);
}

static void test_load_file(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf f;
	struct boot_info bi;
	char kpath[] = "/tmp/ferry-test-elf-XXXXXX";
	char rpath[] = "/tmp/ferry-test-rd-XXXXXX";
	int kfd, rfd;

	make_elf64(&f, 8);
	kfd = mkstemp(kpath);
	rfd = mkstemp(rpath);
	assert_true(kfd >= 0 && rfd >= 0);
	assert_int_equal(write(kfd, f.buf, f.size), (ssize_t)f.size);
	assert_int_equal(write(rfd, "initrd!", 7), 7);
	assert_int_equal(boot__load(mem, kpath, rpath, "a b c", &bi), 0);
	assert_int_equal(bi.entry, ENTRY);
	assert_int_equal(bi.initrd_size, 7);
	assert_memory_equal(mem__gpa_ptr(mem, bi.initrd_addr, 7), "initrd!", 7);
	assert_int_equal(boot__load(mem, kpath, "", "", &bi), 0);
	assert_int_equal(bi.initrd_size, 0);

	assert_int_equal(boot__load(mem, "/nonexistent/vmlinux", NULL, "", &bi),
			 -ENOENT);
	assert_int_equal(boot__load(mem, kpath, "/nonexistent/initrd", "", &bi),
			 -ENOENT);
	assert_int_equal(boot__load(mem, "/tmp", NULL, "", &bi), -EINVAL);
	assert_int_equal(ftruncate(rfd, 0), 0);
	assert_int_equal(boot__load(mem, kpath, rpath, "", &bi), -EINVAL);
	assert_int_equal(ftruncate(kfd, 100), 0); /* truncated ELF */
	assert_int_equal(boot__load(mem, kpath, NULL, "", &bi), -EINVAL);
	close(kfd);
	close(rfd);
	unlink(kpath);
	unlink(rpath);
}

/*
 * Random corruption: flip bytes in the headers and notes and truncate;
 * the loader must return 0 or -errno and never touch memory outside
 * guest RAM (ASan/valgrind builds catch that; here: no crash).
 */
static void test_fuzz(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_elf good, f;
	struct boot_info bi;
	unsigned int iter, ok = 0, j;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	assert_true(saved >= 0 && null >= 0);
	dup2(null, 2);
	srand(1234);
	make_elf64(&good, 8);
	for (iter = 0; iter < 5000; iter++) {
		int ret;

		f = good;
		for (j = 0; j < 1 + (unsigned int)rand() % 4; j++)
			f.buf[rand() % (CODE_OFF + 16)] = (uint8_t)rand();
		if (rand() % 4 == 0)
			f.size = (size_t)rand() % good.size;
		ret = load(mem, &f, NULL, "", &bi);
		assert_true(ret == 0 || (ret < 0 && ret >= -4095));
		if (ret == 0) {
			ok++;
			assert_int_equal(bi.kind, BOOT_KIND_PVH);
			assert_true(bi.entry >= BOOT_KERNEL_MIN);
		}
	}
	dup2(saved, 2);
	close(saved);
	close(null);
	print_message("fuzz: %u of 5000 corrupted images still loaded\n", ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elf64_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf32_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_module, setup,
						teardown),
		cmocka_unit_test(test_high_memory),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_initrd_and_cmdline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_kernel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
