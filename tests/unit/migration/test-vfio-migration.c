/*
 * test-vfio-migration.c: the VFIO migration state machine and its
 * handler. Against real ferry-testdev processes: a stop-and-copy save
 * from one device loads into another and the device digests match,
 * whatever the chunking of the stream; corrupt and truncated streams
 * are refused and the destination is reset. Against a fake backend:
 * the recover-state discipline (recover state, else reset) and the
 * blockers for devices that cannot migrate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio/vfio-backend.h"
#include "migration/handler.h"
#include "migration/registry.h"
#include "migration/state-fdt.h"
#include "migration/vfio-migration.h"
#include "tests/unit/devices/vfio/testdev-harness.h"
#include "vmm/compat/vfio-compat.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define REG_DIGEST_LO 0x80
#define REG_DIGEST_HI 0x84

static const char *const args[] = { "--mem-size", "1M", NULL };

/* A growing in-memory sink. */
struct buf_sink {
	struct mig_sink sink;
	uint8_t *data;
	size_t len, cap;
};

static int buf_write(struct mig_sink *s, const void *p, size_t len)
{
	struct buf_sink *b = (struct buf_sink *)s;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->sink.written += len;
	return 0;
}

static uint64_t digest(struct vfio_backend *be)
{
	uint32_t lo, hi;

	assert_int_equal(be->ops->region_read(be, BAR0, REG_DIGEST_LO, &lo, 4), 0);
	assert_int_equal(be->ops->region_read(be, BAR0, REG_DIGEST_HI, &hi, 4), 0);
	return ((uint64_t)hi << 32) | lo;
}

struct pair {
	struct testdev_proc src_p, dst_p;
	struct vfio_backend *src, *dst;
	struct vfio_migration *msrc, *mdst;
	struct migration *gsrc, *gdst;
	const struct mig_handler *hsrc, *hdst;
	struct buf_sink stream;
	uint64_t src_digest;
};

static void pair_setup(struct pair *p)
{
	uint8_t pattern[4096];
	size_t i;

	memset(p, 0, sizeof(*p));
	p->stream.sink.write = buf_write;
	assert_int_equal(harness__start(&p->src_p, args), 0);
	assert_int_equal(harness__start(&p->dst_p, args), 0);
	assert_int_equal(harness__connect(&p->src_p, &p->src), 0);
	assert_int_equal(harness__connect(&p->dst_p, &p->dst), 0);
	assert_int_equal(vfio_mig__create(p->src, "dev0", VFIO_MIGRATION_AUTO,
					  NULL, NULL, &p->msrc), 0);
	assert_int_equal(vfio_mig__create(p->dst, "dev0", VFIO_MIGRATION_AUTO,
					  NULL, NULL, &p->mdst), 0);
	assert_null(vfio_mig__blocker(p->msrc));
	assert_int_equal(migration__create(&p->gsrc), 0);
	assert_int_equal(migration__create(&p->gdst), 0);
	assert_int_equal(vfio_mig__register(p->msrc, p->gsrc), 0);
	assert_int_equal(vfio_mig__register(p->mdst, p->gdst), 0);
	p->hsrc = migration__find(p->gsrc, "dev0");
	p->hdst = migration__find(p->gdst, "dev0");
	assert_non_null(p->hsrc);
	assert_non_null(p->hdst);
	/* Give the source device distinctive state in BAR2 (region 2). */
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(p->src->ops->region_write(p->src, VFIO_PCI_BAR2_REGION_INDEX,
						   8192, pattern, sizeof(pattern)), 0);
}

static void pair_save(struct pair *p)
{
	const struct mig_handler_ops *o = p->hsrc->ops;
	struct state_writer *w;

	assert_int_equal(vfio_mig__vm_stop(p->msrc), 0);
	assert_int_equal(vfio_mig__state(p->msrc), VFIO_DEVICE_STATE_STOP);
	p->src_digest = digest(p->src);
	assert_int_equal(o->save_setup(p->hsrc->opaque, &p->stream.sink), 0);
	assert_int_equal(o->save_complete(p->hsrc->opaque, &p->stream.sink), 0);
	assert_int_equal(vfio_mig__state(p->msrc), VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(state_writer__create(&w), 0);
	assert_int_equal(o->save_state(p->hsrc->opaque, w), 0);
	state_writer__destroy(w);
	o->save_cleanup(p->hsrc->opaque);
	/* After completion the source device is back in STOP. */
	assert_int_equal(vfio_mig__state(p->msrc), VFIO_DEVICE_STATE_STOP);
	assert_true(p->stream.len > (1u << 20)); /* 1 MiB of device memory */
}

/* Feed the stream to the destination in chunks of @chunk bytes. */
static int pair_load(struct pair *p, size_t chunk)
{
	const struct mig_handler_ops *o = p->hdst->ops;
	size_t off;
	int ret;

	assert_int_equal(o->load_setup(p->hdst->opaque), 0);
	assert_int_equal(vfio_mig__state(p->mdst), VFIO_DEVICE_STATE_RESUMING);
	ret = 0;
	for (off = 0; off < p->stream.len && !ret; off += chunk) {
		size_t n = p->stream.len - off < chunk ? p->stream.len - off : chunk;

		ret = o->load_data(p->hdst->opaque, p->stream.data + off, n);
	}
	if (!ret)
		ret = o->load_apply(p->hdst->opaque);
	o->load_cleanup(p->hdst->opaque);
	return ret;
}

static void pair_teardown(struct pair *p)
{
	migration__destroy(p->gsrc);
	migration__destroy(p->gdst);
	vfio_mig__destroy(p->msrc);
	vfio_mig__destroy(p->mdst);
	p->src->ops->destroy(p->src);
	p->dst->ops->destroy(p->dst);
	harness__stop(&p->src_p);
	harness__stop(&p->dst_p);
	free(p->stream.data);
}

static void test_vfio_mig__stop_copy_round_trip(void **state)
{
	/* Odd sizes split record headers and data at every offset. */
	static const size_t chunks[] = { 13, 4093, 1 << 20 };
	struct pair p;
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		pair_setup(&p);
		pair_save(&p);
		assert_int_equal(pair_load(&p, chunks[i]), 0);
		assert_int_equal(vfio_mig__state(p.mdst), VFIO_DEVICE_STATE_STOP);
		assert_true(digest(p.dst) == p.src_digest);
		assert_int_equal(vfio_mig__vm_start(p.mdst), 0);
		assert_int_equal(vfio_mig__state(p.mdst), VFIO_DEVICE_STATE_RUNNING);
		pair_teardown(&p);
	}
}

