/*
 * testdev-mig-save.c: ferry-testdev's saving stream, one continuous
 * stream from PRE_COPY into STOP_COPY: the header, all device memory
 * first, then pages whose content changed since they were sent (found by
 * comparing per-page fingerprints against what was sent, so writes
 * through the client's mmap of BAR2 are caught), and at the end the
 * registers and the END record with the chain and the digest. Also the
 * sizes the client asks for (precopy info, stop-copy size). The format
 * is described in testdev-internal.h; testdev-mig.c opens and closes the
 * session on its arcs.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define REC_PAGE_BYTES (sizeof(struct td_rec_hdr) + TD_PAGE_SIZE)
#define REC_TAIL_BYTES (2 * sizeof(struct td_rec_hdr) + sizeof(struct td_regs) + \
			sizeof(struct td_rec_end))
/* Staging holds one page record, or REGS followed by END. */
#define STAGE_BYTES MAX(REC_PAGE_BYTES, REC_TAIL_BYTES)

void td__mig_save_close(struct td_mig *m)
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

int td__mig_save_open(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	uint64_t words = (td->npages + 63) / 64, i;

	td__mig_save_close(m);
	m->sent_hash = calloc(td->npages, sizeof(uint64_t));
	m->sent_fp = calloc(td->npages, sizeof(uint64_t));
	m->pending = calloc(words, sizeof(uint64_t));
	m->sent_once = calloc(words, sizeof(uint64_t));
	m->stage = malloc(STAGE_BYTES);
	if (!m->sent_hash || !m->sent_fp || !m->pending || !m->sent_once ||
	    !m->stage) {
		td__mig_save_close(m);
		return -ENOMEM;
	}
	for (i = 0; i < td->npages; i++)
		td__bit_set(m->pending, i);
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
	if (m->state == VFIO_DEVICE_STATE_STOP_COPY && m->sc_scanned)
		return 0;
	for (i = 0; i < td->npages; i++) {
		if (!td__bit_test(m->sent_once, i) || td__bit_test(m->pending, i))
			continue;
		if (td__page_fp(td->mem + i * TD_PAGE_SIZE) != m->sent_fp[i]) {
			td__bit_set(m->pending, i);
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
void td__mig_save_rescan_digest(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	uint64_t i, h = td__mem_hash_init(td->mem_size);

	for (i = 0; i < td->npages; i++) {
		uint64_t fp = td__page_fp(td->mem + i * TD_PAGE_SIZE);

		h = td__mem_hash_step(h, fp);
		if (td__bit_test(m->sent_once, i) && !td__bit_test(m->pending, i) &&
		    fp != m->sent_fp[i])
			td__bit_set(m->pending, i);
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
		if (td__bit_test(m->pending, i) &&
		    td__bit_test(m->sent_once, i) == sent_before)
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
	struct td_rec_hdr h = {
		.type = type, .len = len, .arg = arg,
		.hash = td__rec_hash(type, arg, payload_hash),
	};

	memcpy(at, &h, sizeof(h));
	memmove(at + sizeof(h), payload, len); /* may already be in place */
	if (type != TD_REC_END) {
		m->chain = td__chain_step(m->chain, &h);
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
		struct td_stream_hdr h = {
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
		uint8_t *copy = m->stage + sizeof(struct td_rec_hdr);
		uint64_t h;

		/*
		 * The client may be writing this page through its mmap right
		 * now: hash the copy we send, never the live page.
		 */
		memcpy(copy, td->mem + page * TD_PAGE_SIZE, TD_PAGE_SIZE);
		h = td__hash(copy, TD_PAGE_SIZE, 0);
		stage_record(m, m->stage, TD_REC_PAGE, page, copy, TD_PAGE_SIZE, h);
		m->stage_len = REC_PAGE_BYTES;
		m->sent_hash[page] = h;
		m->sent_fp[page] = td__page_fp(copy);
		if (!td__bit_test(m->sent_once, page)) {
			td__bit_set(m->sent_once, page);
			m->unsent_initial--;
		}
		td__bit_clear(m->pending, page);
		m->scan_pos = page + 1;
		*clean = false;
		return 1;
	}
	if (m->state == VFIO_DEVICE_STATE_STOP_COPY && *clean) {
		struct td_rec_end e;
		uint8_t *p = m->stage;

		stage_record(m, p, TD_REC_REGS, 0, &td->regs, sizeof(td->regs),
			     td__hash(&td->regs, sizeof(td->regs), 0));
		p += sizeof(struct td_rec_hdr) + sizeof(td->regs);
		e.records = m->nr_records;
		e.chain = m->chain;
		e.digest = td__digest_cached(td);
		stage_record(m, p, TD_REC_END, 0, &e, sizeof(e),
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
	if (!m->saving || (m->state != VFIO_DEVICE_STATE_PRE_COPY &&
			   m->state != VFIO_DEVICE_STATE_PRE_COPY_P2P &&
			   m->state != VFIO_DEVICE_STATE_STOP_COPY))
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

	if (!m->saving || (m->state != VFIO_DEVICE_STATE_PRE_COPY &&
			   m->state != VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return -EINVAL;
	rescan(td);
	staged = m->stage_len - m->stage_off;
	*initial = m->unsent_initial * REC_PAGE_BYTES +
		   (m->header_sent ? 0 : sizeof(struct td_stream_hdr));
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
		return sizeof(struct td_stream_hdr) + td->npages * REC_PAGE_BYTES +
		       REC_TAIL_BYTES;
	if (m->end_sent)
		return m->stage_len - m->stage_off;
	rescan(td);
	return (m->header_sent ? 0 : sizeof(struct td_stream_hdr)) +
	       (m->stage_len - m->stage_off) +
	       count_pending(td, false) * REC_PAGE_BYTES +
	       count_pending(td, true) * REC_PAGE_BYTES + REC_TAIL_BYTES;
}
