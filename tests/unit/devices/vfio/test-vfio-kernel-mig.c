/*
 * test-vfio-kernel-mig.c: the kernel VFIO backend's migration operations
 * against the scripted fake kernel: the saving and resuming sessions
 * (which arcs must return a data_fd, which keep it, which close it), the
 * stream on the data_fd (short writes, ENOMSG, end of stream), precopy
 * info, refused arcs (session dropped, state re-read), hostile answers
 * (missing or stray data_fds, unknown states, oversized reads) and
 * reset. DMA mapping and logging are test-vfio-kernel-dma.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "fake-vfio-dev.h"
#include "fake-vfio.h"
#include "vmm/compat/vfio-compat.h"

#define ST_STOP VFIO_DEVICE_STATE_STOP
#define ST_RUNNING VFIO_DEVICE_STATE_RUNNING
#define ST_STOP_COPY VFIO_DEVICE_STATE_STOP_COPY
#define ST_RESUMING VFIO_DEVICE_STATE_RESUMING
#define ST_PRE_COPY VFIO_DEVICE_STATE_PRE_COPY

/* A MIG_DEVICE_STATE feature buffer: header + {state, data_fd}. */
struct mig_buf {
	uint32_t argsz, flags, state;
	int32_t data_fd;
};

/* Backing store for the buffers the steps of one script point at. */
static struct mig_buf bufs[32];
static unsigned int nbufs;

static const struct mig_buf *mb(uint32_t op, uint32_t state, int32_t fd)
{
	struct mig_buf *b = &bufs[nbufs++ % 32];

	*b = (struct mig_buf){ 16, op | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       state, fd };
	return b;
}

/* SET @state (checked: data_fd -1 in), answered with data_fd @fd. */
static struct fake_step set_step(uint32_t state, int32_t fd)
{
	return (struct fake_step){
		.call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		.in = mb(VFIO_DEVICE_FEATURE_SET, state, -1), .in_len = 16,
		.out = mb(VFIO_DEVICE_FEATURE_SET, state, fd), .out_len = 16,
	};
}

static struct fake_step set_fails(uint32_t state, int err)
{
	struct fake_step s = set_step(state, -1);

	s.out = NULL;
	s.out_len = 0;
	s.err = err;
	return s;
}

/* GET answered with @state. */
static struct fake_step get_step(uint32_t state)
{
	return (struct fake_step){
		.call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		.in = mb(VFIO_DEVICE_FEATURE_GET, 0, -1), .in_len = 8,
		.out = mb(VFIO_DEVICE_FEATURE_GET, state, -1), .out_len = 16,
	};
}

static const uint8_t stream[100] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };

