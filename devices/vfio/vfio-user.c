/*
 * vfio-user.c: the vfio-user client's connection: connect, VERSION
 * negotiation, the synchronous request/reply exchange every operation
 * goes through (one request in flight, message ids checked, a deadline on
 * every reply) and the failure latch: the first violation, timeout or
 * disconnect is logged once with the device id, the socket is shut down
 * and every later call returns -EIO without touching it.
 */
#include "devices/vfio/vfio-user.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-user-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* ferry's own capability limits, announced in VERSION. */
#define CLIENT_PGSIZE 4096

bool vfu__failed(const struct vfu_client *c)
{
	return __atomic_load_n(&c->be.failed, __ATOMIC_ACQUIRE) != 0;
}

int vfu__fail(struct vfu_client *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (vfu__failed(c))
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("vfio-user %s: device failed: %s", c->be.id, why);
	__atomic_store_n(&c->be.failed, -EIO, __ATOMIC_RELEASE);
	/* Wake the server (and anyone polling) but keep the fd number owned. */
	shutdown(c->sock, SHUT_RDWR);
	return -EIO;
}

int vfu__xact(struct vfu_client *c, uint16_t cmd, const void *p1, size_t l1,
	      const void *p2, size_t l2, const int *fds, unsigned int nfds,
	      int timeout_ms, struct vfio_user_msg *reply)
{
	struct vfio_user_hdr h = { .cmd = cmd, .flags = VFIO_USER_F_TYPE_COMMAND };
	const char *name = vfio_user__cmd_name(cmd);
	int ret, err;

	vfio_user__msg_init(reply);
	if (vfu__failed(c))
		return -EIO;
	h.msg_id = c->next_id++;
	ret = vfio_user__send(c->sock, &h, p1, l1, p2, l2, fds, nfds,
			      timeout_ms);
	if (ret == -EINVAL)
		return ret; /* our own request was too big: not the server's fault */
	if (ret)
		return vfu__fail(c, "sending %s: %s", name, strerror(-ret));
	ret = vfio_user__recv(c->sock, reply, VFIO_USER_MAX_MSG_SIZE,
			      VFIO_USER_MAX_MSG_FDS, timeout_ms);
	switch (ret) {
	case 0:
		break;
	case -ETIMEDOUT:
		return vfu__fail(c, "no reply to %s within %d ms", name,
				 timeout_ms);
	case -ECONNRESET:
		return vfu__fail(c, "server closed the connection during %s",
				 name);
	case -E2BIG:
	case -EPROTO:
		return vfu__fail(c, "reply to %s has invalid size %u", name,
				 reply->hdr.msg_size);
	case -ETOOMANYREFS:
		vfio_user__msg_release(reply);
		return vfu__fail(c, "reply to %s carries too many fds", name);
	default:
		return vfu__fail(c, "receiving reply to %s: %s", name,
				 strerror(-ret));
	}
	if (vfio_user__check_reply(&reply->hdr, h.msg_id, cmd)) {
		struct vfio_user_hdr got = reply->hdr;

		vfio_user__msg_release(reply);
		return vfu__fail(c, "bad reply to %s (id %u cmd %u flags 0x%x; "
				 "expected id %u)", name, got.msg_id, got.cmd,
				 got.flags, h.msg_id);
	}
	err = vfio_user__reply_errno(&reply->hdr);
	if (err) {
		/* A refusal is an answer, not a failure; drop any payload/fds. */
		vfio_user__msg_release(reply);
		return -err;
	}
	return 0;
}

int vfu__expect_len(struct vfu_client *c, struct vfio_user_msg *r, size_t len,
		    const char *what)
{
	if (r->nr_fds || r->len != len) {
		int ret = vfu__fail(c, "bad %s reply (%zu bytes, %u fds; "
				    "expected %zu bytes)", what, r->len,
				    r->nr_fds, len);

		vfio_user__msg_release(r);
		return ret;
	}
	return 0;
}

int vfu__feature(struct vfu_client *c, uint32_t flags, const void *in,
		 size_t inlen, void *out, size_t outlen, int timeout_ms)
{
	struct vfio_user_device_feature f = { .flags = flags };
	struct vfio_user_device_feature rf;
	struct vfio_user_msg r;
	bool get = (flags & VFIO_DEVICE_FEATURE_GET) &&
		   !(flags & VFIO_DEVICE_FEATURE_PROBE);
	size_t want = get ? outlen : inlen;
	int ret;

	if (MAX(inlen, outlen) > c->max_xfer)
		return -E2BIG;
	f.argsz = (uint32_t)(sizeof(f) + MAX(inlen, outlen));
	ret = vfu__xact(c, VFIO_USER_DEVICE_FEATURE, &f, sizeof(f), in, inlen,
			NULL, 0, timeout_ms, &r);
	if (ret)
		return ret;
	if (r.nr_fds || r.len != sizeof(f) + want)
		goto bad;
	memcpy(&rf, r.data, sizeof(rf));
	if (rf.flags != flags || (get && rf.argsz != sizeof(f) + outlen))
		goto bad;
	if (get)
		memcpy(out, r.data + sizeof(rf), outlen);
	vfio_user__msg_release(&r);
	return 0;
bad:
	ret = vfu__fail(c, "bad DEVICE_FEATURE 0x%x reply (%zu bytes, %u fds)",
			flags, r.len, r.nr_fds);
	vfio_user__msg_release(&r);
	return ret;
}

