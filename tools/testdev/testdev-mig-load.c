/*
 * testdev-mig-load.c: ferry-testdev's resuming parser. Bytes written in
 * RESUMING are assembled into the header and records of the stream
 * (format in testdev-internal.h), in pieces of any size; every record's
 * type, length, argument and checksum is checked as it completes, pages
 * go straight into device memory, and the first bad byte makes the
 * session fail for good. On RESUMING -> STOP (testdev-mig.c) the END
 * record, the register state and the digest over what was loaded must
 * all match the source before the device may leave RESUMING.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/vfio.h>

#include "vmm/log.h"
#include "vmm/util.h"

void td__mig_load_close(struct td_mig *m)
{
	free(m->lbuf);
	free(m->lfp);
	free(m->lloaded);
	m->lbuf = NULL;
	m->lfp = NULL;
	m->lloaded = NULL;
	m->resuming = false;
}

int td__mig_load_open(struct testdev *td)
{
	struct td_mig *m = &td->mig;

	td__mig_load_close(m);
	m->lbuf = malloc(TD_PAGE_SIZE);
	m->lfp = calloc(td->npages, sizeof(*m->lfp));
	m->lloaded = calloc((td->npages + 63) / 64, sizeof(uint64_t));
	if (!m->lbuf || !m->lfp || !m->lloaded) {
		td__mig_load_close(m);
		return -ENOMEM;
	}
	m->load = TD_LOAD_HEADER;
	m->lneed = sizeof(struct td_stream_hdr);
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
	struct td_stream_hdr h;

	memcpy(&h, m->lbuf, sizeof(h));
	if (h.magic != TD_STREAM_MAGIC || h.version != TD_STREAM_VERSION)
		return load_fail(m, "bad magic or version");
	if (h.mem_size != td->mem_size || h.page_size != TD_PAGE_SIZE)
		return load_fail(m, "device memory size differs");
	if (h.flags || h.reserved)
		return load_fail(m, "unknown header flags");
	m->lchain = td__hash(&h, sizeof(h), 0);
	m->load = TD_LOAD_REC_HDR;
	m->lneed = sizeof(struct td_rec_hdr);
	return 0;
}

static int load_rec_hdr(struct testdev *td)
{
	struct td_mig *m = &td->mig;
	struct td_rec_hdr h;

	memcpy(&h, m->lbuf, sizeof(h));
	if (!(h.type == TD_REC_PAGE && h.len == TD_PAGE_SIZE && h.arg < td->npages) &&
	    !(h.type == TD_REC_REGS && h.len == sizeof(struct td_regs) && !h.arg) &&
	    !(h.type == TD_REC_END && h.len == sizeof(struct td_rec_end) && !h.arg))
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
	struct td_rec_hdr h = { .type = m->ltype, .len = m->llen, .arg = m->larg,
			     .hash = m->lhash };
	struct td_rec_end e;

	if (td__rec_hash(m->ltype, m->larg, td__hash(m->lbuf, m->llen, 0)) != m->lhash)
		return load_fail(m, "record checksum mismatch");
	switch (m->ltype) {
	case TD_REC_PAGE:
		td__touch(td);
		memcpy(td->mem + m->larg * TD_PAGE_SIZE, m->lbuf, TD_PAGE_SIZE);
		/* For the digest at RESUMING -> STOP, out of the downtime. */
		m->lfp[m->larg] = td__page_fp(m->lbuf);
		td__bit_set(m->lloaded, m->larg);
		break;
	case TD_REC_REGS:
		memcpy(&m->lregs, m->lbuf, sizeof(m->lregs));
		if (!regs_valid(td, &m->lregs))
			return load_fail(m, "invalid register state");
		m->lhave_regs = true;
		break;
	case TD_REC_END:
		memcpy(&e, m->lbuf, sizeof(e));
		if (e.records != m->lrecords || e.chain != m->lchain)
			return load_fail(m, "records missing or reordered");
		m->lsrc_digest = e.digest;
		m->load = TD_LOAD_DONE;
		return 0;
	}
	m->lchain = td__chain_step(m->lchain, &h);
	m->lrecords++;
	m->load = TD_LOAD_REC_HDR;
	m->lneed = sizeof(struct td_rec_hdr);
	return 0;
}

int td__mig_write(struct testdev *td, const uint8_t *buf, size_t len)
{
	struct td_mig *m = &td->mig;
	int ret = 0;

	if (!m->resuming || m->state != VFIO_DEVICE_STATE_RESUMING)
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
int td__mig_load_finish(struct testdev *td)
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
		h = td__mem_hash_step(h, td__bit_test(m->lloaded, i) ? m->lfp[i] :
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
