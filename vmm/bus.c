/*
 * bus.c: sorted range tables for port I/O and MMIO, guarded by a
 * read-write lock (vCPU exits read, BAR programming writes). Lookups are
 * a binary search; ferry has tens of ranges, not thousands.
 */
#include "vmm/bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/util.h"

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus_table {
	struct bus_range *r;
	unsigned int n, cap;
};

struct bus {
	pthread_rwlock_t lock; /* protects tables, not the devices */
	struct bus_table tables[2];
};

int bus__create(struct bus **out)
{
	struct bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return -ENOMEM;
	pthread_rwlock_init(&bus->lock, NULL);
	*out = bus;
	return 0;
}

void bus__destroy(struct bus *bus)
{
	if (!bus)
		return;
	free(bus->tables[0].r);
	free(bus->tables[1].r);
	pthread_rwlock_destroy(&bus->lock);
	free(bus);
}

/* Index of the first range whose end is above @addr. */
static unsigned int lower_bound(const struct bus_table *t, uint64_t addr)
{
	unsigned int lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->r[mid].base + t->r[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus__register(struct bus *bus, enum bus_space space, uint64_t base,
		  uint64_t len, const struct bus_ops *ops, void *opaque)
{
	struct bus_table *t = &bus->tables[space];
	uint64_t end;
	unsigned int i;
	int ret = 0;

	if (!len || add_overflow(base, len, &end) || space > BUS_MMIO)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = lower_bound(t, base);
	if (i < t->n && t->r[i].base < end) {
		ret = -EEXIST;
		goto out;
	}
	if (t->n == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 16;
		struct bus_range *r = realloc(t->r, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		t->r = r;
		t->cap = cap;
	}
	memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(t->r[0]));
	t->r[i] = (struct bus_range){ base, len, ops, opaque };
	t->n++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus__unregister(struct bus *bus, enum bus_space space, uint64_t base)
{
	struct bus_table *t = &bus->tables[space];
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = lower_bound(t, base);
	if (i < t->n && t->r[i].base == base) {
		memmove(&t->r[i], &t->r[i + 1],
			(t->n - i - 1) * sizeof(t->r[0]));
		t->n--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus__access(struct bus *bus, enum bus_space space, uint64_t addr,
		void *data, uint32_t len, bool is_write)
{
	const struct bus_table *t = &bus->tables[space];
	struct bus_range hit = { 0 };
	unsigned int i;
	bool found = false;

	/*
	 * Copy the range out and call the handler without the lock held: a
	 * handler may itself (un)register ranges, e.g. a PCI config write
	 * that moves a BAR. Ranges' ops/opaque outlive the vCPUs.
	 */
	pthread_rwlock_rdlock(&bus->lock);
	i = lower_bound(t, addr);
	if (i < t->n && addr >= t->r[i].base &&
	    addr - t->r[i].base + len <= t->r[i].len) {
		hit = t->r[i];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!found)
		return -ENOENT;
	if (is_write)
		hit.ops->write(hit.opaque, addr - hit.base, data, len);
	else
		hit.ops->read(hit.opaque, addr - hit.base, data, len);
	return 0;
}