static int negotiate(struct vfu_client *c)
{
	struct vfio_user_version v = { VFIO_USER_MAJOR, VFIO_USER_MINOR };
	struct vfio_user_caps mine;
	struct vfio_user_msg r;
	uint16_t major, minor;
	const char *json;
	char caps[512];
	int n, ret;

	vfio_user__caps_defaults(&mine);
	mine.max_msg_fds = VFIO_USER_MAX_MSG_FDS;
	mine.max_data_xfer_size = VFIO_USER_DEFAULT_MAX_XFER;
	mine.migration_pgsize = CLIENT_PGSIZE;
	n = vfio_user__caps_format(&mine, caps, sizeof(caps));
	if (n < 0)
		return n;
	ret = vfu__xact(c, VFIO_USER_VERSION, &v, sizeof(v), caps, (size_t)n + 1,
			NULL, 0, c->timeout_ms, &r);
	if (ret)
		return ret == -EIO ? ret : vfu__fail(c, "VERSION refused: %s",
						     strerror(-ret));
	ret = -EIO;
	vfio_user__caps_defaults(&c->server);
	if (r.nr_fds ||
	    vfio_user__parse_version(r.data, r.len, &major, &minor, &json))
		ret = vfu__fail(c, "malformed VERSION reply");
	else if (major != VFIO_USER_MAJOR || minor > VFIO_USER_MINOR)
		ret = vfu__fail(c, "server offers version %u.%u, not %u.<=%u",
				major, minor, VFIO_USER_MAJOR, VFIO_USER_MINOR);
	else if (json && vfio_user__caps_parse(json, &c->server))
		ret = vfu__fail(c, "malformed server capabilities");
	else if (c->server.migration_pgsize &&
		 c->server.migration_pgsize != CLIENT_PGSIZE)
		ret = vfu__fail(c, "server migration page size %llu",
				(unsigned long long)c->server.migration_pgsize);
	else
		ret = 0;
	vfio_user__msg_release(&r);
	if (ret)
		return ret;
	c->minor = minor;
	c->max_xfer = (uint32_t)MIN(c->server.max_data_xfer_size,
				    (uint64_t)VFIO_USER_DEFAULT_MAX_XFER);
	c->max_fds = MIN(c->server.max_msg_fds, VFIO_USER_MAX_MSG_FDS);
	return 0;
}

static int read_device_info(struct vfu_client *c)
{
	struct vfio_user_device_info di = { .argsz = sizeof(di) };
	struct vfio_user_msg r;
	int ret;

	ret = vfu__xact(c, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0,
			NULL, 0, c->timeout_ms, &r);
	if (ret)
		return ret;
	if (r.nr_fds || r.len != sizeof(di)) {
		vfio_user__msg_release(&r);
		return vfu__fail(c, "bad DEVICE_GET_INFO reply");
	}
	memcpy(&di, r.data, sizeof(di));
	vfio_user__msg_release(&r);
	if (di.argsz != sizeof(di) || di.num_regions > VFU_MAX_REGIONS ||
	    di.num_irqs > VFU_MAX_IRQS)
		return vfu__fail(c, "implausible device info (%u regions, %u irqs)",
				 di.num_regions, di.num_irqs);
	c->dev_flags = di.flags;
	c->num_regions = di.num_regions;
	c->num_irqs = di.num_irqs;
	return 0;
}

void vfu__destroy(struct vfio_backend *be)
{
	struct vfu_client *c;
	unsigned int i;

	if (!be)
		return;
	c = container_of(be, struct vfu_client, be);
	for (i = 0; i < VFU_MAX_REGIONS; i++)
		if (c->regions[i].fd >= 0)
			close(c->regions[i].fd);
	if (c->sock >= 0)
		close(c->sock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int vfio_user__connect_fd(const char *id, int sock,
			  const struct vfio_user_opts *opts,
			  struct vfio_backend **out)
{
	struct vfu_client *c;
	unsigned int i;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(sock);
		return -ENOMEM;
	}
	c->be.ops = &vfu_ops;
	snprintf(c->be.id, sizeof(c->be.id), "%s", id);
	c->sock = sock;
	c->timeout_ms = opts && opts->timeout_ms ? (int)opts->timeout_ms :
						   VFIO_USER_TIMEOUT_MS;
	c->state_timeout_ms = opts && opts->state_timeout_ms ?
				      (int)opts->state_timeout_ms :
				      VFIO_USER_STATE_TIMEOUT_MS;
	c->mig_state = VFIO_DEVICE_STATE_RUNNING;
	for (i = 0; i < VFU_MAX_REGIONS; i++)
		c->regions[i].fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_lock(&c->lock);
	ret = negotiate(c);
	if (!ret)
		ret = read_device_info(c);
	pthread_mutex_unlock(&c->lock);
	if (ret) {
		log_err("vfio-user %s: cannot set up the device: %s", c->be.id,
			strerror(-ret));
		vfu__destroy(&c->be);
		return ret;
	}
	log_info("vfio-user %s: protocol %u.%u, %u regions, %u irq indexes, "
		 "%u bytes per transfer", c->be.id, VFIO_USER_MAJOR, c->minor,
		 c->num_regions, c->num_irqs, c->max_xfer);
	*out = &c->be;
	return 0;
}

int vfio_user__connect(const char *id, const char *path,
		       const struct vfio_user_opts *opts,
		       struct vfio_backend **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("vfio-user %s: socket path too long: %s", id, path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		log_err("vfio-user %s: socket: %s", id, strerror(-ret));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		log_err("vfio-user %s: cannot connect to %s: %s", id, path,
			strerror(-ret));
		close(fd);
		return ret;
	}
	return vfio_user__connect_fd(id, fd, opts, out);
}
