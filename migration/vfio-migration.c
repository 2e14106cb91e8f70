/*
 * vfio-migration.c: the VFIO migration v2 state machine for one device,
 * and its migration/ handler. The device's data stream is framed in
 * records so a loader can tell setup, data and the end apart (and live
 * migration can mark "initial data sent" for switchover-ack):
 *
 *   record = be64 tag | be64 length | length bytes
 *
 * Every FSM change goes through set_state(new, recover): on failure the
 * recover state is tried, and if that fails too the device is reset
 * (which the uAPI defines as the way back to RUNNING); the cached state
 * follows what really happened, and any open data session is dropped.
 */
#include "migration/vfio-migration.h"
#include "migration/vfio-migration-internal.h"

#include <endian.h>
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio/vfio-backend.h"
#include "migration/dirty.h"
#include "migration/handler.h"
#include "migration/registry.h"
#include "migration/state-fdt-read.h"
#include "migration/state-fdt.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/mem.h"

/* Record tags: "FRYV" + a kind; never valid device data by accident. */
#define VFIO_REC_SETUP 0x4652595600000001ULL
#define VFIO_REC_DATA 0x4652595600000002ULL
#define VFIO_REC_INIT_SENT 0x4652595600000003ULL
#define VFIO_REC_END 0x4652595600000004ULL

/*
 * Read buffer: at most 1 MiB per read, the size QEMU found enough for
 * devices with hundreds of MB of state; at least a page, so a device
 * that reports a stop-copy size of 0 still gets a usable buffer.
 */
#define VFIO_MIG_BUF_MAX (1u << 20)
#define VFIO_MIG_BUF_MIN 4096u
/* A record longer than this in an incoming stream is corrupt. */
#define VFIO_REC_MAX_LEN (64u << 20)
/*
 * Stop-copy size to assume when the device cannot tell: large enough
 * that a downtime estimate never comes out optimistic.
 */
#define VFIO_MIG_SIZE_UNKNOWN (100ULL << 30)


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

static int reset_device(struct vfio_migration *m)
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
static int set_state(struct vfio_migration *m, uint32_t new, uint32_t recover)
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
	reset_device(m);
	return ret;
}

