/*
 * test-vfio-kernel-region.c: the kernel VFIO backend's region operations
 * against the scripted fake kernel: region info and its sparse mmap
 * capability chain (well-formed and hostile: huge argsz, caps outside the
 * buffer, loops, area counts that overflow, areas outside the region),
 * trapped region access by pread/pwrite (short transfers, errors) and
 * region mmap. A malformed answer must fail the backend (then -EIO with no
 * system call); an errno answer must not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "fake-vfio-dev.h"
#include "fake-vfio.h"
#include "vmm/compat/vfio-compat.h"

#define RI_LEN 32u /* sizeof(struct vfio_region_info) */
#define REG_OFF(i) ((uint64_t)(i) << 40) /* vfio-pci's region offsets */
#define RWM (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | \
	     VFIO_REGION_INFO_FLAG_MMAP)
#define MAP_ADDR ((void *)0x7f1234560000ULL)

/* struct vfio_region_info at the start of @b. */
static void ri(uint8_t *b, uint32_t argsz, uint32_t flags, uint32_t index,
	       uint32_t cap_off, uint64_t size, uint64_t off)
{
	put32(b, 0, argsz);
	put32(b, 4, flags);
	put32(b, 8, index);
	put32(b, 12, cap_off);
	put64(b, 16, size);
	put64(b, 24, off);
}

/* A capability header at @off. */
static void cap(uint8_t *b, size_t off, uint16_t id, uint16_t ver,
		uint32_t next)
{
	memcpy(b + off, &id, 2);
	memcpy(b + off + 2, &ver, 2);
	put32(b, off + 4, next);
}

/* A sparse mmap cap at @off with @nr areas from @areas ({off, size}...). */
static void sparse(uint8_t *b, size_t off, uint32_t next, uint32_t nr,
		   const uint64_t *areas)
{
	uint32_t i;

	cap(b, off, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, next);
	put32(b, off + 8, nr);
	put32(b, off + 12, 0);
	for (i = 0; areas && i < nr; i++) {
		put64(b, off + 16 + i * 16, areas[2 * i]);
		put64(b, off + 24 + i * 16, areas[2 * i + 1]);
	}
}

/* The expected first region-info request for @index. */
static uint8_t req_in[16][RI_LEN];

static const void *ri_req(unsigned int slot, uint32_t argsz, uint32_t index)
{
	memset(req_in[slot], 0, RI_LEN);
	ri(req_in[slot], argsz, 0, index, 0, 0, 0);
	return req_in[slot];
}

/* Two-step region info: 32-byte probe, then the full @big answer. */
static void script_ri2(struct fake_step *s, unsigned int slot, uint32_t index,
		       uint8_t *first, const uint8_t *big, uint32_t big_len)
{
	memcpy(first, big, RI_LEN);
	put32(first, 12, 0); /* caps did not fit: no cap_offset */
	s[0] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				   .req = VFIO_DEVICE_GET_REGION_INFO,
				   .in = ri_req(slot, RI_LEN, index),
				   .in_len = 12, .out = first, .out_len = RI_LEN };
	s[1] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				   .req = VFIO_DEVICE_GET_REGION_INFO,
				   .in = ri_req(slot + 1, big_len, index),
				   .in_len = 12, .out = big, .out_len = big_len };
}

