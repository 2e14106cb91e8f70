/*
 * vfio-migration.c: the VFIO migration v2 state machine for one device:
 * creation (the device's migration flags, DMA dirty tracking, or the
 * blocker that says why it cannot migrate), the VM run-state hooks, and
 * the one way every FSM change goes: set_state(new, recover). On failure
 * the recover state is tried, and if that fails too the device is reset
 * (which the uAPI defines as the way back to RUNNING); the cached state
 * follows what really happened, and any open data session is dropped.
 * The migration/ handler that drives it is vfio-migration-handler.c.
 */
#include "migration/vfio-migration.h"
#include "migration/vfio-migration-internal.h"

#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio/vfio-backend.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"

const char *vfio_mig__state_name(uint32_t state)
{
	return vfio_compat__state_name(state);
}

uint32_t vfio_mig__state(const struct vfio_migration *m)
{
	return m->state;
}

uint64_t vfio_mig__flags(const struct vfio_migration *m)
{
	return m->flags;
}

bool vfio_mig__dirty_tracking(const struct vfio_migration *m)
{
	return m->dirty_tracking;
}

const char *vfio_mig__blocker(const struct vfio_migration *m)
{
	return m->blocker[0] ? m->blocker : NULL;
}

int vfio_mig__reset_device(struct vfio_migration *m)
{
	int ret = m->be->ops->reset(m->be);

	/* The uAPI: reset returns the device to RUNNING. */
	if (!ret)
		m->state = VFIO_DEVICE_STATE_RUNNING;
	else
		log_err("%s: device reset failed: %s; device unusable", m->id,
			strerror(-ret));
	return ret;
}

/*
 * Move to @new; on failure try @recover (ERROR means: reset at once),
 * then reset. Returns 0, or the -errno of the failed change (the device
 * is then in @recover or freshly reset, and the cached state says so).
 */
int vfio_mig__set_state(struct vfio_migration *m, uint32_t new,
			uint32_t recover)
{
	uint32_t from = m->state;
	int ret, r2;

	if (new == m->state)
		return 0;
	ret = m->be->ops->mig_set_state(m->be, new);
	if (!ret) {
		m->state = new;
		log_debug("%s: %s -> %s", m->id, vfio_mig__state_name(from),
			  vfio_mig__state_name(new));
		return 0;
	}
	log_err("%s: migration state %s -> %s failed: %s", m->id,
		vfio_mig__state_name(from), vfio_mig__state_name(new),
		strerror(-ret));
	/* The device may be anywhere on the path now; learn where. */
	if (m->be->ops->mig_get_state(m->be, &m->state))
		m->state = VFIO_DEVICE_STATE_ERROR;
	if (recover != VFIO_DEVICE_STATE_ERROR) {
		r2 = m->state == recover ? 0 :
					   m->be->ops->mig_set_state(m->be, recover);
		if (!r2) {
			m->state = recover;
			log_info("%s: recovered to %s", m->id,
				 vfio_mig__state_name(recover));
			return ret;
		}
	}
	vfio_mig__reset_device(m);
	return ret;
}

int vfio_mig__vm_prepare_stop(struct vfio_migration *m)
{
	if (!m || !(m->flags & VFIO_MIGRATION_P2P))
		return 0;
	if (m->state == VFIO_DEVICE_STATE_RUNNING)
		return vfio_mig__set_state(m, VFIO_DEVICE_STATE_RUNNING_P2P,
					   VFIO_DEVICE_STATE_RUNNING);
	if (m->state == VFIO_DEVICE_STATE_PRE_COPY)
		return vfio_mig__set_state(m, VFIO_DEVICE_STATE_PRE_COPY_P2P,
					   VFIO_DEVICE_STATE_PRE_COPY);
	return 0;
}

int vfio_mig__vm_stop(struct vfio_migration *m)
{
	if (!m || !m->flags)
		return 0;
	if (m->state != VFIO_DEVICE_STATE_RUNNING &&
	    m->state != VFIO_DEVICE_STATE_RUNNING_P2P)
		return 0; /* precopy: the migration orchestrator moves it */
	return vfio_mig__set_state(m, VFIO_DEVICE_STATE_STOP, m->state);
}

int vfio_mig__vm_prepare_start(struct vfio_migration *m)
{
	if (!m || !(m->flags & VFIO_MIGRATION_P2P) ||
	    m->state != VFIO_DEVICE_STATE_STOP)
		return 0;
	return vfio_mig__set_state(m, VFIO_DEVICE_STATE_RUNNING_P2P,
				   VFIO_DEVICE_STATE_ERROR);
}

int vfio_mig__vm_start(struct vfio_migration *m)
{
	if (!m || !m->flags || m->state == VFIO_DEVICE_STATE_RUNNING)
		return 0;
	/* Anything else than RUNNING afterwards is useless: reset. */
	return vfio_mig__set_state(m, VFIO_DEVICE_STATE_RUNNING,
				   VFIO_DEVICE_STATE_ERROR);
}

int vfio_mig__create(struct vfio_backend *be, const char *id,
		     enum vfio_migration_mode mode,
		     const struct vfio_mig_config_ops *cfg, void *cfg_opaque,
		     struct vfio_migration **out)
{
	struct vfio_device_feature_migration feat = { 0 };
	struct vfio_migration *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->be = be;
	m->id = id;
	m->cfg = cfg;
	m->cfg_opaque = cfg_opaque;
	m->state = VFIO_DEVICE_STATE_RUNNING;
	if (mode == VFIO_MIGRATION_OFF) {
		snprintf(m->blocker, sizeof(m->blocker),
			 "migration disabled (migration=off)");
		goto done;
	}
	ret = be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
					      VFIO_DEVICE_FEATURE_MIGRATION,
				      &feat, sizeof(feat));
	if (ret)
		snprintf(m->blocker, sizeof(m->blocker),
			 "device does not support VFIO migration (%s)",
			 strerror(-ret));
	else if (!(feat.flags & VFIO_MIGRATION_STOP_COPY))
		snprintf(m->blocker, sizeof(m->blocker),
			 "device migration lacks STOP_COPY (flags 0x%llx)",
			 (unsigned long long)feat.flags);
	else
		m->flags = feat.flags;
	if (m->blocker[0] && mode == VFIO_MIGRATION_ON) {
		log_err("%s: migration=on, but %s", id, m->blocker);
		free(m);
		return -EOPNOTSUPP;
	}
	m->dirty_tracking =
		be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE |
					      VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
					NULL, 0) == 0;
	if (m->flags)
		log_info("%s: migration: STOP_COPY%s%s, DMA dirty tracking %s",
			 id, (m->flags & VFIO_MIGRATION_P2P) ? " P2P" : "",
			 (m->flags & VFIO_MIGRATION_PRE_COPY) ? " PRE_COPY" : "",
			 m->dirty_tracking ? "yes" : "no");
	else
		log_info("%s: migration blocked: %s", id, m->blocker);
done:
	*out = m;
	return 0;
}

void vfio_mig__destroy(struct vfio_migration *m)
{
	if (!m)
		return;
	free(m->dirty_buf);
	free(m->buf);
	free(m);
}
