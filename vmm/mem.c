/*
 * mem.c: guest RAM backed by one memfd, its guest-physical layout
 * around the 32-bit MMIO hole, the e820 map that describes it, and the
 * checked accessor through which all of ferry reaches guest memory.
 */
#include "vmm/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/util.h"

#define PAGE_SIZE 4096ULL

int mem__create(uint64_t size, struct guest_mem **out)
{
	struct guest_mem *mem;
	uint64_t low;
	int ret;

	if (size < MEM_MIN_SIZE || size > MEM_MAX_SIZE || size % PAGE_SIZE)
		return -EINVAL;

	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	mem->fd = memfd_create("ferry-ram", MFD_CLOEXEC);
	if (mem->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (ftruncate(mem->fd, (off_t)size) < 0) {
		ret = -errno;
		goto err_close;
	}
	mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 mem->fd, 0);
	if (mem->base == MAP_FAILED) {
		ret = -errno;
		mem->base = NULL;
		goto err_close;
	}
	mem->size = size;

	low = MIN(size, MEM_HOLE_START);
	mem->regions[0] = (struct mem_region){
		.gpa = 0, .size = low, .offset = 0, .hva = mem->base,
	};
	mem->nr_regions = 1;
	if (size > low) {
		mem->regions[1] = (struct mem_region){
			.gpa = MEM_HIGH_START,
			.size = size - low,
			.offset = low,
			.hva = mem->base + low,
		};
		mem->nr_regions = 2;
	}
	*out = mem;
	return 0;

err_close:
	close(mem->fd);
err_free:
	free(mem);
	return ret;
}

void mem__destroy(struct guest_mem *mem)
{
	if (!mem)
		return;
	if (mem->base)
		munmap(mem->base, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	free(mem);
}

void *mem__gpa_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t end;
	unsigned int i;

	if (!mem || add_overflow(gpa, len, &end))
		return NULL;
	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int mem__write(struct guest_mem *mem, uint64_t gpa, const void *buf,
	       uint64_t len)
{
	void *p = mem__gpa_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

int mem__read(const struct guest_mem *mem, uint64_t gpa, void *buf,
	      uint64_t len)
{
	const void *p = mem__gpa_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int mem__e820(const struct guest_mem *mem, struct e820_entry *out,
	      unsigned int max)
{
	struct e820_entry e[MEM_MAX_E820];
	unsigned int n = 0;
	uint64_t low = mem->regions[0].size;

	/* Base memory up to the EBDA, where ferry puts the MP table. */
	e[n++] = (struct e820_entry){ 0, MEM_EBDA_START, E820_RAM };
	e[n++] = (struct e820_entry){ MEM_EBDA_START,
				      MEM_BIOS_END - MEM_EBDA_START,
				      E820_RESERVED };
	e[n++] = (struct e820_entry){ MEM_BIOS_END, low - MEM_BIOS_END,
				      E820_RAM };
	if (mem->nr_regions > 1)
		e[n++] = (struct e820_entry){ mem->regions[1].gpa,
					      mem->regions[1].size, E820_RAM };
	if (n > max)
		return -ENOSPC;
	memcpy(out, e, n * sizeof(e[0]));
	return (int)n;
}

uint64_t mem__end(const struct guest_mem *mem)
{
	const struct mem_region *r = &mem->regions[mem->nr_regions - 1];

	return r->gpa + r->size;
}