static void test_vfio_kernel__region_info_plain(void **state)
{
	uint8_t out[RI_LEN] = { 0 };
	struct fake_step steps[1];
	struct vfio_region_desc rd;
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	ri(out, RI_LEN, RWM, 0, 0, 0x4000, REG_OFF(0));
	steps[0] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_GET_REGION_INFO,
				       .in = ri_req(0, RI_LEN, 0), .in_len = RI_LEN,
				       .out = out, .out_len = RI_LEN };
	fake_vfio__start(steps, 1);
	assert_int_equal(be->ops->get_region_info(be, 0, &rd), 0);
	fake_vfio__done();
	assert_int_equal(rd.index, 0);
	assert_int_equal(rd.flags, RWM);
	assert_int_equal(rd.size, 0x4000);
	/* FLAG_MMAP without a sparse cap: the whole region is one area. */
	assert_int_equal(rd.nr_areas, 1);
	assert_int_equal(rd.areas[0].offset, 0);
	assert_int_equal(rd.areas[0].size, 0x4000);
	/* Beyond num_regions: refused without a call. */
	fake_vfio__start(NULL, 0);
	assert_int_equal(be->ops->get_region_info(be, FKD_REGIONS, &rd), -EINVAL);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__region_info_sparse_chain(void **state)
{
	/* A TYPE cap (id 2, 16 bytes) at 32, then a sparse cap at 48. */
	static const uint64_t areas[] = { 0, 0x2000, 0x3000, 0xd000,
					  0x800, 0x2000 /* unaligned */ };
	uint8_t big[48 + 16 + 3 * 16] = { 0 }, first[RI_LEN];
	struct fake_step steps[3];
	struct vfio_region_desc rd;
	struct vfio_backend *be;
	void *p;

	(void)state;
	fkd__open_iommufd(&be);
	ri(big, sizeof(big), RWM | VFIO_REGION_INFO_FLAG_CAPS, 2, 32, 0x10000,
	   REG_OFF(2));
	cap(big, 32, 2 /* VFIO_REGION_INFO_CAP_TYPE */, 1, 48);
	sparse(big, 48, 0, 3, areas);
	script_ri2(steps, 0, 2, first, big, sizeof(big));
	fake_vfio__start(steps, 2);
	assert_int_equal(be->ops->get_region_info(be, 2, &rd), 0);
	fake_vfio__done();
	assert_int_equal(rd.flags, RWM);
	assert_int_equal(rd.size, 0x10000);
	assert_int_equal(rd.nr_areas, 3);
	assert_int_equal(rd.areas[0].offset, 0);
	assert_int_equal(rd.areas[0].size, 0x2000);
	assert_int_equal(rd.areas[1].offset, 0x3000);
	assert_int_equal(rd.areas[1].size, 0xd000);
	/* [0x800, 0x2800) shrinks to its whole pages [0x1000, 0x2000). */
	assert_int_equal(rd.areas[2].offset, 0x1000);
	assert_int_equal(rd.areas[2].size, 0x1000);

	/* mmap inside an area: one mmap at the region's file offset. */
	steps[0] = (struct fake_step){ .call = FK_MMAP, .fd = FKD_DEV,
				       .off = (int64_t)(REG_OFF(2) + 0x4000),
				       .len = 0x2000,
				       .prot = PROT_READ | PROT_WRITE,
				       .ptr = MAP_ADDR };
	steps[1] = (struct fake_step){ .call = FK_MMAP, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(2), .len = 0x1000,
				       .prot = PROT_READ, .err = ENOMEM };
	fake_vfio__start(steps, 2);
	assert_int_equal(be->ops->region_mmap(be, 2, 0x4000, 0x2000,
					      PROT_READ | PROT_WRITE, &p), 0);
	assert_ptr_equal(p, MAP_ADDR);
	assert_int_equal(be->ops->region_mmap(be, 2, 0, 0x1000, PROT_READ, &p),
			 -ENOMEM);
	/* Across an area's end, unaligned, PROT_EXEC, empty: no call. */
	assert_int_equal(be->ops->region_mmap(be, 2, 0x1000, 0x2000, PROT_READ,
					      &p), -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, 2, 0x3800, 0x1000, PROT_READ,
					      &p), -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, 2, 0x3000, 0x1000,
					      PROT_READ | PROT_EXEC, &p), -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, 2, 0x3000, 0, PROT_READ, &p),
			 -EINVAL);
	assert_int_equal(be->ops->region_mmap(be, 2, UINT64_MAX & ~0xfffULL,
					      0x2000, PROT_READ, &p), -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__region_info_many_areas(void **state)
{
	uint64_t areas[2 * 10];
	uint8_t big[32 + 16 + 10 * 16] = { 0 }, first[RI_LEN], v2[64] = { 0 };
	struct fake_step steps[3];
	struct vfio_region_desc rd;
	struct vfio_backend *be;
	unsigned int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		areas[2 * i] = i * 0x2000ULL;
		areas[2 * i + 1] = 0x1000;
	}
	fkd__open_iommufd(&be);
	ri(big, sizeof(big), RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 32, 0x20000,
	   REG_OFF(0));
	sparse(big, 32, 0, 10, areas);
	script_ri2(steps, 0, 0, first, big, sizeof(big));
	/* An unknown sparse cap version: nothing mmap-able, all trapped. */
	ri(v2, sizeof(v2), RWM | VFIO_REGION_INFO_FLAG_CAPS, 1, 32, 0x4000,
	   REG_OFF(1));
	sparse(v2, 32, 0, 1, (const uint64_t[]){ 0, 0x4000 });
	cap(v2, 32, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 2, 0);
	steps[2] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_GET_REGION_INFO,
				       .out = v2, .out_len = sizeof(v2) };
	fake_vfio__start(steps, 2);
	assert_int_equal(be->ops->get_region_info(be, 0, &rd), 0);
	assert_int_equal(rd.nr_areas, VFIO_BACKEND_MAX_AREAS);
	for (i = 0; i < VFIO_BACKEND_MAX_AREAS; i++)
		assert_int_equal(rd.areas[i].offset, i * 0x2000ULL);
	fake_vfio__done();
	/* Region 1: the 64-byte v2 answer after a 32-byte probe. */
	memcpy(first, v2, RI_LEN);
	put32(first, 12, 0);
	steps[0] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_GET_REGION_INFO,
				       .out = first, .out_len = RI_LEN };
	steps[1] = steps[2];
	fake_vfio__start(steps, 2);
	assert_int_equal(be->ops->get_region_info(be, 1, &rd), 0);
	assert_int_equal(rd.nr_areas, 0);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

