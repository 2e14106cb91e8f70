/*
 * vfio-user-proto.c: vfio-user message I/O and decoding shared by ferry's
 * client backend and ferry-testdev. Sends and receives whole messages over
 * a stream socket with deadlines (no call blocks for longer than its
 * timeout), bounds every size and fd count, and decodes the few payloads
 * that carry nested structure (VERSION JSON, region info capability
 * chains) without trusting a single offset.
 */
#include "devices/vfio/vfio-user-proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

_Static_assert(sizeof(struct vfio_user_hdr) == VFIO_USER_HDR_SIZE, "hdr");
_Static_assert(sizeof(struct vfio_user_dma_map) == 32, "dma_map");
_Static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "dma_unmap");
_Static_assert(sizeof(struct vfio_user_region_info) == 32, "region_info");
_Static_assert(sizeof(struct vfio_user_sparse_mmap) == 16, "sparse");
_Static_assert(sizeof(struct vfio_user_irq_set) == 20, "irq_set");
_Static_assert(sizeof(struct vfio_user_region_access) == 16, "access");
_Static_assert(sizeof(struct vfio_user_dma_log_report) == 24, "report");

/* Largest errno value Linux defines is well below this (MAX_ERRNO). */
#define ERRNO_MAX 4095
/* SCM_MAX_FD: the kernel's limit on fds in one SCM_RIGHTS message. */
#define SCM_FDS_MAX 253
/* Bounds on negotiated transfer size: one page .. 1 GiB. */
#define CAPS_XFER_MIN 4096ULL
#define CAPS_XFER_MAX (1ULL << 30)
/* A capability chain longer than this is hostile (ferry knows one cap). */
#define REGION_CAPS_MAX 16

void vfio_user__msg_init(struct vfio_user_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
}

void vfio_user__msg_release(struct vfio_user_msg *msg)
{
	unsigned int i;

	for (i = 0; i < msg->nr_fds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	free(msg->data);
	vfio_user__msg_init(msg);
}

int vfio_user__msg_take_fd(struct vfio_user_msg *msg, unsigned int i)
{
	int fd;

	if (i >= msg->nr_fds)
		return -1;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Wait until @fd is ready for @events or the deadline passes. */
static int wait_ready(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int t, n;

	for (;;) {
		t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			t = (int)MIN(left, (int64_t)INT32_MAX);
		}
		n = poll(&p, 1, t);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			continue; /* re-evaluates the deadline */
		if (p.revents & events)
			return 0;
		if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
			return p.revents & POLLNVAL ? -EBADF : -ECONNRESET;
	}
}

int vfio_user__send(int sock, struct vfio_user_hdr *hdr, const void *p1,
		    size_t l1, const void *p2, size_t l2, const int *fds,
		    unsigned int nr_fds, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_MAX_MSG_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[3];
	struct msghdr mh;
	int64_t deadline = deadline_of(timeout_ms);
	size_t total = VFIO_USER_HDR_SIZE + l1 + l2;
	unsigned int niov = 0, i;
	bool fds_sent = nr_fds == 0;
	ssize_t n;
	int ret;

	if (nr_fds > VFIO_USER_MAX_MSG_FDS || total > UINT32_MAX ||
	    total < l1 || (l1 && !p1) || (l2 && !p2))
		return -EINVAL;
	hdr->msg_size = (uint32_t)total;
	iov[niov++] = (struct iovec){ hdr, VFIO_USER_HDR_SIZE };
	if (l1)
		iov[niov++] = (struct iovec){ (void *)p1, l1 };
	if (l2)
		iov[niov++] = (struct iovec){ (void *)p2, l2 };

	i = 0;
	while (i < niov) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov[i];
		mh.msg_iovlen = niov - i;
		if (!fds_sent) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			ret = -errno;
			if (ret == -EINTR)
				continue;
			if (ret != -EAGAIN)
				return ret;
			ret = wait_ready(sock, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		fds_sent = true;
		/* Skip what went out; fds went with the first byte. */
		while (i < niov && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < niov) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * Read exactly @len bytes into @buf, collecting any fds into @msg (up to
 * @max_fds; extras are closed and *overflow set).
 */
static int recv_exact(int sock, void *buf, size_t len, struct vfio_user_msg *msg,
		      unsigned int max_fds, bool *overflow, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_MAX_MSG_FDS)];
		struct cmsghdr align;
	} ctl;
	size_t got = 0;
	int ret;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *c;
		ssize_t n;

		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			ret = -errno;
			if (ret == -EINTR)
				continue;
			if (ret != -EAGAIN)
				return ret;
			ret = wait_ready(sock, POLLIN, deadline);
			if (ret)
				return ret;
			continue;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t nfd, k;
			int fd;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nfd; k++) {
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int),
				       sizeof(int));
				if (msg->nr_fds < max_fds &&
				    msg->nr_fds < VFIO_USER_MAX_MSG_FDS) {
					msg->fds[msg->nr_fds++] = fd;
				} else {
					close(fd);
					*overflow = true;
				}
			}
		}
		/* The kernel dropped fds that did not fit the control buffer. */
		if (mh.msg_flags & MSG_CTRUNC)
			*overflow = true;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

