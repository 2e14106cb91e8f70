/*
 * live-save-ram.c: the sending half of the live-migration source: dirty
 * RAM walked run by run and sent straight from guest memory (zero pages
 * as compact ZERO records, not sent at all in the first pass because a
 * fresh destination is all zero), device data framed into DEVICE
 * messages, the return path read without blocking, and the bandwidth
 * limit.
 */
#include "migration/live-save-internal.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "migration/live-wire.h"
#include "vmm/mem.h"

/* Check the return path and the cancel flag after this many bytes. */
#define LIVE_POLL_EVERY (4u << 20)

uint64_t live__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int live_save__error(struct live_save *ls, int ret, const char *fmt, ...)
{
	va_list ap;

	if (ls->err_ret)
		return ls->err_ret;
	ls->err_ret = ret;
	va_start(ap, fmt);
	vsnprintf(ls->err, sizeof(ls->err), fmt, ap);
	va_end(ap);
	return ret;
}

void live_save__account(struct live_save *ls, uint64_t bytes)
{
	uint64_t elapsed, due;

	/* Atomic: RAM channel threads add theirs during the first pass. */
	__atomic_fetch_add(&ls->sent, bytes, __ATOMIC_RELAXED);
	if (!ls->p.max_bandwidth)
		return;
	/* Sleep until the average rate since the start is back at the cap. */
	elapsed = live__now_ns() - ls->start_ns;
	due = (uint64_t)((double)ls->sent * 1e9 / (double)ls->p.max_bandwidth);
	if (due > elapsed) {
		uint64_t d = due - elapsed;
		struct timespec ts = { (time_t)(d / 1000000000ULL),
				       (long)(d % 1000000000ULL) };

		nanosleep(&ts, NULL);
	}
}

int live_save__poll_peer(struct live_save *ls)
{
	struct pollfd pfd = { .fd = ls->fd, .events = POLLIN };
	char msg[LIVE_TEXT_MAX + 1], text[LIVE_TEXT_MAX + 1];
	struct live_msg m;
	int ret;

	if (atomic_load(&ls->cancel))
		return live_save__error(ls, -ECANCELED, "cancelled");
	while (poll(&pfd, 1, 0) == 1) {
		ret = live_wire__recv_hdr(ls->fd, &m, msg, sizeof(msg));
		if (ret)
			return live_save__error(ls, ret, "destination: %s", msg);
		ret = live_wire__recv_payload(ls->fd, &m, text, msg, sizeof(msg));
		if (ret)
			return live_save__error(ls, ret, "destination: %s", msg);
		switch (m.type) {
		case LIVE_MSG_SWITCHOVER_ACK:
			ls->acked = true;
			break;
		case LIVE_MSG_ERROR:
			live_wire__text(text, m.len, msg, sizeof(msg));
			return live_save__error(ls, -EREMOTEIO,
						"destination failed: %s", msg);
		default:
			return live_save__error(ls, -EPROTO,
						"destination sent an unexpected %s message",
						live_wire__type_name(m.type));
		}
	}
	return 0;
}

int live_save__wait_peer(struct live_save *ls, unsigned int ms)
{
	struct pollfd pfd = { .fd = ls->fd, .events = POLLIN };

	if (poll(&pfd, 1, (int)ms) < 0 && errno != EINTR) {
		int ret = -errno;

		return live_save__error(ls, ret, "waiting for the destination: %s",
					strerror(-ret));
	}
	return live_save__poll_peer(ls);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	unsigned int i;

	for (i = 0; i < 4096 / 8; i += 8)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] |
		    q[i + 5] | q[i + 6] | q[i + 7])
			return false;
	return true;
}

/* A sender's failure: into ls for the main one, into tx for a channel. */
static int tx_error(struct live_tx *tx, int ret, const char *what)
{
	struct live_save *ls = tx->ls;
	const char *why = atomic_load(&ls->cancel) ? "cancelled" : strerror(-ret);

	if (tx == &ls->tx0)
		return live_save__error(ls, ret, "%s: %s", what, why);
	if (!tx->err_ret) {
		tx->err_ret = ret;
		snprintf(tx->err, sizeof(tx->err), "RAM channel %u: %s: %s",
			 tx->index, what, why);
	}
	atomic_store(&ls->chan_failed, true);
	return ret;
}

void live_tx__init(struct live_tx *tx, struct live_save *ls, int fd)
{
	live_tx__exit(tx);
	tx->ls = ls;
	tx->fd = fd;
	tx->ext_start = tx->ext_end = 0;
	tx->index = 0;
	tx->nr = 1;
	tx->err_ret = 0;
	tx->err[0] = '\0';
	/* Best effort: without the pipe, RAM is sent with plain copies. */
	tx->use_splice = !live_splice__init(&tx->sp);
}

