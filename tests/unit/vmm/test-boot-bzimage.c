/*
 * test-boot-bzimage.c: the Linux 64-bit boot protocol on synthetic
 * bzImages: load address choice, boot_params (setup header copy, loader
 * type, command line, initrd, e820), identity page tables; malformed
 * headers are refused; random corruption never crashes.
 */
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
#define PREF 0x1000000ULL /* 16 MiB, like x86_64 defconfig */
#define ALIGN 0x200000U
#define PM_SIZE 8192
#define INIT_SIZE 0x400000U
#define SETUP_SECTS 3
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)

struct fake_bz {
	uint8_t buf[SETUP_SIZE + PM_SIZE + 2048];
	size_t size;
};

static void p8(struct fake_bz *b, unsigned int off, uint8_t v)
{
	b->buf[off] = v;
}

static void p16(struct fake_bz *b, unsigned int off, uint16_t v)
{
	memcpy(b->buf + off, &v, 2);
}

static void p32(struct fake_bz *b, unsigned int off, uint32_t v)
{
	memcpy(b->buf + off, &v, 4);
}

static void p64(struct fake_bz *b, unsigned int off, uint64_t v)
{
	memcpy(b->buf + off, &v, 8);
}

static uint32_t g32(const uint8_t *p, unsigned int off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static void make_bz(struct fake_bz *b)
{
	unsigned int i;

	memset(b, 0, sizeof(*b));
	p8(b, 0x1f1, SETUP_SECTS);
	p32(b, 0x1f4, PM_SIZE / 16);     /* syssize */
	p16(b, 0x1fe, 0xaa55);           /* boot_flag */
	p8(b, 0x200, 0xeb);              /* jmp short */
	p8(b, 0x201, 0x6a);              /* header ends at 0x26c */
	memcpy(b->buf + 0x202, "HdrS", 4);
	p16(b, 0x206, 0x020f);           /* protocol 2.15 */
	p8(b, 0x211, 0x01);              /* LOADED_HIGH */
	p32(b, 0x214, 0x100000);         /* code32_start */
	p32(b, 0x22c, 0x7fffffff);       /* initrd_addr_max */
	p32(b, 0x230, ALIGN);            /* kernel_alignment */
	p8(b, 0x234, 1);                 /* relocatable_kernel */
	p16(b, 0x236, 0x0003);           /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	p32(b, 0x238, 2047);             /* cmdline_size */
	p64(b, 0x258, PREF);             /* pref_address */
	p32(b, 0x260, INIT_SIZE);        /* init_size */
	for (i = 0; i < PM_SIZE; i++)
		b->buf[SETUP_SIZE + i] = (uint8_t)(i * 13 + 5);
	b->size = SETUP_SIZE + PM_SIZE;
}

static int load(struct guest_mem *mem, struct fake_bz *b,
		const struct boot_image *initrd, const char *cmdline,
		struct boot_info *bi)
{
	struct boot_image k = { b->buf, b->size, "test-bzImage" };

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

static void test_good(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_bz b;
	struct boot_info bi;
	struct e820_entry e820[MEM_MAX_E820];
	const uint8_t *zp;
	static uint8_t rd[5000];
	struct boot_image initrd = { rd, sizeof(rd), "test-initrd" };
	char cl[64];
	int n, i;

	memset(rd, 0x42, sizeof(rd));
	make_bz(&b);
	assert_int_equal(load(mem, &b, &initrd, "console=ttyS0 quiet", &bi), 0);
	assert_int_equal(bi.kind, BOOT_KIND_LINUX64);
	assert_int_equal(bi.entry, PREF + 0x200);
	assert_int_equal(bi.params_addr, BOOT_ZERO_PAGE_ADDR);
	assert_int_equal(bi.cr3, BOOT_PML4_ADDR);
	assert_int_equal(bi.kernel_start, PREF);
	assert_int_equal(bi.kernel_end, PREF + INIT_SIZE);
	assert_memory_equal(mem__gpa_ptr(mem, PREF, PM_SIZE),
			    b.buf + SETUP_SIZE, PM_SIZE);

	/* initrd: page-aligned, at the top of RAM, after init_size. */
	assert_int_equal(bi.initrd_size, sizeof(rd));
	assert_int_equal(bi.initrd_addr, RAM - 8192);
	assert_memory_equal(mem__gpa_ptr(mem, bi.initrd_addr, sizeof(rd)), rd,
			    sizeof(rd));

	zp = mem__gpa_ptr(mem, BOOT_ZERO_PAGE_ADDR, 4096);
	assert_non_null(zp);
	/* Setup header copied from 0x1f1 to its end (0x26c). */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x1f1], SETUP_SECTS);
	assert_int_equal(g32(zp, 0x260), INIT_SIZE);
	assert_int_equal(zp[0x210], 0xff);                 /* type_of_loader */
	assert_int_equal(g32(zp, 0x228), BOOT_CMDLINE_ADDR); /* cmd_line_ptr */
	assert_int_equal(g32(zp, 0x0c8), 0);               /* ext_cmd_line_ptr */
	assert_int_equal(g32(zp, 0x218), RAM - 8192);      /* ramdisk_image */
	assert_int_equal(g32(zp, 0x21c), sizeof(rd));      /* ramdisk_size */
	assert_int_equal(g32(zp, 0x0c0), 0);
	assert_int_equal(g32(zp, 0x0c4), 0);
	assert_int_equal(zp[0x1ef], 0); /* sentinel */
	/* Nothing beyond the header is copied. */
	assert_int_equal(zp[0x26c], 0);

	n = mem__e820(mem, e820, MEM_MAX_E820);
	assert_int_equal(zp[0x1e8], n);
	for (i = 0; i < n; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;
		uint64_t addr, size;

		memcpy(&addr, e, 8);
		memcpy(&size, e + 8, 8);
		assert_int_equal(addr, e820[i].addr);
		assert_int_equal(size, e820[i].size);
		assert_int_equal(g32(e, 16), e820[i].type);
	}
	assert_int_equal(e820[2].addr + e820[2].size, RAM);

	assert_int_equal(mem__read(mem, BOOT_CMDLINE_ADDR, cl, 20), 0);
	assert_string_equal(cl, "console=ttyS0 quiet");
}

