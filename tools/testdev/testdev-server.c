/*
 * testdev-server.c: ferry-testdev's side of one vfio-user connection:
 * receive a command, check every field against the command's layout and
 * the device's limits, act, reply. Bad input gets an error reply and the
 * connection carries on; only a broken stream (a size we cannot skip,
 * a peer that vanished) ends it. Besides the socket, the loop polls the
 * INTx unmask eventfd when the client gave one (testdev-intx.c). On disconnect the device drops the
 * client's mappings and eventfds and is reset, ready for the next client.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* Bound on any one reply or message tail: a stuck client is dropped. */
#define IO_TIMEOUT_MS 5000
/* Background activity granularity while a client is connected. */
#define TICK_MS 10

int td__reply(struct testdev *td, const struct vfio_user_msg *m,
	      const void *p, size_t l, const int *fds, unsigned int nfds)
{
	int ret = vfio_user__send_reply(td->conn, &m->hdr, p, l, fds, nfds,
					IO_TIMEOUT_MS);

	if (ret) {
		log_warn("reply to %s failed: %s",
			 vfio_user__cmd_name(m->hdr.cmd), strerror(-ret));
		td->conn_dead = true;
	}
	return 0;
}

static int h_version(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_version v;
	struct vfio_user_caps mine;
	const char *json;
	char out[sizeof(v) + 512];
	int ret, n;

	if (td->negotiated)
		return -EINVAL;
	uint16_t major, minor;

	ret = vfio_user__parse_version(m->data, m->len, &major, &minor, &json);
	if (ret)
		return ret;
	v.major = major;
	v.minor = minor;
	if (v.major != VFIO_USER_MAJOR) {
		log_err("client speaks vfio-user %u.%u; only major %u is known",
			v.major, v.minor, VFIO_USER_MAJOR);
		td->conn_dead = true; /* after the error reply */
		return -ENOTSUP;
	}
	vfio_user__caps_defaults(&td->peer);
	if (json && vfio_user__caps_parse(json, &td->peer)) {
		log_err("client capabilities malformed");
		return -EINVAL;
	}
	vfio_user__caps_defaults(&mine);
	mine.max_msg_fds = VFIO_USER_MAX_MSG_FDS;
	mine.max_data_xfer_size = MIN(td->peer.max_data_xfer_size,
				      (uint64_t)VFIO_USER_DEFAULT_MAX_XFER);
	mine.max_dma_maps = TD_MAX_DMA_MAPS;
	mine.migration_pgsize = td->peer.migration_pgsize ? TD_PAGE_SIZE : 0;
	v.major = VFIO_USER_MAJOR;
	v.minor = MIN(v.minor, (uint16_t)VFIO_USER_MINOR);
	memcpy(out, &v, sizeof(v));
	n = vfio_user__caps_format(&mine, out + sizeof(v), sizeof(out) - sizeof(v));
	if (n < 0)
		return n;
	td->negotiated = true;
	log_info("client negotiated vfio-user %u.%u", v.major, v.minor);
	return td__reply(td, m, out, sizeof(v) + (size_t)n + 1, NULL, 0);
}

static int h_device_info(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_device_info di;

	if (m->len != sizeof(di))
		return -EINVAL;
	memcpy(&di, m->data, sizeof(di));
	if (di.argsz < sizeof(di))
		return -EINVAL;
	di = (struct vfio_user_device_info){
		.argsz = sizeof(di),
		.flags = VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
		.num_regions = TD_NUM_REGIONS,
		.num_irqs = TD_NUM_IRQS,
	};
	return td__reply(td, m, &di, sizeof(di), NULL, 0);
}

