/*
 * live-load-ram.c: RAM into guest memory on the live-migration
 * destination: the checks every RAM and ZERO message passes (page
 * aligned, inside one RAM region, consistent with its length, header
 * CRC), the splice path into the guest memfd with its recv fallback, and
 * the RAM channels of the first pass (live-save-chan.c on the source):
 * each is accepted, introduced by its session and index, and read to its
 * end by a thread of its own that confines itself first.
 */
#include "migration/live-load-internal.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "vmm/log.h"
#include "vmm/mem.h"

/* MADV_POPULATE_WRITE (Linux 5.14); the 6.1 headers have it, be explicit. */
#define LOAD_MADV_POPULATE_WRITE 23

uint64_t live_load__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int rx_fail(struct load *l, struct live_rx *rx, int ret,
		   const char *fmt, ...) __printf(4, 5);

/* The main connection's errors are the load's; a channel keeps its own. */
static int rx_fail(struct load *l, struct live_rx *rx, int ret,
		   const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rx == &l->rx0)
		return live_load__fail(l, ret, "%s", msg);
	if (!rx->ret) {
		rx->ret = ret;
		snprintf(rx->err, sizeof(rx->err), "RAM channel %u: %s", rx->index,
			 msg);
	}
	return ret;
}

void live_rx__init(struct live_rx *rx, struct load *l, int fd,
		   unsigned int index)
{
	live_rx__exit(rx);
	rx->l = l;
	rx->fd = fd;
	rx->index = index;
	rx->ret = 0;
	rx->err[0] = '\0';
	/* Without a memfd or a pipe, RAM is read with recv. */
	rx->use_splice = l->mem && l->mem->fd >= 0 && !live_splice__init(&rx->sp);
}

void live_rx__exit(struct live_rx *rx)
{
	live_splice__exit(&rx->sp);
	rx->use_splice = false;
}

