/*
 * test-vfio-user-client.c: the vfio-user client backend against a fake
 * server thread on a socketpair that answers with malformed, truncated,
 * oversized, out-of-order, fd-carrying or missing replies. Every such
 * reply must fail the backend (later calls -EIO at once, no server
 * involved), never overrun the caller's buffer and never leak an fd; a
 * plain error reply must not fail it.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-proto.h"
#include "devices/vfio/vfio-user.h"
#include "vmm/compat/vfio-compat.h"

#define TIMEOUT_MS 300

typedef void (*script_fn)(int fd);

struct fake {
	int fd;
	script_fn script;
	pthread_t th;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Receive one request (any command); the payload is released by the caller. */
static int fk_recv(int fd, struct vfio_user_msg *m)
{
	return vfio_user__recv(fd, m, VFIO_USER_MAX_MSG_SIZE, 16, 2000);
}

static void fk_reply(int fd, const struct vfio_user_msg *req, const void *p,
		     size_t l)
{
	vfio_user__send_reply(fd, &req->hdr, p, l, NULL, 0, 1000);
}

static void fk_handshake(int fd)
{
	static const char caps[] =
		"{\"capabilities\": {\"max_msg_fds\": 4, \"max_data_xfer_size\": 65536}}";
	struct vfio_user_device_info di = { 16, VFIO_DEVICE_FLAGS_PCI, 9, 5 };
	struct vfio_user_msg m;
	uint8_t buf[4 + sizeof(caps)];
	struct vfio_user_version v = { 0, 2 };

	if (fk_recv(fd, &m))
		return;
	memcpy(buf, &v, 4);
	memcpy(buf + 4, caps, sizeof(caps));
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
	if (fk_recv(fd, &m))
		return;
	fk_reply(fd, &m, &di, sizeof(di));
	vfio_user__msg_release(&m);
}

/* Handshake, then answer region 0 info (4 KiB, read/write). */
static void fk_region0(int fd)
{
	struct vfio_user_region_info ri = {
		.argsz = 32, .flags = VFIO_REGION_INFO_FLAG_READ |
				      VFIO_REGION_INFO_FLAG_WRITE,
		.index = 0, .size = 4096,
	};
	struct vfio_user_msg m;

	fk_handshake(fd);
	if (fk_recv(fd, &m))
		return;
	fk_reply(fd, &m, &ri, sizeof(ri));
	vfio_user__msg_release(&m);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	f->script(f->fd);
	/* Wait for the client to go away, then close our end. */
	{
		char c;

		while (read(f->fd, &c, 1) > 0)
			;
	}
	close(f->fd);
	return NULL;
}

static struct vfio_backend *start(struct fake *f, script_fn script, int *ret)
{
	struct vfio_user_opts o = { .timeout_ms = TIMEOUT_MS,
				    .state_timeout_ms = TIMEOUT_MS };
	struct vfio_backend *be = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->fd = sv[1];
	f->script = script;
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	*ret = vfio_user__connect_fd("fake0", sv[0], &o, &be);
	return be;
}

static void finish(struct fake *f, struct vfio_backend *be)
{
	if (be)
		be->ops->destroy(be);
	pthread_join(f->th, NULL);
}

/* --- VERSION problems --- */

static void s_version_no_nul(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[6] = { 0, 0, 2, 0, '{', '}' };

	if (!fk_recv(fd, &m)) {
		fk_reply(fd, &m, buf, sizeof(buf));
		vfio_user__msg_release(&m);
	}
}

static void s_version_major(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[4] = { 1, 0, 0, 0 };

	if (!fk_recv(fd, &m)) {
		fk_reply(fd, &m, buf, sizeof(buf));
		vfio_user__msg_release(&m);
	}
}

static void s_version_bad_json(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[] = { 0, 0, 2, 0, '{', '"', 'c', 0 };

	if (!fk_recv(fd, &m)) {
		fk_reply(fd, &m, buf, sizeof(buf));
		vfio_user__msg_release(&m);
	}
}

static void s_version_error(int fd)
{
	struct vfio_user_msg m;

	if (!fk_recv(fd, &m)) {
		vfio_user__send_error(fd, &m.hdr, ENOTSUP, 1000);
		vfio_user__msg_release(&m);
	}
}

static void test_client__bad_versions_refused(void **st)
{
	static const script_fn scripts[] = { s_version_no_nul, s_version_major,
					     s_version_bad_json, s_version_error };
	unsigned int i;
	int before = count_fds();

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct fake f;
		int ret;
		struct vfio_backend *be = start(&f, scripts[i], &ret);

		assert_int_equal(ret, -EIO);
		assert_null(be);
		finish(&f, NULL);
	}
	assert_int_equal(count_fds(), before);
}

/* --- broken replies after a good handshake --- */

