/*
 * testdev-test-fixture.h: what the ferry-testdev client tests
 * (test-vfio-user-testdev.c, test-vfio-user-testdev-mig.c) share: the
 * device memory size they start ferry-testdev with, and BAR0 register
 * access through a connected vfio-user backend, asserting success.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H
#define TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H

#include <stdint.h>

#include <linux/vfio.h>

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

#endif /* TESTS_UNIT_DEVICES_VFIO_TESTDEV_TEST_FIXTURE_H */
