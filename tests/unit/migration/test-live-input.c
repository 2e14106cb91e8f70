/*
 * test-live-input.c: the live-migration destination against hostile
 * streams (not our protocol, oversized messages, RAM outside guest
 * memory or wrapping its page count, bad checksums, END without state,
 * a truncated stream, unknown components), the dirty bitmap helpers
 * across the PCI hole, and migration address parsing.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "live-test-fixture.h"
#include "migration/crc32c.h"
#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/live.h"
#include "migration/registry.h"
#include "migration/state-fdt.h"
#include "vmm/mem.h"

/* ---- hostile streams into live__load ---- */

struct hostile {
	struct side dst;
	int sv[2];
	char err[512];
};

static int hostile_prepare(void *o, struct state_reader *r, int node,
			   uint64_t size, struct migration **mig, char *err,
			   size_t errlen)
{
	struct hostile *x = o;

	*mig = x->dst.mig;
	return 0;
}

static void send_hdr(int fd, uint32_t type, uint64_t len, uint32_t crc)
{
	uint32_t t = htobe32(type), c = htobe32(crc);
	uint64_t l = htobe64(len);
	uint8_t b[16];

	memcpy(b, &t, 4);
	memcpy(b + 4, &c, 4);
	memcpy(b + 8, &l, 8);
	assert_int_equal(write(fd, b, 16), 16);
}

static void send_hello_channels(int fd, struct migration *mig,
				uint32_t channels, uint64_t session);

/* A valid preamble and HELLO for the destination's handler set. */
static void send_good_hello(int fd, struct migration *mig)
{
	send_hello_channels(fd, mig, 1, 0);
}

/* The same, asking for @channels RAM connections of session @session. */
static void send_hello_channels(int fd, struct migration *mig,
				uint32_t channels, uint64_t session)
{
	struct state_writer *w;
	const void *blob;
	size_t size;
	struct iovec iov;

	assert_int_equal(live_wire__send_preamble(fd), 0);
	assert_int_equal(state_writer__create(&w), 0);
	state__put_string(w, "format", "ferry-live");
	state__put_u32(w, "version", LIVE_VERSION);
	state__put_u32(w, "channels", channels);
	state__put_u64(w, "session", session);
	state__begin(w, "memory");
	state__put_u64(w, "size", MEM_SIZE);
	state__end(w);
	state__begin(w, "handlers");
	for (size_t i = 0; i < migration__count(mig); i++) {
		state__begin(w, migration__handler(mig, i)->id);
		state__put_u32(w, "index", (uint32_t)i);
		state__put_u32(w, "version", 1);
		state__put_u8(w, "data", 1);
		state__put_u64(w, "compat", 0);
		state__end(w);
	}
	state__end(w);
	state__begin(w, "vm");
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);
	iov.iov_base = (void *)(uintptr_t)blob;
	iov.iov_len = size;
	assert_int_equal(live_wire__send(fd, LIVE_MSG_HELLO, &iov, 1), 0);
	state_writer__destroy(w);
}

static int hostile_run(struct hostile *x)
{
	struct live_load_env env = { .prepare = hostile_prepare, .opaque = x };

	shutdown(x->sv[0], SHUT_WR);
	return live__load(x->sv[1], &env, x->err, sizeof(x->err));
}

static struct hostile *hostile_new(void)
{
	struct hostile *x = calloc(1, sizeof(*x));

	side_init(&x->dst, false);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x->sv), 0);
	/* Room for everything the destination answers. */
	return x;
}

static void hostile_free(struct hostile *x)
{
	close(x->sv[0]);
	close(x->sv[1]);
	side_exit(&x->dst);
	free(x);
}

/* The RAM channel the hostile source "connected": one end, written. */
static int chan_fd = -1;

static int hostile_accept(void *o, unsigned int ms)
{
	int fd = chan_fd;

	(void)o;
	(void)ms;
	chan_fd = -1;
	return fd >= 0 ? fd : -ETIMEDOUT;
}

