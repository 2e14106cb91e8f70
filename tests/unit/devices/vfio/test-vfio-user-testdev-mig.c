/*
 * test-vfio-user-testdev-mig.c: VFIO migration between two real
 * ferry-testdev instances through the vfio-user client backend:
 * STOP_COPY and PRE_COPY (digests equal, writes through the mmapped BAR
 * during precopy carried over), corrupt and truncated streams refused,
 * refused arcs, reset out of ERROR, precopy turned off and a slow
 * RESUMING entry.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-proto.h"
#include "devices/vfio/vfio-user.h"
#include "testdev-harness.h"
#include "testdev-test-fixture.h"
#include "tools/testdev/testdev-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

/* Read the saving stream until its end; returns the byte count. */
static size_t drain(struct vfio_backend *be, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while ((r = be->ops->mig_read(be, buf + n, MIN(cap - n, (size_t)300000))) > 0)
		n += (size_t)r;
	assert_int_equal(r, 0);
	return n;
}

/* Load @len bytes into a device in odd-sized pieces; returns the STOP result. */
static int load(struct vfio_backend *be, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int ret;

	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RESUMING), 0);
	while (off < len) {
		size_t k = MIN(len - off, (size_t)77777);

		ret = be->ops->mig_write(be, buf + off, k);
		if (ret) {
			/* The device refuses to leave RESUMING with bad state. */
			assert_int_equal(be->ops->mig_set_state(
				be, VFIO_DEVICE_STATE_STOP), -EINVAL);
			return ret;
		}
		off += k;
	}
	return be->ops->mig_set_state(be, VFIO_DEVICE_STATE_STOP);
}