int vfio_user__recv(int sock, struct vfio_user_msg *msg, size_t max_size,
		    unsigned int max_fds, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	bool overflow = false;
	int ret;

	vfio_user__msg_init(msg);
	ret = recv_exact(sock, &msg->hdr, VFIO_USER_HDR_SIZE, msg, max_fds,
			 &overflow, deadline);
	if (ret)
		goto err;
	if (msg->hdr.msg_size < VFIO_USER_HDR_SIZE) {
		ret = -EPROTO;
		goto err;
	}
	if (msg->hdr.msg_size > max_size) {
		ret = -E2BIG;
		goto err;
	}
	msg->len = msg->hdr.msg_size - VFIO_USER_HDR_SIZE;
	if (msg->len) {
		msg->data = malloc(msg->len);
		if (!msg->data) {
			ret = -ENOMEM;
			goto err;
		}
		ret = recv_exact(sock, msg->data, msg->len, msg, max_fds,
				 &overflow, deadline);
		if (ret)
			goto err;
	}
	if (overflow) {
		ret = -ETOOMANYREFS;
		goto err_keep;
	}
	return 0;

err_keep:
	/* Keep header and data (the caller may answer), drop the fds. */
	{
		unsigned int i;

		for (i = 0; i < msg->nr_fds; i++)
			close(msg->fds[i]);
		msg->nr_fds = 0;
	}
	return ret;
err:
	{
		struct vfio_user_hdr hdr = msg->hdr;

		vfio_user__msg_release(msg);
		msg->hdr = hdr;
	}
	return ret;
}

int vfio_user__check_reply(const struct vfio_user_hdr *reply, uint16_t id,
			   uint16_t cmd)
{
	uint32_t known = VFIO_USER_F_TYPE_MASK | VFIO_USER_F_ERROR;

	if ((reply->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY)
		return -EPROTO;
	if (reply->flags & ~known)
		return -EPROTO;
	if (reply->msg_id != id || reply->cmd != cmd)
		return -EPROTO;
	if (reply->msg_size < VFIO_USER_HDR_SIZE)
		return -EPROTO;
	return 0;
}

int vfio_user__reply_errno(const struct vfio_user_hdr *hdr)
{
	if (!(hdr->flags & VFIO_USER_F_ERROR))
		return 0;
	if (hdr->error_no == 0 || hdr->error_no > ERRNO_MAX)
		return EIO;
	return (int)hdr->error_no;
}

int vfio_user__send_reply(int sock, const struct vfio_user_hdr *req,
			  const void *p, size_t l, const int *fds,
			  unsigned int nr_fds, int timeout_ms)
{
	struct vfio_user_hdr h = {
		.msg_id = req->msg_id,
		.cmd = req->cmd,
		.flags = VFIO_USER_F_TYPE_REPLY,
	};

	if (req->flags & VFIO_USER_F_NO_REPLY)
		return 0;
	return vfio_user__send(sock, &h, p, l, NULL, 0, fds, nr_fds,
			       timeout_ms);
}

int vfio_user__send_error(int sock, const struct vfio_user_hdr *req, int err,
			  int timeout_ms)
{
	struct vfio_user_hdr h = {
		.msg_id = req->msg_id,
		.cmd = req->cmd,
		.flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
		.error_no = err > 0 ? (uint32_t)err : EIO,
	};

	if (req->flags & VFIO_USER_F_NO_REPLY)
		return 0;
	return vfio_user__send(sock, &h, NULL, 0, NULL, 0, NULL, 0, timeout_ms);
}

int vfio_user__parse_version(const void *data, size_t len, uint16_t *major,
			     uint16_t *minor, const char **caps)
{
	struct vfio_user_version v;
	const char *s;
	size_t slen;

	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, data, sizeof(v));
	*major = v.major;
	*minor = v.minor;
	*caps = NULL;
	if (len == sizeof(v))
		return 0;
	s = (const char *)data + sizeof(v);
	slen = len - sizeof(v);
	if (slen > VFIO_USER_MAX_CAPS_LEN + 1 || !memchr(s, '\0', slen))
		return -EINVAL;
	*caps = s;
	return 0;
}

