/*
 * test-registry.c: handler registration rules (ids, required hooks,
 * duplicates), apply order by class then registration, unregister with
 * release, switchover-ack accounting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "migration/registry.h"

static int released;

static int save_state(void *o, struct state_writer *w) { return 0; }
static int load_state(void *o, struct state_reader *r, int n, uint32_t v)
{
	return 0;
}
static int load_apply(void *o) { return 0; }
static void release(void *o) { released++; }
static bool ack_yes(void *o) { return true; }

static const struct mig_handler_ops dev_ops = {
	.version = 1, .order = MIG_ORDER_DEVICE, .save_state = save_state,
	.load_state = load_state, .load_apply = load_apply, .release = release,
	.switchover_ack_needed = ack_yes,
};
static const struct mig_handler_ops vcpu_ops = {
	.version = 1, .order = MIG_ORDER_VCPU, .save_state = save_state,
	.load_state = load_state, .load_apply = load_apply,
};
static const struct mig_handler_ops clock_ops = {
	.version = 1, .order = MIG_ORDER_CLOCK, .save_state = save_state,
	.load_state = load_state, .load_apply = load_apply,
};
static const struct mig_handler_ops irq_ops = {
	.version = 1, .order = MIG_ORDER_IRQCHIP, .save_state = save_state,
	.load_state = load_state, .load_apply = load_apply,
};
static const struct mig_handler_ops no_apply_ops = {
	.version = 1, .save_state = save_state, .load_state = load_state,
};

static void test_registry__ids_and_order(void **state)
{
	static const char *const want[] = { "irqchip", "vcpu0", "vcpu1",
					    "serial0", "vfio0", "clock" };
	struct migration *mig;
	size_t i;

	released = 0;
	assert_int_equal(migration__create(&mig), 0);
	assert_int_equal(migration__register(mig, "serial0", &dev_ops, NULL), 0);
	assert_int_equal(migration__register(mig, "clock", &clock_ops, NULL), 0);
	assert_int_equal(migration__register(mig, "vcpu0", &vcpu_ops, NULL), 0);
	assert_int_equal(migration__register(mig, "vfio0", &dev_ops, NULL), 0);
	assert_int_equal(migration__register(mig, "vcpu1", &vcpu_ops, NULL), 0);
	assert_int_equal(migration__register(mig, "irqchip", &irq_ops, NULL), 0);

	assert_int_equal(migration__register(mig, "vcpu0", &vcpu_ops, NULL),
			 -EEXIST);
	assert_int_equal(migration__register(mig, "memory", &dev_ops, NULL),
			 -EINVAL);
	assert_int_equal(migration__register(mig, "a/b", &dev_ops, NULL), -EINVAL);
	assert_int_equal(migration__register(mig, "..", &dev_ops, NULL), -EINVAL);
	assert_int_equal(migration__register(mig, "", &dev_ops, NULL), -EINVAL);
	assert_int_equal(migration__register(mig,
			 "0123456789012345678901234567890123", &dev_ops, NULL),
			 -EINVAL);
	assert_int_equal(migration__register(mig, "x", &no_apply_ops, NULL),
			 -EINVAL);

	assert_int_equal(migration__count(mig), 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(migration__handler(mig, i)->id, want[i]);
	assert_null(migration__handler(mig, 6));
	assert_non_null(migration__find(mig, "vfio0"));
	assert_null(migration__find(mig, "vfio1"));

	assert_int_equal(migration__switchover_reset(mig), 2);
	assert_int_equal(migration__approve_switchover(mig), 0);
	assert_int_equal(migration__switchover_pending(mig), 1);
	assert_int_equal(migration__approve_switchover(mig), 0);
	assert_int_equal(migration__approve_switchover(mig), -EINVAL);

	assert_int_equal(migration__unregister(mig, "serial0"), 0);
	assert_int_equal(released, 1);
	assert_int_equal(migration__unregister(mig, "serial0"), -ENOENT);
	assert_int_equal(migration__count(mig), 5);
	assert_string_equal(migration__handler(mig, 3)->id, "vfio0");
	migration__destroy(mig);
	assert_int_equal(released, 2);
	migration__destroy(NULL);
}

static void test_registry__full(void **state)
{
	struct migration *mig;
	char id[16];
	int i;

	assert_int_equal(migration__create(&mig), 0);
	for (i = 0; i < MIG_MAX_HANDLERS; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		assert_int_equal(migration__register(mig, id, &vcpu_ops, NULL), 0);
	}
	assert_int_equal(migration__register(mig, "more", &vcpu_ops, NULL),
			 -ENOSPC);
	migration__destroy(mig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry__ids_and_order),
		cmocka_unit_test(test_registry__full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