static void test_testdev__stop_copy_migration(void **st)
{
	struct testdev_proc ps, pd;
	struct vfio_backend *src, *dst;
	size_t cap = 2 * MEM, n;
	uint8_t *buf = malloc(cap), *bar;
	uint32_t state;
	uint64_t size, d_src;
	void *m;
	int i;

	assert_int_equal(harness__start(&ps, small_args), 0);
	assert_int_equal(harness__start(&pd, small_args), 0);
	assert_int_equal(harness__connect(&ps, &src), 0);
	assert_int_equal(harness__connect(&pd, &dst), 0);
	assert_int_equal(src->ops->region_mmap(src, BAR2, 0, MEM,
					       PROT_READ | PROT_WRITE, &m), 0);
	bar = m;
	for (i = 0; i < (int)MEM; i += 512)
		bar[i] = (uint8_t)(i >> 9);
	for (i = 0; i < TD_NR_SCRATCH; i++)
		wr32(src, TD_REG_SCRATCH0 + 4 * i, 0x1000u + (uint32_t)i);
	msleep(20);
	/* MIG_DATA_SIZE (ferry extension): a whole-memory estimate. */
	assert_int_equal(src->ops->device_feature(src, VFIO_DEVICE_FEATURE_GET |
						  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
						  &size, 8), 0);
	assert_true(size > MEM);

	/* RUNNING -> STOP_COPY is a combination arc the server walks. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	assert_int_equal(src->ops->mig_get_state(src, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_STOP_COPY);
	/* STOP_COPY -> PRE_COPY is blocked. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY),
			 -EINVAL);
	n = drain(src, buf, cap);
	assert_true(n > MEM && n <= size);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP), 0);
	d_src = digest(src);

	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(rd32(dst, TD_REG_SCRATCH0 + 12), 0x1003);
	assert_int_equal(dst->ops->mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	/* The destination logged the same digest the source saved with. */
	{
		char needle[64];

		snprintf(needle, sizeof(needle), "RESUMING -> STOP digest=%016llx",
			 (unsigned long long)d_src);
		assert_int_equal(harness__log_count(&pd, needle), 1);
		snprintf(needle, sizeof(needle), "STOP -> STOP_COPY digest=%016llx",
			 (unsigned long long)d_src);
		assert_int_equal(harness__log_count(&ps, needle), 1);
	}

	/* Corrupt: one flipped byte in a page payload. */
	buf[n / 2] ^= 0x40;
	assert_int_equal(load(dst, buf, n), -EINVAL);
	assert_int_equal(dst->ops->mig_get_state(dst, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_ERROR);
	assert_int_equal(dst->ops->mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING),
			 -EINVAL);
	assert_int_equal(dst->ops->reset(dst), 0);
	assert_int_equal(dst->ops->mig_get_state(dst, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_RUNNING);
	buf[n / 2] ^= 0x40;
	/* Truncated: everything but the last 10 bytes. */
	assert_int_equal(load(dst, buf, n - 10), -EINVAL);
	assert_int_equal(dst->ops->reset(dst), 0);
	/* Garbage header. */
	{
		uint8_t junk[100];

		memset(junk, 0x11, sizeof(junk));
		assert_int_equal(load(dst, junk, sizeof(junk)), -EINVAL);
		assert_int_equal(dst->ops->reset(dst), 0);
	}
	/* Intact stream still loads after all that. */
	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(src->failed | dst->failed, 0);

	src->ops->destroy(src);
	dst->ops->destroy(dst);
	munmap(bar, MEM);
	free(buf);
	harness__stop(&ps);
	harness__stop(&pd);
}

static void test_testdev__precopy_with_bar_writes(void **st)
{
	static const char *const args[] = { "--mem-size", "1M", "--dirty-rate",
					    "2M", "--precopy", "on", NULL };
	struct testdev_proc ps, pd;
	struct vfio_backend *src, *dst;
	size_t cap = 16 * MEM, n = 0;
	uint8_t *buf = malloc(cap), *sbar, *dbar;
	uint64_t initial = 0, dirty = 0, d_src;
	ssize_t r;
	void *m;
	int pass, i;

	assert_int_equal(harness__start(&ps, args), 0);
	assert_int_equal(harness__start(&pd, args), 0);
	assert_int_equal(harness__connect(&ps, &src), 0);
	assert_int_equal(harness__connect(&pd, &dst), 0);
	assert_int_equal(src->ops->region_mmap(src, BAR2, 0, MEM,
					       PROT_READ | PROT_WRITE, &m), 0);
	sbar = m;
	/* precopy info is only valid in PRE_COPY. */
	assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), -EINVAL);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), 0);
	assert_true(initial >= MEM);
	for (pass = 0; pass < 6; pass++) {
		/* The guest writes through the mapped BAR during precopy. */
		for (i = 0; i < 16; i++)
			sbar[(size_t)((pass * 16 + i) * 61 % 256) * 4096 + 100] =
				(uint8_t)(pass + 1);
		while ((r = src->ops->mig_read(src, buf + n, MIN(cap - n,
						(size_t)262144))) > 0)
			n += (size_t)r;
		assert_int_equal(r, -ENOMSG);
		assert_true(n < cap - 2 * MEM);
		assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), 0);
		assert_int_equal(initial, 0);
		msleep(20);
	}
	/* A last write the STOP_COPY pass must still pick up. */
	sbar[777 * 1] = 0xee;
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	n += drain(src, buf + n, cap - n);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP), 0);
	d_src = digest(src);

	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(dst->ops->region_mmap(dst, BAR2, 0, MEM, PROT_READ, &m), 0);
	dbar = m;
	assert_memory_equal(dbar, sbar, MEM);
	assert_int_equal(dbar[777], 0xee);

	/* PRE_COPY -> RUNNING ends the session; reading is refused then. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_true(src->ops->mig_read(src, buf, 4096) < 0);
	assert_int_equal(src->failed, 0);

	src->ops->destroy(src);
	dst->ops->destroy(dst);
	munmap(sbar, MEM);
	munmap(dbar, MEM);
	free(buf);
	harness__stop(&ps);
	harness__stop(&pd);
}

static void test_testdev__precopy_off_and_resume_delay(void **st)
{
	static const char *const args[] = { "--mem-size", "64K", "--precopy",
					    "off", "--resume-delay-ms", "300",
					    NULL };
	struct testdev_proc p;
	struct vfio_backend *be;
	uint64_t flags = 0, a, b;
	struct timespec t0, t1;

	assert_int_equal(harness__start(&p, args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_MIGRATION,
						 &flags, 8), 0);
	assert_int_equal(flags, VFIO_MIGRATION_STOP_COPY);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_PRE_COPY),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RUNNING_P2P),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_ERROR),
			 -EINVAL);
	assert_int_equal(be->ops->mig_precopy_info(be, &a, &b), -EOPNOTSUPP);
	/* Unknown feature: the server says ENOTTY. */
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE | 3,
						 NULL, 0), -ENOTTY);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE |
						 VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
						 NULL, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RESUMING), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 290);
	/* Nothing written: leaving RESUMING fails and lands in ERROR. */
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RUNNING),
			 -EINVAL);
	assert_int_equal(harness__log_count(&p, "RESUMING -> STOP failed"), 1);
	assert_int_equal(be->ops->reset(be), 0);
	assert_int_equal(be->failed, 0);
	be->ops->destroy(be);
	harness__stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_testdev__stop_copy_migration),
		cmocka_unit_test(test_testdev__precopy_with_bar_writes),
		cmocka_unit_test(test_testdev__precopy_off_and_resume_delay),
	};

	if (!getenv("FERRY_TESTDEV")) {
		fprintf(stderr, "FERRY_TESTDEV not set\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
