/*
 * test-live-wire.c: the zero-copy paths of the live-migration stream.
 * live_wire__send_spliced (vmsplice + splice, and its plain-send
 * fallback) must put on the wire exactly what live_wire__send would;
 * live_splice__recv_to_file must land the bytes at the right file offset
 * and fail cleanly on a short stream, a silent peer and a closed one,
 * without the process getting SIGPIPE.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "migration/crc32c.h"
#include "migration/live-wire.h"

#define DATA_LEN ((3u << 20) + 4096u * 5) /* more than three pipefuls */
#define FILE_OFF 8192u

struct sender {
	int fd;
	bool splice;
	const uint8_t *data;
	size_t len;
	int ret;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	uint64_t head[2] = { htobe64(0x1000), htobe64(s->len / 4096) };
	struct iovec iov = { head, sizeof(head) };
	struct live_splice sp;

	if (s->splice) {
		s->ret = live_splice__init(&sp);
		if (s->ret)
			return NULL;
	}
	s->ret = live_wire__send_spliced(s->fd, s->splice ? &sp : NULL,
					 LIVE_MSG_RAM, &iov, 1, s->data, s->len);
	if (s->splice)
		live_splice__exit(&sp);
	return NULL;
}

static uint8_t *pattern(size_t len, unsigned int seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 131u + seed) ^ (i >> 12));
	return p;
}

/* Send one RAM-like message, receive it into a memfd; check both halves. */
static void roundtrip(bool splice_send, bool splice_recv)
{
	uint8_t *data = pattern(DATA_LEN, splice_send * 2 + splice_recv);
	uint8_t *back = malloc(DATA_LEN);
	struct sender s = { .splice = splice_send, .data = data, .len = DATA_LEN };
	struct live_splice sp;
	uint8_t raw[LIVE_HDR_SIZE];
	uint32_t type, crc;
	uint64_t head[2], len;
	pthread_t t;
	int sv[2], file;

	assert_non_null(back);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	file = memfd_create("wire-test", MFD_CLOEXEC);
	assert_true(file >= 0);
	s.fd = sv[0];
	assert_int_equal(pthread_create(&t, NULL, send_thread, &s), 0);

	/* Raw header (be32 type, be32 crc, be64 len): longer than RAM's bound. */
	assert_int_equal(live_wire__recv_all(sv[1], raw, sizeof(raw)), 0);
	memcpy(&type, raw, 4);
	memcpy(&crc, raw + 4, 4);
	memcpy(&len, raw + 8, 8);
	assert_int_equal(be32toh(type), LIVE_MSG_RAM);
	assert_int_equal(be64toh(len), sizeof(head) + DATA_LEN);
	assert_int_equal(live_wire__recv_all(sv[1], head, sizeof(head)), 0);
	/* The CRC covers the page header only (live-wire.h). */
	assert_int_equal(crc32c__update(CRC32C_INIT, head, sizeof(head)),
			 be32toh(crc));
	assert_int_equal(be64toh(head[0]), 0x1000);
	if (splice_recv) {
		assert_int_equal(live_splice__init(&sp), 0);
		assert_int_equal(live_splice__recv_to_file(&sp, sv[1], file, FILE_OFF,
							   DATA_LEN), 0);
		live_splice__exit(&sp);
		live_splice__exit(&sp); /* idempotent */
		assert_int_equal(pread(file, back, DATA_LEN, FILE_OFF), DATA_LEN);
	} else {
		assert_int_equal(live_wire__recv_all(sv[1], back, DATA_LEN), 0);
	}
	pthread_join(t, NULL);
	assert_int_equal(s.ret, 0);
	assert_memory_equal(back, data, DATA_LEN);
	close(file);
	close(sv[0]);
	close(sv[1]);
	free(back);
	free(data);
}

static void test_spliced_both(void **state)
{
	(void)state;
	roundtrip(true, true);
}

static void test_spliced_send_only(void **state)
{
	(void)state;
	roundtrip(true, false);
}

static void test_plain_send_spliced_recv(void **state)
{
	(void)state;
	roundtrip(false, true);
}

/* The stream ends early: -ECONNRESET, and what came is in the file. */
static void test_recv_short(void **state)
{
	uint8_t buf[1000], back[1000];
	struct live_splice sp;
	int sv[2], file;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	file = memfd_create("wire-test", MFD_CLOEXEC);
	assert_int_equal(write(sv[0], buf, sizeof(buf)), sizeof(buf));
	close(sv[0]);
	assert_int_equal(live_splice__init(&sp), 0);
	assert_int_equal(live_splice__recv_to_file(&sp, sv[1], file, 0, 4096),
			 -ECONNRESET);
	assert_int_equal(pread(file, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
	live_splice__exit(&sp);
	close(sv[1]);
	close(file);
}

/* A silent peer: the socket's receive timeout turns into -ETIMEDOUT. */
static void test_recv_timeout(void **state)
{
	struct live_splice sp;
	int sv[2], file;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	file = memfd_create("wire-test", MFD_CLOEXEC);
	assert_int_equal(live_wire__set_timeouts(sv[1], 100, 100), 0);
	assert_int_equal(live_splice__init(&sp), 0);
	assert_int_equal(live_splice__recv_to_file(&sp, sv[1], file, 0, 4096),
			 -ETIMEDOUT);
	live_splice__exit(&sp);
	close(sv[0]);
	close(sv[1]);
	close(file);
}

static void *read_header_then_close(void *arg)
{
	int fd = *(int *)arg;
	uint8_t hdr[LIVE_HDR_SIZE + 16];

	live_wire__recv_all(fd, hdr, sizeof(hdr));
	close(fd);
	return NULL;
}

/*
 * The peer closes mid-message: an error from splice, never a SIGPIPE
 * that kills the process (splice has no MSG_NOSIGNAL).
 */
static void test_send_peer_gone(void **state)
{
	const size_t len = 4u << 20; /* far more than the socket buffer */
	uint8_t *data = pattern(len, 7);
	uint64_t head[2] = { 0, 0 };
	struct iovec iov = { head, sizeof(head) };
	struct live_splice sp;
	pthread_t t;
	int sv[2], ret;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pthread_create(&t, NULL, read_header_then_close, &sv[1]), 0);
	assert_int_equal(live_splice__init(&sp), 0);
	ret = live_wire__send_spliced(sv[0], &sp, LIVE_MSG_RAM, &iov, 1, data, len);
	assert_true(ret == -EPIPE || ret == -ECONNRESET);
	pthread_join(t, NULL);
	live_splice__exit(&sp);
	close(sv[0]);
	free(data);
}

/* Too many header parts are refused before anything is sent. */
static void test_send_too_many_parts(void **state)
{
	struct iovec iov[16];
	uint8_t b = 0;
	int sv[2];

	(void)state;
	for (size_t i = 0; i < 16; i++)
		iov[i] = (struct iovec){ &b, 1 };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(live_wire__send_spliced(sv[0], NULL, LIVE_MSG_RAM, iov,
						 16, &b, 1), -EINVAL);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spliced_both),
		cmocka_unit_test(test_spliced_send_only),
		cmocka_unit_test(test_plain_send_spliced_recv),
		cmocka_unit_test(test_recv_short),
		cmocka_unit_test(test_recv_timeout),
		cmocka_unit_test(test_send_peer_gone),
		cmocka_unit_test(test_send_too_many_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