/*
 * Open a device, answer one region-info query for region 0 with @first
 * (and @big if non-NULL), expect -EIO and a failed backend that makes no
 * further calls.
 */
static void expect_ri_fails(const uint8_t *first, const uint8_t *big,
			    uint32_t big_len)
{
	struct fake_step steps[2] = {
		{ .call = FK_IOCTL, .fd = FKD_DEV,
		  .req = VFIO_DEVICE_GET_REGION_INFO, .out = first,
		  .out_len = RI_LEN },
		{ .call = FK_IOCTL, .fd = FKD_DEV,
		  .req = VFIO_DEVICE_GET_REGION_INFO, .out = big,
		  .out_len = big_len },
	};
	struct vfio_region_desc rd;
	struct vfio_device_desc dd;
	struct vfio_irq_desc id;
	struct vfio_backend *be;
	uint8_t b[4];
	uint32_t st;
	void *p;

	fkd__open_iommufd(&be);
	fake_vfio__start(steps, big ? 2 : 1);
	assert_int_equal(be->ops->get_region_info(be, 0, &rd), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	/* Failed: everything answers -EIO at once, with no system call. */
	fake_vfio__start(NULL, 0);
	assert_int_equal(be->ops->get_region_info(be, 0, &rd), -EIO);
	assert_int_equal(be->ops->get_device_info(be, &dd), -EIO);
	assert_int_equal(be->ops->region_read(be, 0, 0, b, 4), -EIO);
	assert_int_equal(be->ops->region_write(be, 0, 0, b, 4), -EIO);
	assert_int_equal(be->ops->region_mmap(be, 0, 0, 4096, PROT_READ, &p),
			 -EIO);
	assert_int_equal(be->ops->get_irq_info(be, 0, &id), -EIO);
	assert_int_equal(be->ops->set_irqs(be, 0, VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
					   NULL), -EIO);
	assert_int_equal(be->ops->reset(be), -EIO);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE |
						 VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_MIGRATION,
						 NULL, 0), -EIO);
	assert_int_equal(be->ops->mig_set_state(be, VFIO_DEVICE_STATE_STOP),
			 -EIO);
	assert_int_equal(be->ops->mig_get_state(be, &st), -EIO);
	assert_int_equal(be->ops->dma_unmap(be, 0, 4096), -EIO);
	assert_int_equal(be->ops->dma_logging_stop(be), -EIO);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__region_info_hostile(void **state)
{
	uint8_t first[RI_LEN] = { 0 }, big[96] = { 0 };

	(void)state;
	/* Huge argsz: refused before any second call. */
	ri(first, 0x40000000, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 0, 0x1000, 0);
	expect_ri_fails(first, NULL, 0);
	/* The second answer asks for even more. */
	ri(first, 80, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 0, 0x1000, 0);
	ri(big, 96, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 32, 0x1000, 0);
	expect_ri_fails(first, big, 80);
	/* A cap offset beyond the filled buffer. */
	ri(big, 80, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 200, 0x1000, 0);
	expect_ri_fails(first, big, 80);
	/* A cap offset inside the fixed header. */
	ri(big, 80, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 8, 0x1000, 0);
	expect_ri_fails(first, big, 80);
	/* A cap pointing at itself (loop) ... */
	memset(big, 0, sizeof(big));
	ri(big, 80, RWM | VFIO_REGION_INFO_FLAG_CAPS, 0, 32, 0x1000, 0);
	cap(big, 32, 2, 1, 32);
	expect_ri_fails(first, big, 80);
	/* ... or back to an earlier one. */
	cap(big, 32, 2, 1, 48);
	cap(big, 48, 2, 1, 32);
	expect_ri_fails(first, big, 80);
	/* A header that straddles the end. */
	cap(big, 32, 2, 1, 76);
	expect_ri_fails(first, big, 80);
	/* nr_areas whose byte size overflows 32 bits. */
	sparse(big, 32, 0, 0x10000000, NULL);
	expect_ri_fails(first, big, 80);
	/* An area outside the region. */
	sparse(big, 32, 0, 2, (const uint64_t[]){ 0, 0x1000, 0x1000, 0x1000 });
	expect_ri_fails(first, big, 80);
	sparse(big, 32, 0, 2, (const uint64_t[]){ 0, 0x1000, 8, UINT64_MAX });
	expect_ri_fails(first, big, 80);
	/* The answer is about another region. */
	ri(first, RI_LEN, RWM, 3, 0, 0x1000, 0);
	expect_ri_fails(first, NULL, 0);
	/* offset + size overflows / exceeds off_t. */
	ri(first, RI_LEN, RWM, 0, 0, 0x1000, UINT64_MAX - 0x10);
	expect_ri_fails(first, NULL, 0);
	ri(first, RI_LEN, RWM, 0, 0, 0x1000, (uint64_t)INT64_MAX);
	expect_ri_fails(first, NULL, 0);
	/* argsz shrunk below the struct. */
	ri(first, 8, RWM, 0, 0, 0x1000, 0);
	expect_ri_fails(first, NULL, 0);
}