static int h_region_info(struct testdev *td, struct vfio_user_msg *m)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	struct {
		struct vfio_user_region_info ri;
		struct vfio_user_sparse_mmap sm;
		struct vfio_user_sparse_area area;
	} __attribute__((packed)) out;
	struct vfio_user_region_info req;

	if (m->len != sizeof(req))
		return -EINVAL;
	memcpy(&req, m->data, sizeof(req));
	if (req.argsz < sizeof(req) || req.index >= TD_NUM_REGIONS)
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	out.ri.argsz = sizeof(out.ri);
	out.ri.index = req.index;
	switch (req.index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		out.ri.flags = rw;
		out.ri.size = TD_BAR0_SIZE;
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		out.ri.flags = rw;
		out.ri.size = TD_CFG_SIZE;
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		out.ri.flags = rw | VFIO_REGION_INFO_FLAG_MMAP |
			       VFIO_REGION_INFO_FLAG_CAPS;
		out.ri.size = td->mem_size;
		out.ri.argsz = sizeof(out);
		if (req.argsz < sizeof(out)) /* tell the client to retry bigger */
			return td__reply(td, m, &out.ri, sizeof(out.ri), NULL, 0);
		out.ri.cap_offset = sizeof(out.ri);
		out.sm.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		out.sm.header.version = 1;
		out.sm.nr_areas = 1;
		out.area.size = td->mem_size;
		return td__reply(td, m, &out, sizeof(out), &td->mem_fd, 1);
	default:
		break; /* unimplemented BAR / ROM / VGA: size 0 */
	}
	return td__reply(td, m, &out.ri, sizeof(out.ri), NULL, 0);
}

static int h_irq_info(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_irq_info ii;

	if (m->len != sizeof(ii))
		return -EINVAL;
	memcpy(&ii, m->data, sizeof(ii));
	if (ii.argsz < sizeof(ii) || ii.index >= TD_NUM_IRQS)
		return -EINVAL;
	ii.argsz = sizeof(ii);
	ii.flags = 0;
	ii.count = 0;
	if (ii.index == VFIO_PCI_MSIX_IRQ_INDEX) {
		ii.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		ii.count = TD_MSIX_VECTORS;
	} else if (ii.index == VFIO_PCI_INTX_IRQ_INDEX && td->intx) {
		ii.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			   VFIO_IRQ_INFO_AUTOMASKED;
		ii.count = 1;
	}
	return td__reply(td, m, &ii, sizeof(ii), NULL, 0);
}

static void irq_assign(struct testdev *td, uint32_t v, int fd)
{
	if (td->irq_fds[v] >= 0)
		close(td->irq_fds[v]);
	td->irq_fds[v] = fd;
}

static int h_set_irqs(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_irq_set s;
	uint32_t data, action, i;

	if (m->len < sizeof(s))
		return -EINVAL;
	memcpy(&s, m->data, sizeof(s));
	data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (s.argsz != m->len || __builtin_popcount(data) != 1 ||
	    __builtin_popcount(action) != 1 ||
	    (s.flags & ~(data | action)) || s.index >= TD_NUM_IRQS)
		return -EINVAL;
	if (s.index == VFIO_PCI_INTX_IRQ_INDEX && td->intx)
		return td__intx_set_irqs(td, m, &s, data, action);
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL; /* MSI-X vectors are not maskable here */
	if (data == VFIO_IRQ_SET_DATA_NONE && s.count == 0 && s.start == 0) {
		if (s.index == VFIO_PCI_MSIX_IRQ_INDEX)
			for (i = 0; i < TD_MSIX_VECTORS; i++)
				irq_assign(td, i, -1);
		return m->nr_fds ? -EINVAL : td__reply(td, m, NULL, 0, NULL, 0);
	}
	if (s.index != VFIO_PCI_MSIX_IRQ_INDEX ||
	    (uint64_t)s.start + s.count > TD_MSIX_VECTORS)
		return -EINVAL;
	if (data != VFIO_IRQ_SET_DATA_EVENTFD && m->nr_fds)
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_BOOL && m->len != sizeof(s) + s.count)
		return -EINVAL;
	if (data != VFIO_IRQ_SET_DATA_BOOL && m->len != sizeof(s))
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (m->nr_fds != 0 && m->nr_fds != s.count)
			return -EINVAL;
		if (m->nr_fds && td->intx_trigger >= 0)
			return -EBUSY; /* INTx enabled: one type at a time */
		for (i = 0; i < s.count; i++)
			irq_assign(td, s.start + i,
				   m->nr_fds ? vfio_user__msg_take_fd(m, i) : -1);
	} else {
		for (i = 0; i < s.count; i++)
			if (data == VFIO_IRQ_SET_DATA_NONE ||
			    m->data[sizeof(s) + i])
				td__fire_irq(td, s.start + i);
	}
	return td__reply(td, m, NULL, 0, NULL, 0);
}

