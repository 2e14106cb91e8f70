/*
 * test-vfio-user-testdev-intx.c: ferry-testdev's INTx line (--intx on)
 * driven by the vfio-user client backend and by raw commands: IRQ info
 * and Interrupt Pin with and without the option, the trigger and unmask
 * eventfds, automasking (one signal per unmask, an interrupt raised while
 * masked signalled on unmask), SET_IRQS MASK/UNMASK, INTx Disable and
 * MSI-X Enable taking the line away, INTx and MSI-X excluding each other,
 * device reset, and malformed or hostile SET_IRQS refused without harm.
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
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-payload.h"
#include "devices/vfio/vfio-user-proto.h"
#include "testdev-harness.h"
#include "testdev-test-fixture.h"
#include "tools/testdev/testdev-internal.h"
#include "vmm/compat/vfio-compat.h"

#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSIX VFIO_PCI_MSIX_IRQ_INDEX
/* PCI config offsets and bits (PCI 3.0 type 0 header). */
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_INT_PIN 0x3d
#define CFG_MSIX_CTRL 0x42 /* testdev's MSI-X capability is at 0x40 */
#define CMD_MEM_MASTER 0x0006
#define CMD_INTX_DISABLE 0x0400
#define STATUS_INTX 0x0008
#define MSIX_ENABLE 0x8000
/* The server loop polls every 10 ms; an unmask takes effect well within this. */
#define UNMASK_WAIT_MS 2000

static const char *const intx_args[] = { "--mem-size", "1M", "--intx", "on", NULL };
static const char *const intx_off_args[] = { "--mem-size", "1M", "--intx", "off",
					     NULL };

struct intx_dev {
	struct testdev_proc p;
	struct vfio_backend *be;
	struct guest g;
	int trig, unmask; /* our ends of the eventfds */
};

static uint16_t cfg_rd16(struct vfio_backend *be, uint64_t off)
{
	uint16_t v = 0;

	assert_int_equal(be->ops->region_read(be, CFG, off, &v, 2), 0);
	return v;
}

static void cfg_wr16(struct vfio_backend *be, uint64_t off, uint16_t v)
{
	assert_int_equal(be->ops->region_write(be, CFG, off, &v, 2), 0);
}

static bool intx_status(struct vfio_backend *be)
{
	return cfg_rd16(be, CFG_STATUS) & STATUS_INTX;
}

/* Wait up to @ms for the Interrupt Status bit to read @want. */
static bool wait_status(struct vfio_backend *be, bool want, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i <= ms / 10; i++) {
		if (intx_status(be) == want)
			return true;
		msleep(10);
	}
	return false;
}

/* Signals on eventfd @fd within @ms (read and cleared), 0 if none. */
static uint64_t signals(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	return n;
}

static void kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static int set_fd(struct vfio_backend *be, uint32_t index, uint32_t action,
		  int fd)
{
	return be->ops->set_irqs(be, index, VFIO_IRQ_SET_DATA_EVENTFD | action,
				 0, 1, &fd);
}

static int set_none(struct vfio_backend *be, uint32_t action, uint32_t count)
{
	return be->ops->set_irqs(be, INTX, VFIO_IRQ_SET_DATA_NONE | action, 0,
				 count, NULL);
}

/* A DMA with the completion interrupt; the DMA runs before the reply. */
static void complete(struct intx_dev *d)
{
	dma(d->be, 0, GUEST_IOVA, 4096, TD_DMA_CTRL_IRQ);
	assert_int_equal(rd32(d->be, TD_REG_DMA_STATUS), TD_DMA_DONE);
}

/* ferry-testdev --intx on, connected, guest RAM mapped, INTx wired. */
static void intx_up(struct intx_dev *d)
{
	assert_int_equal(harness__start(&d->p, intx_args), 0);
	assert_int_equal(harness__connect(&d->p, &d->be), 0);
	guest_ram(&d->g);
	assert_int_equal(d->be->ops->dma_map(d->be, GUEST_IOVA, GUEST_SIZE,
					     d->g.fd, 0, d->g.ram,
					     VFIO_DMA_MAP_FLAG_READ |
					     VFIO_DMA_MAP_FLAG_WRITE), 0);
	cfg_wr16(d->be, CFG_COMMAND, CMD_MEM_MASTER);
	d->trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->unmask = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(d->trig >= 0 && d->unmask >= 0);
	assert_int_equal(set_fd(d->be, INTX, VFIO_IRQ_SET_ACTION_TRIGGER,
				d->trig), 0);
	assert_int_equal(set_fd(d->be, INTX, VFIO_IRQ_SET_ACTION_UNMASK,
				d->unmask), 0);
}

