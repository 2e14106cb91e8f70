/*
 * testdev-mig.c: ferry-testdev's VFIO migration v2 state machine as a
 * vfio-user server runs it: the server walks combination arcs itself,
 * one step at a time along the kernel's shortest path, skipping states
 * the device does not support and never resting in an interior saving
 * state. Arcs that start or end a session call into the saving stream
 * (testdev-mig-save.c) and the resuming parser (testdev-mig-load.c); a
 * failed resume leaves the device in ERROR until DEVICE_RESET.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"

/* Aliases for the kernel's state names, to keep the table readable. */
#define S_ERR VFIO_DEVICE_STATE_ERROR
#define S_STOP VFIO_DEVICE_STATE_STOP
#define S_RUN VFIO_DEVICE_STATE_RUNNING
#define S_SC VFIO_DEVICE_STATE_STOP_COPY
#define S_RES VFIO_DEVICE_STATE_RESUMING
#define S_RP2P VFIO_DEVICE_STATE_RUNNING_P2P
#define S_PC VFIO_DEVICE_STATE_PRE_COPY
#define S_PCP2P VFIO_DEVICE_STATE_PRE_COPY_P2P
#define S_NR VFIO_COMPAT_DEVICE_STATE_NR

/* The kernel's next-step table (vfio_mig_get_next_state), as facts. */
static const uint8_t next_step[S_NR][S_NR] = {
	[S_STOP] = { [S_STOP] = S_STOP, [S_RUN] = S_RP2P, [S_PC] = S_RP2P,
		     [S_PCP2P] = S_RP2P, [S_SC] = S_SC, [S_RES] = S_RES,
		     [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_RUN] = { [S_STOP] = S_RP2P, [S_RUN] = S_RUN, [S_PC] = S_PC,
		    [S_PCP2P] = S_RP2P, [S_SC] = S_RP2P, [S_RES] = S_RP2P,
		    [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_PC] = { [S_STOP] = S_RUN, [S_RUN] = S_RUN, [S_PC] = S_PC,
		   [S_PCP2P] = S_PCP2P, [S_SC] = S_PCP2P, [S_RES] = S_RUN,
		   [S_RP2P] = S_RUN, [S_ERR] = S_ERR },
	[S_PCP2P] = { [S_STOP] = S_RP2P, [S_RUN] = S_RP2P, [S_PC] = S_PC,
		      [S_PCP2P] = S_PCP2P, [S_SC] = S_SC, [S_RES] = S_RP2P,
		      [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	[S_SC] = { [S_STOP] = S_STOP, [S_RUN] = S_STOP, [S_PC] = S_ERR,
		   [S_PCP2P] = S_ERR, [S_SC] = S_SC, [S_RES] = S_STOP,
		   [S_RP2P] = S_STOP, [S_ERR] = S_ERR },
	[S_RES] = { [S_STOP] = S_STOP, [S_RUN] = S_STOP, [S_PC] = S_STOP,
		    [S_PCP2P] = S_STOP, [S_SC] = S_STOP, [S_RES] = S_RES,
		    [S_RP2P] = S_STOP, [S_ERR] = S_ERR },
	[S_RP2P] = { [S_STOP] = S_STOP, [S_RUN] = S_RUN, [S_PC] = S_RUN,
		     [S_PCP2P] = S_PCP2P, [S_SC] = S_STOP, [S_RES] = S_STOP,
		     [S_RP2P] = S_RP2P, [S_ERR] = S_ERR },
	/* ERROR row: all ERROR (zero). */
};

/* Migration flags each state needs (the kernel's state_flags_table). */
static uint64_t state_needs(uint32_t s)
{
	switch (s) {
	case S_PC: return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
	case S_RP2P: return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	case S_PCP2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		       VFIO_MIGRATION_PRE_COPY;
	case S_ERR: return ~0ULL;
	default: return VFIO_MIGRATION_STOP_COPY;
	}
}

static uint64_t dev_flags(const struct testdev *td)
{
	return VFIO_MIGRATION_STOP_COPY |
	       (td->precopy ? VFIO_MIGRATION_PRE_COPY : 0) |
	       (td->p2p ? VFIO_MIGRATION_P2P : 0);
}

static bool supported(const struct testdev *td, uint32_t s)
{
	return s < S_NR && (state_needs(s) & dev_flags(td)) == state_needs(s);
}

static int do_arc(struct testdev *td, uint32_t from, uint32_t to)
{
	struct td_mig *m = &td->mig;

	if (from == S_STOP && to == S_SC)
		return td__mig_save_open(td);
	if (from == S_RUN && to == S_PC)
		return td__mig_save_open(td);
	/*
	 * A saving session ends when the device leaves the precopy states
	 * for a running one (PRE_COPY_P2P -> RUNNING_P2P is the P2P way).
	 */
	if ((from == S_SC && to == S_STOP) || (from == S_PC && to == S_RUN) ||
	    (from == S_PCP2P && to == S_RP2P)) {
		td__mig_save_close(m);
		return 0;
	}
	if (from == S_STOP && to == S_RES)
		return td__mig_load_open(td);
	if (from == S_RES && to == S_STOP) {
		int ret = td__mig_load_finish(td);

		td__mig_load_close(m);
		return ret;
	}
	if ((from == S_PC || from == S_PCP2P) && to == S_SC) {
		td__touch(td);
		td__mig_save_rescan_digest(td);
		return 0;
	}
	/* RUNNING <-> STOP: activity follows state. */
	return 0;
}

int td__mig_set_state(struct testdev *td, uint32_t target)
{
	struct td_mig *m = &td->mig;

	if (target == S_ERR || !supported(td, target))
		return -EINVAL;
	if (m->state == S_ERR)
		return -EINVAL; /* only DEVICE_RESET leaves ERROR */
	while (m->state != target) {
		uint32_t cur = m->state, next = next_step[cur][target];
		int ret;

		while (next != S_ERR && !supported(td, next))
			next = next_step[next][target];
		if (next == S_ERR) {
			log_warn("migration arc %s -> %s refused",
				 vfio_user__mig_state_name(cur),
				 vfio_user__mig_state_name(target));
			return -EINVAL;
		}
		td__tick(td); /* account activity up to the arc */
		ret = do_arc(td, cur, next);
		if (ret) {
			/* Failed resume leaves ERROR; others stay put. */
			if (cur == S_RES)
				m->state = S_ERR;
			log_info("state %s -> %s failed (%d), now %s digest=%016llx",
				 vfio_user__mig_state_name(cur),
				 vfio_user__mig_state_name(next), ret,
				 vfio_user__mig_state_name(m->state),
				 (unsigned long long)td__digest_cached(td));
			return ret;
		}
		m->state = next;
		log_info("state %s -> %s digest=%016llx",
			 vfio_user__mig_state_name(cur),
			 vfio_user__mig_state_name(next),
			 (unsigned long long)td__digest_cached(td));
		/* Running again: the guest may write the mapped BAR2. */
		if (next != S_STOP && next != S_SC && next != S_RES)
			td__touch(td);
	}
	return 0;
}

void td__mig_reset(struct testdev *td)
{
	td__mig_save_close(&td->mig);
	td__mig_load_close(&td->mig);
	td->mig.state = S_RUN;
}

int td__mig_init(struct testdev *td)
{
	memset(&td->mig, 0, sizeof(td->mig));
	td->mig.state = S_RUN;
	return 0;
}

void td__mig_fini(struct testdev *td)
{
	td__mig_reset(td);
}