int live_load__recv_ram(struct load *l, struct live_rx *rx,
			const struct live_msg *m)
{
	uint64_t hdr[2], gpa, npages, len, page;
	uint32_t crc;
	uint8_t *p;
	int ret;

	if (m->len < LIVE_RAM_HDR)
		return rx_fail(l, rx, -EPROTO, "%s message too short", live_wire__type_name(m->type));
	ret = live_wire__recv_all(rx->fd, hdr, sizeof(hdr));
	if (ret)
		return rx_fail(l, rx, ret, "reading RAM: %s", strerror(-ret));
	crc = crc32c__update(CRC32C_INIT, hdr, sizeof(hdr));
	gpa = be64toh(hdr[0]);
	npages = be64toh(hdr[1]);
	if (npages == 0 || npages > l->mem->size / 4096 || gpa % 4096 ||
	    (m->type == LIVE_MSG_RAM && m->len - LIVE_RAM_HDR != npages * 4096) ||
	    (m->type == LIVE_MSG_ZERO && m->len != LIVE_RAM_HDR))
		return rx_fail(l, rx, -EPROTO, "%s message: bad page range (gpa 0x%llx, %llu pages, %llu bytes)",
			     live_wire__type_name(m->type), (unsigned long long)gpa,
			     (unsigned long long)npages, (unsigned long long)m->len);
	len = npages * 4096;
	p = mem__gpa_ptr(l->mem, gpa, len);
	if (!p)
		return rx_fail(l, rx, -EPROTO, "%s message: [0x%llx, +0x%llx) is not guest RAM",
			     live_wire__type_name(m->type), (unsigned long long)gpa,
			     (unsigned long long)len);
	page = (uint64_t)(p - l->mem->base) >> DIRTY_PAGE_SHIFT;
	/*
	 * Until the channels are joined each connection writes only pages
	 * of its own shards: the threads share the page bitmap by shard.
	 */
	if (l->channels > 1 && (rx != &l->rx0 || !l->chans_joined) &&
	    ((page + npages - 1) / LIVE_SHARD_PAGES != page / LIVE_SHARD_PAGES ||
	     (page / LIVE_SHARD_PAGES) % l->channels != rx->index))
		return rx_fail(l, rx, -EPROTO, "%s message at 0x%llx: outside this connection's shards",
			       live_wire__type_name(m->type), (unsigned long long)gpa);
	/* The CRC covers the page header (live-wire.h). */
	if (crc != m->crc)
		return rx_fail(l, rx, -EPROTO, "%s message at 0x%llx: checksum mismatch (corrupted stream)",
			     live_wire__type_name(m->type), (unsigned long long)gpa);
	if (m->type == LIVE_MSG_ZERO) {
		for (uint64_t i = 0; i < npages; i++)
			if (mig_dirty__test(&l->written, page + i))
				memset(p + (i << 12), 0, 4096);
		mig_dirty__clear_range(&l->written, page, page + npages);
		return 0;
	}
	/*
	 * Straight into the memfd's page cache: no page of it is mapped
	 * here, which on this class of host (shadow paging) costs more than
	 * the copy. The range is inside one region (mem__gpa_ptr), so the
	 * memfd offset is that of the mapping.
	 */
	ret = -EINVAL;
	if (rx->use_splice) {
		ret = live_splice__recv_to_file(&rx->sp, rx->fd, l->mem->fd,
						(uint64_t)(p - l->mem->base), (size_t)len);
		if (ret == -EINVAL)
			rx->use_splice = false; /* nothing read: use recv */
	}
	if (ret == -EINVAL) {
		/*
		 * Fresh pages: fault them in with one call instead of one
		 * page fault per 4 KiB inside recv; best effort, older
		 * kernels lack it.
		 */
		if (!mig_dirty__test(&l->written, page))
			madvise(p, (size_t)len, LOAD_MADV_POPULATE_WRITE);
		ret = live_wire__recv_all(rx->fd, p, (size_t)len);
	}
	if (ret)
		return rx_fail(l, rx, ret, "reading RAM: %s", strerror(-ret));
	for (uint64_t i = 0; i < npages; i++)
		mig_dirty__set(&l->written, page + i);
	return 0;
}

/* ---- RAM channels ---- */

/* Take one channel connection: preamble, then CHANNEL (session, index). */
static int take_channel(struct load *l, const struct live_load_env *env)
{
	char msg[LIVE_TEXT_MAX + 1];
	uint8_t body[LIVE_CHANNEL_LEN];
	struct live_msg m;
	uint64_t session;
	uint32_t index;
	int fd, ret;

	fd = env->accept(env->opaque, LOAD_CHANNEL_ACCEPT_MS);
	if (fd < 0)
		return live_load__fail(l, fd, "RAM channel: no connection from the source: %s",
				       strerror(-fd));
	ret = live_wire__set_timeouts(fd, LOAD_SEND_TIMEOUT_MS, LOAD_RECV_TIMEOUT_MS);
	if (!ret)
		ret = live_wire__recv_preamble_flags(fd, LIVE_PREAMBLE_F_CHANNEL, msg,
						     sizeof(msg));
	if (!ret)
		ret = live_wire__recv_hdr(fd, &m, msg, sizeof(msg));
	if (!ret && (m.type != LIVE_MSG_CHANNEL || m.len != LIVE_CHANNEL_LEN)) {
		snprintf(msg, sizeof(msg), "expected CHANNEL, got %s",
			 live_wire__type_name(m.type));
		ret = -EPROTO;
	}
	if (!ret)
		ret = live_wire__recv_payload(fd, &m, body, msg, sizeof(msg));
	if (ret) {
		close(fd);
		return live_load__fail(l, ret, "RAM channel: %s", msg);
	}
	memcpy(&session, body, 8);
	memcpy(&index, body + 8, 4);
	session = be64toh(session);
	index = be32toh(index);
	if (session != l->session || index < 1 || index >= l->channels ||
	    l->chans[index - 1].fd >= 0) {
		close(fd);
		return live_load__fail(l, -EPROTO,
				       "RAM channel: session or index (%u) does not match this migration",
				       index);
	}
	live_rx__init(&l->chans[index - 1], l, fd, index);
	return 0;
}