static void intx_down(struct intx_dev *d)
{
	assert_int_equal(d->be->failed, 0);
	d->be->ops->destroy(d->be);
	close(d->trig);
	close(d->unmask);
	munmap(d->g.ram, GUEST_SIZE);
	close(d->g.fd);
	harness__stop(&d->p);
}

static void test_testdev_intx__irq_info_and_pin(void **st)
{
	struct testdev_proc p;
	struct vfio_backend *be;
	struct vfio_irq_desc id;
	int efd = eventfd(0, EFD_CLOEXEC);

	/* Default and --intx off: no pin, index 0 has no vectors. */
	assert_int_equal(harness__start(&p, small_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->get_irq_info(be, INTX, &id), 0);
	assert_int_equal(id.count, 0);
	assert_int_equal(id.flags, 0);
	assert_int_equal(cfg_rd16(be, CFG_INT_PIN) & 0xff, 0);
	assert_int_equal(set_fd(be, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, efd),
			 -EINVAL);
	be->ops->destroy(be);
	harness__stop(&p);
	assert_int_equal(harness__start(&p, intx_off_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->get_irq_info(be, INTX, &id), 0);
	assert_int_equal(id.count, 0);
	be->ops->destroy(be);
	harness__stop(&p);

	/* --intx on: INTA, one maskable automasked eventfd line. */
	assert_int_equal(harness__start(&p, intx_args), 0);
	assert_int_equal(harness__connect(&p, &be), 0);
	assert_int_equal(be->ops->get_irq_info(be, INTX, &id), 0);
	assert_int_equal(id.count, 1);
	assert_int_equal(id.flags, VFIO_IRQ_INFO_EVENTFD |
				   VFIO_IRQ_INFO_MASKABLE |
				   VFIO_IRQ_INFO_AUTOMASKED);
	assert_int_equal(cfg_rd16(be, CFG_INT_PIN) & 0xff, 1);
	/* MSI-X is offered as before. */
	assert_int_equal(be->ops->get_irq_info(be, MSIX, &id), 0);
	assert_int_equal(id.count, TD_MSIX_VECTORS);
	be->ops->destroy(be);
	harness__stop(&p);
	close(efd);
}

static void test_testdev_intx__automask_pending_unmask(void **st)
{
	struct intx_dev d;

	intx_up(&d);
	assert_false(intx_status(d.be));
	/* First completion: one signal, the line masks itself. */
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	assert_true(intx_status(d.be));
	/* Second while masked: no signal, remembered. */
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_true(intx_status(d.be));
	/* Unmask through the eventfd: the pending one is signalled (and masks). */
	kick(d.unmask);
	assert_int_equal(signals(d.trig, UNMASK_WAIT_MS), 1);
	assert_true(intx_status(d.be));
	/* Unmask with nothing pending: no signal, Interrupt Status clears. */
	kick(d.unmask);
	assert_true(wait_status(d.be, false, UNMASK_WAIT_MS));
	assert_int_equal(signals(d.trig, 0), 0);
	/* Unmasked again: the next completion signals at once. */
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	/* A spurious unmask eventfd write while unmasked is harmless. */
	kick(d.unmask);
	kick(d.unmask);
	assert_true(wait_status(d.be, false, UNMASK_WAIT_MS));
	assert_int_equal(signals(d.trig, 0), 0);
	assert_int_equal(rd32(d.be, TD_REG_DMA_COUNT), 3);
	intx_down(&d);
}

static void test_testdev_intx__set_irqs_mask_unmask_trigger(void **st)
{
	struct intx_dev d;

	intx_up(&d);
	/* MASK, then a completion: held back, not signalled. */
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_MASK, 1), 0);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_false(intx_status(d.be));
	/* UNMASK by SET_IRQS: the held one is signalled before the reply. */
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);
	assert_int_equal(signals(d.trig, 0), 1);
	assert_true(intx_status(d.be));
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);
	assert_false(intx_status(d.be));
	/* TRIGGER with DATA_NONE raises the line (loopback). */
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_TRIGGER, 1), 0);
	assert_int_equal(signals(d.trig, 0), 1);
	/* The IRQ_TRIGGER register raises INTx too, here while masked. */
	wr32(d.be, TD_REG_IRQ_TRIGGER, 0);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);
	assert_int_equal(signals(d.trig, 0), 1);
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);

	/* Dropping the unmask eventfd: kicking it no longer unmasks. */
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 0), 0);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	kick(d.unmask);
	msleep(100);
	assert_true(intx_status(d.be));
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);
	/* A trigger of -1 (client convention: no fd) tears INTx down. */
	assert_int_equal(set_fd(d.be, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, -1), 0);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), -EINVAL);
	intx_down(&d);
}