/*
 * With two connections, the main one carries only even shards until the
 * channels are joined (the threads share the page bitmap by shard): RAM
 * for shard 1 on it is refused.
 */
static void test_hostile_shard(void **state)
{
	struct hostile *x = hostile_new();
	struct live_load_env env = { .prepare = hostile_prepare, .opaque = x,
				     .accept = hostile_accept };
	uint32_t chan[4] = { 0, 0, htobe32(1), 0 };
	uint64_t ram[2], session = htobe64(0x5e55);
	uint8_t page[4096] = { 1 };
	int cv[2], ret;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, cv), 0);
	/* The channel introduces itself properly, then has nothing more. */
	memcpy(chan, &session, 8);
	assert_int_equal(live_wire__send_preamble_flags(cv[0], LIVE_PREAMBLE_F_CHANNEL), 0);
	assert_int_equal(live_wire__send(cv[0], LIVE_MSG_CHANNEL,
					 &(struct iovec){ chan, sizeof(chan) }, 1), 0);
	shutdown(cv[0], SHUT_WR);
	chan_fd = cv[1];
	send_hello_channels(x->sv[0], x->dst.mig, 2, 0x5e55);
	ram[0] = htobe64((uint64_t)LIVE_SHARD_PAGES * 4096); /* shard 1 */
	ram[1] = htobe64(1);
	send_hdr(x->sv[0], LIVE_MSG_RAM, 16 + 4096, crc32c__update(0, ram, 16));
	assert_int_equal(write(x->sv[0], ram, 16), 16);
	assert_int_equal(write(x->sv[0], page, sizeof(page)), (ssize_t)sizeof(page));
	shutdown(x->sv[0], SHUT_WR);
	ret = live__load(x->sv[1], &env, x->err, sizeof(x->err));
	assert_int_equal(ret, -EPROTO);
	assert_non_null(strstr(x->err, "outside this connection's shards"));
	close(cv[0]);
	hostile_free(x);
}

static void test_hostile(void **state)
{
	struct hostile *x;
	uint64_t ram[2];
	int ret;

	/* Not our protocol. */
	x = hostile_new();
	assert_int_equal(write(x->sv[0], "GET / HTTP/1.0\r\n", 16), 16);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "magic"));
	hostile_free(x);

	/* A HELLO claiming 1 TiB of payload. */
	x = hostile_new();
	assert_int_equal(live_wire__send_preamble(x->sv[0]), 0);
	send_hdr(x->sv[0], LIVE_MSG_HELLO, 1ULL << 40, 0);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "exceeds its limit"));
	hostile_free(x);

	/* RAM beyond guest memory. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	ram[0] = htobe64(MEM_SIZE);
	ram[1] = htobe64(1);
	send_hdr(x->sv[0], LIVE_MSG_ZERO, 16, crc32c__update(0, ram, 16));
	assert_int_equal(write(x->sv[0], ram, 16), 16);
	ret = hostile_run(x);
	assert_int_equal(ret, -EPROTO);
	assert_non_null(strstr(x->err, "not guest RAM"));
	hostile_free(x);

	/* RAM straddling the end of memory, with a page count that wraps. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	ram[0] = htobe64(MEM_SIZE - 4096);
	ram[1] = htobe64(1ULL << 52);
	send_hdr(x->sv[0], LIVE_MSG_RAM, 16 + 4096, 0);
	assert_int_equal(write(x->sv[0], ram, 16), 16);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "bad page range"));
	hostile_free(x);

	/* A RAM message whose header checksum does not match. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	{
		static uint8_t page[4096];

		ram[0] = htobe64(0x100000);
		ram[1] = htobe64(1);
		send_hdr(x->sv[0], LIVE_MSG_RAM, 16 + 4096, 0x1234);
		assert_int_equal(write(x->sv[0], ram, 16), 16);
		assert_int_equal(write(x->sv[0], page, 4096), 4096);
	}
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "checksum"));
	hostile_free(x);

	/* END without state; then a truncated stream. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	send_hdr(x->sv[0], LIVE_MSG_END, 0, 0);
	assert_int_equal(hostile_run(x), -EPROTO);
	hostile_free(x);

	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	assert_int_equal(hostile_run(x), -ECONNRESET);
	assert_non_null(strstr(x->err, "closed"));
	hostile_free(x);

	/* A DEVICE message for a component index that does not exist. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	{
		uint32_t d[3] = { htobe32(77), 0, 0 };

		send_hdr(x->sv[0], LIVE_MSG_DEVICE, 12, crc32c__update(0, d, 12));
		assert_int_equal(write(x->sv[0], d, 12), 12);
	}
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "unknown component"));
	hostile_free(x);
}

/* ---- the bitmap ---- */