void vfio_user__caps_defaults(struct vfio_user_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->max_msg_fds = 1;
	caps->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_XFER;
	caps->max_dma_maps = 65535; /* the spec's default */
	caps->pgsizes = 4096;
}

/* Read an integer member; 1 if absent, 0 if present and valid, -EINVAL. */
static int caps_get_u64(struct json_object *obj, const char *key,
			uint64_t min, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(obj, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return -EINVAL;
	*out = (uint64_t)x;
	return 0;
}

static int caps_parse_obj(struct json_object *c, struct vfio_user_caps *caps)
{
	struct json_object *v, *mig;
	uint64_t x;
	int ret;

	ret = caps_get_u64(c, "max_msg_fds", 1, SCM_FDS_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_msg_fds = (uint32_t)x;
	ret = caps_get_u64(c, "max_data_xfer_size", CAPS_XFER_MIN,
			   CAPS_XFER_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_data_xfer_size = x;
	ret = caps_get_u64(c, "max_dma_maps", 1, UINT32_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_dma_maps = (uint32_t)x;
	ret = caps_get_u64(c, "pgsizes", 1, INT64_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		if (!(x & 4096))
			return -EINVAL;
		caps->pgsizes = x;
	}
	if (json_object_object_get_ex(c, "write_multiple", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return -EINVAL;
		caps->write_multiple = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(c, "migration", &mig)) {
		if (!json_object_is_type(mig, json_type_object))
			return -EINVAL;
		ret = caps_get_u64(mig, "pgsize", 4096, 4096, &x);
		if (ret < 0)
			return ret;
		caps->migration_pgsize = ret == 0 ? x : 4096;
	}
	return 0;
}

int vfio_user__caps_parse(const char *json, struct vfio_user_caps *caps)
{
	struct json_tokener *tok;
	struct json_object *root, *c;
	size_t len = strnlen(json, VFIO_USER_MAX_CAPS_LEN + 1);
	int ret = -EINVAL;

	if (len > VFIO_USER_MAX_CAPS_LEN)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	/* Reject trailing garbage and incomplete documents alike. */
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len)
		goto out;
	if (!json_object_is_type(root, json_type_object))
		goto out;
	if (!json_object_object_get_ex(root, "capabilities", &c)) {
		ret = 0; /* no capabilities: defaults */
		goto out;
	}
	if (!json_object_is_type(c, json_type_object))
		goto out;
	ret = caps_parse_obj(c, caps);
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int vfio_user__caps_format(const struct vfio_user_caps *caps, char *buf,
			   size_t len)
{
	char mig[64] = "";
	int n;

	if (caps->migration_pgsize)
		snprintf(mig, sizeof(mig), ", \"migration\": {\"pgsize\": %llu}",
			 (unsigned long long)caps->migration_pgsize);
	n = snprintf(buf, len,
		     "{\"capabilities\": {\"max_msg_fds\": %u, "
		     "\"max_data_xfer_size\": %llu, \"max_dma_maps\": %u, "
		     "\"pgsizes\": %llu, \"write_multiple\": %s%s}}",
		     caps->max_msg_fds,
		     (unsigned long long)caps->max_data_xfer_size,
		     caps->max_dma_maps, (unsigned long long)caps->pgsizes,
		     caps->write_multiple ? "true" : "false", mig);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* Walk the capability chain looking for the sparse mmap capability. */
static int parse_region_caps(const uint8_t *p, size_t len,
			     const struct vfio_user_region_info *info,
			     struct vfio_user_sparse_area *areas,
			     unsigned int max_areas, unsigned int *nr,
			     bool *have_sparse)
{
	uint32_t off = info->cap_offset, hops = 0;

	while (off) {
		struct vfio_user_cap_header ch;
		struct vfio_user_sparse_mmap sm;
		uint64_t end;
		uint32_t k;

		if (++hops > REGION_CAPS_MAX || off < sizeof(*info) ||
		    (uint64_t)off + sizeof(ch) > len)
			return -EPROTO;
		memcpy(&ch, p + off, sizeof(ch));
		/* Links must go forward: no loops, no overlap. */
		if (ch.next && ch.next < off + sizeof(ch))
			return -EPROTO;
		if (ch.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			if (*have_sparse || ch.version != 1 ||
			    (uint64_t)off + sizeof(sm) > len)
				return -EPROTO;
			memcpy(&sm, p + off, sizeof(sm));
			end = (uint64_t)off + sizeof(sm) +
			      (uint64_t)sm.nr_areas * sizeof(areas[0]);
			if (sm.nr_areas > max_areas || end > len ||
			    (ch.next && ch.next < end))
				return -EPROTO;
			for (k = 0; k < sm.nr_areas; k++) {
				struct vfio_user_sparse_area a;
				uint64_t aend;

				memcpy(&a, p + off + sizeof(sm) + k * sizeof(a),
				       sizeof(a));
				if (a.size == 0 ||
				    add_overflow(a.offset, a.size, &aend) ||
				    aend > info->size)
					return -EPROTO;
				areas[k] = a;
			}
			*nr = sm.nr_areas;
			*have_sparse = true;
		}
		off = ch.next;
	}
	return 0;
}

int vfio_user__parse_region_info(const void *data, size_t len, uint32_t index,
				 struct vfio_user_region_info *info,
				 struct vfio_user_sparse_area *areas,
				 unsigned int max_areas, unsigned int *nr_areas)
{
	const uint32_t known = VFIO_REGION_INFO_FLAG_READ |
			       VFIO_REGION_INFO_FLAG_WRITE |
			       VFIO_REGION_INFO_FLAG_MMAP |
			       VFIO_REGION_INFO_FLAG_CAPS;
	bool have_sparse = false;
	uint64_t end;
	int ret;

	*nr_areas = 0;
	if (len < sizeof(*info))
		return -EPROTO;
	memcpy(info, data, sizeof(*info));
	if (info->argsz < sizeof(*info) || info->index != index)
		return -EPROTO;
	if (info->argsz > len)
		return -ENOSPC;
	if (info->argsz < len || (info->flags & ~known))
		return -EPROTO;
	if (add_overflow(info->offset, info->size, &end))
		return -EPROTO;
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		if (info->cap_offset == 0)
			return -EPROTO;
		ret = parse_region_caps(data, len, info, areas, max_areas,
					nr_areas, &have_sparse);
		if (ret)
			return ret;
	} else if (info->cap_offset) {
		return -EPROTO;
	}
	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		*nr_areas = 0;
	} else if (!have_sparse && info->size) {
		if (max_areas < 1)
			return -EPROTO;
		areas[0].offset = 0;
		areas[0].size = info->size;
		*nr_areas = 1;
	}
	return 0;
}

const char *vfio_user__cmd_name(uint32_t cmd)
{
	static const char *const names[] = {
		[VFIO_USER_VERSION] = "VERSION",
		[VFIO_USER_DMA_MAP] = "DMA_MAP",
		[VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
		[VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFIO_USER_REGION_READ] = "REGION_READ",
		[VFIO_USER_REGION_WRITE] = "REGION_WRITE",
		[VFIO_USER_DMA_READ] = "DMA_READ",
		[VFIO_USER_DMA_WRITE] = "DMA_WRITE",
		[VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
		[VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFIO_USER_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFIO_USER_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (cmd < ARRAY_SIZE(names) && names[cmd])
		return names[cmd];
	return "UNKNOWN";
}

const char *vfio_user__mig_state_name(uint32_t state)
{
	return vfio_compat__state_name(state);
}