/* Bounds-check a region access; returns the region size or -EINVAL. */
static int64_t access_check(struct testdev *td,
			    const struct vfio_user_region_access *a)
{
	uint64_t size, end;

	switch (a->region) {
	case VFIO_PCI_BAR0_REGION_INDEX: size = TD_BAR0_SIZE; break;
	case VFIO_PCI_BAR2_REGION_INDEX: size = td->mem_size; break;
	case VFIO_PCI_CONFIG_REGION_INDEX: size = TD_CFG_SIZE; break;
	default: return -EINVAL;
	}
	if (a->count == 0 || a->count > VFIO_USER_DEFAULT_MAX_XFER ||
	    add_overflow(a->offset, (uint64_t)a->count, &end) || end > size)
		return -EINVAL;
	return (int64_t)size;
}

static int h_region_rw(struct testdev *td, struct vfio_user_msg *m, bool write)
{
	struct vfio_user_region_access a;
	uint8_t *buf;
	int ret;

	if (m->len < sizeof(a))
		return -EINVAL;
	memcpy(&a, m->data, sizeof(a));
	if (access_check(td, &a) < 0 ||
	    m->len != sizeof(a) + (write ? a.count : 0))
		return -EINVAL;
	if (write) {
		const uint8_t *in = m->data + sizeof(a);

		if (a.region == VFIO_PCI_BAR0_REGION_INDEX)
			ret = td__bar0_write(td, a.offset, in, a.count);
		else if (a.region == VFIO_PCI_CONFIG_REGION_INDEX)
			ret = td__cfg_write(td, a.offset, in, a.count);
		else {
			/* Device memory: part of the digest (config space is not). */
			td__touch(td);
			ret = (memcpy(td->mem + a.offset, in, a.count), 0);
		}
		return ret ? ret : td__reply(td, m, &a, sizeof(a), NULL, 0);
	}
	buf = malloc(sizeof(a) + a.count);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &a, sizeof(a));
	if (a.region == VFIO_PCI_BAR0_REGION_INDEX)
		ret = td__bar0_read(td, a.offset, buf + sizeof(a), a.count);
	else if (a.region == VFIO_PCI_CONFIG_REGION_INDEX)
		ret = td__cfg_read(td, a.offset, buf + sizeof(a), a.count);
	else
		ret = (memcpy(buf + sizeof(a), td->mem + a.offset, a.count), 0);
	if (!ret)
		td__reply(td, m, buf, sizeof(a) + a.count, NULL, 0);
	free(buf);
	return ret;
}

static int h_dma_map(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_dma_map d;
	int ret;

	if (m->len != sizeof(d) || m->nr_fds > 1)
		return -EINVAL;
	memcpy(&d, m->data, sizeof(d));
	if (d.argsz != sizeof(d))
		return -EINVAL;
	ret = td__dma_map(td, &d, m->nr_fds ? m->fds[0] : -1);
	return ret ? ret : td__reply(td, m, NULL, 0, NULL, 0);
}

static int h_dma_unmap(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_dma_unmap u;
	int ret;

	if (m->len != sizeof(u) || m->nr_fds)
		return -EINVAL;
	memcpy(&u, m->data, sizeof(u));
	if (u.argsz < sizeof(u))
		return -EINVAL;
	ret = td__dma_unmap(td, &u);
	return ret ? ret : td__reply(td, m, &u, sizeof(u), NULL, 0);
}

static int h_mig_read(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_mig_data d;
	uint8_t *buf;
	size_t got;
	int ret;

	if (m->len != sizeof(d))
		return -EINVAL;
	memcpy(&d, m->data, sizeof(d));
	if (d.size > VFIO_USER_DEFAULT_MAX_XFER ||
	    d.argsz < sizeof(d) + (uint64_t)d.size)
		return -EINVAL;
	buf = malloc(sizeof(d) + d.size);
	if (!buf)
		return -ENOMEM;
	ret = td__mig_read(td, buf + sizeof(d), d.size, &got);
	if (!ret) {
		d.argsz = (uint32_t)(sizeof(d) + got);
		d.size = (uint32_t)got;
		memcpy(buf, &d, sizeof(d));
		td__reply(td, m, buf, sizeof(d) + got, NULL, 0);
	}
	free(buf);
	return ret;
}

static int h_mig_write(struct testdev *td, struct vfio_user_msg *m)
{
	struct vfio_user_mig_data d;
	int ret;

	if (m->len < sizeof(d))
		return -EINVAL;
	memcpy(&d, m->data, sizeof(d));
	if (d.size > VFIO_USER_DEFAULT_MAX_XFER || m->len != sizeof(d) + d.size)
		return -EINVAL;
	ret = td__mig_write(td, m->data + sizeof(d), d.size);
	return ret ? ret : td__reply(td, m, NULL, 0, NULL, 0);
}