static void test_vfio_kernel__saving_session(void **state)
{
	static const struct vfio_precopy_info pi_in = { .argsz = 24 };
	static const struct vfio_precopy_info pi_out = {
		.argsz = 24, .initial_bytes = 1000, .dirty_bytes = 20,
	};
	struct fake_step steps[] = {
		/* Unknown state at first: read it, then SET. */
		get_step(ST_RUNNING),
		set_step(ST_PRE_COPY, 50),
		{ .call = FK_READ, .fd = 50, .len = 4096, .out = stream,
		  .out_len = 100, .ret = 100 },
		{ .call = FK_READ, .fd = 50, .err = ENOMSG },
		{ .call = FK_READ, .fd = 50, .ret = 0 },
		{ .call = FK_IOCTL, .fd = 50, .req = VFIO_MIG_GET_PRECOPY_INFO,
		  .in = &pi_in, .in_len = 8, .out = &pi_out, .out_len = 24 },
		/* Within the saving group: same session, no new fd. */
		set_step(ST_STOP_COPY, -1),
		{ .call = FK_READ, .fd = 50, .out = stream, .out_len = 10,
		  .ret = 10 },
		{ .call = FK_READ, .fd = 50, .ret = 0 },
		/* STOP_COPY -> STOP ends the session. */
		set_step(ST_STOP, -1),
		FK_CLOSE_OK(50),
	};
	struct vfio_backend *be;
	uint64_t init = 0, dirty = 0;
	uint8_t buf[4096];

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	assert_int_equal(be->ops->mig_read(be, buf, sizeof(buf)), 100);
	assert_memory_equal(buf, stream, 100);
	assert_int_equal(be->ops->mig_read(be, buf, sizeof(buf)), -ENOMSG);
	/* A 0 in PRE_COPY is "nothing now", never the end of the stream. */
	assert_int_equal(be->ops->mig_read(be, buf, sizeof(buf)), -ENOMSG);
	assert_int_equal(be->ops->mig_precopy_info(be, &init, &dirty), 0);
	assert_int_equal(init, 1000);
	assert_int_equal(dirty, 20);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP_COPY), 0);
	assert_int_equal(be->ops->mig_precopy_info(be, &init, &dirty), -EINVAL);
	assert_int_equal(be->ops->mig_read(be, buf, 64), 10);
	assert_int_equal(be->ops->mig_read(be, buf, 64), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP), 0);
	/* No session any more: refused without a call. */
	assert_int_equal(be->ops->mig_read(be, buf, 64), -EINVAL);
	assert_int_equal(be->ops->mig_write(be, buf, 64), -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__resuming_session(void **state)
{
	struct fake_step steps[] = {
		get_step(ST_STOP),
		set_step(ST_RESUMING, 51),
		{ .call = FK_WRITE, .fd = 51, .len = 10, .in = stream,
		  .in_len = 10, .ret = 4 },
		{ .call = FK_WRITE, .fd = 51, .len = 6, .in = stream + 4,
		  .in_len = 6, .ret = 6 },
		{ .call = FK_WRITE, .fd = 51, .err = EINVAL },
		{ .call = FK_WRITE, .fd = 51, .ret = 0 },
		/* RESUMING -> RUNNING (through STOP) ends the session. */
		set_step(ST_RUNNING, -1),
		FK_CLOSE_OK(51),
	};
	struct vfio_backend *be;
	uint8_t buf[16];

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_RESUMING), 0);
	assert_int_equal(be->ops->mig_read(be, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(be->ops->mig_write(be, stream, 10), 0);
	assert_int_equal(be->ops->mig_write(be, stream, 10), -EINVAL);
	assert_int_equal(be->ops->mig_write(be, stream, 10), -EIO);
	assert_int_equal(be->failed, 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_RUNNING), 0);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__combination_arcs_swap_sessions(void **state)
{
	struct fake_step steps[] = {
		get_step(ST_RUNNING),
		/* RUNNING -> STOP_COPY (combination) opens a session. */
		set_step(ST_STOP_COPY, 54),
		/* STOP_COPY -> RESUMING ends it and opens another. */
		set_step(ST_RESUMING, 55),
		FK_CLOSE_OK(54),
		/* RESUMING -> RESUMING: nothing changes. */
		set_step(ST_RESUMING, -1),
	};
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP_COPY), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_RESUMING), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_RESUMING), 0);
	/* ERROR cannot be requested; nor can states past the enum. */
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_ERROR),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_COMPAT_DEVICE_STATE_NR),
			 -EINVAL);
	fake_vfio__done();
	/* The live session's fd closes first on destroy. */
	fkd__destroy(be, false, 55);
}

static void test_vfio_kernel__refused_arc_drops_session(void **state)
{
	struct fake_step steps[] = {
		get_step(ST_RUNNING),
		set_step(ST_PRE_COPY, 52),
		set_fails(ST_STOP_COPY, EINVAL),
		FK_CLOSE_OK(52),
		get_step(ST_PRE_COPY), /* where the device ended up */
		/* Back to RUNNING: a known state, no GET first, no fd. */
		set_step(ST_RUNNING, -1),
		/* A refused SET whose GET fails too: state unknown. */
		set_fails(ST_STOP, EIO),
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .err = EIO },
		/* So the next SET reads the state first. */
		get_step(ST_RUNNING),
		set_step(ST_STOP, -1),
	};
	struct vfio_backend *be;
	uint64_t a, b;
	uint32_t st = 0;
	uint8_t buf[8];

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP_COPY), -EINVAL);
	/* Still in PRE_COPY per the kernel, but the session is gone. */
	assert_int_equal(be->ops->mig_read(be, buf, 8), -EINVAL);
	assert_int_equal(be->ops->mig_precopy_info(be, &a, &b), -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, ST_RUNNING), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP), -EIO);
	assert_int_equal(be->failed, 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP), 0);
	fake_vfio__done();
	/* get_state asks the kernel each time. */
	steps[0] = get_step(ST_STOP);
	fake_vfio__start(steps, 1);
	assert_int_equal(be->ops->mig_get_state(be, &st), 0);
	assert_int_equal(st, ST_STOP);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__reset_ends_session(void **state)
{
	struct fake_step steps[] = {
		get_step(ST_RUNNING),
		set_step(ST_PRE_COPY, 56),
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_RESET },
		FK_CLOSE_OK(56),
		/* RUNNING is known after a reset: SET straight away. */
		set_step(ST_PRE_COPY, 57),
	};
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	assert_int_equal(be->ops->reset(be), 0);
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	fake_vfio__done();
	fkd__destroy(be, false, 57);
}