static void s_wrong_id(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[16 + 4] = { 0 };

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	m.hdr.msg_id++;
	memcpy(buf, m.data, 16);
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void s_command_not_reply(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_hdr h;

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	h = m.hdr;
	h.flags = VFIO_USER_F_TYPE_COMMAND;
	vfio_user__send(fd, &h, m.data, 16, "abcd", 4, NULL, 0, 1000);
	vfio_user__msg_release(&m);
}

static void s_oversized(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_hdr h;

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	h = m.hdr;
	h.flags = VFIO_USER_F_TYPE_REPLY;
	h.msg_size = 0x7fffffff;
	if (write(fd, &h, sizeof(h)) != sizeof(h))
		return;
	vfio_user__msg_release(&m);
}

static void s_truncated(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_hdr h;

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	h = m.hdr;
	h.flags = VFIO_USER_F_TYPE_REPLY;
	h.msg_size = 16 + 16 + 4;
	if (write(fd, &h, sizeof(h)) != sizeof(h) || write(fd, m.data, 4) != 4)
		return;
	vfio_user__msg_release(&m);
	shutdown(fd, SHUT_WR);
}

static void s_hang(int fd)
{
	struct vfio_user_msg m;

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	vfio_user__msg_release(&m); /* and never answer */
}

static void s_too_much_data(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[16 + 64];

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	memset(buf, 0x77, sizeof(buf));
	memcpy(buf, m.data, 16); /* echo says 4 bytes, 64 follow */
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void s_count_mismatch(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_region_access a;
	uint8_t buf[16 + 64];

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	memcpy(&a, m.data, 16);
	a.count = 64; /* claims 64 for a 4-byte request */
	memset(buf, 0x77, sizeof(buf));
	memcpy(buf, &a, 16);
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void s_disconnect(int fd)
{
	fk_region0(fd);
	shutdown(fd, SHUT_RDWR);
}

static void test_client__broken_read_replies_fail_device(void **st)
{
	static const script_fn scripts[] = { s_wrong_id, s_command_not_reply,
					     s_oversized, s_truncated, s_hang,
					     s_too_much_data, s_count_mismatch,
					     s_disconnect };
	unsigned int i;

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct fake f;
		struct timespec t0, t1;
		uint8_t buf[8];
		int ret;
		struct vfio_backend *be = start(&f, scripts[i], &ret);

		assert_int_equal(ret, 0);
		memset(buf, 0xcc, sizeof(buf));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(be->ops->region_read(be, 0, 0, buf, 4), -EIO);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* Bounded by the reply timeout, not stuck. */
		assert_true(t1.tv_sec - t0.tv_sec < 3);
		/* Nothing beyond the 4 requested bytes was touched. */
		assert_int_equal(buf[4], 0xcc);
		assert_int_equal(buf[7], 0xcc);
		assert_int_equal(be->failed, -EIO);
		/* Later calls fail at once, without the server. */
		assert_int_equal(be->ops->region_write(be, 0, 0, buf, 4), -EIO);
		assert_int_equal(be->ops->reset(be), -EIO);
		assert_int_equal(be->ops->mig_read(be, buf, 8), -EIO);
		finish(&f, be);
	}
}

static void s_error_then_ok(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[16 + 4];

	fk_region0(fd);
	if (fk_recv(fd, &m))
		return;
	vfio_user__send_error(fd, &m.hdr, ENOSPC, 1000);
	vfio_user__msg_release(&m);
	if (fk_recv(fd, &m))
		return;
	memcpy(buf, m.data, 16);
	memcpy(buf + 16, "\x01\x02\x03\x04", 4);
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void test_client__error_reply_is_not_failure(void **st)
{
	struct fake f;
	uint32_t v = 0;
	int ret;
	struct vfio_backend *be = start(&f, s_error_then_ok, &ret);

	assert_int_equal(ret, 0);
	assert_int_equal(be->ops->region_write(be, 0, 0, &v, 4), -ENOSPC);
	assert_int_equal(be->failed, 0);
	assert_int_equal(be->ops->region_read(be, 0, 0, &v, 4), 0);
	assert_int_equal(v, 0x04030201);
	finish(&f, be);
}

static void s_set_irqs_with_fd(int fd)
{
	struct vfio_user_msg m;
	int p[2];

	fk_handshake(fd);
	if (fk_recv(fd, &m) || pipe(p))
		return;
	vfio_user__send_reply(fd, &m.hdr, NULL, 0, p, 2, 1000);
	close(p[0]);
	close(p[1]);
	vfio_user__msg_release(&m);
}

static void test_client__unexpected_fds_closed(void **st)
{
	struct fake f;
	int before = count_fds(), ret, efd = 0; /* stdin stands in for an eventfd */
	struct vfio_backend *be = start(&f, s_set_irqs_with_fd, &ret);

	assert_int_equal(ret, 0);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_MSIX_IRQ_INDEX,
					   VFIO_IRQ_SET_DATA_EVENTFD |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd),
			 -EIO);
	finish(&f, be);
	assert_int_equal(count_fds(), before);
}

static void s_mig_read_too_much(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_mig_data d;
	uint8_t buf[8 + 128];

	fk_handshake(fd);
	if (fk_recv(fd, &m))
		return;
	memcpy(&d, m.data, 8);
	d.size = 128; /* more than the 16 asked for */
	d.argsz = 8 + 128;
	memset(buf, 0x55, sizeof(buf));
	memcpy(buf, &d, 8);
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void test_client__mig_read_overrun_refused(void **st)
{
	struct fake f;
	uint8_t buf[32];
	int ret;
	struct vfio_backend *be = start(&f, s_mig_read_too_much, &ret);

	assert_int_equal(ret, 0);
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(be->ops->mig_read(be, buf, 16), -EIO);
	assert_int_equal(buf[16], 0xcc);
	assert_int_equal(buf[0], 0xcc);
	finish(&f, be);
}

static void s_report_other_range(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[8 + 24 + 8];

	fk_handshake(fd);
	if (fk_recv(fd, &m))
		return;
	memcpy(buf, m.data, 8 + 24);
	((struct vfio_user_device_feature *)buf)->argsz = sizeof(buf);
	buf[8] ^= 0x10; /* a different iova */
	memset(buf + 32, 0xff, 8);
	fk_reply(fd, &m, buf, sizeof(buf));
	vfio_user__msg_release(&m);
}

static void test_client__dma_report_mismatch(void **st)
{
	struct fake f;
	uint64_t bm = 0;
	int ret;
	struct vfio_backend *be = start(&f, s_report_other_range, &ret);

	assert_int_equal(ret, 0);
	assert_int_equal(be->ops->dma_logging_report(be, 0x100000, 64 * 4096,
						     4096, &bm), -EIO);
	assert_int_equal(bm, 0);
	finish(&f, be);
}

static void s_region_bad_cap(int fd)
{
	struct vfio_user_msg m;
	struct {
		struct vfio_user_region_info ri;
		struct vfio_user_sparse_mmap sm;
		struct vfio_user_sparse_area a;
	} __attribute__((packed)) r = {
		.ri = { .argsz = sizeof(r), .index = 2, .size = 65536,
			.cap_offset = 32,
			.flags = VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_MMAP |
				 VFIO_REGION_INFO_FLAG_CAPS },
		.sm = { .header = { VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0 },
			.nr_areas = 1 },
		.a = { .offset = 61440, .size = 8192 }, /* past the end */
	};

	fk_handshake(fd);
	if (fk_recv(fd, &m))
		return;
	vfio_user__send_reply(fd, &m.hdr, &r, sizeof(r), &fd, 1, 1000);
	vfio_user__msg_release(&m);
}

static void s_region_mmap_no_fd(int fd)
{
	struct vfio_user_msg m;
	struct vfio_user_region_info ri = {
		.argsz = 32, .index = 2, .size = 65536,
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP,
	};

	fk_handshake(fd);
	if (fk_recv(fd, &m))
		return;
	fk_reply(fd, &m, &ri, sizeof(ri));
	vfio_user__msg_release(&m);
}

static void test_client__bad_region_info(void **st)
{
	static const script_fn scripts[] = { s_region_bad_cap, s_region_mmap_no_fd };
	int before = count_fds();
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct fake f;
		struct vfio_region_desc rd;
		int ret;
		struct vfio_backend *be = start(&f, scripts[i], &ret);

		assert_int_equal(ret, 0);
		assert_int_equal(be->ops->get_region_info(be, 2, &rd), -EIO);
		finish(&f, be);
	}
	assert_int_equal(count_fds(), before);
}

static void test_client__argument_checks_stay_local(void **st)
{
	struct fake f;
	uint8_t buf[8];
	uint64_t bm;
	struct vfio_region_desc rd;
	int ret;
	struct vfio_backend *be = start(&f, fk_handshake, &ret);

	/* None of these reach the (silent) server or fail the backend. */
	assert_int_equal(ret, 0);
	assert_int_equal(be->ops->get_region_info(be, 99, &rd), -EINVAL);
	assert_int_equal(be->ops->region_read(be, 42, 0, buf, 4), -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 99, VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, VFIO_IRQ_SET_DATA_BOOL |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, 8), -EINVAL);
	assert_int_equal(be->ops->dma_map(be, 0, 4096, -1, 0, NULL, 0), -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, NULL, 0), -EINVAL);
	assert_int_equal(be->ops->dma_logging_report(be, 0, 4096, 3000, &bm),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_report(be, 0, 1ULL << 40, 4096, &bm),
			 -E2BIG);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
						 buf, 8), -EINVAL);
	assert_int_equal(be->failed, 0);
	finish(&f, be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client__bad_versions_refused),
		cmocka_unit_test(test_client__broken_read_replies_fail_device),
		cmocka_unit_test(test_client__error_reply_is_not_failure),
		cmocka_unit_test(test_client__unexpected_fds_closed),
		cmocka_unit_test(test_client__mig_read_overrun_refused),
		cmocka_unit_test(test_client__dma_report_mismatch),
		cmocka_unit_test(test_client__bad_region_info),
		cmocka_unit_test(test_client__argument_checks_stay_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