/* A channel thread: RAM until CHANNEL_END; anything else is an error. */
static void *chan_main(void *arg)
{
	struct live_rx *rx = arg;
	struct load *l = rx->l;
	char msg[LIVE_TEXT_MAX + 1];
	struct live_msg m;
	int ret;

	for (;;) {
		ret = live_wire__recv_hdr(rx->fd, &m, msg, sizeof(msg));
		if (ret) {
			rx_fail(l, rx, ret, "%s", msg);
			break;
		}
		if (m.type == LIVE_MSG_CHANNEL_END && !m.len)
			break;
		if (m.type != LIVE_MSG_RAM && m.type != LIVE_MSG_ZERO) {
			rx_fail(l, rx, -EPROTO, "unexpected %s message",
				live_wire__type_name(m.type));
			break;
		}
		if (live_load__recv_ram(l, rx, &m))
			break;
	}
	/* A failed channel hangs up, so the source's sends fail at once. */
	if (rx->ret)
		shutdown(rx->fd, SHUT_RDWR);
	return NULL;
}

static void *chan_confined(void *arg)
{
	struct live_rx *rx = arg;
	const struct live_load_env *env = rx->l->env;
	int ret = env->confine ? env->confine(env->opaque) : 0;

	if (ret) {
		rx_fail(rx->l, rx, ret, "cannot confine the thread: %s", strerror(-ret));
		return NULL;
	}
	return chan_main(rx);
}

int live_load__channels_start(struct load *l, const struct live_load_env *env)
{
	unsigned int i;
	int ret;

	if (l->channels <= 1)
		return 0;
	if (!env->accept)
		return live_load__fail(l, -EPROTO,
				       "the source wants %u RAM connections; this destination takes one",
				       l->channels);
	for (i = 1; i < l->channels; i++) {
		ret = take_channel(l, env);
		if (ret)
			return ret;
	}
	l->env = env;
	for (i = 0; i < l->channels - 1; i++) {
		struct live_rx *rx = &l->chans[i];

		ret = -pthread_create(&rx->thread, NULL, chan_confined, rx);
		if (ret)
			return live_load__fail(l, ret, "RAM channel %u: cannot start: %s",
					       rx->index, strerror(-ret));
		rx->running = true;
	}
	log_debug("migration: %u RAM channels", l->channels);
	return 0;
}

int live_load__channels_join(struct load *l)
{
	unsigned int i;

	if (l->chans_joined)
		return live_load__fail(l, -EPROTO, "a second CHANNELS_DONE");
	l->chans_joined = true;
	for (i = 0; i < l->channels - 1 && i < LIVE_MAX_CHANNELS - 1; i++) {
		struct live_rx *rx = &l->chans[i];

		if (rx->running) {
			pthread_join(rx->thread, NULL);
			rx->running = false;
		}
	}
	for (i = 0; i < l->channels - 1 && i < LIVE_MAX_CHANNELS - 1; i++)
		if (l->chans[i].ret)
			return live_load__fail(l, l->chans[i].ret, "%s", l->chans[i].err);
	return 0;
}

void live_load__channels_stop(struct load *l)
{
	unsigned int i;

	for (i = 0; i < LIVE_MAX_CHANNELS - 1; i++) {
		struct live_rx *rx = &l->chans[i];

		if (rx->running) {
			shutdown(rx->fd, SHUT_RDWR);
			pthread_join(rx->thread, NULL);
			rx->running = false;
		}
		live_rx__exit(rx);
		if (rx->fd >= 0)
			close(rx->fd);
		rx->fd = -1;
	}
}
