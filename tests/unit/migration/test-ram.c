/*
 * test-ram.c: the guest RAM image: sparse output (zero pages and memfd
 * holes are not written), per-chunk CRCs equal to a reference CRC of
 * the logical contents, verification catching corruption and
 * truncation, copy-mode and lazy (MAP_PRIVATE) loads giving the same
 * memory, copy-on-write leaving the image untouched, and the write
 * speed of the image writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "migration/ram.h"
#include "vmm/mem.h"

static char path[64];

static int make_file(void)
{
	int fd;

	strcpy(path, "/tmp/ferry-ram-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

/* Sprinkle data: chunk boundaries, the last page, a run of pages. */
static unsigned int fill(struct guest_mem *m)
{
	static const uint64_t pages[] = { 0, 1, 511, 512, 513, 1000, 1001, 1002 };
	unsigned int i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		memset(m->base + pages[i] * 4096 + 17, (int)(i + 1), 100);
	memset(m->base + m->size - 4096, 0xee, 4096);
	return sizeof(pages) / sizeof(pages[0]) + 1;
}

static void reference_crcs(const struct guest_mem *m, uint32_t *crcs)
{
	uint64_t c;

	for (c = 0; c < ram__nr_chunks(m->size); c++) {
		uint64_t off = c * RAM_CHUNK_SIZE;
		uint64_t len = MIN((uint64_t)RAM_CHUNK_SIZE, m->size - off);

		crcs[c] = crc32c__update(CRC32C_INIT, m->base + off, len);
	}
}

static void test_ram__save_sparse_and_verify(void **state)
{
	uint64_t size = 32ULL << 20, data = 0;
	uint32_t crcs[16], ref[16];
	struct guest_mem *m, *m2;
	char err[256] = "";
	struct stat st;
	unsigned int n;
	int fd;

	assert_int_equal(mem__create(size, &m), 0);
	n = fill(m);
	fd = make_file();
	assert_int_equal(ram__save(m, fd, crcs, &data, 1, NULL, NULL, err,
				   sizeof(err)), 0);
	assert_int_equal(data, (uint64_t)n * 4096);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_true((uint64_t)st.st_blocks * 512 <= 2 * data); /* sparse */
	reference_crcs(m, ref);
	assert_memory_equal(crcs, ref, sizeof(ref));
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), 0);

	/* Copy-mode load gives identical memory. */
	assert_int_equal(mem__create(size, &m2), 0);
	assert_int_equal(ram__load_copy(m2, fd, crcs, err, sizeof(err)), 0);
	assert_memory_equal(m->base, m2->base, size);
	mem__destroy(m2);

	/* One flipped byte in chunk 0 is found and named. */
	assert_int_equal(pwrite(fd, "X", 1, 4096 + 50), 1);
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "checksum mismatch in chunk 0 (bytes 0-2097151)"));
	assert_int_equal(mem__create(size, &m2), 0);
	assert_int_equal(ram__load_copy(m2, fd, crcs, err, sizeof(err)), -EINVAL);
	mem__destroy(m2);

	/* A byte written into a hole is caught too. */
	assert_int_equal(pwrite(fd, "\0", 1, 4096 + 50), 1);
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), -EINVAL);
	assert_int_equal(pwrite(fd, "\x02", 1, 4096 + 50), 1);
	assert_int_equal(pwrite(fd, "Z", 1, 20ULL << 20), 1);
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "chunk 10 "));

	/* Truncated and wrong-size images. */
	assert_int_equal(ftruncate(fd, (off_t)size - 4096), 0);
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory image: 33550336 bytes, expected 33554432");
	assert_int_equal(ram__map_image(fd, size, &m2, err, sizeof(err)), -EINVAL);

	close(fd);
	unlink(path);
	mem__destroy(m);
}

