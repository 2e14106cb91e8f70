/*
 * testdev-dma.c: ferry-testdev's view of guest memory and its DMA engine.
 * DMA_MAP hands us an fd (ferry's guest RAM memfd) that we mmap; every
 * guest address the engine touches is checked against these mappings
 * (inside one mapping, with the right permission, no overflow) before a
 * byte moves. Also the device's DMA dirty log (DEVICE_FEATURE 6/7/8):
 * pages the engine writes into guest memory are recorded per logged range
 * and reported (read and clear) as a bitmap.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* Bitmap memory a client may make us hold for logging: 2^28 pages (1 TiB at 4 KiB). */
#define LOG_MAX_PAGES (1ULL << 28)
/* Log page sizes accepted: 4 KiB .. 1 GiB, powers of two. */
#define LOG_PAGE_MIN 4096ULL
#define LOG_PAGE_MAX (1ULL << 30)

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int td__dma_map(struct testdev *td, const struct vfio_user_dma_map *m, int fd)
{
	const uint32_t known = VFIO_USER_F_DMA_READ | VFIO_USER_F_DMA_WRITE;
	struct td_dma_map *slot = NULL;
	uint64_t end, fend;
	unsigned int i;
	int prot = 0;
	void *p;

	if (m->flags & ~known)
		return -EINVAL;
	if (fd < 0)
		return -ENOTSUP; /* DMA_READ/WRITE messages are not implemented */
	if (m->size == 0 || add_overflow(m->addr, m->size, &end) ||
	    add_overflow(m->offset, m->size, &fend) ||
	    (m->addr | m->size | m->offset) & (TD_PAGE_SIZE - 1) ||
	    m->size > SIZE_MAX)
		return -EINVAL;
	for (i = 0; i < TD_MAX_DMA_MAPS; i++) {
		if (!td->maps[i].used) {
			if (!slot)
				slot = &td->maps[i];
			continue;
		}
		if (ranges_overlap(m->addr, m->size, td->maps[i].iova,
				   td->maps[i].size))
			return -EEXIST;
	}
	if (!slot)
		return -ENOSPC;
	/* We read guest memory to compute nothing but DMA; map what is allowed. */
	if (m->flags & VFIO_USER_F_DMA_READ)
		prot |= PROT_READ;
	if (m->flags & VFIO_USER_F_DMA_WRITE)
		prot |= PROT_WRITE | PROT_READ;
	p = mmap(NULL, m->size, prot ? prot : PROT_NONE, MAP_SHARED, fd,
		 (off_t)m->offset);
	if (p == MAP_FAILED)
		return -errno;
	*slot = (struct td_dma_map){
		.used = true, .iova = m->addr, .size = m->size,
		.flags = m->flags, .hva = p,
	};
	log_info("DMA map iova 0x%llx size 0x%llx flags %u",
		 (unsigned long long)m->addr, (unsigned long long)m->size,
		 m->flags);
	return 0;
}

static void unmap_slot(struct td_dma_map *s)
{
	munmap(s->hva, s->size);
	memset(s, 0, sizeof(*s));
}

int td__dma_unmap(struct testdev *td, const struct vfio_user_dma_unmap *u)
{
	unsigned int i;

	if (u->flags)
		return -EINVAL;
	for (i = 0; i < TD_MAX_DMA_MAPS; i++) {
		struct td_dma_map *s = &td->maps[i];

		if (s->used && s->iova == u->addr && s->size == u->size) {
			unmap_slot(s);
			return 0;
		}
	}
	return -ENOENT;
}

void td__dma_unmap_all(struct testdev *td)
{
	unsigned int i;

	for (i = 0; i < TD_MAX_DMA_MAPS; i++)
		if (td->maps[i].used)
			unmap_slot(&td->maps[i]);
}

