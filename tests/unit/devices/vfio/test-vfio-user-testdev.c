/*
 * test-vfio-user-testdev.c: the vfio-user client backend driving real
 * ferry-testdev processes: negotiation, regions, BAR0 registers, BAR2
 * through mmap, DMA into a memfd "guest RAM" with an MSI-X eventfd and
 * DMA dirty logging, STOP_COPY and PRE_COPY migration between two device
 * instances (digests equal, writes through the mmapped BAR during precopy
 * carried over), corrupt and truncated streams refused, refused arcs,
 * reset out of ERROR, reconnect after disconnect.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-proto.h"
#include "devices/vfio/vfio-user.h"
#include "testdev-harness.h"
#include "tools/testdev/testdev-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

#define MEM (1u << 20) /* --mem-size for these tests */
#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define BAR2 VFIO_PCI_BAR2_REGION_INDEX
#define GUEST_IOVA 0x100000ULL
#define GUEST_SIZE (1u << 20)

static const char *const small_args[] = { "--mem-size", "1M", NULL };

static uint32_t rd32(struct vfio_backend *be, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, off, &v, 4), 0);
	return v;
}

static void wr32(struct vfio_backend *be, uint64_t off, uint32_t v)
{
	assert_int_equal(be->ops->region_write(be, BAR0, off, &v, 4), 0);
}

