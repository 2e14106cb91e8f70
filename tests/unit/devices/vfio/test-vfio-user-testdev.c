/*
 * test-vfio-user-testdev.c: the vfio-user client backend driving real
 * ferry-testdev processes: negotiation, regions, BAR0 registers, BAR2
 * through mmap, DMA into a memfd "guest RAM" with an MSI-X eventfd and
 * DMA dirty logging, reconnect after disconnect, and a server that
 * survives bad client input. Migration is test-vfio-user-testdev-mig.c.
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
#include "testdev-test-fixture.h"
#include "tools/testdev/testdev-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

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
		cmocka_unit_test(test_testdev__survives_bad_client_input),
	};

	if (!getenv("FERRY_TESTDEV")) {
		fprintf(stderr, "FERRY_TESTDEV not set\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
