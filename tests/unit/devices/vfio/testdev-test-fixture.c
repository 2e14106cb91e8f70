/*
 * testdev-test-fixture.c: BAR0 register helpers and the small-device
 * arguments the ferry-testdev client tests share (testdev-test-fixture.h).
 */
#include "testdev-test-fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <cmocka.h>

#include "devices/vfio/vfio-backend.h"
#include "tools/testdev/testdev-internal.h"

const char *const small_args[] = { "--mem-size", "1M", NULL };

uint32_t rd32(struct vfio_backend *be, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, off, &v, 4), 0);
	return v;
}

void wr32(struct vfio_backend *be, uint64_t off, uint32_t v)
{
	assert_int_equal(be->ops->region_write(be, BAR0, off, &v, 4), 0);
}

uint64_t digest(struct vfio_backend *be)
{
	uint64_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, TD_REG_DIGEST_LO, &v, 8), 0);
	return v;
}

void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}