static void test_page_tables(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_bz b;
	struct boot_info bi;
	const uint64_t *pml4, *pdpt, *pd;
	unsigned int i, j;

	make_bz(&b);
	assert_int_equal(load(mem, &b, NULL, "", &bi), 0);
	pml4 = mem__gpa_ptr(mem, bi.cr3, 4096);
	assert_non_null(pml4);
	assert_int_equal(pml4[0], BOOT_PDPT_ADDR | 3);
	for (i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
	pdpt = mem__gpa_ptr(mem, pml4[0] & ~0xfffULL, 4096);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pdpt[i], (BOOT_PD_ADDR + i * 4096) | 3);
		pd = mem__gpa_ptr(mem, pdpt[i] & ~0xfffULL, 4096);
		for (j = 0; j < 512; j++)
			assert_int_equal(pd[j], ((uint64_t)i * 512 + j) *
							(2ULL << 20) | 0x83);
	}
	for (i = 4; i < 512; i++)
		assert_int_equal(pdpt[i], 0);
	/* The structures the kernel needs lie inside the mapping (< 4 GiB). */
	assert_true(bi.entry < 4 * GiB && bi.params_addr < 4 * GiB);
}

static void test_setup_sects_zero(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_bz b;
	struct boot_info bi;

	/* setup_sects 0 means 4: the kernel starts at 5 * 512. */
	make_bz(&b);
	p8(&b, 0x1f1, 0);
	memset(b.buf + SETUP_SIZE, 0, 512); /* now part of the setup code */
	p32(&b, 0x1f4, (PM_SIZE - 512) / 16);
	assert_int_equal(load(mem, &b, NULL, "", &bi), 0);
	assert_memory_equal(mem__gpa_ptr(mem, PREF, PM_SIZE - 512),
			    b.buf + 5 * 512, PM_SIZE - 512);
}

static void test_load_address_fallback(void **state)
{
	struct guest_mem *mem;
	struct fake_bz b;
	struct boot_info bi;

	(void)state;
	assert_int_equal(mem__create(16ULL << 20, &mem), 0);
	/* 16 MiB RAM: pref_address 16 MiB does not fit, 2 MiB does. */
	make_bz(&b);
	assert_int_equal(load(mem, &b, NULL, "", &bi), 0);
	assert_int_equal(bi.kernel_start, ALIGN);
	assert_int_equal(bi.entry, ALIGN + 0x200);

	/* Not relocatable: only pref_address will do. */
	p8(&b, 0x234, 0);
	assert_int_equal(load(mem, &b, NULL, "", &bi), -ENOMEM);

	/* init_size larger than RAM. */
	make_bz(&b);
	p32(&b, 0x260, 64U << 20);
	assert_int_equal(load(mem, &b, NULL, "", &bi), -ENOMEM);
	mem__destroy(mem);
}

