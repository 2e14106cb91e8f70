/*
 * vfio-migration-handler.c: a VFIO device's migration/ handler and its
 * registration. Saving reads the device's data stream (precopy rounds,
 * then the rest in STOP_COPY) into framed records, keeping count of the
 * precopy bytes for the convergence estimate and marking "initial data
 * sent" for switchover-ack; loading parses the records from arbitrarily
 * split chunks and writes the data to the device in RESUMING. The device
 * state changes go through the state machine in vfio-migration.c.
 *
 *   record = be64 tag | be64 length | length bytes
 */
#include "migration/vfio-migration.h"
#include "migration/vfio-migration-internal.h"

#include <endian.h>
#include <errno.h>
#include <linux/vfio.h>
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

static bool in_precopy(const struct vfio_migration *m)
{
	return m->state == VFIO_DEVICE_STATE_PRE_COPY ||
	       m->state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
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
		ret = vfio_mig__set_state(m, VFIO_DEVICE_STATE_PRE_COPY,
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
	ret = vfio_mig__set_state(m, VFIO_DEVICE_STATE_STOP_COPY,
				  VFIO_DEVICE_STATE_ERROR);
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
		vfio_mig__set_state(m, VFIO_DEVICE_STATE_STOP,
				    VFIO_DEVICE_STATE_ERROR);
	else if (in_precopy(m))
		vfio_mig__set_state(m, VFIO_DEVICE_STATE_RUNNING,
				    VFIO_DEVICE_STATE_ERROR);
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
	return vfio_mig__set_state(m, VFIO_DEVICE_STATE_RESUMING, m->state);
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
	ret = vfio_mig__set_state(m, VFIO_DEVICE_STATE_STOP,
				  VFIO_DEVICE_STATE_ERROR);
	if (ret)
		return ret;
	return m->cfg && m->cfg->apply ? m->cfg->apply(m->cfg_opaque) : 0;
}

static void vm_load_cleanup(void *opaque)
{
	struct vfio_migration *m = opaque;

	/* The uAPI's only way to abort a RESUMING session is a reset. */
	if (m->state == VFIO_DEVICE_STATE_RESUMING)
		vfio_mig__reset_device(m);
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