static uint64_t digest(struct vfio_backend *be)
{
	uint64_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, TD_REG_DIGEST_LO, &v, 8), 0);
	return v;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void test_testdev__info_regions_registers(void **st)
{
	struct testdev_proc p;
	struct vfio_backend *be;
	struct vfio_device_desc dd;
	struct vfio_region_desc rd;
	struct vfio_irq_desc id;
	uint32_t c1, c2, cfg;

	assert_int_equal(harness__start(&p, small_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_string_equal(be->ops->name, "vfio-user");
	assert_int_equal(be->ops->get_device_info(be, &dd), 0);
	assert_int_equal(dd.num_regions, 9);
	assert_int_equal(dd.num_irqs, 5);
	assert_true(dd.flags & VFIO_DEVICE_FLAGS_PCI);

	assert_int_equal(be->ops->get_region_info(be, BAR0, &rd), 0);
	assert_int_equal(rd.size, 4096);
	assert_int_equal(rd.nr_areas, 0);
	assert_int_equal(be->ops->get_region_info(be, BAR2, &rd), 0);
	assert_int_equal(rd.size, MEM);
	assert_true(rd.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(rd.nr_areas, 1);
	assert_int_equal(rd.areas[0].size, MEM);
	assert_int_equal(be->ops->get_region_info(be, 1, &rd), 0);
	assert_int_equal(rd.size, 0);
	assert_int_equal(be->ops->get_region_info(be, 9, &rd), -EINVAL);
	assert_int_equal(be->ops->get_irq_info(be, VFIO_PCI_MSIX_IRQ_INDEX, &id), 0);
	assert_int_equal(id.count, 4);
	assert_true(id.flags & VFIO_IRQ_INFO_EVENTFD);

	/* Config space: vendor/device, BAR0 sizing. */
	assert_int_equal(be->ops->region_read(be, VFIO_PCI_CONFIG_REGION_INDEX,
					      0, &cfg, 4), 0);
	assert_int_equal(cfg, TD_VENDOR_ID | (TD_DEVICE_ID << 16));
	cfg = 0xffffffff;
	assert_int_equal(be->ops->region_write(be, VFIO_PCI_CONFIG_REGION_INDEX,
					       0x10, &cfg, 4), 0);
	assert_int_equal(be->ops->region_read(be, VFIO_PCI_CONFIG_REGION_INDEX,
					      0x10, &cfg, 4), 0);
	assert_int_equal(cfg, 0xfffff000);

	assert_int_equal(rd32(be, TD_REG_ID), TD_ID_VALUE);
	assert_int_equal(rd32(be, TD_REG_MEM_SIZE_LO), MEM);
	wr32(be, TD_REG_SCRATCH0 + 8, 0xdeadbeef);
	assert_int_equal(rd32(be, TD_REG_SCRATCH0 + 8), 0xdeadbeef);
	c1 = rd32(be, TD_REG_COUNTER_LO);
	msleep(60);
	c2 = rd32(be, TD_REG_COUNTER_LO);
	assert_true(c2 >= c1 + 40);
	/* Out of range access is refused without failing the device. */
	assert_int_equal(be->ops->region_read(be, BAR0, 4094, &c1, 4), -EINVAL);
	assert_int_equal(be->failed, 0);
	be->ops->destroy(be);

	/* The server survived the disconnect and serves the next client. */
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(rd32(be, TD_REG_SCRATCH0 + 8), 0); /* reset on disconnect */
	be->ops->destroy(be);
	harness__stop(&p);
}

static void test_testdev__bar2_mmap(void **st)
{
	struct testdev_proc p;
	struct vfio_backend *be;
	uint8_t *bar, buf[64];
	void *m;

	assert_int_equal(harness__start(&p, small_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->region_mmap(be, BAR2, 0, MEM,
					      PROT_READ | PROT_WRITE, &m), 0);
	bar = m;
	memset(bar + 12345, 0x5a, 64);
	assert_int_equal(be->ops->region_read(be, BAR2, 12345, buf, 64), 0);
	assert_memory_equal(buf, bar + 12345, 64);
	/* Misaligned or outside the area: refused. */
	assert_int_equal(be->ops->region_mmap(be, BAR2, 100, 4096, PROT_READ, &m),
			 -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, BAR2, 0, 2 * MEM, PROT_READ, &m),
			 -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, BAR0, 0, 4096, PROT_READ, &m),
			 -EINVAL);
	be->ops->destroy(be);
	/* The mapping outlives the backend. */
	assert_int_equal(bar[12345], 0x5a);
	munmap(bar, MEM);
	harness__stop(&p);
}

struct guest {
	int fd;
	uint8_t *ram;
};

static void guest_ram(struct guest *g)
{
	g->fd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(g->fd >= 0);
	assert_int_equal(ftruncate(g->fd, GUEST_SIZE), 0);
	g->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	assert_true(g->ram != MAP_FAILED);
}

static void dma(struct vfio_backend *be, uint64_t dev, uint64_t addr,
		uint32_t len, uint32_t ctrl)
{
	wr32(be, TD_REG_DMA_DEV_LO, (uint32_t)dev);
	wr32(be, TD_REG_DMA_DEV_HI, (uint32_t)(dev >> 32));
	wr32(be, TD_REG_DMA_ADDR_LO, (uint32_t)addr);
	wr32(be, TD_REG_DMA_ADDR_HI, (uint32_t)(addr >> 32));
	wr32(be, TD_REG_DMA_LEN, len);
	wr32(be, TD_REG_DMA_CTRL, ctrl | TD_DMA_CTRL_START);
}

static void test_testdev__dma_irq_and_logging(void **st)
{
	struct testdev_proc p;
	struct vfio_backend *be;
	struct vfio_dma_range r = { GUEST_IOVA, GUEST_SIZE };
	struct guest g;
	uint64_t bm[4] = { 0 }, cnt;
	uint8_t *bar;
	void *m;
	int efd[4], i;

	assert_int_equal(harness__start(&p, small_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	guest_ram(&g);
	assert_int_equal(be->ops->region_mmap(be, BAR2, 0, MEM,
					      PROT_READ | PROT_WRITE, &m), 0);
	bar = m;
	for (i = 0; i < 8192; i++)
		bar[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(be->ops->dma_map(be, GUEST_IOVA, GUEST_SIZE, g.fd, 0,
					  g.ram, VFIO_DMA_MAP_FLAG_READ |
					  VFIO_DMA_MAP_FLAG_WRITE), 0);
	/* Overlapping map refused with the server's errno. */
	assert_int_equal(be->ops->dma_map(be, GUEST_IOVA + 4096, 4096, g.fd, 0,
					  g.ram, VFIO_DMA_MAP_FLAG_READ), -EEXIST);
	/* Vector 0 and 2 wired, 1 and 3 left de-assigned (-1). */
	for (i = 0; i < 4; i++)
		efd[i] = i % 2 ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_MSIX_IRQ_INDEX,
					   VFIO_IRQ_SET_DATA_EVENTFD |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 4, efd), 0);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, &r, 1), 0);

	dma(be, 0, GUEST_IOVA + 0x5000, 8192, TD_DMA_CTRL_IRQ);
	assert_int_equal(rd32(be, TD_REG_DMA_STATUS), TD_DMA_DONE);
	assert_memory_equal(g.ram + 0x5000, bar, 8192);
	assert_int_equal(read(efd[0], &cnt, 8), 8);
	assert_int_equal(cnt, 1);
	assert_int_equal(rd32(be, TD_REG_DMA_COUNT), 1);

	/* Only pages 5 and 6 were written by the device. */
	assert_int_equal(be->ops->dma_logging_report(be, GUEST_IOVA, GUEST_SIZE,
						     4096, bm), 0);
	assert_int_equal(bm[0], 3ULL << 5);
	assert_int_equal(bm[1] | bm[2] | bm[3], 0);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(be->ops->dma_logging_report(be, GUEST_IOVA, GUEST_SIZE,
						     4096, bm), 0);
	assert_int_equal(bm[0], 0); /* read and clear */

	/* Guest -> device memory. */
	memset(g.ram + 0x10000, 0xab, 4096);
	dma(be, 0x8000, GUEST_IOVA + 0x10000, 4096, TD_DMA_CTRL_FROM_GUEST);
	assert_int_equal(rd32(be, TD_REG_DMA_STATUS), TD_DMA_DONE);
	assert_int_equal(bar[0x8000], 0xab);
	assert_int_equal(bar[0x8fff], 0xab);

	/* Bad addresses: status FAILED with the reason, guest RAM untouched. */
	dma(be, 0, GUEST_IOVA + GUEST_SIZE - 4096, 8192, TD_DMA_CTRL_IRQ);
	assert_int_equal(rd32(be, TD_REG_DMA_STATUS), TD_DMA_FAILED);
	assert_int_equal(rd32(be, TD_REG_DMA_ERROR), TD_DMA_ERR_NOT_MAPPED);
	assert_int_equal(read(efd[0], &cnt, 8), 8);
	dma(be, 0, 0xffffffffffff0000ULL, 0x20000, 0);
	assert_int_equal(rd32(be, TD_REG_DMA_ERROR), TD_DMA_ERR_NOT_MAPPED);
	dma(be, MEM - 4, GUEST_IOVA, 8, 0);
	assert_int_equal(rd32(be, TD_REG_DMA_ERROR), TD_DMA_ERR_DEV_RANGE);
	dma(be, 0, GUEST_IOVA, 0, 0);
	assert_int_equal(rd32(be, TD_REG_DMA_ERROR), TD_DMA_ERR_LEN);

	/* IRQ trigger register: vector 2 fires, vector 1 has no eventfd. */
	wr32(be, TD_REG_IRQ_TRIGGER, 2);
	wr32(be, TD_REG_IRQ_TRIGGER, 1);
	assert_int_equal(read(efd[2], &cnt, 8), 8);
	assert_int_equal(be->ops->dma_logging_stop(be), 0);
	assert_int_equal(be->ops->dma_logging_report(be, GUEST_IOVA, GUEST_SIZE,
						     4096, bm), -EINVAL);
	assert_int_equal(be->ops->dma_unmap(be, GUEST_IOVA, GUEST_SIZE), 0);
	assert_int_equal(be->ops->dma_unmap(be, GUEST_IOVA, GUEST_SIZE), -ENOENT);
	dma(be, 0, GUEST_IOVA, 4096, 0);
	assert_int_equal(rd32(be, TD_REG_DMA_ERROR), TD_DMA_ERR_NOT_MAPPED);
	assert_int_equal(be->failed, 0);
	be->ops->destroy(be);
	close(efd[0]);
	close(efd[2]);
	munmap(bar, MEM);
	munmap(g.ram, GUEST_SIZE);
	close(g.fd);
	harness__stop(&p);
}

/* Read the saving stream until its end; returns the byte count. */
static size_t drain(struct vfio_backend *be, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while ((r = be->ops->mig_read(be, buf + n, MIN(cap - n, (size_t)300000))) > 0)
		n += (size_t)r;
	assert_int_equal(r, 0);
	return n;
}

/* Load @len bytes into a device in odd-sized pieces; returns the STOP result. */
static int load(struct vfio_backend *be, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int ret;

	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RESUMING), 0);
	while (off < len) {
		size_t k = MIN(len - off, (size_t)77777);

		ret = be->ops->mig_write(be, buf + off, k);
		if (ret) {
			/* The device refuses to leave RESUMING with bad state. */
			assert_int_equal(be->ops->mig_set_state(
				be, VFIO_DEVICE_STATE_STOP), -EINVAL);
			return ret;
		}
		off += k;
	}
	return be->ops->mig_set_state(be, VFIO_DEVICE_STATE_STOP);
}

