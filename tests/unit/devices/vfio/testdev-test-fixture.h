/*
 * testdev-test-fixture.h: what the ferry-testdev client tests
 * (test-vfio-user-testdev.c, test-vfio-user-testdev-mig.c) share: the
 * device memory size they start ferry-testdev with, BAR0 register
 * access through a connected vfio-user backend, asserting success, and a
 * memfd "guest RAM" with a DMA helper, and raw vfio-user commands.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H
#define TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

struct testdev_proc;
struct vfio_backend;

#define MEM (1u << 20) /* --mem-size for these tests */
#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define BAR2 VFIO_PCI_BAR2_REGION_INDEX

/* ferry-testdev arguments for a device with MEM bytes of memory. */
extern const char *const small_args[];

/* Read / write the 32-bit BAR0 register at @off (asserts success). */
uint32_t rd32(struct vfio_backend *be, uint64_t off);
void wr32(struct vfio_backend *be, uint64_t off, uint32_t v);

/* The device's DIGEST register pair, read as one 64-bit access. */
uint64_t digest(struct vfio_backend *be);

/* Sleep @ms milliseconds. */
void msleep(unsigned int ms);

/* A memfd "guest RAM" of GUEST_SIZE bytes; tests DMA-map it at GUEST_IOVA. */
#define GUEST_IOVA 0x100000ULL
#define GUEST_SIZE (1u << 20)

struct guest {
	int fd;
	uint8_t *ram;
};

/* Create the guest RAM memfd and map it here (asserts); DMA_MAP is the caller's. */
void guest_ram(struct guest *g);

/*
 * Program and start one DMA of @len bytes between device offset @dev
 * and guest address @addr; @ctrl adds DMA_CTRL bits (FROM_GUEST, IRQ).
 */
void dma(struct vfio_backend *be, uint64_t dev, uint64_t addr, uint32_t len,
	 uint32_t ctrl);

/*
 * A raw vfio-user connection to @p's socket (no negotiation), for
 * sending what the client backend never would (asserts).
 */
int raw_connect(const struct testdev_proc *p);

/*
 * Send command @cmd with payload @p/@l and @nfds fds over @fd and wait
 * for its reply (asserts). Returns the reply's errno, 0 for success.
 */
int raw_cmd(int fd, uint16_t cmd, const void *p, size_t l, const int *fds,
	    unsigned int nfds);

#endif /* TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H */
