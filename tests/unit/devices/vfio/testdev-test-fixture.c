/*
 * testdev-test-fixture.c: BAR0 register helpers and the small-device
 * arguments the ferry-testdev client tests share, and their guest RAM and
 * DMA helpers and raw vfio-user commands (testdev-test-fixture.h).
 */
#include "testdev-test-fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-proto.h"
#include "testdev-harness.h"
#include "tools/testdev/testdev-internal.h"

const char *const small_args[] = { "--mem-size", "1M", NULL };

uint32_t rd32(struct vfio_backend *be, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, off, &v, 4), 0);
	return v;
}

void wr32(struct vfio_backend *be, uint64_t off, uint32_t v)
{
	assert_int_equal(be->ops->region_write(be, BAR0, off, &v, 4), 0);
}

uint64_t digest(struct vfio_backend *be)
{
	uint64_t v = 0;

	assert_int_equal(be->ops->region_read(be, BAR0, TD_REG_DIGEST_LO, &v, 8), 0);
	return v;
}

void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

void guest_ram(struct guest *g)
{
	g->fd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(g->fd >= 0);
	assert_int_equal(ftruncate(g->fd, GUEST_SIZE), 0);
	g->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	assert_true(g->ram != MAP_FAILED);
}

void dma(struct vfio_backend *be, uint64_t dev, uint64_t addr, uint32_t len,
	 uint32_t ctrl)
{
	wr32(be, TD_REG_DMA_DEV_LO, (uint32_t)dev);
	wr32(be, TD_REG_DMA_DEV_HI, (uint32_t)(dev >> 32));
	wr32(be, TD_REG_DMA_ADDR_LO, (uint32_t)addr);
	wr32(be, TD_REG_DMA_ADDR_HI, (uint32_t)(addr >> 32));
	wr32(be, TD_REG_DMA_LEN, len);
	wr32(be, TD_REG_DMA_CTRL, ctrl | TD_DMA_CTRL_START);
}

int raw_cmd(int fd, uint16_t cmd, const void *p, size_t l, const int *fds,
	    unsigned int nfds)
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

int raw_connect(const struct testdev_proc *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, p->sock, strlen(p->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}