void live_tx__exit(struct live_tx *tx)
{
	live_splice__exit(&tx->sp);
	tx->use_splice = false;
}

static int send_ram(struct live_tx *tx, uint32_t type, uint64_t gpa,
		    uint64_t npages, const void *data)
{
	struct live_save *ls = tx->ls;
	uint64_t hdr[2] = { htobe64(gpa), htobe64(npages) };
	struct iovec head = { hdr, sizeof(hdr) };
	size_t len = data ? npages * 4096 : 0;
	/*
	 * The pages may change under us: the CRC covers the header only.
	 * Spliced, not copied: the sending core is shared with the guest.
	 */
	int ret = live_wire__send_spliced(tx->fd, tx->use_splice ? &tx->sp : NULL,
					  type, &head, 1, data, len);

	if (ret)
		return tx_error(tx, ret, "sending RAM");
	live_save__account(ls, LIVE_HDR_SIZE + sizeof(hdr) + len);
	if (data)
		__atomic_fetch_add(&ls->pages, npages, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&ls->zeros, npages, __ATOMIC_RELAXED);
	return 0;
}

/*
 * First pass: the data extent of the memfd at or after @off (holes are
 * never-touched RAM: zero, and reading them would allocate pages).
 */
static uint64_t next_data(const struct guest_mem *mem, uint64_t off,
			  uint64_t *end)
{
	off_t d, h;

	*end = mem->size;
	if (mem->fd < 0)
		return off;
	d = lseek(mem->fd, (off_t)off, SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? mem->size : off;
	h = lseek(mem->fd, d, SEEK_HOLE);
	if (h > d)
		*end = MIN(ALIGN_UP((uint64_t)h, 4096ULL), mem->size);
	return MAX(ALIGN_DOWN((uint64_t)d, 4096ULL), off);
}

/* Pages [first, end) of region @r (memfd page numbers), all dirty. */
static int send_run(struct live_tx *tx, const struct mem_region *r,
		    uint64_t first, uint64_t end, uint64_t *since_poll,
		    bool poll_peer)
{
	struct live_save *ls = tx->ls;
	uint64_t base = r->offset >> 12;
	uint64_t p = first;
	int ret;

	while (p < end) {
		uint64_t n = 0, z = 0, gpa = r->gpa + ((p - base) << 12);
		const uint8_t *hva = ls->mem->base + (p << 12);
		uint64_t lim = end;

		if (ls->first_pass) {
			/* The extent is cached: SEEK_HOLE walks the whole extent. */
			if (p >= tx->ext_end || p < tx->ext_start) {
				uint64_t dend;

				tx->ext_start = next_data(ls->mem, p << 12, &dend) >> 12;
				tx->ext_end = MAX(dend >> 12, tx->ext_start + 1);
			}
			if (tx->ext_start > p) {
				p = MIN(tx->ext_start, end); /* a hole: zero already */
				continue;
			}
			lim = MIN(end, tx->ext_end);
		}
		/* A run of data pages, or of zero pages, up to a message. */
		if (!page_is_zero(hva)) {
			while (p + n < lim && n < LIVE_RAM_MSG_PAGES &&
			       (n == 0 || !page_is_zero(hva + (n << 12))))
				n++;
			ret = send_ram(tx, LIVE_MSG_RAM, gpa, n, hva);
		} else {
			while (p + z < lim && page_is_zero(hva + (z << 12)))
				z++;
			n = z;
			ret = ls->first_pass ? 0 :
					       send_ram(tx, LIVE_MSG_ZERO, gpa, z, NULL);
		}
		if (ret)
			return ret;
		p += n;
		*since_poll += n << 12;
		if (*since_poll >= LIVE_POLL_EVERY) {
			*since_poll = 0;
			if (poll_peer && (ret = live_save__poll_peer(ls)))
				return ret;
			if (atomic_load(&ls->cancel))
				return tx_error(tx, -ECANCELED, "sending RAM");
			if (tx == &ls->tx0 && atomic_load(&ls->chan_failed))
				return -EPIPE; /* the channel's error is reported */
		}
	}
	return 0;
}

/* Dirty runs inside [lo, hi) of region @r, bits cleared as taken. */
static int send_range(struct live_tx *tx, const struct mem_region *r,
		      uint64_t lo, uint64_t hi, uint64_t *since_poll,
		      bool poll_peer)
{
	struct mig_dirty_bitmap *dirty = &tx->ls->dirty;
	uint64_t s = lo;
	int ret;

	while (s < hi) {
		uint64_t e;

		while (s < hi && !mig_dirty__test(dirty, s))
			s++;
		if (s >= hi)
			break;
		for (e = s; e < hi && mig_dirty__test(dirty, e); e++)
			;
		mig_dirty__clear_range(dirty, s, e);
		ret = send_run(tx, r, s, e, since_poll, poll_peer);
		if (ret)
			return ret;
		s = e;
	}
	return 0;
}

int live_save__send_dirty_tx(struct live_tx *tx, bool poll_peer)
{
	struct live_save *ls = tx->ls;
	const struct guest_mem *mem = ls->mem;
	uint64_t since_poll = 0;
	unsigned int i;
	int ret;

	if (tx->nr <= 1)
		return live_save__send_dirty(ls, poll_peer);
	/* Only this sender's shards, and only inside them (bitmap words). */
	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		uint64_t lo = r->offset >> 12, hi = (r->offset + r->size) >> 12;
		uint64_t sh;

		for (sh = lo / LIVE_SHARD_PAGES; sh * LIVE_SHARD_PAGES < hi; sh++) {
			uint64_t a = MAX(lo, sh * LIVE_SHARD_PAGES);
			uint64_t b = MIN(hi, (sh + 1) * LIVE_SHARD_PAGES);

			if (sh % tx->nr != tx->index)
				continue;
			ret = send_range(tx, r, a, b, &since_poll, poll_peer);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int live_save__send_dirty(struct live_save *ls, bool poll_peer)
{
	const struct guest_mem *mem = ls->mem;
	struct live_tx *tx = &ls->tx0;
	uint64_t since_poll = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		uint64_t lo = r->offset >> 12, hi = (r->offset + r->size) >> 12;
		uint64_t s = mig_dirty__next_set(&ls->dirty, lo);

		while (s < hi) {
			uint64_t e = MIN(mig_dirty__next_clear(&ls->dirty, s), hi);

			mig_dirty__clear_range(&ls->dirty, s, e);
			/* Chunks, so a huge first-pass run stays responsive. */
			while (s < e) {
				uint64_t ce = MIN(e, s + (64ULL << 8));

				ret = send_run(tx, r, s, ce, &since_poll, poll_peer);
				if (ret)
					return ret;
				s = ce;
			}
			s = mig_dirty__next_set(&ls->dirty, e);
		}
	}
	return 0;
}

/* ---- device data ---- */

int live_save__sink_flush(struct live_dev_sink *s)
{
	struct live_save *ls = s->ls;
	uint32_t hdr[2] = { htobe32(s->index), 0 };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { s->buf, s->len } };
	int ret;

	if (!s->len)
		return 0;
	ret = live_wire__send(ls->fd, LIVE_MSG_DEVICE, iov, 2);
	if (ret)
		return live_save__error(ls, ret, "sending device data: %s",
					strerror(-ret));
	live_save__account(ls, LIVE_HDR_SIZE + sizeof(hdr) + s->len);
	ls->dev_bytes += s->len;
	s->len = 0;
	return 0;
}

static int sink_write(struct mig_sink *sink, const void *buf, size_t len)
{
	struct live_dev_sink *s = container_of(sink, struct live_dev_sink, sink);
	const uint8_t *p = buf;
	int ret;

	while (len) {
		size_t n = MIN(len, (size_t)LIVE_DEV_BUF - s->len);

		memcpy(s->buf + s->len, p, n);
		s->len += n;
		p += n;
		len -= n;
		sink->written += n;
		if (s->len == LIVE_DEV_BUF && (ret = live_save__sink_flush(s)))
			return ret;
	}
	return 0;
}

int live_save__sinks_init(struct live_save *ls)
{
	size_t i;

	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);
		struct live_dev_sink *s = &ls->sinks[i];

		memset(s, 0, sizeof(*s));
		s->ls = ls;
		s->index = (uint32_t)i;
		s->sink.write = sink_write;
		if (!h->ops->save_setup && !h->ops->save_complete &&
		    !h->ops->save_iterate)
			continue;
		s->buf = malloc(LIVE_DEV_BUF);
		if (!s->buf)
			return -ENOMEM;
	}
	return 0;
}

void live_save__sinks_exit(struct live_save *ls)
{
	size_t i;

	for (i = 0; i < ls->nr_handlers; i++) {
		free(ls->sinks[i].buf);
		ls->sinks[i].buf = NULL;
	}
}
