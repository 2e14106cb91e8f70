/*
 * fake-handlers.h: two test components for the snapshot tests. "dev"
 * has the whole lifecycle: a data stream (save_setup writes a header,
 * save_complete the rest), config state, staged load and apply, and
 * counters for every hook. "uart" wraps struct serial_state (config
 * state only). Both keep their "live" state in plain structs the tests
 * compare.
 */
#ifndef TESTS_UNIT_MIGRATION_FAKE_HANDLERS_H
#define TESTS_UNIT_MIGRATION_FAKE_HANDLERS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/serial-8250-state.h"
#include "migration/handler.h"
#include "migration/state-fdt-read.h"

#define FAKE_DATA_MAX (4u << 20)

struct fake_dev {
	/* live state */
	uint32_t reg_a;
	uint64_t reg_b;
	uint32_t data_len;
	uint8_t *data; /* FAKE_DATA_MAX bytes */
	/* staging */
	uint32_t st_a;
	uint64_t st_b;
	uint32_t st_len;
	/* counters */
	int setups, completes, cleanups, load_setups, applies, load_cleanups;
	int fail_save_complete; /* -errno to return */
};

static int fake_save_setup(void *o, struct mig_sink *sink)
{
	struct fake_dev *d = o;

	d->setups++;
	return mig_sink__write(sink, d->data, d->data_len < 16 ? d->data_len : 16);
}

static int fake_save_complete(void *o, struct mig_sink *sink)
{
	struct fake_dev *d = o;
	uint32_t off = d->data_len < 16 ? d->data_len : 16;

	d->completes++;
	if (d->fail_save_complete)
		return d->fail_save_complete;
	/* Uneven pieces, as a device's read() would give. */
	while (off < d->data_len) {
		uint32_t n = d->data_len - off < 100000 ? d->data_len - off : 100000;
		int ret = mig_sink__write(sink, d->data + off, n);

		if (ret)
			return ret;
		off += n;
	}
	return 0;
}

static void fake_pending(void *o, uint64_t *bytes)
{
	*bytes += ((struct fake_dev *)o)->data_len;
}

static int fake_save_state(void *o, struct state_writer *w)
{
	struct fake_dev *d = o;

	state__put_u32(w, "a", d->reg_a);
	state__put_u64(w, "b", d->reg_b);
	state__put_u32(w, "data-len", d->data_len);
	return state_writer__status(w);
}

static void fake_save_cleanup(void *o)
{
	((struct fake_dev *)o)->cleanups++;
}

static int fake_load_state(void *o, struct state_reader *r, int node,
			   uint32_t version)
{
	struct fake_dev *d = o;

	state__get_u32(r, node, "a", &d->st_a);
	state__get_u64(r, node, "b", &d->st_b);
	state__get_u32(r, node, "data-len", &d->st_len);
	if (state_reader__status(r))
		return state_reader__status(r);
	if (d->st_len > FAKE_DATA_MAX)
		return state__fail(r, node, "data-len %u too large", d->st_len);
	return 0;
}

static int fake_load_setup(void *o)
{
	struct fake_dev *d = o;

	d->load_setups++;
	d->data_len = 0;
	return 0;
}

static int fake_load_data(void *o, const void *buf, size_t len)
{
	struct fake_dev *d = o;

	if (d->data_len + len > FAKE_DATA_MAX)
		return -EFBIG;
	memcpy(d->data + d->data_len, buf, len);
	d->data_len += (uint32_t)len;
	return 0;
}

static int fake_load_apply(void *o)
{
	struct fake_dev *d = o;

	d->applies++;
	if (d->data_len != d->st_len)
		return -EINVAL;
	d->reg_a = d->st_a;
	d->reg_b = d->st_b;
	return 0;
}

static void fake_load_cleanup(void *o)
{
	((struct fake_dev *)o)->load_cleanups++;
}

static const struct mig_handler_ops fake_dev_ops = {
	.version = 2,
	.order = MIG_ORDER_DEVICE,
	.save_setup = fake_save_setup,
	.pending_exact = fake_pending,
	.save_complete = fake_save_complete,
	.save_state = fake_save_state,
	.save_cleanup = fake_save_cleanup,
	.load_state = fake_load_state,
	.load_setup = fake_load_setup,
	.load_data = fake_load_data,
	.load_apply = fake_load_apply,
	.load_cleanup = fake_load_cleanup,
};

/* Same, but an older handler version (1) on the destination. */
static const struct mig_handler_ops fake_dev_ops_v1 = {
	.version = 1,
	.order = MIG_ORDER_DEVICE,
	.save_state = fake_save_state,
	.load_state = fake_load_state,
	.load_data = fake_load_data,
	.load_apply = fake_load_apply,
};

struct fake_uart {
	struct serial_state live, staged;
	int applies;
};

static int uart_save(void *o, struct state_writer *w)
{
	return serial_state__save(w, &((struct fake_uart *)o)->live);
}

static int uart_load(void *o, struct state_reader *r, int node, uint32_t v)
{
	return serial_state__load(r, node, &((struct fake_uart *)o)->staged);
}

static int uart_apply(void *o)
{
	struct fake_uart *u = o;

	u->live = u->staged;
	u->applies++;
	return 0;
}

static const struct mig_handler_ops fake_uart_ops = {
	.version = 1,
	.order = MIG_ORDER_DEVICE,
	.save_state = uart_save,
	.load_state = uart_load,
	.load_apply = uart_apply,
};

static inline void fake_dev_init(struct fake_dev *d, uint32_t len,
				 unsigned int seed)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->data = malloc(FAKE_DATA_MAX);
	for (i = 0; i < len; i++)
		d->data[i] = (uint8_t)(i * seed + (i >> 9));
	d->data_len = len;
	d->reg_a = 0xa0000000u + seed;
	d->reg_b = 0xb00000000000ULL + seed;
}

#endif /* TESTS_UNIT_MIGRATION_FAKE_HANDLERS_H */