/* Host pointer for guest [iova, iova+len) inside one mapping with @flag. */
static int translate(struct testdev *td, uint64_t iova, uint64_t len,
		     uint32_t flag, uint8_t **out)
{
	uint64_t end;
	unsigned int i;

	if (add_overflow(iova, len, &end))
		return TD_DMA_ERR_NOT_MAPPED;
	for (i = 0; i < TD_MAX_DMA_MAPS; i++) {
		struct td_dma_map *s = &td->maps[i];

		if (!s->used || iova < s->iova || end > s->iova + s->size)
			continue;
		if (!(s->flags & flag))
			return TD_DMA_ERR_PERM;
		*out = s->hva + (iova - s->iova);
		return TD_DMA_OK;
	}
	return TD_DMA_ERR_NOT_MAPPED;
}

/* Record a device write to guest [iova, iova+len) in the dirty log. */
static void log_mark(struct testdev *td, uint64_t iova, uint64_t len)
{
	struct td_log *l = &td->log;
	unsigned int i;

	if (!l->active || len == 0)
		return;
	for (i = 0; i < l->nr; i++) {
		struct td_log_range *r = &l->ranges[i];
		uint64_t s = MAX(iova, r->iova);
		uint64_t e = MIN(iova + len, r->iova + r->length);
		uint64_t p;

		if (s >= e)
			continue;
		for (p = (s - r->iova) / l->page_size;
		     p <= (e - 1 - r->iova) / l->page_size; p++)
			r->bitmap[p / 64] |= 1ULL << (p % 64);
	}
}

void td__dma_run(struct testdev *td)
{
	struct td_regs *r = &td->regs;
	bool to_dev = r->dma_ctrl & TD_DMA_CTRL_FROM_GUEST;
	uint8_t *g = NULL;
	uint64_t dend;
	int err = TD_DMA_OK;

	if (!td__running(td))
		err = TD_DMA_ERR_NOT_RUNNING;
	else if (r->dma_len == 0 || r->dma_len > TD_DMA_MAX_LEN)
		err = TD_DMA_ERR_LEN;
	else if (add_overflow(r->dma_dev_off, (uint64_t)r->dma_len, &dend) ||
		 dend > td->mem_size)
		err = TD_DMA_ERR_DEV_RANGE;
	else
		err = translate(td, r->dma_addr, r->dma_len,
				to_dev ? VFIO_USER_F_DMA_READ :
					 VFIO_USER_F_DMA_WRITE, &g);
	td__touch(td);
	if (err == TD_DMA_OK) {
		if (to_dev) {
			memcpy(td->mem + r->dma_dev_off, g, r->dma_len);
		} else {
			memcpy(g, td->mem + r->dma_dev_off, r->dma_len);
			log_mark(td, r->dma_addr, r->dma_len);
		}
		r->dma_count++;
	}
	r->dma_status = err == TD_DMA_OK ? TD_DMA_DONE : TD_DMA_FAILED;
	r->dma_error = (uint32_t)err;
	r->dma_ctrl &= ~TD_DMA_CTRL_START;
	if (err != TD_DMA_OK)
		log_ratelimited(LOG_LEVEL_WARN,
				"DMA %s guest 0x%llx len %u failed: error %d",
				to_dev ? "from" : "to",
				(unsigned long long)r->dma_addr, r->dma_len, err);
	if (r->dma_ctrl & TD_DMA_CTRL_IRQ)
		td__raise_irq(td, 0);
}