static void test_testdev__stop_copy_migration(void **st)
{
	struct testdev_proc ps, pd;
	struct vfio_backend *src, *dst;
	size_t cap = 2 * MEM, n;
	uint8_t *buf = malloc(cap), *bar;
	uint32_t state;
	uint64_t size, d_src;
	void *m;
	int i;

	assert_int_equal(harness__start(&ps, small_args), 0);
	assert_int_equal(harness__start(&pd, small_args), 0);
	assert_int_equal(harness__connect(&ps, &src), 0);
	assert_int_equal(harness__connect(&pd, &dst), 0);
	assert_int_equal(src->ops->region_mmap(src, BAR2, 0, MEM,
					       PROT_READ | PROT_WRITE, &m), 0);
	bar = m;
	for (i = 0; i < (int)MEM; i += 512)
		bar[i] = (uint8_t)(i >> 9);
	for (i = 0; i < TD_NR_SCRATCH; i++)
		wr32(src, TD_REG_SCRATCH0 + 4 * i, 0x1000u + (uint32_t)i);
	msleep(20);
	/* MIG_DATA_SIZE (ferry extension): a whole-memory estimate. */
	assert_int_equal(src->ops->device_feature(src, VFIO_DEVICE_FEATURE_GET |
						  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
						  &size, 8), 0);
	assert_true(size > MEM);

	/* RUNNING -> STOP_COPY is a combination arc the server walks. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	assert_int_equal(src->ops->mig_get_state(src, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_STOP_COPY);
	/* STOP_COPY -> PRE_COPY is blocked. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY),
			 -EINVAL);
	n = drain(src, buf, cap);
	assert_true(n > MEM && n <= size);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP), 0);
	d_src = digest(src);

	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(rd32(dst, TD_REG_SCRATCH0 + 12), 0x1003);
	assert_int_equal(dst->ops->mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	/* The destination logged the same digest the source saved with. */
	{
		char needle[64];

		snprintf(needle, sizeof(needle), "RESUMING -> STOP digest=%016llx",
			 (unsigned long long)d_src);
		assert_int_equal(harness__log_count(&pd, needle), 1);
		snprintf(needle, sizeof(needle), "STOP -> STOP_COPY digest=%016llx",
			 (unsigned long long)d_src);
		assert_int_equal(harness__log_count(&ps, needle), 1);
	}

	/* Corrupt: one flipped byte in a page payload. */
	buf[n / 2] ^= 0x40;
	assert_int_equal(load(dst, buf, n), -EINVAL);
	assert_int_equal(dst->ops->mig_get_state(dst, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_ERROR);
	assert_int_equal(dst->ops->mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING),
			 -EINVAL);
	assert_int_equal(dst->ops->reset(dst), 0);
	assert_int_equal(dst->ops->mig_get_state(dst, &state), 0);
	assert_int_equal(state, VFIO_DEVICE_STATE_RUNNING);
	buf[n / 2] ^= 0x40;
	/* Truncated: everything but the last 10 bytes. */
	assert_int_equal(load(dst, buf, n - 10), -EINVAL);
	assert_int_equal(dst->ops->reset(dst), 0);
	/* Garbage header. */
	{
		uint8_t junk[100];

		memset(junk, 0x11, sizeof(junk));
		assert_int_equal(load(dst, junk, sizeof(junk)), -EINVAL);
		assert_int_equal(dst->ops->reset(dst), 0);
	}
	/* Intact stream still loads after all that. */
	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(src->failed | dst->failed, 0);

	src->ops->destroy(src);
	dst->ops->destroy(dst);
	munmap(bar, MEM);
	free(buf);
	harness__stop(&ps);
	harness__stop(&pd);
}

