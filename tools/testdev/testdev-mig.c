/*
 * testdev-mig.c: ferry-testdev's migration: the VFIO migration v2 state
 * machine as a vfio-user server runs it (the server walks combination
 * arcs itself, shortest path, saving states never interior), the saving
 * stream (one continuous stream from PRE_COPY into STOP_COPY: all device
 * memory first, then pages whose content changed, found by comparing
 * per-page hashes against what was sent, so writes through the client's
 * mmap of BAR2 are caught), and the resuming parser that validates every
 * record and the final digest before the device may leave RESUMING.
 *
 * Stream format (host byte order, described in docs/vfio-user.md):
 *   header  { u32 magic, u32 version, u64 mem_size, u32 page_size,
 *             u32 flags, u64 reserved }                          32 bytes
 *   records { u32 type, u32 len, u64 arg, u64 hash } + len bytes
 *     PAGE (1): arg = page index, 4096 bytes of device memory
 *     REGS (2): struct td_regs
 *     END  (3): { u64 records before END, u64 chain, u64 digest }
 *   hash  = mix(hash(payload), mix(type, arg))
 *   chain = hash(header), then mix(chain, mix(hash, type << 32 | len))
 *           over every record before END.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define TD_STREAM_MAGIC 0x53445446u /* "FTDS" */
#define TD_STREAM_VERSION 1u

enum { REC_PAGE = 1, REC_REGS = 2, REC_END = 3 };

struct stream_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t mem_size;
	uint32_t page_size;
	uint32_t flags;
	uint64_t reserved;
} __attribute__((packed));

struct rec_hdr {
	uint32_t type;
	uint32_t len;
	uint64_t arg;
	uint64_t hash;
} __attribute__((packed));

struct rec_end {
	uint64_t records;
	uint64_t chain;
	uint64_t digest;
} __attribute__((packed));

#define REC_PAGE_BYTES (sizeof(struct rec_hdr) + TD_PAGE_SIZE)
#define REC_TAIL_BYTES (2 * sizeof(struct rec_hdr) + sizeof(struct td_regs) + \
			sizeof(struct rec_end))
/* Staging holds one page record, or REGS followed by END. */
#define STAGE_BYTES MAX(REC_PAGE_BYTES, REC_TAIL_BYTES)

/* Aliases for the kernel's state names, to keep the table readable. */
#define S_ERR VFIO_DEVICE_STATE_ERROR
#define S_STOP VFIO_DEVICE_STATE_STOP
#define S_RUN VFIO_DEVICE_STATE_RUNNING
#define S_SC VFIO_DEVICE_STATE_STOP_COPY
#define S_RES VFIO_DEVICE_STATE_RESUMING
#define S_RP2P VFIO_DEVICE_STATE_RUNNING_P2P
#define S_PC VFIO_DEVICE_STATE_PRE_COPY
#define S_PCP2P VFIO_DEVICE_STATE_PRE_COPY_P2P
#define S_NR VFIO_COMPAT_DEVICE_STATE_NR