static void test_vfio_kernel__data_fd_errors(void **state)
{
	struct fake_step steps[] = {
		get_step(ST_RUNNING),
		set_step(ST_PRE_COPY, 58),
		{ .call = FK_READ, .fd = 58, .err = EIO },
		{ .call = FK_IOCTL, .fd = 58, .req = VFIO_MIG_GET_PRECOPY_INFO,
		  .err = ENOTTY },
		{ .call = FK_IOCTL, .fd = 58, .req = VFIO_MIG_GET_PRECOPY_INFO,
		  .err = EFAULT },
		set_step(ST_STOP_COPY, -1),
		/* ENOMSG is not allowed in STOP_COPY: an error, not a retry. */
		{ .call = FK_READ, .fd = 58, .err = ENOMSG },
		{ .call = FK_READ, .fd = 58, .err = EINTR },
		{ .call = FK_READ, .fd = 58, .out = stream, .out_len = 8,
		  .ret = 8 },
	};
	struct vfio_backend *be;
	uint64_t a, b;
	uint8_t buf[8];

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	assert_int_equal(be->ops->mig_read(be, buf, 8), -EIO);
	assert_int_equal(be->ops->mig_precopy_info(be, &a, &b), -EOPNOTSUPP);
	assert_int_equal(be->ops->mig_precopy_info(be, &a, &b), -EFAULT);
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP_COPY), 0);
	assert_int_equal(be->ops->mig_read(be, buf, 8), -EIO);
	assert_int_equal(be->ops->mig_read(be, buf, 8), 8);
	assert_int_equal(be->ops->mig_read(be, buf, 0), -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, 58);
}

static void test_vfio_kernel__hostile_migration_answers(void **state)
{
	struct fake_step no_fd[] = {
		get_step(ST_STOP),
		set_step(ST_RESUMING, -1),
	};
	struct fake_step stray_fd[] = {
		get_step(ST_RUNNING),
		set_step(ST_STOP, 60),
		FK_CLOSE_OK(60),
	};
	struct fake_step bad_state[] = {
		get_step(99),
	};
	struct fake_step big_read[] = {
		get_step(ST_RUNNING),
		set_step(ST_PRE_COPY, 61),
		{ .call = FK_READ, .fd = 61, .out = stream, .out_len = 8,
		  .ret = 4096 },
	};
	struct vfio_backend *be;
	uint8_t buf[8];

	(void)state;
	/* A session-opening arc without a data_fd: failed. */
	fkd__open_iommufd(&be);
	fake_vfio__start(no_fd, FK_N(no_fd));
	assert_int_equal(be->ops->mig_set_state(be, ST_RESUMING), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, -1);

	/* An fd where none belongs: closed, -EBADF, backend still healthy. */
	fkd__open_iommufd(&be);
	fake_vfio__start(stray_fd, FK_N(stray_fd));
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP), -EBADF);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);

	/* A state outside the enum: failed. */
	fkd__open_iommufd(&be);
	fake_vfio__start(bad_state, FK_N(bad_state));
	assert_int_equal(be->ops->mig_set_state(be, ST_STOP), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, -1);

	/* A read claiming more than the buffer: failed, fd still closed. */
	fkd__open_iommufd(&be);
	fake_vfio__start(big_read, FK_N(big_read));
	assert_int_equal(be->ops->mig_set_state(be, ST_PRE_COPY), 0);
	assert_int_equal(be->ops->mig_read(be, buf, sizeof(buf)), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, 61);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_kernel__saving_session),
		cmocka_unit_test(test_vfio_kernel__resuming_session),
		cmocka_unit_test(test_vfio_kernel__combination_arcs_swap_sessions),
		cmocka_unit_test(test_vfio_kernel__refused_arc_drops_session),
		cmocka_unit_test(test_vfio_kernel__reset_ends_session),
		cmocka_unit_test(test_vfio_kernel__data_fd_errors),
		cmocka_unit_test(test_vfio_kernel__hostile_migration_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