static void test_testdev_intx__disable_bits(void **st)
{
	struct intx_dev d;

	intx_up(&d);
	/* Command INTx Disable: no signal, no Interrupt Status, nothing pending. */
	cfg_wr16(d.be, CFG_COMMAND, CMD_MEM_MASTER | CMD_INTX_DISABLE);
	assert_int_equal(cfg_rd16(d.be, CFG_COMMAND) & CMD_INTX_DISABLE,
			 CMD_INTX_DISABLE);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_false(intx_status(d.be));
	cfg_wr16(d.be, CFG_COMMAND, CMD_MEM_MASTER);
	assert_int_equal(signals(d.trig, 0), 0);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	kick(d.unmask);
	assert_true(wait_status(d.be, false, UNMASK_WAIT_MS));
	/* MSI-X Enable in config space: the completion is not INTx's. */
	cfg_wr16(d.be, CFG_MSIX_CTRL, MSIX_ENABLE);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_false(intx_status(d.be));
	cfg_wr16(d.be, CFG_MSIX_CTRL, 0);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	intx_down(&d);
}

static void test_testdev_intx__excludes_msix_and_reset(void **st)
{
	struct intx_dev d;
	int efd[TD_MSIX_VECTORS] = { -1, -1, -1, -1 };

	intx_up(&d);
	efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* INTx enabled: MSI-X eventfds refused (one type at a time). */
	assert_int_equal(d.be->ops->set_irqs(d.be, MSIX, VFIO_IRQ_SET_DATA_EVENTFD |
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					     efd), -EBUSY);
	/* Teardown as a VMM does it before enabling MSI-X. */
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_TRIGGER, 0), 0);
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 0), 0);
	/* The unmask eventfd went with the trigger. */
	assert_int_equal(set_fd(d.be, INTX, VFIO_IRQ_SET_ACTION_UNMASK, d.unmask),
			 -EINVAL);
	assert_int_equal(d.be->ops->set_irqs(d.be, MSIX, VFIO_IRQ_SET_DATA_EVENTFD |
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					     efd), 0);
	complete(&d);
	assert_int_equal(signals(efd[0], 0), 1);
	assert_int_equal(signals(d.trig, 0), 0);
	assert_int_equal(set_fd(d.be, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, d.trig),
			 -EBUSY);
	/* MSI-X off, INTx back. */
	assert_int_equal(d.be->ops->set_irqs(d.be, MSIX, VFIO_IRQ_SET_DATA_NONE |
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
					     NULL), 0);
	assert_int_equal(set_fd(d.be, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, d.trig), 0);
	assert_int_equal(set_fd(d.be, INTX, VFIO_IRQ_SET_ACTION_UNMASK, d.unmask), 0);

	/* Reset clears mask and pending; the eventfds stay. */
	complete(&d);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	assert_true(intx_status(d.be));
	assert_int_equal(d.be->ops->reset(d.be), 0);
	assert_false(intx_status(d.be));
	kick(d.unmask);
	assert_int_equal(signals(d.trig, 200), 0); /* the pending one is gone */
	cfg_wr16(d.be, CFG_COMMAND, CMD_MEM_MASTER);
	complete(&d);
	assert_int_equal(signals(d.trig, 0), 1);
	/* A new client starts without INTx eventfds. */
	d.be->ops->destroy(d.be);
	assert_int_equal(harness__connect(&d.p, &d.be), 0);
	assert_false(intx_status(d.be));
	assert_int_equal(set_none(d.be, VFIO_IRQ_SET_ACTION_UNMASK, 1), -EINVAL);
	close(efd[0]);
	intx_down(&d);
}

/* SET_IRQS for index 0 as raw bytes: header, optional bool byte. */
static int raw_set(int fd, uint32_t flags, uint32_t start, uint32_t count,
		   int bool_byte, uint32_t argsz_adj, const int *fds,
		   unsigned int nfds)
{
	uint8_t buf[sizeof(struct vfio_user_irq_set) + 1];
	struct vfio_user_irq_set s = { .flags = flags, .index = INTX,
				       .start = start, .count = count };
	size_t len = sizeof(s) + (bool_byte >= 0);

	s.argsz = (uint32_t)len + argsz_adj;
	memcpy(buf, &s, sizeof(s));
	buf[sizeof(s)] = (uint8_t)bool_byte;
	return raw_cmd(fd, VFIO_USER_DEVICE_SET_IRQS, buf, len, fds, nfds);
}

