/*
 * test-extract-vmlinux.c: runs ferry-extract-vmlinux (path in argv[1])
 * on synthetic bzImages whose payload is LZ4 legacy (several blocks,
 * the kernel's size trailer), gzip, or damaged, and checks the output
 * ELF byte for byte and the refusals.
 */
#include <errno.h>
#include <lz4.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define BLOCK (8U << 20)
#define SETUP_SECTS 1
#define PM_START ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_OFF 0x100 /* from the start of the protected-mode code */

static const char *tool;
static char dir[] = "/tmp/ferry-test-extract-XXXXXX";
static char in_path[512], out_path[512];

static uint8_t *elf;         /* the "vmlinux" */
static size_t elf_size;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Build a bzImage around @payload; returns its size. */
static size_t make_bz(uint8_t *buf, const uint8_t *payload, uint32_t plen)
{
	memset(buf, 0, PM_START + PAYLOAD_OFF);
	buf[0x1f1] = SETUP_SECTS;
	buf[0x1fe] = 0x55;
	buf[0x1ff] = 0xaa;
	memcpy(buf + 0x202, "HdrS", 4);
	buf[0x206] = 0x0f;
	buf[0x207] = 0x02;
	put32(buf + 0x248, PAYLOAD_OFF);
	put32(buf + 0x24c, plen);
	memcpy(buf + PM_START + PAYLOAD_OFF, payload, plen);
	return PM_START + PAYLOAD_OFF + plen;
}

/* LZ4 legacy stream of elf: magic, blocks, then the size trailer. */
static uint32_t make_lz4(uint8_t *out)
{
	uint32_t pos = 4;
	size_t done = 0;

	put32(out, 0x184c2102);
	while (done < elf_size) {
		int chunk = (int)(elf_size - done < BLOCK ? elf_size - done : BLOCK);
		int n = LZ4_compress_default((const char *)elf + done,
					     (char *)out + pos + 4, chunk,
					     LZ4_compressBound(chunk));

		assert_true(n > 0);
		put32(out + pos, (uint32_t)n);
		pos += 4 + (uint32_t)n;
		done += (size_t)chunk;
	}
	put32(out + pos, (uint32_t)elf_size);
	return pos + 4;
}

static int run(const uint8_t *bz, size_t size)
{
	FILE *f = fopen(in_path, "wb");
	char cmd[2048];
	int st;

	assert_non_null(f);
	assert_int_equal(fwrite(bz, 1, size, f), size);
	fclose(f);
	unlink(out_path);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' >/dev/null", tool, in_path,
		 out_path);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int setup(void **state)
{
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(in_path, sizeof(in_path), "%s/bzImage", dir);
	snprintf(out_path, sizeof(out_path), "%s/vmlinux", dir);
	/* Two and a half blocks: compressible but not trivial. */
	elf_size = 2 * BLOCK + BLOCK / 2 + 123;
	elf = malloc(elf_size);
	assert_non_null(elf);
	for (i = 0; i < elf_size; i++)
		elf[i] = (uint8_t)((i * 2654435761U) >> 13 & 0x1f);
	memcpy(elf, "\x7f" "ELF", 4);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(in_path);
	unlink(out_path);
	rmdir(dir);
	free(elf);
	return 0;
}

static void test_lz4_good(void **state)
{
	uint8_t *payload = malloc(LZ4_compressBound((int)elf_size) + 64);
	uint8_t *bz = malloc(LZ4_compressBound((int)elf_size) + 4096);
	uint8_t *got = malloc(elf_size + 1);
	uint32_t plen;
	FILE *f;

	(void)state;
	plen = make_lz4(payload);
	assert_int_equal(run(bz, make_bz(bz, payload, plen)), 0);
	f = fopen(out_path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, elf_size + 1, f), elf_size);
	fclose(f);
	assert_memory_equal(got, elf, elf_size);

	/* Wrong size trailer: refused. */
	put32(payload + plen - 4, (uint32_t)elf_size + 1);
	assert_int_equal(run(bz, make_bz(bz, payload, plen)), 1);
	put32(payload + plen - 4, (uint32_t)elf_size);

	/* Corrupt block data: refused, no crash. */
	memset(payload + 20, 0xff, 64);
	assert_int_equal(run(bz, make_bz(bz, payload, plen)), 1);

	/* Payload length beyond the file. */
	plen = make_lz4(payload);
	make_bz(bz, payload, plen);
	put32(bz + 0x24c, plen + 1000);
	assert_int_equal(run(bz, PM_START + PAYLOAD_OFF + plen), 1);
	assert_int_not_equal(access(out_path, F_OK), 0);
	free(payload);
	free(bz);
	free(got);
}

static void test_refusals(void **state)
{
	static uint8_t bz[8192];
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	static const uint8_t xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0, 0, 0 };

	(void)state;
	assert_int_equal(run(bz, make_bz(bz, gz, sizeof(gz))), 1);
	assert_int_equal(run(bz, make_bz(bz, xz, sizeof(xz))), 1);
	/* Not a bzImage, truncated, old protocol. */
	memset(bz, 0, sizeof(bz));
	assert_int_equal(run(bz, sizeof(bz)), 1);
	make_bz(bz, gz, sizeof(gz));
	assert_int_equal(run(bz, 0x204), 1);
	bz[0x206] = 0x07;
	assert_int_equal(run(bz, sizeof(bz)), 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lz4_good),
		cmocka_unit_test(test_refusals),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-ferry-extract-vmlinux\n",
			argv[0]);
		return 2;
	}
	tool = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
