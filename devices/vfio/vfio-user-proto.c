/*
 * vfio-user-proto.c: vfio-user message I/O shared by ferry's client
 * backend and ferry-testdev. Sends and receives whole messages over a
 * stream socket with deadlines (no call blocks for longer than its
 * timeout), bounds every size and fd count, validates reply headers and
 * sends replies and error replies. The payloads with nested structure
 * are decoded in vfio-user-payload.c.
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