static bool in_precopy(const struct vfio_migration *m)
{
	return m->state == VFIO_DEVICE_STATE_PRE_COPY ||
	       m->state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

int vfio_mig__vm_prepare_stop(struct vfio_migration *m)
{
	if (!m || !(m->flags & VFIO_MIGRATION_P2P))
		return 0;
	if (m->state == VFIO_DEVICE_STATE_RUNNING)
		return set_state(m, VFIO_DEVICE_STATE_RUNNING_P2P,
				 VFIO_DEVICE_STATE_RUNNING);
	if (m->state == VFIO_DEVICE_STATE_PRE_COPY)
		return set_state(m, VFIO_DEVICE_STATE_PRE_COPY_P2P,
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
	return set_state(m, VFIO_DEVICE_STATE_STOP, m->state);
}

int vfio_mig__vm_prepare_start(struct vfio_migration *m)
{
	if (!m || !(m->flags & VFIO_MIGRATION_P2P) ||
	    m->state != VFIO_DEVICE_STATE_STOP)
		return 0;
	return set_state(m, VFIO_DEVICE_STATE_RUNNING_P2P,
			 VFIO_DEVICE_STATE_ERROR);
}

int vfio_mig__vm_start(struct vfio_migration *m)
{
	if (!m || !m->flags || m->state == VFIO_DEVICE_STATE_RUNNING)
		return 0;
	/* Anything else than RUNNING afterwards is useless: reset. */
	return set_state(m, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_ERROR);
}

/* ---- saving ---- */

static int put_record(struct mig_sink *sink, uint64_t tag, const void *data,
		      uint64_t len)
{
	uint64_t hdr[2] = { htobe64(tag), htobe64(len) };
	int ret;

	ret = mig_sink__write(sink, hdr, sizeof(hdr));
	if (!ret && len)
		ret = mig_sink__write(sink, data, len);
	return ret;
}

static uint64_t query_stop_copy_size(struct vfio_migration *m)
{
	struct vfio_device_feature_mig_data_size sz = { 0 };

	if (m->be->ops->device_feature(m->be, VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
				       &sz, sizeof(sz)))
		return VFIO_MIG_SIZE_UNKNOWN;
	return sz.stop_copy_length;
}

static void refresh_precopy_info(struct vfio_migration *m)
{
	uint64_t init, dirty;

	if (!in_precopy(m))
		return;
	if (m->be->ops->mig_precopy_info(m->be, &init, &dirty) == 0) {
		m->precopy_initial = init;
		m->precopy_dirty = dirty;
		m->precopy_info_ok = true;
	} else {
		m->precopy_info_ok = false;
	}
}

static int vm_save_setup(void *opaque, struct mig_sink *sink)
{
	struct vfio_migration *m = opaque;
	uint64_t want;
	int ret;

	m->stop_copy_size = query_stop_copy_size(m);
	want = m->stop_copy_size;
	if (want > VFIO_MIG_BUF_MAX)
		want = VFIO_MIG_BUF_MAX;
	if (want < VFIO_MIG_BUF_MIN)
		want = VFIO_MIG_BUF_MIN;
	m->buf = malloc(want);
	if (!m->buf)
		return -ENOMEM;
	m->buf_size = want;
	m->initial_sent = false;
	m->precopy_initial = m->precopy_dirty = 0;
	/* A running VM (live migration) starts precopy if the device can. */
	if (m->state == VFIO_DEVICE_STATE_RUNNING &&
	    (m->flags & VFIO_MIGRATION_PRE_COPY)) {
		ret = set_state(m, VFIO_DEVICE_STATE_PRE_COPY,
				VFIO_DEVICE_STATE_RUNNING);
		if (ret)
			return ret;
		refresh_precopy_info(m);
	}
	return put_record(sink, VFIO_REC_SETUP, NULL, 0);
}

static void vm_pending_estimate(void *opaque, uint64_t *bytes)
{
	struct vfio_migration *m = opaque;

	if (!in_precopy(m))
		return;
	/* A device that cannot tell: assume its whole state is pending. */
	*bytes += m->precopy_info_ok ? m->precopy_initial + m->precopy_dirty :
				       m->stop_copy_size;
}

static void vm_pending_exact(void *opaque, uint64_t *bytes)
{
	struct vfio_migration *m = opaque;

	/* Precopy bytes are part of the stop-copy size: count it once. */
	m->stop_copy_size = query_stop_copy_size(m);
	refresh_precopy_info(m);
	*bytes += m->stop_copy_size;
}

/* One read of the stream into a DATA record. Returns bytes (0 = none). */
static ssize_t save_block(struct vfio_migration *m, struct mig_sink *sink)
{
	ssize_t n = m->be->ops->mig_read(m->be, m->buf, m->buf_size);
	int ret;

	if (n == -ENOMSG)
		return 0; /* PRE_COPY: nothing right now */
	if (n <= 0)
		return n;
	ret = put_record(sink, VFIO_REC_DATA, m->buf, (uint64_t)n);
	return ret ? ret : n;
}

static int vm_save_iterate(void *opaque, struct mig_sink *sink)
{
	struct vfio_migration *m = opaque;
	ssize_t n;
	int ret;

	if (!in_precopy(m))
		return 1;
	n = save_block(m, sink);
	if (n < 0)
		return (int)n;
	/* Initial bytes are consumed first, then dirty ones. */
	if ((uint64_t)n >= m->precopy_initial) {
		uint64_t rest = (uint64_t)n - m->precopy_initial;

		m->precopy_initial = 0;
		m->precopy_dirty = rest >= m->precopy_dirty ? 0 :
							      m->precopy_dirty - rest;
	} else {
		m->precopy_initial -= (uint64_t)n;
	}
	if (n == 0)
		m->precopy_initial = m->precopy_dirty = 0;
	/*
	 * Without precopy info the initial data is known to be out only
	 * once the device has nothing more to give for now.
	 */
	if (!m->precopy_info_ok && n > 0)
		return 0;
	if (!m->initial_sent && m->precopy_initial == 0) {
		m->initial_sent = true;
		ret = put_record(sink, VFIO_REC_INIT_SENT, NULL, 0);
		if (ret)
			return ret;
	}
	return (m->precopy_initial + m->precopy_dirty) == 0 ? 1 : 0;
}

static int vm_save_complete(void *opaque, struct mig_sink *sink)
{
	struct vfio_migration *m = opaque;
	ssize_t n;
	int ret;

	/* A failure here resets the device: its state is lost anyway. */
	ret = set_state(m, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_ERROR);
	if (ret)
		return ret;
	do {
		n = save_block(m, sink);
	} while (n > 0);
	if (n < 0)
		return (int)n;
	return put_record(sink, VFIO_REC_END, NULL, 0);
}

static int vm_save_state(void *opaque, struct state_writer *w)
{
	struct vfio_migration *m = opaque;

	state__put_u64(w, "migration-flags", m->flags);
	return m->cfg && m->cfg->save ? m->cfg->save(m->cfg_opaque, w) : 0;
}

static void vm_save_cleanup(void *opaque)
{
	struct vfio_migration *m = opaque;

	/*
	 * After completion, not inside the downtime: STOP_COPY -> STOP can
	 * be slow. A cancelled precopy goes back to RUNNING.
	 */
	if (m->state == VFIO_DEVICE_STATE_STOP_COPY)
		set_state(m, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_ERROR);
	else if (in_precopy(m))
		set_state(m, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_ERROR);
	free(m->buf);
	m->buf = NULL;
	m->buf_size = 0;
}

static bool vm_switchover_ack_needed(void *opaque)
{
	struct vfio_migration *m = opaque;

	return (m->flags & VFIO_MIGRATION_PRE_COPY) != 0;
}

/* ---- loading ---- */

static int vm_load_state(void *opaque, struct state_reader *r, int node,
			 uint32_t version)
{
	struct vfio_migration *m = opaque;
	uint64_t flags;

	(void)version;
	if (state__get_u64(r, node, "migration-flags", &flags))
		return -EINVAL;
	if (!(flags & VFIO_MIGRATION_STOP_COPY))
		return state__fail(r, node, "saved device had no STOP_COPY");
	return m->cfg && m->cfg->load ? m->cfg->load(m->cfg_opaque, r, node) : 0;
}

static int vm_load_setup(void *opaque)
{
	struct vfio_migration *m = opaque;

	m->hdr_have = 0;
	m->rec_left = 0;
	m->rec_tag = 0;
	m->seen_setup = m->seen_end = false;
	return set_state(m, VFIO_DEVICE_STATE_RESUMING, m->state);
}

/* Consume one complete record header. */
static int take_header(struct vfio_migration *m)
{
	uint64_t tag, len;

	memcpy(&tag, m->hdr, 8);
	memcpy(&len, m->hdr + 8, 8);
	tag = be64toh(tag);
	len = be64toh(len);
	m->hdr_have = 0;
	if (m->seen_end) {
		log_err("%s: device stream continues after its end", m->id);
		return -EINVAL;
	}
	switch (tag) {
	case VFIO_REC_SETUP:
		if (len || m->seen_setup)
			goto bad;
		m->seen_setup = true;
		return 0;
	case VFIO_REC_INIT_SENT:
		if (len || !m->seen_setup)
			goto bad;
		/* Initial data loaded: this device no longer holds switchover back. */
		if (m->mig && migration__approve_switchover(m->mig))
			log_warn("%s: unexpected switchover approval", m->id);
		return 0;
	case VFIO_REC_END:
		if (len || !m->seen_setup)
			goto bad;
		m->seen_end = true;
		return 0;
	case VFIO_REC_DATA:
		if (!m->seen_setup || len == 0 || len > VFIO_REC_MAX_LEN)
			goto bad;
		m->rec_tag = tag;
		m->rec_left = len;
		return 0;
	default:
		break;
	}
bad:
	log_err("%s: corrupt device stream (record tag 0x%llx, length %llu)",
		m->id, (unsigned long long)tag, (unsigned long long)len);
	return -EINVAL;
}

static int vm_load_data(void *opaque, const void *buf, size_t len)
{
	struct vfio_migration *m = opaque;
	const uint8_t *p = buf;
	int ret;

	while (len) {
		if (m->rec_left) {
			size_t n = len < m->rec_left ? len : (size_t)m->rec_left;

			ret = m->be->ops->mig_write(m->be, p, n);
			if (ret) {
				log_err("%s: writing device state failed: %s",
					m->id, strerror(-ret));
				return ret;
			}
			m->rec_left -= n;
			p += n;
			len -= n;
			continue;
		}
		{
			size_t n = VFIO_REC_HDR - m->hdr_have;

			if (n > len)
				n = len;
			memcpy(m->hdr + m->hdr_have, p, n);
			m->hdr_have += n;
			p += n;
			len -= n;
		}
		if (m->hdr_have == VFIO_REC_HDR) {
			ret = take_header(m);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int vm_load_apply(void *opaque)
{
	struct vfio_migration *m = opaque;
	int ret;

	if (!m->seen_end || m->rec_left || m->hdr_have) {
		log_err("%s: device stream is truncated", m->id);
		return -EINVAL;
	}
	/* The device validates what it got on RESUMING -> STOP. */
	ret = set_state(m, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_ERROR);
	if (ret)
		return ret;
	return m->cfg && m->cfg->apply ? m->cfg->apply(m->cfg_opaque) : 0;
}

static void vm_load_cleanup(void *opaque)
{
	struct vfio_migration *m = opaque;

	/* The uAPI's only way to abort a RESUMING session is a reset. */
	if (m->state == VFIO_DEVICE_STATE_RESUMING)
		reset_device(m);
}

static uint64_t vm_compat(void *opaque)
{
	return ((struct vfio_migration *)opaque)->flags;
}

static const struct mig_handler_ops vfio_mig_ops = {
	.compat = vm_compat,
	.version = 1,
	.order = MIG_ORDER_DEVICE,
	.save_setup = vm_save_setup,
	.pending_estimate = vm_pending_estimate,
	.pending_exact = vm_pending_exact,
	.save_iterate = vm_save_iterate,
	.save_complete = vm_save_complete,
	.save_state = vm_save_state,
	.save_cleanup = vm_save_cleanup,
	.load_state = vm_load_state,
	.load_setup = vm_load_setup,
	.load_data = vm_load_data,
	.load_apply = vm_load_apply,
	.load_cleanup = vm_load_cleanup,
	.switchover_ack_needed = vm_switchover_ack_needed,
};

int vfio_mig__register(struct vfio_migration *m, struct migration *mig)
{
	int ret;

	if (m->blocker[0])
		return migration__add_blocker(mig, m->id, m->blocker, false);
	m->mig = mig;
	m->mem = migration__memory(mig);
	if (!m->dirty_tracking || !m->mem) {
		ret = migration__add_blocker(mig, m->id,
			"device has no DMA dirty tracking (DEVICE_FEATURE DMA_LOGGING); snapshots still work",
			true);
		if (ret)
			return ret;
	} else {
		ret = migration__add_dirty_source(mig, m->id, &vfio_mig_dirty_ops, m);
		if (ret)
			return ret;
	}
	return migration__register(mig, m->id, &vfio_mig_ops, m);
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