static void test_testdev_intx__bad_set_irqs_refused(void **st)
{
	const uint32_t trig_efd = VFIO_IRQ_SET_ACTION_TRIGGER |
				  VFIO_IRQ_SET_DATA_EVENTFD;
	const uint32_t unmask_efd = VFIO_IRQ_SET_ACTION_UNMASK |
				    VFIO_IRQ_SET_DATA_EVENTFD;
	struct vfio_user_version v = { 0, 2 };
	struct testdev_proc p;
	int fd, e[2], pipefd[2];

	e[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(harness__start(&p, intx_args), 0);
	fd = raw_connect(&p);
	assert_int_equal(raw_cmd(fd, VFIO_USER_VERSION, &v, 4, NULL, 0), 0);

	/* Before a trigger: nothing to mask, unmask or raise. */
	assert_int_equal(raw_set(fd, unmask_efd, 0, 1, -1, 0, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_MASK |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, NULL, 0),
			 EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_TRIGGER |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, NULL, 0),
			 EINVAL);
	/* Bad start, count, fd count, data type, size. */
	assert_int_equal(raw_set(fd, trig_efd, 1, 1, -1, 0, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd, 0, 2, -1, 0, e, 2), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd, 0, 1, -1, 0, e, 2), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd, 0, 0, -1, 0, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd, 0, 0, -1, 0, NULL, 0), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd, 0, 1, -1, 4, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd | VFIO_IRQ_SET_DATA_BOOL, 0, 1, -1,
				 0, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, trig_efd | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				 -1, 0, e, 1), EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_TRIGGER |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, e, 1),
			 EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_MASK |
				 VFIO_IRQ_SET_DATA_EVENTFD, 0, 1, -1, 0, e, 1),
			 EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_MASK |
				 VFIO_IRQ_SET_DATA_NONE, 0, 0, -1, 0, NULL, 0),
			 EINVAL);
	/* DATA_BOOL without its byte, or with one for count 0. */
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_UNMASK |
				 VFIO_IRQ_SET_DATA_BOOL, 0, 1, -1, 0, NULL, 0),
			 EINVAL);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_UNMASK |
				 VFIO_IRQ_SET_DATA_BOOL, 0, 0, 1, 0, NULL, 0),
			 EINVAL);

	/* Well-formed ones still work after all that. */
	assert_int_equal(raw_set(fd, trig_efd, 0, 1, -1, 0, e, 1), 0);
	assert_int_equal(raw_set(fd, unmask_efd, 0, 1, -1, 0, e + 1, 1), 0);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_TRIGGER |
				 VFIO_IRQ_SET_DATA_BOOL, 0, 1, 1, 0, NULL, 0), 0);
	assert_int_equal(signals(e[0], 0), 1);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_UNMASK |
				 VFIO_IRQ_SET_DATA_BOOL, 0, 1, 0, 0, NULL, 0), 0);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_TRIGGER |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, NULL, 0), 0);
	assert_int_equal(signals(e[0], 0), 0); /* BOOL 0 did not unmask */
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_UNMASK |
				 VFIO_IRQ_SET_DATA_BOOL, 0, 1, 1, 0, NULL, 0), 0);
	assert_int_equal(signals(e[0], 0), 1); /* BOOL 1 did: pending fired */

	/* Hostile fds: a pipe's read end as unmask fd, fed a short write... */
	assert_int_equal(raw_set(fd, unmask_efd, 0, 1, -1, 0, pipefd, 1), 0);
	assert_int_equal(write(pipefd[1], "abc", 3), 3);
	msleep(200);
	assert_int_equal(harness__log_count(&p, "unmask fd unusable"), 1);
	/* ...and the same read end as trigger: never writable, never blocks. */
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_UNMASK |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, NULL, 0), 0);
	assert_int_equal(raw_set(fd, trig_efd, 0, 1, -1, 0, pipefd, 1), 0);
	assert_int_equal(raw_set(fd, VFIO_IRQ_SET_ACTION_TRIGGER |
				 VFIO_IRQ_SET_DATA_NONE, 0, 1, -1, 0, NULL, 0), 0);
	assert_int_equal(harness__log_count(&p, "trigger eventfd not writable"), 1);
	/* The connection still answers. */
	{
		struct vfio_user_device_info di = { .argsz = sizeof(di) };

		assert_int_equal(raw_cmd(fd, VFIO_USER_DEVICE_GET_INFO, &di,
					 sizeof(di), NULL, 0), 0);
	}
	close(fd);
	harness__stop(&p);
	close(e[0]);
	close(e[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_testdev_intx__irq_info_and_pin),
		cmocka_unit_test(test_testdev_intx__automask_pending_unmask),
		cmocka_unit_test(test_testdev_intx__set_irqs_mask_unmask_trigger),
		cmocka_unit_test(test_testdev_intx__disable_bits),
		cmocka_unit_test(test_testdev_intx__excludes_msix_and_reset),
		cmocka_unit_test(test_testdev_intx__bad_set_irqs_refused),
	};

	if (!getenv("FERRY_TESTDEV")) {
		fprintf(stderr, "FERRY_TESTDEV not set\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