/* The kernel's next-step table (vfio_mig_get_next_state), as facts. */
static const uint8_t next_step[S_NR][S_NR] = {
	[S_STOP] = { [S_STOP] = S_STOP, [S_RUN] = S_RP2P, [S_PC] = S_RP2P,
		     [S_PCP2P] = S_RP2P, [S_SC] = S_SC, [S_RES] = S_RES,
		     [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_RUN] = { [S_STOP] = S_RP2P, [S_RUN] = S_RUN, [S_PC] = S_PC,
		    [S_PCP2P] = S_RP2P, [S_SC] = S_RP2P, [S_RES] = S_RP2P,
		    [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_PC] = { [S_STOP] = S_RUN, [S_RUN] = S_RUN, [S_PC] = S_PC,
		   [S_PCP2P] = S_PCP2P, [S_SC] = S_PCP2P, [S_RES] = S_RUN,
		   [S_RP2P] = S_RUN, [S_ERR] = S_ERR },
	[S_PCP2P] = { [S_STOP] = S_RP2P, [S_RUN] = S_RP2P, [S_PC] = S_PC,
		      [S_PCP2P] = S_PCP2P, [S_SC] = S_SC, [S_RES] = S_RP2P,
		      [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_SC] = { [S_STOP] = S_STOP, [S_RUN] = S_STOP, [S_PC] = S_ERR,
		   [S_PCP2P] = S_ERR, [S_SC] = S_SC, [S_RES] = S_STOP,
		   [S_RP2P] = S_STOP, [S_ERR] = S_ERR },
	[S_RES] = { [S_STOP] = S_STOP, [S_RUN] = S_STOP, [S_PC] = S_STOP,
		    [S_PCP2P] = S_STOP, [S_SC] = S_STOP, [S_RES] = S_RES,
		    [S_RP2P] = S_STOP, [S_ERR] = S_ERR },
	[S_RP2P] = { [S_STOP] = S_STOP, [S_RUN] = S_RUN, [S_PC] = S_RUN,
		     [S_PCP2P] = S_PCP2P, [S_SC] = S_STOP, [S_RES] = S_STOP,
		     [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	/* ERROR row: all ERROR (zero). */
};

/* Migration flags each state needs (the kernel's state_flags_table). */
static uint64_t state_needs(uint32_t s)
{
	switch (s) {
	case S_PC: return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
	case S_RP2P: return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	case S_PCP2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		       VFIO_MIGRATION_PRE_COPY;
	case S_ERR: return ~0ULL;
	default: return VFIO_MIGRATION_STOP_COPY;
	}
}

static uint64_t dev_flags(const struct testdev *td)
{
	return VFIO_MIGRATION_STOP_COPY |
	       (td->precopy ? VFIO_MIGRATION_PRE_COPY : 0);
}

static bool supported(const struct testdev *td, uint32_t s)
{
	return s < S_NR && (state_needs(s) & dev_flags(td)) == state_needs(s);
}

static uint64_t rec_hash(uint32_t type, uint64_t arg, uint64_t payload_hash)
{
	return td__mix(payload_hash, td__mix(type, arg));
}

static uint64_t chain_step(uint64_t chain, const struct rec_hdr *h)
{
	return td__mix(chain, td__mix(h->hash, (uint64_t)h->type << 32 | h->len));
}

static bool test_bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] & (1ULL << (i % 64));
}

static void set_bit(uint64_t *b, uint64_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}

static void clear_bit(uint64_t *b, uint64_t i)
{
	b[i / 64] &= ~(1ULL << (i % 64));
}

/* --- saving --- */

static void close_save(struct td_mig *m)
{
	free(m->sent_hash);
	free(m->sent_fp);
	free(m->pending);
	free(m->sent_once);
	free(m->stage);
	m->sent_hash = m->pending = m->sent_once = NULL;
	m->sent_fp = NULL;
	m->stage = NULL;
	m->saving = false;
	m->sc_scanned = false;
}

static int open_save(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	uint64_t words = (td->npages + 63) / 64, i;

	close_save(m);
	m->sent_hash = calloc(td->npages, sizeof(uint64_t));
	m->sent_fp = calloc(td->npages, sizeof(uint64_t));
	m->pending = calloc(words, sizeof(uint64_t));
	m->sent_once = calloc(words, sizeof(uint64_t));
	m->stage = malloc(STAGE_BYTES);
	if (!m->sent_hash || !m->sent_fp || !m->pending || !m->sent_once ||
	    !m->stage) {
		close_save(m);
		return -ENOMEM;
	}
	for (i = 0; i < td->npages; i++)
		set_bit(m->pending, i);
	m->unsent_initial = td->npages;
	m->scan_pos = 0;
	m->header_sent = m->end_sent = false;
	m->stage_len = m->stage_off = 0;
	m->nr_records = 0;
	m->chain = 0;
	m->saving = true;
	return 0;
}

/* Queue every sent page whose content no longer matches what was sent. */
static uint64_t rescan(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	uint64_t i, found = 0;

	/* Stopped, vCPUs stopped, scanned once: nothing can change any more. */
	if (m->state == S_SC && m->sc_scanned)
		return 0;
	for (i = 0; i < td->npages; i++) {
		if (!test_bit(m->sent_once, i) || test_bit(m->pending, i))
			continue;
		if (td__page_fp(td->mem + i * TD_PAGE_SIZE) != m->sent_fp[i]) {
			set_bit(m->pending, i);
			found++;
		}
	}
	return found;
}

/*
 * PRE_COPY -> STOP_COPY, inside the VM's downtime: one pass over device
 * memory both queues the pages changed since they were sent and hashes
 * all of it for the digest (the stream's END record and the state-change
 * log need it). Reading all memory twice is what this saves; after it
 * nothing changes until the session ends, so later rescans are skipped.
 */
static void rescan_and_digest(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	uint64_t i, h = td__mem_hash_init(td->mem_size);

	for (i = 0; i < td->npages; i++) {
		uint64_t fp = td__page_fp(td->mem + i * TD_PAGE_SIZE);

		h = td__mem_hash_step(h, fp);
		if (test_bit(m->sent_once, i) && !test_bit(m->pending, i) &&
		    fp != m->sent_fp[i])
			set_bit(m->pending, i);
	}
	td->dcache = td__digest_with(td, td__mem_hash_final(h, td->mem_size));
	td->dcache_valid = true;
	m->sc_scanned = true;
}

static uint64_t count_pending(const struct testdev *td, bool sent_before)
{
	const struct td_mig *m = &td->mig;
	uint64_t i, n = 0;

	for (i = 0; i < td->npages; i++)
		if (test_bit(m->pending, i) &&
		    test_bit(m->sent_once, i) == sent_before)
			n++;
	return n;
}

/* Next pending page from the scan position on, or UINT64_MAX. */
static uint64_t find_pending(struct td_mig *m, uint64_t npages)
{
	uint64_t words = (npages + 63) / 64, k;

	for (k = 0; k <= words; k++) {
		uint64_t w = ((m->scan_pos / 64) + k) % words;
		uint64_t bits = m->pending[w];

		if (bits)
			return w * 64 + (uint64_t)__builtin_ctzll(bits);
	}
	return UINT64_MAX;
}

static void stage_record(struct td_mig *m, uint8_t *at, uint32_t type,
			 uint64_t arg, const void *payload, uint32_t len,
			 uint64_t payload_hash)
{
	struct rec_hdr h = {
		.type = type, .len = len, .arg = arg,
		.hash = rec_hash(type, arg, payload_hash),
	};

	memcpy(at, &h, sizeof(h));
	memmove(at + sizeof(h), payload, len); /* may already be in place */
	if (type != REC_END) {
		m->chain = chain_step(m->chain, &h);
		m->nr_records++;
	}
}

/*
 * Stage the next piece of the stream. Returns 1 if something was staged,
 * 0 if there is nothing to send now (PRE_COPY), -1 after the END record.
 */
static int next_piece(struct testdev *td, bool *rescanned, bool *clean)
{
	struct td_mig *m = &td->mig;
	uint64_t page;

	m->stage_off = 0;
	m->stage_len = 0;
	if (!m->header_sent) {
		struct stream_hdr h = {
			.magic = TD_STREAM_MAGIC, .version = TD_STREAM_VERSION,
			.mem_size = td->mem_size, .page_size = TD_PAGE_SIZE,
		};

		memcpy(m->stage, &h, sizeof(h));
		m->stage_len = sizeof(h);
		m->chain = td__hash(&h, sizeof(h), 0);
		m->header_sent = true;
		return 1;
	}
	if (m->end_sent)
		return -1;
	page = find_pending(m, td->npages);
	if (page == UINT64_MAX && !*rescanned) {
		*rescanned = true;
		*clean = rescan(td) == 0;
		page = find_pending(m, td->npages);
	}
	if (page != UINT64_MAX) {
		uint8_t *copy = m->stage + sizeof(struct rec_hdr);
		uint64_t h;

		/*
		 * The client may be writing this page through its mmap right
		 * now: hash the copy we send, never the live page.
		 */
		memcpy(copy, td->mem + page * TD_PAGE_SIZE, TD_PAGE_SIZE);
		h = td__hash(copy, TD_PAGE_SIZE, 0);
		stage_record(m, m->stage, REC_PAGE, page, copy, TD_PAGE_SIZE, h);
		m->stage_len = REC_PAGE_BYTES;
		m->sent_hash[page] = h;
		m->sent_fp[page] = td__page_fp(copy);
		if (!test_bit(m->sent_once, page)) {
			set_bit(m->sent_once, page);
			m->unsent_initial--;
		}
		clear_bit(m->pending, page);
		m->scan_pos = page + 1;
		*clean = false;
		return 1;
	}
	if (m->state == S_SC && *clean) {
		struct rec_end e;
		uint8_t *p = m->stage;

		stage_record(m, p, REC_REGS, 0, &td->regs, sizeof(td->regs),
			     td__hash(&td->regs, sizeof(td->regs), 0));
		p += sizeof(struct rec_hdr) + sizeof(td->regs);
		e.records = m->nr_records;
		e.chain = m->chain;
		e.digest = td__digest_cached(td);
		stage_record(m, p, REC_END, 0, &e, sizeof(e),
			     td__hash(&e, sizeof(e), 0));
		m->stage_len = REC_TAIL_BYTES;
		m->end_sent = true;
		log_info("saving stream complete: %llu records, digest=%016llx",
			 (unsigned long long)m->nr_records,
			 (unsigned long long)e.digest);
		return 1;
	}
	return 0;
}

int td__mig_read(struct testdev *td, uint8_t *buf, size_t want, size_t *got)
{
	struct td_mig *m = &td->mig;
	bool rescanned = false, clean = false;
	size_t n = 0;

	*got = 0;
	if (!m->saving || (m->state != S_PC && m->state != S_PCP2P &&
			   m->state != S_SC))
		return -EINVAL;
	while (n < want) {
		size_t k;

		if (m->stage_off == m->stage_len &&
		    next_piece(td, &rescanned, &clean) <= 0)
			break;
		k = MIN(want - n, m->stage_len - m->stage_off);
		memcpy(buf + n, m->stage + m->stage_off, k);
		m->stage_off += k;
		n += k;
	}
	*got = n;
	return 0;
}

int td__mig_precopy_info(struct testdev *td, uint64_t *initial, uint64_t *dirty)
{
	struct td_mig *m = &td->mig;
	uint64_t staged;

	if (!m->saving || (m->state != S_PC && m->state != S_PCP2P))
		return -EINVAL;
	rescan(td);
	staged = m->stage_len - m->stage_off;
	*initial = m->unsent_initial * REC_PAGE_BYTES +
		   (m->header_sent ? 0 : sizeof(struct stream_hdr));
	*dirty = count_pending(td, true) * REC_PAGE_BYTES;
	if (m->unsent_initial)
		*initial += staged;
	else
		*dirty += staged;
	return 0;
}

uint64_t td__mig_stop_copy_size(struct testdev *td)
{
	struct td_mig *m = &td->mig;

	if (!m->saving)
		return sizeof(struct stream_hdr) + td->npages * REC_PAGE_BYTES +
		       REC_TAIL_BYTES;
	if (m->end_sent)
		return m->stage_len - m->stage_off;
	rescan(td);
	return (m->header_sent ? 0 : sizeof(struct stream_hdr)) +
	       (m->stage_len - m->stage_off) +
	       count_pending(td, false) * REC_PAGE_BYTES +
	       count_pending(td, true) * REC_PAGE_BYTES + REC_TAIL_BYTES;
}

/* --- resuming --- */

static void close_load(struct td_mig *m)
{
	free(m->lbuf);
	free(m->lfp);
	free(m->lloaded);
	m->lbuf = NULL;
	m->lfp = NULL;
	m->lloaded = NULL;
	m->resuming = false;
}

static int open_load(struct testdev *td)
{
	struct td_mig *m = &td->mig;

	close_load(m);
	m->lbuf = malloc(TD_PAGE_SIZE);
	m->lfp = calloc(td->npages, sizeof(*m->lfp));
	m->lloaded = calloc((td->npages + 63) / 64, sizeof(uint64_t));
	if (!m->lbuf || !m->lfp || !m->lloaded) {
		close_load(m);
		return -ENOMEM;
	}
	m->load = TD_LOAD_HEADER;
	m->lneed = sizeof(struct stream_hdr);
	m->lgot = 0;
	m->lrecords = 0;
	m->lchain = 0;
	m->lhave_regs = false;
	m->lerr = 0;
	m->resuming = true;
	if (td->resume_delay_ms) {
		struct timespec ts = {
			.tv_sec = td->resume_delay_ms / 1000,
			.tv_nsec = (long)(td->resume_delay_ms % 1000) * 1000000,
		};

		log_info("RESUMING: device setup takes %u ms",
			 td->resume_delay_ms);
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	return 0;
}

static int load_fail(struct td_mig *m, const char *why)
{
	if (m->load != TD_LOAD_FAILED)
		log_err("resuming stream rejected: %s (after %llu records)",
			why, (unsigned long long)m->lrecords);
	m->load = TD_LOAD_FAILED;
	m->lerr = -EINVAL;
	return -EINVAL;
}

static int load_header(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	struct stream_hdr h;

	memcpy(&h, m->lbuf, sizeof(h));
	if (h.magic != TD_STREAM_MAGIC || h.version != TD_STREAM_VERSION)
		return load_fail(m, "bad magic or version");
	if (h.mem_size != td->mem_size || h.page_size != TD_PAGE_SIZE)
		return load_fail(m, "device memory size differs");
	if (h.flags || h.reserved)
		return load_fail(m, "unknown header flags");
	m->lchain = td__hash(&h, sizeof(h), 0);
	m->load = TD_LOAD_REC_HDR;
	m->lneed = sizeof(struct rec_hdr);
	return 0;
}

static int load_rec_hdr(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	struct rec_hdr h;

	memcpy(&h, m->lbuf, sizeof(h));
	if (!(h.type == REC_PAGE && h.len == TD_PAGE_SIZE && h.arg < td->npages) &&
	    !(h.type == REC_REGS && h.len == sizeof(struct td_regs) && !h.arg) &&
	    !(h.type == REC_END && h.len == sizeof(struct rec_end) && !h.arg))
		return load_fail(m, "bad record header");
	m->ltype = h.type;
	m->llen = h.len;
	m->larg = h.arg;
	m->lhash = h.hash;
	m->load = TD_LOAD_PAYLOAD;
	m->lneed = h.len;
	return 0;
}

static bool regs_valid(const struct testdev *td, const struct td_regs *r)
{
	return r->dma_status <= TD_DMA_FAILED && r->dma_error <= TD_DMA_ERR_LEN &&
	       r->dirty_cursor < td->mem_size && !(r->dirty_cursor & 7) &&
	       !r->reserved;
}

static int load_payload(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	struct rec_hdr h = { .type = m->ltype, .len = m->llen, .arg = m->larg,
			     .hash = m->lhash };
	struct rec_end e;

	if (rec_hash(m->ltype, m->larg, td__hash(m->lbuf, m->llen, 0)) != m->lhash)
		return load_fail(m, "record checksum mismatch");
	switch (m->ltype) {
	case REC_PAGE:
		td__touch(td);
		memcpy(td->mem + m->larg * TD_PAGE_SIZE, m->lbuf, TD_PAGE_SIZE);
		/* For the digest at RESUMING -> STOP, out of the downtime. */
		m->lfp[m->larg] = td__page_fp(m->lbuf);
		set_bit(m->lloaded, m->larg);
		break;
	case REC_REGS:
		memcpy(&m->lregs, m->lbuf, sizeof(m->lregs));
		if (!regs_valid(td, &m->lregs))
			return load_fail(m, "invalid register state");
		m->lhave_regs = true;
		break;
	case REC_END:
		memcpy(&e, m->lbuf, sizeof(e));
		if (e.records != m->lrecords || e.chain != m->lchain)
			return load_fail(m, "records missing or reordered");
		m->lsrc_digest = e.digest;
		m->load = TD_LOAD_DONE;
		return 0;
	}
	m->lchain = chain_step(m->lchain, &h);
	m->lrecords++;
	m->load = TD_LOAD_REC_HDR;
	m->lneed = sizeof(struct rec_hdr);
	return 0;
}

int td__mig_write(struct testdev *td, const uint8_t *buf, size_t len)
{
	struct td_mig *m = &td->mig;
	int ret = 0;

	if (!m->resuming || m->state != S_RES)
		return -EINVAL;
	while (len && ret == 0) {
		size_t k;

		if (m->load == TD_LOAD_FAILED)
			return m->lerr;
		if (m->load == TD_LOAD_DONE)
			return load_fail(m, "data after the end record");
		k = MIN(len, m->lneed - m->lgot);
		memcpy(m->lbuf + m->lgot, buf, k);
		m->lgot += k;
		buf += k;
		len -= k;
		if (m->lgot < m->lneed)
			break;
		m->lgot = 0;
		if (m->load == TD_LOAD_HEADER)
			ret = load_header(td);
		else if (m->load == TD_LOAD_REC_HDR)
			ret = load_rec_hdr(td);
		else
			ret = load_payload(td);
	}
	return ret;
}

/* RESUMING -> STOP: everything must have arrived and match the digest. */
static int finish_load(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	struct td_regs saved = td->regs;
	uint64_t d, h, i;

	if (m->load == TD_LOAD_FAILED)
		return m->lerr;
	if (m->load != TD_LOAD_DONE || !m->lhave_regs)
		return load_fail(m, "stream truncated (no end record)");
	td->regs = m->lregs;
	td__touch(td);
	/*
	 * Pages loaded have their fingerprint already (nothing but the load
	 * writes device memory while RESUMING); only the others are read.
	 */
	h = td__mem_hash_init(td->mem_size);
	for (i = 0; i < td->npages; i++)
		h = td__mem_hash_step(h, test_bit(m->lloaded, i) ? m->lfp[i] :
					 td__page_fp(td->mem + i * TD_PAGE_SIZE));
	d = td__digest_with(td, td__mem_hash_final(h, td->mem_size));
	if (d != m->lsrc_digest) {
		td->regs = saved;
		return load_fail(m, "digest differs from the source device");
	}
	/* Valid until the device runs again (td__touch). */
	td->dcache = d;
	td->dcache_valid = true;
	return 0;
}

/* --- state machine --- */

static int do_arc(struct testdev *td, uint32_t from, uint32_t to)
{
	struct td_mig *m = &td->mig;

	if (from == S_STOP && to == S_SC)
		return open_save(td);
	if (from == S_RUN && to == S_PC)
		return open_save(td);
	if ((from == S_SC && to == S_STOP) || (from == S_PC && to == S_RUN)) {
		close_save(m);
		return 0;
	}
	if (from == S_STOP && to == S_RES)
		return open_load(td);
	if (from == S_RES && to == S_STOP) {
		int ret = finish_load(td);

		close_load(m);
		return ret;
	}
	if ((from == S_PC || from == S_PCP2P) && to == S_SC) {
		td__touch(td);
		rescan_and_digest(td);
		return 0;
	}
	/* RUNNING <-> STOP: activity follows state. */
	return 0;
}

int td__mig_set_state(struct testdev *td, uint32_t target)
{
	struct td_mig *m = &td->mig;

	if (target == S_ERR || !supported(td, target))
		return -EINVAL;
	if (m->state == S_ERR)
		return -EINVAL; /* only DEVICE_RESET leaves ERROR */
	while (m->state != target) {
		uint32_t cur = m->state, next = next_step[cur][target];
		int ret;

		while (next != S_ERR && !supported(td, next))
			next = next_step[next][target];
		if (next == S_ERR) {
			log_warn("migration arc %s -> %s refused",
				 vfio_user__mig_state_name(cur),
				 vfio_user__mig_state_name(target));
			return -EINVAL;
		}
		td__tick(td); /* account activity up to the arc */
		ret = do_arc(td, cur, next);
		if (ret) {
			/* Failed resume leaves ERROR; others stay put. */
			if (cur == S_RES)
				m->state = S_ERR;
			log_info("state %s -> %s failed (%d), now %s digest=%016llx",
				 vfio_user__mig_state_name(cur),
				 vfio_user__mig_state_name(next), ret,
				 vfio_user__mig_state_name(m->state),
				 (unsigned long long)td__digest_cached(td));
			return ret;
		}
		m->state = next;
		log_info("state %s -> %s digest=%016llx",
			 vfio_user__mig_state_name(cur),
			 vfio_user__mig_state_name(next),
			 (unsigned long long)td__digest_cached(td));
		/* Running again: the guest may write the mapped BAR2. */
		if (next != S_STOP && next != S_SC && next != S_RES)
			td__touch(td);
	}
	return 0;
}

void td__mig_reset(struct testdev *td)
{
	close_save(&td->mig);
	close_load(&td->mig);
	td->mig.state = S_RUN;
}

int td__mig_init(struct testdev *td)
{
	memset(&td->mig, 0, sizeof(td->mig));
	td->mig.state = S_RUN;
	return 0;
}

void td__mig_fini(struct testdev *td)
{
	td__mig_reset(td);
}