static void test_testdev__precopy_with_bar_writes(void **st)
{
	static const char *const args[] = { "--mem-size", "1M", "--dirty-rate",
					    "2M", "--precopy", "on", NULL };
	struct testdev_proc ps, pd;
	struct vfio_backend *src, *dst;
	size_t cap = 16 * MEM, n = 0;
	uint8_t *buf = malloc(cap), *sbar, *dbar;
	uint64_t initial = 0, dirty = 0, d_src;
	ssize_t r;
	void *m;
	int pass, i;

	assert_int_equal(harness__start(&ps, args), 0);
	assert_int_equal(harness__start(&pd, args), 0);
	assert_int_equal(harness__connect(&ps, &src), 0);
	assert_int_equal(harness__connect(&pd, &dst), 0);
	assert_int_equal(src->ops->region_mmap(src, BAR2, 0, MEM,
					       PROT_READ | PROT_WRITE, &m), 0);
	sbar = m;
	/* precopy info is only valid in PRE_COPY. */
	assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), -EINVAL);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), 0);
	assert_true(initial >= MEM);
	for (pass = 0; pass < 6; pass++) {
		/* The guest writes through the mapped BAR during precopy. */
		for (i = 0; i < 16; i++)
			sbar[(size_t)((pass * 16 + i) * 61 % 256) * 4096 + 100] =
				(uint8_t)(pass + 1);
		while ((r = src->ops->mig_read(src, buf + n, MIN(cap - n,
						(size_t)262144))) > 0)
			n += (size_t)r;
		assert_int_equal(r, -ENOMSG);
		assert_true(n < cap - 2 * MEM);
		assert_int_equal(src->ops->mig_precopy_info(src, &initial, &dirty), 0);
		assert_int_equal(initial, 0);
		msleep(20);
	}
	/* A last write the STOP_COPY pass must still pick up. */
	sbar[777 * 1] = 0xee;
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	n += drain(src, buf + n, cap - n);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_STOP), 0);
	d_src = digest(src);

	assert_int_equal(load(dst, buf, n), 0);
	assert_int_equal(digest(dst), d_src);
	assert_int_equal(dst->ops->region_mmap(dst, BAR2, 0, MEM, PROT_READ, &m), 0);
	dbar = m;
	assert_memory_equal(dbar, sbar, MEM);
	assert_int_equal(dbar[777], 0xee);

	/* PRE_COPY -> RUNNING ends the session; reading is refused then. */
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	assert_int_equal(src->ops->mig_set_state(src, VFIO_DEVICE_STATE_RUNNING), 0);
	assert_true(src->ops->mig_read(src, buf, 4096) < 0);
	assert_int_equal(src->failed, 0);

	src->ops->destroy(src);
	dst->ops->destroy(dst);
	munmap(sbar, MEM);
	munmap(dbar, MEM);
	free(buf);
	harness__stop(&ps);
	harness__stop(&pd);
}

