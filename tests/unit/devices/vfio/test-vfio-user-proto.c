/*
 * test-vfio-user-proto.c: vfio-user message I/O and decoders against
 * well-formed, malformed, truncated, oversized and fd-stuffed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-user-payload.h"
#include "devices/vfio/vfio-user-proto.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void sp(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void raw_write(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void test_proto__roundtrip_with_fds(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 7, .cmd = VFIO_USER_DMA_MAP };
	struct vfio_user_msg m;
	int sv[2], pfd[2], fds[2];
	const char a[] = "hello", b[] = "world!";
	char c;

	sp(sv);
	assert_int_equal(pipe(pfd), 0);
	fds[0] = pfd[0];
	fds[1] = pfd[1];
	assert_int_equal(vfio_user__send(sv[0], &h, a, 5, b, 6, fds, 2, 1000), 0);
	assert_int_equal(h.msg_size, 16 + 11);
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 4, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 7);
	assert_int_equal(m.hdr.cmd, VFIO_USER_DMA_MAP);
	assert_int_equal(m.len, 11);
	assert_memory_equal(m.data, "helloworld!", 11);
	assert_int_equal(m.nr_fds, 2);
	/* The received fds are the pipe: write through one, read the other. */
	assert_int_equal(write(m.fds[1], "x", 1), 1);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	vfio_user__msg_release(&m);
	assert_null(m.data);
	assert_int_equal(m.nr_fds, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__short_size_rejected(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 1, .cmd = 4, .msg_size = 8 };
	struct vfio_user_msg m;
	int sv[2];

	sp(sv);
	raw_write(sv[0], &h, sizeof(h));
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 1, 1000), -EPROTO);
	assert_int_equal(m.hdr.msg_size, 8);
	assert_null(m.data);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__oversized_rejected(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 2, .cmd = 9, .msg_size = 0xfffffff0u };
	struct vfio_user_msg m;
	int sv[2];

	sp(sv);
	raw_write(sv[0], &h, sizeof(h));
	assert_int_equal(vfio_user__recv(sv[1], &m, VFIO_USER_MAX_MSG_SIZE, 1,
					 1000), -E2BIG);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_null(m.data);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__truncated_then_eof(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 3, .cmd = 9, .msg_size = 100 };
	struct vfio_user_msg m;
	char pad[10] = { 0 };
	int sv[2];

	sp(sv);
	raw_write(sv[0], &h, sizeof(h));
	raw_write(sv[0], pad, sizeof(pad));
	close(sv[0]);
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 1, 1000), -ECONNRESET);
	assert_null(m.data);
	close(sv[1]);
}

static void test_proto__truncated_header_eof(void **st)
{
	struct vfio_user_msg m;
	int sv[2];

	sp(sv);
	raw_write(sv[0], "abc", 3);
	close(sv[0]);
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 1, 1000), -ECONNRESET);
	close(sv[1]);
}