static void test_initrd_addr_max(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_bz b;
	struct boot_info bi;
	static uint8_t rd[3 * 4096];
	struct boot_image initrd = { rd, sizeof(rd), "test-initrd" };

	make_bz(&b);
	p32(&b, 0x22c, 0x1ffffff); /* initrd must end by 32 MiB */
	assert_int_equal(load(mem, &b, &initrd, "", &bi), 0);
	assert_int_equal(bi.initrd_addr, 0x2000000 - sizeof(rd));

	/* Below the end of init_size there is no room. */
	p32(&b, 0x22c, PREF + INIT_SIZE + 4096 - 1);
	assert_int_equal(load(mem, &b, &initrd, "", &bi), -ENOMEM);
}

static void expect_err(struct guest_mem *mem, struct fake_bz *b, int err)
{
	struct boot_info bi;

	assert_int_equal(load(mem, b, NULL, "", &bi), err);
}

static void test_bad(void **state)
{
	struct guest_mem *mem = *state;
	struct fake_bz b;
	struct boot_info bi;
	char line[100];

	make_bz(&b);
	b.size = 0x300; /* truncated inside the setup code */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	b.size = 0x206; /* truncated right after the magic */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p16(&b, 0x1fe, 0);
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p16(&b, 0x206, 0x020b); /* 2.11: no 64-bit entry */
	expect_err(mem, &b, -ENOEXEC);

	make_bz(&b);
	p16(&b, 0x236, 0x0002); /* XLF_KERNEL_64 clear */
	expect_err(mem, &b, -ENOEXEC);

	make_bz(&b);
	p8(&b, 0x211, 0); /* zImage: not LOADED_HIGH */
	expect_err(mem, &b, -ENOEXEC);

	make_bz(&b);
	p32(&b, 0x1f4, PM_SIZE / 16 + 1); /* syssize beyond the file */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p32(&b, 0x1f4, 0xffffffff);
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p32(&b, 0x1f4, 0);
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p8(&b, 0x1f1, 200); /* setup code larger than the file */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p8(&b, 0x201, 0x10); /* header too short for 2.12 */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p32(&b, 0x230, 0x300000); /* alignment not a power of two */
	expect_err(mem, &b, -EINVAL);

	make_bz(&b);
	p32(&b, 0x238, 16); /* cmdline_size 16 */
	memset(line, 'x', sizeof(line));
	line[17] = '\0';
	assert_int_equal(load(mem, &b, NULL, line, &bi), -E2BIG);
	line[16] = '\0';
	assert_int_equal(load(mem, &b, NULL, line, &bi), 0);
}

static void test_fuzz(void **state)
{
	struct guest_mem *mem = *state;
	static struct fake_bz good, b;
	struct boot_info bi;
	unsigned int iter, ok = 0, j;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	assert_true(saved >= 0 && null >= 0);
	dup2(null, 2);
	srand(4321);
	make_bz(&good);
	for (iter = 0; iter < 5000; iter++) {
		int ret;

		b = good;
		for (j = 0; j < 1 + (unsigned int)rand() % 4; j++)
			b.buf[0x1f1 + rand() % (0x270 - 0x1f1)] = (uint8_t)rand();
		if (rand() % 4 == 0)
			b.size = (size_t)rand() % good.size;
		ret = load(mem, &b, NULL, "", &bi);
		assert_true(ret == 0 || (ret < 0 && ret >= -4095));
		if (ret == 0) {
			ok++;
			assert_int_equal(bi.kind, BOOT_KIND_LINUX64);
			assert_true(bi.kernel_start >= BOOT_KERNEL_MIN);
			assert_true(bi.kernel_end <= RAM);
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
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_tables, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_setup_sects_zero, setup,
						teardown),
		cmocka_unit_test(test_load_address_fallback),
		cmocka_unit_test_setup_teardown(test_initrd_addr_max, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