static void test_testdev__precopy_off_and_resume_delay(void **st)
{
	static const char *const args[] = { "--mem-size", "64K", "--precopy",
					    "off", "--resume-delay-ms", "300",
					    NULL };
	struct testdev_proc p;
	struct vfio_backend *be;
	uint64_t flags = 0, a, b;
	struct timespec t0, t1;

	assert_int_equal(harness__start(&p, args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_MIGRATION,
						 &flags, 8), 0);
	assert_int_equal(flags, VFIO_MIGRATION_STOP_COPY);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_PRE_COPY),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RUNNING_P2P),
			 -EINVAL);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_ERROR),
			 -EINVAL);
	assert_int_equal(be->ops->mig_precopy_info(be, &a, &b), -EOPNOTSUPP);
	/* Unknown feature: the server says ENOTTY. */
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE | 3,
						 NULL, 0), -ENOTTY);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE |
						 VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
						 NULL, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RESUMING), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 290);
	/* Nothing written: leaving RESUMING fails and lands in ERROR. */
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_RUNNING),
			 -EINVAL);
	assert_int_equal(harness__log_count(&p, "RESUMING -> STOP failed"), 1);
	assert_int_equal(be->ops->reset(be), 0);
	assert_int_equal(be->failed, 0);
	be->ops->destroy(be);
	harness__stop(&p);
}