static void test_vfio_kernel__region_info_errno_is_not_failure(void **state)
{
	struct fake_step steps[] = {
		{ .call = FK_IOCTL, .fd = FKD_DEV,
		  .req = VFIO_DEVICE_GET_REGION_INFO, .err = EINVAL },
	};
	struct vfio_region_desc rd;
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, 1);
	assert_int_equal(be->ops->get_region_info(be, 8, &rd), -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);
}

/* Region 7 (config space): 256 bytes, read/write, trapped. */
static uint8_t cfg_ri[RI_LEN];

static void cfg_region_step(struct fake_step *s, int fd)
{
	ri(cfg_ri, RI_LEN, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
	   7, 0, 256, REG_OFF(7));
	*s = (struct fake_step){ .call = FK_IOCTL, .fd = fd,
				 .req = VFIO_DEVICE_GET_REGION_INFO,
				 .out = cfg_ri, .out_len = RI_LEN };
}

static void test_vfio_kernel__region_rw(void **state)
{
	static const uint8_t id[4] = { 0x86, 0x80, 0x3c, 0x15 };
	static const uint8_t eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t cmd[2] = { 0x06, 0x04 };
	struct fake_step steps[9];
	struct vfio_backend *be;
	uint8_t buf[8];
	void *p;

	(void)state;
	fkd__open_iommufd(&be);
	cfg_region_step(&steps[0], FKD_DEV);
	steps[1] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .len = 4,
				       .out = id, .out_len = 4, .ret = 4 };
	/* Short reads continue where they stopped. */
	steps[2] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7) + 0x10, .len = 8,
				       .out = eight, .out_len = 3, .ret = 3 };
	steps[3] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7) + 0x13, .len = 5,
				       .out = eight + 3, .out_len = 5, .ret = 5 };
	steps[4] = (struct fake_step){ .call = FK_PWRITE, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7) + 4, .len = 2,
				       .in = cmd, .in_len = 2, .ret = 2 };
	/* End of file and an errno: returned, not a failure. */
	steps[5] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .ret = 0 };
	steps[6] = (struct fake_step){ .call = FK_PWRITE, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .err = EFAULT };
	steps[7] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .err = EINTR };
	steps[8] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .out = id,
				       .out_len = 4, .ret = 4 };
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->region_read(be, 7, 0, buf, 4), 0);
	assert_memory_equal(buf, id, 4);
	assert_int_equal(be->ops->region_read(be, 7, 0x10, buf, 8), 0);
	assert_memory_equal(buf, eight, 8);
	assert_int_equal(be->ops->region_write(be, 7, 4, cmd, 2), 0);
	assert_int_equal(be->ops->region_read(be, 7, 0, buf, 4), -EIO);
	assert_int_equal(be->ops->region_write(be, 7, 0, cmd, 2), -EFAULT);
	assert_int_equal(be->ops->region_read(be, 7, 0, buf, 4), 0); /* EINTR */
	/* Outside the region, overflowing, beyond num_regions: no call. */
	assert_int_equal(be->ops->region_read(be, 7, 0xfe, buf, 4), -EINVAL);
	assert_int_equal(be->ops->region_read(be, 7, UINT64_MAX, buf, 2), -EINVAL);
	assert_int_equal(be->ops->region_read(be, 40, 0, buf, 2), -EINVAL);
	/* Config space is not mmap-able. */
	assert_int_equal(be->ops->region_mmap(be, 7, 0, 4096, PROT_READ, &p),
			 -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);

	/* A pread claiming more than asked is impossible: failed. */
	steps[0] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_DEV,
				       .off = (int64_t)REG_OFF(7), .out = id,
				       .out_len = 4, .ret = 64 };
	fake_vfio__start(steps, 1);
	assert_int_equal(be->ops->region_read(be, 7, 0, buf, 4), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__region_rw_legacy_and_readonly(void **state)
{
	uint8_t rom[RI_LEN];
	struct fake_step steps[2];
	struct vfio_backend *be;
	uint8_t buf[4] = { 0 };

	(void)state;
	fkd__open_legacy(&be);
	memset(rom, 0, sizeof(rom));
	ri(rom, RI_LEN, VFIO_REGION_INFO_FLAG_READ, 6, 0, 0x10000, REG_OFF(6));
	steps[0] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_LDEV,
				       .req = VFIO_DEVICE_GET_REGION_INFO,
				       .out = rom, .out_len = RI_LEN };
	steps[1] = (struct fake_step){ .call = FK_PREAD, .fd = FKD_LDEV,
				       .off = (int64_t)REG_OFF(6) + 0x100, .len = 4,
				       .ret = 4 };
	fake_vfio__start(steps, 2);
	assert_int_equal(be->ops->region_read(be, 6, 0x100, buf, 4), 0);
	/* The expansion ROM is read-only: a write makes no call. */
	assert_int_equal(be->ops->region_write(be, 6, 0x100, buf, 4), -EINVAL);
	fake_vfio__done();
	fkd__destroy(be, true, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_kernel__region_info_plain),
		cmocka_unit_test(test_vfio_kernel__region_info_sparse_chain),
		cmocka_unit_test(test_vfio_kernel__region_info_many_areas),
		cmocka_unit_test(test_vfio_kernel__region_info_hostile),
		cmocka_unit_test(test_vfio_kernel__region_info_errno_is_not_failure),
		cmocka_unit_test(test_vfio_kernel__region_rw),
		cmocka_unit_test(test_vfio_kernel__region_rw_legacy_and_readonly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