static void test_proto__partial_times_out(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 3, .cmd = 9, .msg_size = 40 };
	struct vfio_user_msg m;
	int sv[2];

	sp(sv);
	raw_write(sv[0], &h, sizeof(h));
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 1, 100), -ETIMEDOUT);
	assert_null(m.data);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__too_many_fds_closed_stream_kept(void **st)
{
	struct vfio_user_hdr h = { .msg_id = 4, .cmd = 8 };
	struct vfio_user_msg m;
	int sv[2], pfd[2], fds[3], before;

	sp(sv);
	assert_int_equal(pipe(pfd), 0);
	fds[0] = fds[1] = fds[2] = pfd[0];
	before = count_fds();
	assert_int_equal(vfio_user__send(sv[0], &h, "abcd", 4, NULL, 0, fds, 3,
					 1000), 0);
	h.msg_id = 5;
	assert_int_equal(vfio_user__send(sv[0], &h, NULL, 0, NULL, 0, NULL, 0,
					 1000), 0);
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 2, 1000),
			 -ETOOMANYREFS);
	assert_int_equal(m.hdr.msg_id, 4);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(m.len, 4);
	vfio_user__msg_release(&m);
	assert_int_equal(count_fds(), before);
	/* The next message is intact. */
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 2, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 5);
	vfio_user__msg_release(&m);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__more_than_max_fds_per_cmsg(void **st)
{
	/* 20 fds in one SCM_RIGHTS: more than the receive buffer holds. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * 20)];
		struct cmsghdr align;
	} ctl;
	struct vfio_user_hdr h = { .msg_id = 9, .cmd = 8, .msg_size = 16 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	struct vfio_user_msg m;
	int sv[2], fds[20], i, before;

	sp(sv);
	for (i = 0; i < 20; i++)
		fds[i] = 0;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	before = count_fds();
	assert_int_equal(sendmsg(sv[0], &mh, 0), 16);
	assert_int_equal(vfio_user__recv(sv[1], &m, 4096, 16, 1000),
			 -ETOOMANYREFS);
	assert_int_equal(count_fds(), before);
	vfio_user__msg_release(&m);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__send_limits(void **st)
{
	struct vfio_user_hdr h = { 0 };
	int fds[VFIO_USER_MAX_MSG_FDS + 1] = { 0 };
	int sv[2];

	sp(sv);
	assert_int_equal(vfio_user__send(sv[0], &h, NULL, 0, NULL, 0, fds,
					 VFIO_USER_MAX_MSG_FDS + 1, 100), -EINVAL);
	assert_int_equal(vfio_user__send(sv[0], &h, NULL, 5, NULL, 0, NULL, 0,
					 100), -EINVAL);
	close(sv[1]);
	assert_int_equal(vfio_user__send(sv[0], &h, NULL, 0, NULL, 0, NULL, 0,
					 100), -EPIPE);
	close(sv[0]);
}

static void test_proto__send_times_out_when_peer_stalls(void **st)
{
	static char big[256 * 1024];
	struct vfio_user_hdr h = { 0 };
	int sv[2], ret = 0, i;

	sp(sv);
	/* Nobody reads sv[1]: the socket buffer fills, then we time out. */
	for (i = 0; i < 64 && ret == 0; i++)
		ret = vfio_user__send(sv[0], &h, big, sizeof(big), NULL, 0,
				      NULL, 0, 50);
	assert_int_equal(ret, -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_proto__check_reply(void **st)
{
	struct vfio_user_hdr r = { .msg_id = 10, .cmd = 5, .msg_size = 16,
				   .flags = VFIO_USER_F_TYPE_REPLY };

	assert_int_equal(vfio_user__check_reply(&r, 10, 5), 0);
	assert_int_equal(vfio_user__reply_errno(&r), 0);
	assert_int_equal(vfio_user__check_reply(&r, 11, 5), -EPROTO);
	assert_int_equal(vfio_user__check_reply(&r, 10, 6), -EPROTO);
	r.flags = VFIO_USER_F_TYPE_COMMAND;
	assert_int_equal(vfio_user__check_reply(&r, 10, 5), -EPROTO);
	r.flags = VFIO_USER_F_TYPE_REPLY | (1u << 12);
	assert_int_equal(vfio_user__check_reply(&r, 10, 5), -EPROTO);
	r.flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_NO_REPLY;
	assert_int_equal(vfio_user__check_reply(&r, 10, 5), -EPROTO);
	r.flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR;
	r.error_no = ENOENT;
	assert_int_equal(vfio_user__check_reply(&r, 10, 5), 0);
	assert_int_equal(vfio_user__reply_errno(&r), ENOENT);
	r.error_no = 0;
	assert_int_equal(vfio_user__reply_errno(&r), EIO);
	r.error_no = 0x80000000u;
	assert_int_equal(vfio_user__reply_errno(&r), EIO);
}

static void test_proto__version_parse(void **st)
{
	uint8_t buf[64] = { 0 };
	uint16_t maj, min;
	const char *caps;

	assert_int_equal(vfio_user__parse_version(buf, 3, &maj, &min, &caps),
			 -EINVAL);
	buf[0] = 0; buf[1] = 0; buf[2] = 2; buf[3] = 0;
	assert_int_equal(vfio_user__parse_version(buf, 4, &maj, &min, &caps), 0);
	assert_int_equal(maj, 0);
	assert_int_equal(min, 2);
	assert_null(caps);
	memcpy(buf + 4, "{}", 2); /* no NUL */
	assert_int_equal(vfio_user__parse_version(buf, 6, &maj, &min, &caps),
			 -EINVAL);
	memcpy(buf + 4, "{}", 3);
	assert_int_equal(vfio_user__parse_version(buf, 7, &maj, &min, &caps), 0);
	assert_string_equal(caps, "{}");
}

static void test_proto__caps(void **st)
{
	struct vfio_user_caps c, d;
	char buf[512];
	int n;

	vfio_user__caps_defaults(&c);
	assert_int_equal(c.max_msg_fds, 1);
	assert_int_equal(c.max_data_xfer_size, 1048576);
	assert_int_equal(vfio_user__caps_parse(
		"{ \"capabilities\": { \"max_msg_fds\": 8, \"max_data_xfer_size\": "
		"65536, \"migration\": { \"pgsize\": 4096 }, \"unknown\": [1] } }",
		&c), 0);
	assert_int_equal(c.max_msg_fds, 8);
	assert_int_equal(c.max_data_xfer_size, 65536);
	assert_int_equal(c.migration_pgsize, 4096);

	vfio_user__caps_defaults(&c);
	assert_int_equal(vfio_user__caps_parse("{}", &c), 0);
	assert_int_equal(c.max_msg_fds, 1);

	/* Malformed and hostile inputs. */
	assert_int_equal(vfio_user__caps_parse("{", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse("{} x", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse("[]", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": 5}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_msg_fds\": \"8\"}}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_msg_fds\": 0}}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_msg_fds\": 100000}}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_data_xfer_size\": -1}}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_data_xfer_size\": 12}}", &c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"max_data_xfer_size\": 99999999999999999999}}",
		&c), -EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"migration\": {\"pgsize\": 65536}}}", &c),
		-EINVAL);
	assert_int_equal(vfio_user__caps_parse(
		"{\"capabilities\": {\"pgsizes\": 8192}}", &c), -EINVAL);

	/* format -> parse round trip */
	vfio_user__caps_defaults(&c);
	c.max_msg_fds = 16;
	c.max_data_xfer_size = 1 << 20;
	c.migration_pgsize = 4096;
	n = vfio_user__caps_format(&c, buf, sizeof(buf));
	assert_true(n > 0);
	vfio_user__caps_defaults(&d);
	assert_int_equal(vfio_user__caps_parse(buf, &d), 0);
	assert_int_equal(d.max_msg_fds, 16);
	assert_int_equal(d.migration_pgsize, 4096);
	assert_int_equal(vfio_user__caps_format(&c, buf, 10), -ENOSPC);
}

/* Build a region info reply: info + optional sparse cap at 32. */
static size_t build_region(uint8_t *buf, uint32_t index, uint32_t flags,
			   uint64_t size, uint32_t nr, const uint64_t *areas)
{
	struct vfio_user_region_info ri = {
		.flags = flags, .index = index, .size = size, .offset = 0,
	};
	size_t len = sizeof(ri);

	if (flags & VFIO_REGION_INFO_FLAG_CAPS) {
		struct vfio_user_sparse_mmap sm = {
			.header = { .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP,
				    .version = 1, .next = 0 },
			.nr_areas = nr,
		};
		ri.cap_offset = sizeof(ri);
		memcpy(buf + len, &sm, sizeof(sm));
		len += sizeof(sm);
		memcpy(buf + len, areas, nr * 16);
		len += nr * 16;
	}
	ri.argsz = (uint32_t)len;
	memcpy(buf, &ri, sizeof(ri));
	return len;
}

static void test_proto__region_info(void **st)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	const uint32_t mm = rw | VFIO_REGION_INFO_FLAG_MMAP;
	const uint32_t caps = mm | VFIO_REGION_INFO_FLAG_CAPS;
	struct vfio_user_region_info ri;
	struct vfio_user_sparse_area a[4];
	uint64_t areas[8] = { 0, 4096, 8192, 4096, 0, 0, 0, 0 };
	uint8_t buf[256];
	unsigned int nr;
	size_t len;

	/* Trapped region: no areas. */
	len = build_region(buf, 0, rw, 4096, 0, NULL);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 0, &ri, a, 4, &nr), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(ri.size, 4096);
	/* Wrong index, short payload. */
	assert_int_equal(vfio_user__parse_region_info(buf, len, 1, &ri, a, 4, &nr),
			 -EPROTO);
	assert_int_equal(vfio_user__parse_region_info(buf, 31, 0, &ri, a, 4, &nr),
			 -EPROTO);
	/* MMAP without sparse cap: one whole area. */
	len = build_region(buf, 2, mm, 1 << 20, 0, NULL);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(a[0].size, 1 << 20);
	/* Sparse cap with two areas. */
	len = build_region(buf, 2, caps, 16384, 2, areas);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(a[1].offset, 8192);
	/* More areas than the caller has room for. */
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 1, &nr),
			 -EPROTO);
	/* Area past the end of the region. */
	areas[3] = 16384;
	len = build_region(buf, 2, caps, 16384, 2, areas);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr),
			 -EPROTO);
	/* Overflowing area. */
	areas[2] = UINT64_MAX - 10;
	areas[3] = 4096;
	len = build_region(buf, 2, caps, 16384, 2, areas);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr),
			 -EPROTO);
	areas[2] = 8192;
	/* nr_areas claims more than the payload holds. */
	len = build_region(buf, 2, caps, 16384, 2, areas);
	buf[32 + 8] = 200;
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr),
			 -EPROTO);
	/* Capability chain loop: next points back at itself. */
	len = build_region(buf, 2, caps, 16384, 2, areas);
	{
		uint32_t next = 32;

		memcpy(buf + 32 + 4, &next, 4);
	}
	assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri, a, 4, &nr),
			 -EPROTO);
	/* cap_offset outside the payload / inside the fixed part. */
	len = build_region(buf, 2, caps, 16384, 2, areas);
	{
		uint32_t off = 250;

		memcpy(buf + 12, &off, 4);
		assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri,
							      a, 4, &nr), -EPROTO);
		off = 8;
		memcpy(buf + 12, &off, 4);
		assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri,
							      a, 4, &nr), -EPROTO);
	}
	/* argsz larger than what was sent: retry with a bigger buffer. */
	len = build_region(buf, 2, caps, 16384, 2, areas);
	assert_int_equal(vfio_user__parse_region_info(buf, 40, 2, &ri, a, 4, &nr),
			 -ENOSPC);
	assert_int_equal(ri.argsz, len);
	/* argsz smaller than the payload. */
	{
		uint32_t argsz = 32;

		memcpy(buf, &argsz, 4);
		assert_int_equal(vfio_user__parse_region_info(buf, len, 2, &ri,
							      a, 4, &nr), -EPROTO);
	}
	/* Unknown flag bits. */
	len = build_region(buf, 0, rw | (1u << 9), 4096, 0, NULL);
	assert_int_equal(vfio_user__parse_region_info(buf, len, 0, &ri, a, 4, &nr),
			 -EPROTO);
	/* offset + size overflow. */
	len = build_region(buf, 0, rw, UINT64_MAX, 0, NULL);
	{
		uint64_t off = 4096;

		memcpy(buf + 24, &off, 8);
	}
	assert_int_equal(vfio_user__parse_region_info(buf, len, 0, &ri, a, 4, &nr),
			 -EPROTO);
}