/* Send a raw command; returns the reply's errno (0 = success reply). */
static int raw_cmd(int fd, uint16_t cmd, const void *p, size_t l,
		   const int *fds, unsigned int nfds)
{
	static uint16_t id;
	struct vfio_user_hdr h = { .msg_id = ++id, .cmd = cmd };
	struct vfio_user_msg m;
	int err;

	assert_int_equal(vfio_user__send(fd, &h, p, l, NULL, 0, fds, nfds, 2000), 0);
	assert_int_equal(vfio_user__recv(fd, &m, VFIO_USER_MAX_MSG_SIZE, 16, 5000), 0);
	assert_int_equal(vfio_user__check_reply(&m.hdr, h.msg_id, cmd), 0);
	err = vfio_user__reply_errno(&m.hdr);
	vfio_user__msg_release(&m);
	return err;
}

static int raw_connect(const struct testdev_proc *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, p->sock, strlen(p->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_testdev__survives_bad_client_input(void **st)
{
	struct testdev_proc p;
	struct vfio_backend *be;
	uint8_t junk[64] = { 0 };
	struct vfio_user_version v = { 0, 2 };
	struct vfio_user_irq_set is = { .argsz = 20, .index = 2, .count = 4,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	struct vfio_user_region_access ra = { .offset = 0, .region = 2,
					      .count = 0x7fffffff };
	struct vfio_user_mig_data md = { .argsz = 8, .size = 4096 };
	struct vfio_user_dma_map dm = { .argsz = 32, .flags = 3, .addr = 0,
					.size = 1ULL << 62 };
	struct vfio_user_hdr h;
	int fd, fds[2];

	assert_int_equal(harness__start(&p, small_args), 0);
	fd = raw_connect(&p);
	/* Anything before VERSION is refused. */
	assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_GET_INFO, junk, 16, NULL, 0),
			 EINVAL);
	/* Malformed VERSION payloads. */
	assert_int_equal(raw_cmd(fd, VFIO_USER_VERSION, junk, 2, NULL, 0), EINVAL);
	memcpy(junk, &v, 4);
	memcpy(junk + 4, "{\"capabilities\": 7}", 20);
	assert_int_equal(raw_cmd(fd, VFIO_USER_VERSION, junk, 24, NULL, 0), EINVAL);
	assert_int_equal(raw_cmd(fd, VFIO_USER_VERSION, &v, 4, NULL, 0), 0);
	assert_int_equal(raw_cmd(fd, VFIO_USER_VERSION, &v, 4, NULL, 0), EINVAL);
	/* Wrong sizes, unknown commands, absurd counts. */
	assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_GET_INFO, junk, 3, NULL, 0),
			 EINVAL);
	assert_int_equal(raw_cmd(fd, 99, NULL, 0, NULL, 0), ENOSYS);
	assert_int_equal(raw_cmd(fd, 14, NULL, 0, NULL, 0), ENOSYS);
	assert_int_equal(raw_cmd(fd, VFIO_USER_REGION_READ, &ra, 16, NULL, 0), EINVAL);
	ra.count = 8;
	ra.offset = ~0ULL - 4;
	assert_int_equal(raw_cmd(fd, VFIO_USER_REGION_READ, &ra, 16, NULL, 0), EINVAL);
	assert_int_equal(raw_cmd(fd, VFIO_USER_MIG_DATA_READ, &md, 8, NULL, 0), EINVAL);
	assert_int_equal(raw_cmd(fd, VFIO_USER_MIG_DATA_WRITE, &md, 8, NULL, 0), EINVAL);
	assert_int_equal(raw_cmd(fd, VFIO_USER_DMA_MAP, &dm, 32, NULL, 0), ENOTSUP);
	assert_int_equal(pipe(fds), 0);
	/* A pipe cannot be mapped: whatever mmap says comes back. */
	assert_true(raw_cmd(fd, VFIO_USER_DMA_MAP, &dm, 32, fds, 1) != 0);
	/* SET_IRQS with 4 vectors but 2 fds. */
	assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_SET_IRQS, &is, 20, fds, 2),
			 EINVAL);
	/* DEVICE_FEATURE with GET|SET and with unknown flag bits. */
	{
		struct vfio_user_device_feature f = { 16, VFIO_DEVICE_FEATURE_GET |
						      VFIO_DEVICE_FEATURE_SET | 2 };

		assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_FEATURE, &f, 8, NULL, 0),
				 EINVAL);
		f.flags = (1u << 20) | 2;
		assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_FEATURE, &f, 8, NULL, 0),
				 EINVAL);
		f.flags = VFIO_DEVICE_FEATURE_SET | 2; /* no state payload */
		assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_FEATURE, &f, 8, NULL, 0),
				 EINVAL);
	}
	/* A header claiming 1 GiB: the server drops this client... */
	h = (struct vfio_user_hdr){ .msg_id = 1, .cmd = 9, .msg_size = 1u << 30 };
	assert_int_equal(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	{
		char c;

		while (read(fd, &c, 1) > 0)
			;
	}
	close(fd);
	/* ...and a client vanishing mid-message is no problem either. */
	fd = raw_connect(&p);
	h.msg_size = 100;
	assert_int_equal(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
	close(fds[0]);
	close(fds[1]);
	/* The server is still alive and serves the next client. */
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(rd32(be, TD_REG_ID), TD_ID_VALUE);
	be->ops->destroy(be);
	harness__stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_testdev__info_regions_registers),
		cmocka_unit_test(test_testdev__bar2_mmap),
		cmocka_unit_test(test_testdev__dma_irq_and_logging),
		cmocka_unit_test(test_testdev__stop_copy_migration),
		cmocka_unit_test(test_testdev__precopy_with_bar_writes),
		cmocka_unit_test(test_testdev__precopy_off_and_resume_delay),
		cmocka_unit_test(test_testdev__survives_bad_client_input),
	};

	if (!getenv("FERRY_TESTDEV")) {
		fprintf(stderr, "FERRY_TESTDEV not set\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