void td__log_stop(struct testdev *td)
{
	unsigned int i;

	for (i = 0; i < td->log.nr; i++)
		free(td->log.ranges[i].bitmap);
	memset(&td->log, 0, sizeof(td->log));
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Add one range to the log being built; 0 or -errno. */
static int log_add(struct td_log *l, uint64_t iova, uint64_t length,
		   uint64_t *total_pages)
{
	uint64_t end, pages;
	unsigned int i;

	if (length == 0 || add_overflow(iova, length, &end) ||
	    (iova | length) & (l->page_size - 1))
		return -EINVAL;
	for (i = 0; i < l->nr; i++)
		if (ranges_overlap(iova, length, l->ranges[i].iova,
				   l->ranges[i].length))
			return -EINVAL;
	pages = length / l->page_size;
	*total_pages += pages;
	if (*total_pages > LOG_MAX_PAGES)
		return -E2BIG;
	l->ranges[l->nr].bitmap = calloc((pages + 63) / 64, 8);
	if (!l->ranges[l->nr].bitmap)
		return -ENOMEM;
	l->ranges[l->nr].iova = iova;
	l->ranges[l->nr].length = length;
	l->nr++;
	return 0;
}

int td__log_start(struct testdev *td, const uint8_t *data, size_t len)
{
	struct vfio_user_dma_log_control c;
	struct td_log *l = &td->log;
	uint64_t total = 0;
	unsigned int i;
	int ret = 0;

	if (len < sizeof(c))
		return -EINVAL;
	memcpy(&c, data, sizeof(c));
	if (l->active)
		return -EBUSY;
	if (!is_pow2(c.page_size) || c.page_size < LOG_PAGE_MIN ||
	    c.page_size > LOG_PAGE_MAX)
		return -EINVAL;
	if (c.num_ranges > VFIO_USER_MAX_LOG_RANGES)
		return -E2BIG;
	if (len != sizeof(c) + (size_t)c.num_ranges *
				       sizeof(struct vfio_user_dma_log_range))
		return -EINVAL;
	l->page_size = c.page_size;
	for (i = 0; i < c.num_ranges && ret == 0; i++) {
		struct vfio_user_dma_log_range r;

		memcpy(&r, data + sizeof(c) + i * sizeof(r), sizeof(r));
		ret = log_add(l, r.iova, r.length, &total);
	}
	/* vfio-user: no ranges means "everything", i.e. today's mappings. */
	for (i = 0; c.num_ranges == 0 && i < TD_MAX_DMA_MAPS && ret == 0; i++) {
		struct td_dma_map *m = &td->maps[i];
		uint64_t s, e;

		if (!m->used)
			continue;
		s = ALIGN_DOWN(m->iova, c.page_size);
		e = ALIGN_UP(m->iova + m->size, c.page_size);
		ret = log_add(l, s, e - s, &total);
	}
	if (ret) {
		td__log_stop(td);
		return ret;
	}
	l->active = true;
	log_info("DMA logging started: %u ranges, page size %llu", l->nr,
		 (unsigned long long)l->page_size);
	return 0;
}

int td__log_report(struct testdev *td, const struct vfio_user_dma_log_report *q,
		   uint64_t *bitmap, size_t bitmap_bytes)
{
	struct td_log *l = &td->log;
	uint64_t qend, nbits;
	unsigned int i;

	if (!l->active)
		return -EINVAL;
	if (!is_pow2(q->page_size) || q->page_size < LOG_PAGE_MIN ||
	    q->length == 0 || add_overflow(q->iova, q->length, &qend) ||
	    q->iova % q->page_size)
		return -EINVAL;
	nbits = (q->length + q->page_size - 1) / q->page_size;
	if (bitmap_bytes != (nbits + 63) / 64 * 8)
		return -EINVAL;
	memset(bitmap, 0, bitmap_bytes);
	for (i = 0; i < l->nr; i++) {
		struct td_log_range *r = &l->ranges[i];
		uint64_t s = MAX(q->iova, r->iova);
		uint64_t e = MIN(qend, r->iova + r->length);
		uint64_t p, pfirst, plast;

		if (s >= e)
			continue;
		pfirst = (s - r->iova) / l->page_size;
		plast = (e - 1 - r->iova) / l->page_size;
		for (p = pfirst; p <= plast; p++) {
			uint64_t a, b, bit;

			if (!(r->bitmap[p / 64] & (1ULL << (p % 64))))
				continue;
			/* This log page, clipped to the query, in query pages. */
			a = MAX(r->iova + p * l->page_size, q->iova);
			b = MIN(r->iova + (p + 1) * l->page_size, qend);
			/* Clear only log pages the query fully reported. */
			if (a == r->iova + p * l->page_size &&
			    b == r->iova + (p + 1) * l->page_size)
				r->bitmap[p / 64] &= ~(1ULL << (p % 64));
			for (bit = (a - q->iova) / q->page_size;
			     bit <= (b - 1 - q->iova) / q->page_size; bit++)
				bitmap[bit / 64] |= 1ULL << (bit % 64);
		}
	}
	return 0;
}