static void test_ram__lazy_map_is_private(void **state)
{
	uint64_t size = 16ULL << 20, data;
	uint32_t crcs[8];
	struct guest_mem *m, *lazy;
	char err[256];
	uint8_t b;
	int fd;

	assert_int_equal(mem__create(size, &m), 0);
	fill(m);
	fd = make_file();
	assert_int_equal(ram__save(m, fd, crcs, &data, 1, NULL, NULL, err,
				   sizeof(err)), 0);
	assert_int_equal(ram__map_image(fd, size, &lazy, err, sizeof(err)), 0);
	assert_int_equal(lazy->fd, -1);
	assert_int_equal(lazy->size, size);
	assert_memory_equal(lazy->base, m->base, size);
	/* Writes stay private: the image keeps its bytes. */
	memset(lazy->base + 4096 + 17, 0x77, 10);
	assert_int_equal(pread(fd, &b, 1, 4096 + 17), 1);
	assert_int_equal(b, 2);
	assert_int_equal(ram__verify(fd, size, crcs, err, sizeof(err)), 0);
	/* A wrong expected size is refused before mapping. */
	mem__destroy(lazy);
	assert_int_equal(ram__map_image(fd, size * 2, &lazy, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "memory image: 16777216 bytes, expected 33554432");
	close(fd);
	unlink(path);
	mem__destroy(m);
}

static void test_ram__holes_above_4g_not_read(void **state)
{
	/* 4.5 GiB: two regions; only a few pages touched. */
	uint64_t size = (9ULL << 30) / 2, data;
	uint64_t nr = ram__nr_chunks(size);
	uint32_t *crcs = calloc(nr, sizeof(*crcs));
	struct guest_mem *m, *m2;
	struct timespec a, b;
	char err[256];
	int fd;

	assert_int_equal(mem__create(size, &m), 0);
	assert_int_equal(m->nr_regions, 2);
	memset(m->regions[1].hva + 12345, 0x42, 5000);
	memset(m->base + 4096, 0x41, 4096);
	fd = make_file();
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(ram__save(m, fd, crcs, &data, 1, NULL, NULL, err,
				   sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(data, 3 * 4096);
	print_message("4.5 GiB, 3 pages used: saved in %.1f ms\n",
		      (double)(b.tv_sec - a.tv_sec) * 1e3 +
		      (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	assert_int_equal(crcs[0], crc32c__update(CRC32C_INIT, m->base, RAM_CHUNK_SIZE));
	assert_int_equal(crcs[nr - 1], crc32c__zeros(CRC32C_INIT, RAM_CHUNK_SIZE));
	assert_int_equal(mem__create(size, &m2), 0);
	assert_int_equal(ram__load_copy(m2, fd, crcs, err, sizeof(err)), 0);
	assert_memory_equal(m2->regions[1].hva + 12345 - 100,
			    m->regions[1].hva + 12345 - 100, 5200);
	mem__destroy(m2);
	close(fd);
	unlink(path);
	mem__destroy(m);
	free(crcs);
}

static void test_ram__write_speed(void **state)
{
	uint64_t size = 512ULL << 20, data, i;
	uint64_t nr = ram__nr_chunks(size);
	uint32_t *crcs = calloc(nr, sizeof(*crcs));
	uint32_t *ref = calloc(nr, sizeof(*crcs));
	struct guest_mem *m;
	struct timespec a, b;
	char err[256];
	unsigned int t;
	double s;
	int fd;

	assert_int_equal(mem__create(size, &m), 0);
	/* Every page non-zero (worst case for the writer). */
	for (i = 0; i < size; i += 4096)
		memset(m->base + i, (int)(i >> 12) | 1, 4096);
	/* Measure the writer itself: page cache writes, no fsync. */
	for (t = 1; t <= 2; t++) {
		fd = make_file();
		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(ram__save(m, fd, crcs, &data, t, NULL, NULL,
					   err, sizeof(err)), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		s = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		print_message("image writer, 512 MiB all data, %u thread(s): %.2f GB/s\n",
			      t, (double)size / s / 1e9);
		close(fd);
		unlink(path);
		if (t == 1)
			memcpy(ref, crcs, nr * sizeof(*crcs));
		else
			assert_memory_equal(ref, crcs, nr * sizeof(*crcs));
	}
	/* Raw pwrite of the same memory, for comparison. */
	fd = make_file();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < size; i += 8 << 20)
		assert_int_equal(pwrite(fd, m->base + i, 8 << 20, (off_t)i), 8 << 20);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("plain pwrite of the same:        %.2f GB/s\n",
		      (double)size / s / 1e9);
	close(fd);
	unlink(path);
	mem__destroy(m);
	free(crcs);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram__save_sparse_and_verify),
		cmocka_unit_test(test_ram__lazy_map_is_private),
		cmocka_unit_test(test_ram__holes_above_4g_not_read),
		cmocka_unit_test(test_ram__write_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
