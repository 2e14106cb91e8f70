/*
 * bus.h: the two guest address spaces ferry emulates devices in: port
 * I/O and MMIO. A device registers a range with a small ops table; vCPU
 * exits are dispatched to it with the offset into its range. Handlers
 * are called from vCPU threads, concurrently for different vCPUs: a
 * device protects its own state. Ranges can be added and removed while
 * vCPUs run (PCI BAR programming); lookups take a read lock.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space {
	BUS_PIO = 0,
	BUS_MMIO = 1,
};

struct bus_ops {
	/* Fill @data (len 1..8, or larger for MMIO string ops) for a read. */
	void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
	/* Consume @data for a write. */
	void (*write)(void *opaque, uint64_t offset, const void *data,
		      uint32_t len);
};

struct bus;

/* Create an empty bus pair (PIO + MMIO). Returns 0 or -ENOMEM. */
int bus__create(struct bus **out);

/* Free all ranges and the bus. NULL-safe. */
void bus__destroy(struct bus *bus);

/*
 * Register [base, base+len) in @space. @ops and @opaque are borrowed and
 * must outlive the registration. Returns 0, -EINVAL (len 0 or overflow),
 * -EEXIST (overlaps an existing range) or -ENOMEM.
 */
int bus__register(struct bus *bus, enum bus_space space, uint64_t base,
		  uint64_t len, const struct bus_ops *ops, void *opaque);

/* Remove the range that starts at @base. Returns 0 or -ENOENT. */
int bus__unregister(struct bus *bus, enum bus_space space, uint64_t base);

/*
 * Dispatch one access. Returns 0 if a device handled it, -ENOENT if no
 * range covers [addr, addr+len) (reads then see all ones, as on real
 * hardware; the caller fills them).
 */
int bus__access(struct bus *bus, enum bus_space space, uint64_t addr,
		void *data, uint32_t len, bool is_write);

#endif /* VMM_BUS_H */