static void test_proto__names(void **st)
{
	assert_string_equal(vfio_user__cmd_name(VFIO_USER_MIG_DATA_READ),
			    "MIG_DATA_READ");
	assert_string_equal(vfio_user__cmd_name(14), "UNKNOWN");
	assert_string_equal(vfio_user__cmd_name(99999), "UNKNOWN");
	assert_string_equal(vfio_user__mig_state_name(6), "PRE_COPY");
	assert_string_equal(vfio_user__mig_state_name(8), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto__roundtrip_with_fds),
		cmocka_unit_test(test_proto__short_size_rejected),
		cmocka_unit_test(test_proto__oversized_rejected),
		cmocka_unit_test(test_proto__truncated_then_eof),
		cmocka_unit_test(test_proto__truncated_header_eof),
		cmocka_unit_test(test_proto__partial_times_out),
		cmocka_unit_test(test_proto__too_many_fds_closed_stream_kept),
		cmocka_unit_test(test_proto__more_than_max_fds_per_cmsg),
		cmocka_unit_test(test_proto__send_limits),
		cmocka_unit_test(test_proto__send_times_out_when_peer_stalls),
		cmocka_unit_test(test_proto__check_reply),
		cmocka_unit_test(test_proto__version_parse),
		cmocka_unit_test(test_proto__caps),
		cmocka_unit_test(test_proto__region_info),
		cmocka_unit_test(test_proto__names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
