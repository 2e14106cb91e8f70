/*
 * vfio-migration-dirty.c: a passthrough device's DMA dirty log
 * (DEVICE_FEATURE DMA_LOGGING_START/REPORT/STOP) as a migration dirty
 * source: pages the device wrote into guest RAM by DMA, which KVM's
 * dirty log cannot see, are merged into every RAM iteration. A lost
 * report means every page may have been written: all are resent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio/vfio-backend.h"
#include "migration/dirty.h"
#include "migration/vfio-migration-internal.h"
#include "vmm/log.h"
#include "vmm/mem.h"

static int dirty_start(void *opaque)
{
	struct vfio_migration *m = opaque;
	struct vfio_dma_range ranges[MEM_MAX_REGIONS];
	uint64_t most = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < m->mem->nr_regions; i++) {
		ranges[i].iova = m->mem->regions[i].gpa;
		ranges[i].length = m->mem->regions[i].size;
		if (ranges[i].length > most)
			most = ranges[i].length;
	}
	free(m->dirty_buf);
	m->dirty_buf = calloc((most / DIRTY_PAGE_SIZE + 63) / 64, 8);
	if (!m->dirty_buf)
		return -ENOMEM;
	ret = m->be->ops->dma_logging_start(m->be, DIRTY_PAGE_SIZE, ranges,
					    m->mem->nr_regions);
	if (ret)
		log_err("%s: cannot start DMA dirty logging: %s", m->id,
			strerror(-ret));
	return ret;
}

static int dirty_sync(void *opaque, struct mig_dirty_bitmap *bm)
{
	struct vfio_migration *m = opaque;
	unsigned int i;
	int ret;

	for (i = 0; i < m->mem->nr_regions; i++) {
		const struct mem_region *r = &m->mem->regions[i];
		uint64_t pages = r->size / DIRTY_PAGE_SIZE;

		memset(m->dirty_buf, 0, (pages + 63) / 64 * 8);
		ret = m->be->ops->dma_logging_report(m->be, r->gpa, r->size,
						     DIRTY_PAGE_SIZE,
						     m->dirty_buf);
		if (!ret)
			ret = mig_dirty__or_words(bm, r->offset / DIRTY_PAGE_SIZE,
						  m->dirty_buf, pages);
		if (ret) {
			/* The log is lost: every page may have been written. */
			log_warn("%s: DMA dirty report failed (%s): resending all memory",
				 m->id, strerror(-ret));
			mig_dirty__set_all(bm);
			return 0;
		}
	}
	return 0;
}

static void dirty_stop(void *opaque)
{
	struct vfio_migration *m = opaque;

	m->be->ops->dma_logging_stop(m->be);
	free(m->dirty_buf);
	m->dirty_buf = NULL;
}

const struct mig_dirty_source_ops vfio_mig_dirty_ops = {
	.start = dirty_start,
	.sync = dirty_sync,
	.stop = dirty_stop,
};