static void test_vfio_mig__corrupt_stream_resets_destination(void **state)
{
	struct pair p;

	pair_setup(&p);
	pair_save(&p);
	/* A byte flipped inside the device's own data: the device refuses it. */
	p.stream.data[p.stream.len / 2] ^= 0x5a;
	assert_true(pair_load(&p, 65536) < 0);
	/* The failed RESUMING -> STOP left the device reset (RUNNING). */
	assert_int_equal(vfio_mig__state(p.mdst), VFIO_DEVICE_STATE_RUNNING);
	pair_teardown(&p);

	pair_setup(&p);
	pair_save(&p);
	/* A bad record header: refused by the parser before the device. */
	memset(p.stream.data + 16, 0xee, 8);
	assert_int_equal(pair_load(&p, 65536), -EINVAL);
	assert_int_equal(vfio_mig__state(p.mdst), VFIO_DEVICE_STATE_RUNNING);
	pair_teardown(&p);
}

static void test_vfio_mig__truncated_stream_refused(void **state)
{
	struct pair p;

	pair_setup(&p);
	pair_save(&p);
	p.stream.len -= 100; /* cut into the last data record and END */
	assert_int_equal(pair_load(&p, 65536), -EINVAL);
	assert_int_equal(vfio_mig__state(p.mdst), VFIO_DEVICE_STATE_RUNNING);
	pair_teardown(&p);
}

/* ---- fake backend for the FSM discipline ---- */

struct fake {
	struct vfio_backend be;
	uint32_t state;
	int feature_ret;
	uint64_t mig_flags;
	int fail_to[16]; /* per target state: -errno to fail with */
	uint32_t fail_lands_in;
	int resets;
};

static int fake_feature(struct vfio_backend *be, uint32_t flags, void *data,
			size_t len)
{
	struct fake *f = (struct fake *)be;

	if ((flags & 0xffff) == VFIO_DEVICE_FEATURE_MIGRATION) {
		if (f->feature_ret)
			return f->feature_ret;
		memcpy(data, &f->mig_flags, 8);
		return 0;
	}
	return -ENOTTY;
}

static int fake_set(struct vfio_backend *be, uint32_t state)
{
	struct fake *f = (struct fake *)be;

	if (f->fail_to[state]) {
		f->state = f->fail_lands_in;
		return f->fail_to[state];
	}
	f->state = state;
	return 0;
}

static int fake_get(struct vfio_backend *be, uint32_t *state)
{
	*state = ((struct fake *)be)->state;
	return 0;
}

static int fake_reset(struct vfio_backend *be)
{
	struct fake *f = (struct fake *)be;

	f->resets++;
	f->state = VFIO_DEVICE_STATE_RUNNING;
	return 0;
}

static const struct vfio_backend_ops fake_ops = {
	.name = "fake",
	.device_feature = fake_feature,
	.mig_set_state = fake_set,
	.mig_get_state = fake_get,
	.reset = fake_reset,
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->be.ops = &fake_ops;
	f->state = VFIO_DEVICE_STATE_RUNNING;
	f->mig_flags = VFIO_MIGRATION_STOP_COPY;
}