static void test_dirty_bitmap(void **state)
{
	struct guest_mem *mem;
	struct mig_dirty_bitmap bm;
	uint64_t words[2] = { 0x8000000000000001ULL, 0x3 };
	uint64_t hi_page;

	/* 3.5 GiB: 3 GiB below the hole, 512 MiB above 4 GiB. */
	assert_int_equal(mem__create(3584ULL << 20, &mem), 0);
	assert_int_equal(mig_dirty__init(&bm, mem), 0);
	assert_int_equal(mig_dirty__count(&bm), 0);
	mig_dirty__set_all(&bm);
	assert_int_equal(mig_dirty__count(&bm), bm.nr_pages);
	mig_dirty__clear_all(&bm);
	/* A range across the end of low RAM is partly not RAM. */
	assert_int_equal(mig_dirty__mark_gpa(&bm, 0xC0000000ULL - 8192, 16384), -EFAULT);
	assert_int_equal(mig_dirty__count(&bm), 2);
	/* RAM above 4 GiB lands after low RAM in memfd order. */
	assert_int_equal(mig_dirty__mark_gpa(&bm, 0x100000000ULL + 100, 1), 0);
	hi_page = 0xC0000000ULL >> 12;
	assert_true(mig_dirty__test(&bm, hi_page));
	assert_int_equal(mig_dirty__next_set(&bm, 0), hi_page - 2);
	/* Adjacent in memfd order: one run across the hole. */
	assert_int_equal(mig_dirty__next_clear(&bm, hi_page - 2), hi_page + 1);
	assert_int_equal(mig_dirty__next_clear(&bm, hi_page), hi_page + 1);
	mig_dirty__clear_range(&bm, 0, bm.nr_pages);
	assert_int_equal(mig_dirty__next_set(&bm, 0), bm.nr_pages);
	assert_int_equal(mig_dirty__or_words(&bm, 64, words, 66), 0);
	assert_int_equal(mig_dirty__count(&bm), 4);
	assert_true(mig_dirty__test(&bm, 64) && mig_dirty__test(&bm, 127) &&
		    mig_dirty__test(&bm, 128) && mig_dirty__test(&bm, 129));
	assert_int_equal(mig_dirty__or_words(&bm, 3, words, 1), -EINVAL);
	assert_int_equal(mig_dirty__or_words(&bm, 0, words, bm.nr_pages + 1), -EINVAL);
	mig_dirty__exit(&bm);
	mig_dirty__exit(&bm);
	mem__destroy(mem);
}

static void test_addr_parse(void **state)
{
	struct live_addr a;
	char err[256];

	assert_int_equal(live_addr__parse("tcp:10.1.2.3:4444", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(live_addr__parse("tcp:[::1]:80", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(live_addr__parse("tcp:localhost:1", &a, err, sizeof(err)), 0);
	assert_int_equal(live_addr__parse("unix:/tmp/x.sock", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_UNIX);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3:0", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3:70000", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:example.com:80", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("udp:1.2.3.4:5", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("unix:", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unix:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_bitmap),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_hostile_shard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