static int dispatch(struct testdev *td, struct vfio_user_msg *m)
{
	if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND) {
		log_ratelimited(LOG_LEVEL_WARN, "unexpected reply from client dropped");
		return 0;
	}
	if (m->hdr.cmd != VFIO_USER_VERSION && !td->negotiated)
		return -EINVAL;
	switch (m->hdr.cmd) {
	case VFIO_USER_VERSION: return h_version(td, m);
	case VFIO_USER_DMA_MAP: return h_dma_map(td, m);
	case VFIO_USER_DMA_UNMAP: return h_dma_unmap(td, m);
	case VFIO_USER_DEVICE_GET_INFO: return h_device_info(td, m);
	case VFIO_USER_DEVICE_GET_REGION_INFO: return h_region_info(td, m);
	case VFIO_USER_DEVICE_GET_IRQ_INFO: return h_irq_info(td, m);
	case VFIO_USER_DEVICE_SET_IRQS: return h_set_irqs(td, m);
	case VFIO_USER_REGION_READ: return h_region_rw(td, m, false);
	case VFIO_USER_REGION_WRITE: return h_region_rw(td, m, true);
	case VFIO_USER_DEVICE_RESET:
		if (m->len)
			return -EINVAL;
		td__device_reset(td);
		return td__reply(td, m, NULL, 0, NULL, 0);
	case VFIO_USER_DEVICE_FEATURE: return td__feature(td, m);
	case VFIO_USER_MIG_DATA_READ: return h_mig_read(td, m);
	case VFIO_USER_MIG_DATA_WRITE: return h_mig_write(td, m);
	default:
		return -ENOSYS;
	}
}

static void disconnect(struct testdev *td)
{
	unsigned int i;

	td__dma_unmap_all(td);
	td__log_stop(td);
	for (i = 0; i < TD_MSIX_VECTORS; i++)
		irq_assign(td, i, -1);
	td__intx_release(td);
	td__device_reset(td);
	close(td->conn);
	td->conn = -1;
}

void td__serve(struct testdev *td, int conn)
{
	struct vfio_user_msg m;
	unsigned int i;

	td->conn = conn;
	td->conn_dead = false;
	td->negotiated = false;
	vfio_user__caps_defaults(&td->peer);
	for (i = 0; i < TD_MSIX_VECTORS; i++)
		td->irq_fds[i] = -1;
	td__intx_init(td);
	log_info("client connected");
	while (!td_quit && !td->conn_dead) {
		struct pollfd p[2] = {
			{ .fd = conn, .events = POLLIN },
			{ .fd = td__intx_poll_fd(td), .events = POLLIN },
		};
		int ret;

		ret = poll(p, p[1].fd >= 0 ? 2 : 1, TICK_MS);
		td__tick(td);
		if (ret > 0 && p[1].fd >= 0)
			td__intx_poll_event(td, p[1].revents);
		if (ret <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ret = vfio_user__recv(conn, &m, VFIO_USER_MAX_MSG_SIZE,
				      VFIO_USER_MAX_MSG_FDS, IO_TIMEOUT_MS);
		if (ret == -ECONNRESET) {
			log_info("client disconnected");
			break;
		}
		if (ret && ret != -ETOOMANYREFS) {
			/* Cannot find the next message boundary: drop the client. */
			log_err("bad message from client (%s, size %u): closing",
				strerror(-ret), m.hdr.msg_size);
			if (ret == -E2BIG)
				vfio_user__send_error(conn, &m.hdr, E2BIG, IO_TIMEOUT_MS);
			break;
		}
		if (ret == -ETOOMANYREFS)
			ret = -EINVAL;
		else
			ret = dispatch(td, &m);
		if (ret < 0) {
			log_ratelimited(LOG_LEVEL_WARN, "%s from client refused: %s",
					vfio_user__cmd_name(m.hdr.cmd),
					strerror(-ret));
			if (vfio_user__send_error(conn, &m.hdr, -ret, IO_TIMEOUT_MS))
				td->conn_dead = true;
		}
		vfio_user__msg_release(&m);
	}
	disconnect(td);
}