static void test_vfio_mig__recover_then_reset(void **state)
{
	struct vfio_migration *m;
	struct fake f;

	/* STOP fails, device stays RUNNING: recovered without a reset. */
	fake_init(&f);
	f.fail_to[VFIO_DEVICE_STATE_STOP] = -EIO;
	f.fail_lands_in = VFIO_DEVICE_STATE_RUNNING;
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &m), 0);
	assert_int_equal(vfio_mig__vm_stop(m), -EIO);
	assert_int_equal(vfio_mig__state(m), VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(f.resets, 0);
	vfio_mig__destroy(m);

	/* STOP fails into ERROR and RUNNING cannot be reached: reset. */
	fake_init(&f);
	f.fail_to[VFIO_DEVICE_STATE_STOP] = -EIO;
	f.fail_to[VFIO_DEVICE_STATE_RUNNING] = -EIO;
	f.fail_lands_in = VFIO_DEVICE_STATE_ERROR;
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &m), 0);
	assert_int_equal(vfio_mig__vm_stop(m), -EIO);
	assert_int_equal(f.resets, 1);
	assert_int_equal(vfio_mig__state(m), VFIO_DEVICE_STATE_RUNNING);
	vfio_mig__destroy(m);
}

/* Several devices: all quiesce P2P before any stops, and back. */
static void test_vfio_mig__p2p_phases(void **state)
{
	struct vfio_migration *a, *b;
	struct fake fa, fb;

	fake_init(&fa);
	fake_init(&fb);
	fa.mig_flags = fb.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	assert_int_equal(vfio_mig__create(&fa.be, "a", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &a), 0);
	assert_int_equal(vfio_mig__create(&fb.be, "b", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &b), 0);
	/* Phase 1 on both before phase 2 on either, as vm__pause does. */
	assert_int_equal(vfio_mig__vm_prepare_stop(a), 0);
	assert_int_equal(vfio_mig__vm_prepare_stop(b), 0);
	assert_int_equal(fa.state, VFIO_DEVICE_STATE_RUNNING_P2P);
	assert_int_equal(fb.state, VFIO_DEVICE_STATE_RUNNING_P2P);
	assert_int_equal(vfio_mig__vm_stop(a), 0);
	assert_int_equal(vfio_mig__vm_stop(b), 0);
	assert_int_equal(fa.state, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(vfio_mig__vm_prepare_start(a), 0);
	assert_int_equal(vfio_mig__vm_prepare_start(b), 0);
	assert_int_equal(fb.state, VFIO_DEVICE_STATE_RUNNING_P2P);
	assert_int_equal(vfio_mig__vm_start(a), 0);
	assert_int_equal(vfio_mig__vm_start(b), 0);
	assert_int_equal(vfio_mig__state(a), VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(fb.state, VFIO_DEVICE_STATE_RUNNING);
	/* A device without P2P skips the extra phase. */
	fa.mig_flags = VFIO_MIGRATION_STOP_COPY;
	vfio_mig__destroy(a);
	assert_int_equal(vfio_mig__create(&fa.be, "a", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &a), 0);
	assert_int_equal(vfio_mig__vm_prepare_stop(a), 0);
	assert_int_equal(fa.state, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(vfio_mig__vm_stop(a), 0);
	assert_int_equal(fa.state, VFIO_DEVICE_STATE_STOP);
	vfio_mig__destroy(a);
	vfio_mig__destroy(b);
}

static void test_vfio_mig__blockers(void **state)
{
	struct vfio_migration *m;
	struct migration *mig;
	struct fake f;

	fake_init(&f);
	f.feature_ret = -ENOTTY;
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &m), 0);
	assert_non_null(strstr(vfio_mig__blocker(m), "does not support"));
	assert_int_equal(migration__create(&mig), 0);
	assert_int_equal(vfio_mig__register(m, mig), 0);
	assert_non_null(migration__blocker(mig, false));
	assert_null(migration__find(mig, "d"));
	migration__destroy(mig);
	vfio_mig__destroy(m);

	/* migration=on with an unsupported device is a startup error. */
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_ON, NULL,
					  NULL, &m), -EOPNOTSUPP);

	/* No STOP_COPY flag: blocked too. */
	fake_init(&f);
	f.mig_flags = VFIO_MIGRATION_P2P;
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &m), 0);
	assert_non_null(strstr(vfio_mig__blocker(m), "STOP_COPY"));
	vfio_mig__destroy(m);

	/* migration=off: blocked whatever the device can do. */
	fake_init(&f);
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_OFF, NULL,
					  NULL, &m), 0);
	assert_non_null(strstr(vfio_mig__blocker(m), "migration=off"));
	vfio_mig__destroy(m);

	/* Supported, but no DMA dirty tracking: live migration only is blocked. */
	fake_init(&f);
	assert_int_equal(vfio_mig__create(&f.be, "d", VFIO_MIGRATION_AUTO, NULL,
					  NULL, &m), 0);
	assert_int_equal(migration__create(&mig), 0);
	assert_int_equal(vfio_mig__register(m, mig), 0);
	assert_null(migration__blocker(mig, false));
	assert_non_null(migration__blocker(mig, true));
	assert_non_null(migration__find(mig, "d"));
	migration__destroy(mig);
	vfio_mig__destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_mig__stop_copy_round_trip),
		cmocka_unit_test(test_vfio_mig__corrupt_stream_resets_destination),
		cmocka_unit_test(test_vfio_mig__truncated_stream_refused),
		cmocka_unit_test(test_vfio_mig__recover_then_reset),
		cmocka_unit_test(test_vfio_mig__p2p_phases),
		cmocka_unit_test(test_vfio_mig__blockers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
