/*
 * live-wire.c: the byte level of live migration: address parsing,
 * sockets, and the framed messages (header with type, CRC-32C and
 * length; payload bounded by type) that live-save.c and live-load.c
 * exchange. Sends use MSG_NOSIGNAL so a vanished peer is an -EPIPE,
 * never a SIGPIPE.
 */
#include "migration/live-wire.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "migration/state-fdt.h"

/* Unix socket buffers: a few MiB keep the sender ahead of the receiver. */
#define LIVE_SOCK_BUF (4 << 20)

const char *live_wire__type_name(uint32_t type)
{
	switch (type) {
	case LIVE_MSG_HELLO: return "HELLO";
	case LIVE_MSG_RAM: return "RAM";
	case LIVE_MSG_ZERO: return "ZERO";
	case LIVE_MSG_DEVICE: return "DEVICE";
	case LIVE_MSG_STATE: return "STATE";
	case LIVE_MSG_END: return "END";
	case LIVE_MSG_ABORT: return "ABORT";
	case LIVE_MSG_CHANNEL: return "CHANNEL";
	case LIVE_MSG_CHANNEL_END: return "CHANNEL_END";
	case LIVE_MSG_CHANNELS_DONE: return "CHANNELS_DONE";
	case LIVE_MSG_ACCEPT: return "ACCEPT";
	case LIVE_MSG_REFUSE: return "REFUSE";
	case LIVE_MSG_SWITCHOVER_ACK: return "SWITCHOVER_ACK";
	case LIVE_MSG_DONE: return "DONE";
	case LIVE_MSG_ERROR: return "ERROR";
	}
	return "unknown";
}

uint64_t live_wire__max_len(uint32_t type)
{
	switch (type) {
	case LIVE_MSG_HELLO:
		return LIVE_HELLO_MAX;
	case LIVE_MSG_RAM:
		return LIVE_RAM_HDR + (uint64_t)LIVE_RAM_MSG_PAGES * 4096;
	case LIVE_MSG_ZERO:
		return LIVE_RAM_HDR;
	case LIVE_MSG_DEVICE:
		return LIVE_DEV_HDR + LIVE_DEV_CHUNK_MAX;
	case LIVE_MSG_STATE:
		return STATE_MAX_SIZE;
	case LIVE_MSG_ABORT:
	case LIVE_MSG_REFUSE:
	case LIVE_MSG_ERROR:
		return LIVE_TEXT_MAX;
	case LIVE_MSG_CHANNEL:
		return LIVE_CHANNEL_LEN;
	case LIVE_MSG_END:
	case LIVE_MSG_ACCEPT:
	case LIVE_MSG_SWITCHOVER_ACK:
	case LIVE_MSG_DONE:
	case LIVE_MSG_CHANNEL_END:
	case LIVE_MSG_CHANNELS_DONE:
		return 0;
	}
	return 0;
}

static bool known_type(uint32_t type)
{
	return strcmp(live_wire__type_name(type), "unknown") != 0;
}

int live_addr__parse(const char *url, struct live_addr *a, char *err,
		     size_t errlen)
{
	char host[64];
	const char *rest, *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (!url || strlen(url) >= sizeof(a->text))
		goto bad;
	snprintf(a->text, sizeof(a->text), "%s", url);
	if (!strncmp(url, "unix:", 5)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&a->sa;

		rest = url + 5;
		if (!*rest || strlen(rest) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "%s: the socket path is empty or too long", url);
			return -EINVAL;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, rest, strlen(rest) + 1);
		a->family = AF_UNIX;
		a->salen = sizeof(*sun);
		return 0;
	}
	if (strncmp(url, "tcp:", 4))
		goto bad;
	rest = url + 4;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - rest - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, rest + 1, hl);
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - rest);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, rest, hl);
	}
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port == 0 || port > 65535)
		goto bad;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	{
		struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

		if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			a->family = AF_INET;
			a->salen = sizeof(*in);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			a->family = AF_INET6;
			a->salen = sizeof(*in6);
			return 0;
		}
	}
bad:
	snprintf(err, errlen,
		 "'%.100s': expected tcp:ADDRESS:PORT (an IP address) or unix:PATH",
		 url ? url : "");
	return -EINVAL;
}

/*
 * Unix sockets get large buffers; TCP keeps the kernel's autotuning
 * (setting SO_SNDBUF/SO_RCVBUF would pin the window at the small
 * rmem_max/wmem_max caps).
 */
static void tune(int fd, int family)
{
	int v = LIVE_SOCK_BUF;

	if (family != AF_UNIX)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

int live_addr__connect(const struct live_addr *a)
{
	int fd, ret;

	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	tune(fd, a->family);
	/* SO_SNDTIMEO bounds connect() too: an unreachable peer fails in 10 s. */
	live_wire__set_timeouts(fd, 10000, 10000);
	if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int live_addr__listen(const struct live_addr *a)
{
	int fd, ret, one = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	tune(fd, a->family);
	if (bind(fd, (const struct sockaddr *)&a->sa, a->salen) < 0 ||
	    listen(fd, LIVE_MAX_CHANNELS) < 0) { /* main + RAM channels */
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int live_wire__set_timeouts(int fd, unsigned int send_ms, unsigned int recv_ms)
{
	struct timeval s = { send_ms / 1000, (send_ms % 1000) * 1000 };
	struct timeval r = { recv_ms / 1000, (recv_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof(s)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof(r)) < 0)
		return -errno;
	return 0;
}

static int sendv_all_flags(int fd, struct iovec *iov, unsigned int n,
			   int flags)
{
	while (n) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | flags);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* SO_SNDTIMEO expired: the peer stopped reading. */
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int sendv_all(int fd, struct iovec *iov, unsigned int n)
{
	return sendv_all_flags(fd, iov, n, 0);
}

int live_wire__send_all(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	return sendv_all(fd, &iov, 1);
}

int live_wire__recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pipe size for splice: 1 MiB is the default pipe-max-size for users. */
#define LIVE_SPLICE_PIPE (1u << 20)

int live_splice__init(struct live_splice *sp)
{
	sigset_t pipe_sig;
	int sz;

	sp->pipe[0] = sp->pipe[1] = -1;
	sp->no_vmsplice = false;
	/*
	 * splice(2) into a socket whose peer is gone raises SIGPIPE (there
	 * is no MSG_NOSIGNAL for it): blocked on this thread, the call just
	 * fails with EPIPE.
	 */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	if (pipe2(sp->pipe, O_CLOEXEC) < 0)
		return -errno;
	/* Smaller when pipe-max-size is lower; the default 64 KiB works too. */
	sz = fcntl(sp->pipe[1], F_SETPIPE_SZ, LIVE_SPLICE_PIPE);
	if (sz < 0)
		sz = fcntl(sp->pipe[1], F_GETPIPE_SZ);
	if (sz <= 0) {
		int ret = -errno;

		live_splice__exit(sp);
		return ret ? ret : -EINVAL;
	}
	sp->cap = (size_t)sz;
	return 0;
}

void live_splice__exit(struct live_splice *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < 2; i++) {
		if (sp->pipe[i] >= 0)
			close(sp->pipe[i]);
		sp->pipe[i] = -1;
	}
}

int live_splice__recv_to_file(struct live_splice *sp, int fd, int file,
			      uint64_t off, size_t len)
{
	bool moved = false;

	while (len) {
		ssize_t n = splice(fd, NULL, sp->pipe[1], NULL, MIN(len, sp->cap),
				   SPLICE_F_MOVE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -ETIMEDOUT;
			/*
			 * EINVAL before any byte moved: unsupported here (the
			 * caller may recv instead); after, the stream is cut.
			 */
			return errno == EINVAL && moved ? -EIO : -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		moved = true;
		len -= (size_t)n;
		/* Drain the pipe completely, so it is empty for the next call. */
		while (n) {
			loff_t o = (loff_t)off;
			ssize_t w = splice(sp->pipe[0], NULL, file, &o, (size_t)n,
					   SPLICE_F_MOVE);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? (errno == EINVAL ? -EIO : -errno) : -EIO;
			off += (uint64_t)w;
			n -= w;
		}
	}
	return 0;
}

int live_wire__send_preamble(int fd)
{
	return live_wire__send_preamble_flags(fd, 0);
}

int live_wire__send_preamble_flags(int fd, uint32_t flags)
{
	uint8_t p[LIVE_PREAMBLE_SIZE];
	uint32_t v = htobe32(LIVE_VERSION), f = htobe32(flags);

	memcpy(p, LIVE_MAGIC, 8);
	memcpy(p + 8, &v, 4);
	memcpy(p + 12, &f, 4);
	return live_wire__send_all(fd, p, sizeof(p));
}

int live_wire__recv_preamble(int fd, char *err, size_t errlen)
{
	return live_wire__recv_preamble_flags(fd, 0, err, errlen);
}

int live_wire__recv_preamble_flags(int fd, uint32_t flags, char *err,
				   size_t errlen)
{
	uint8_t p[LIVE_PREAMBLE_SIZE];
	uint32_t v, f;
	int ret = live_wire__recv_all(fd, p, sizeof(p));

	if (ret) {
		snprintf(err, errlen, "reading the preamble: %s", strerror(-ret));
		return ret;
	}
	if (memcmp(p, LIVE_MAGIC, 8)) {
		snprintf(err, errlen, "not a ferry live-migration stream (bad magic)");
		return -EPROTO;
	}
	memcpy(&v, p + 8, 4);
	memcpy(&f, p + 12, 4);
	if (be32toh(v) != LIVE_VERSION) {
		snprintf(err, errlen,
			 "the source speaks live-migration protocol version %u, this ferry version %u",
			 be32toh(v), LIVE_VERSION);
		return -EPROTO;
	}
	if (be32toh(f) != flags) {
		snprintf(err, errlen, "unexpected preamble flags 0x%x", be32toh(f));
		return -EPROTO;
	}
	return 0;
}

/* Up to this many payload parts per message (header + parts <= 8). */
#define LIVE_MAX_PARTS 7

int live_wire__send(int fd, uint32_t type, const struct iovec *parts,
		    unsigned int nparts)
{
	return live_wire__send_partial_crc(fd, type, parts, nparts, nparts);
}

/* A message header: type, CRC-32C over @crc_parts, payload length @len. */
static void make_hdr(uint8_t hdr[LIVE_HDR_SIZE], uint32_t type,
		     const struct iovec *crc_parts, unsigned int ncrc,
		     uint64_t len)
{
	uint32_t crc = CRC32C_INIT, t = htobe32(type), c;
	uint64_t l = htobe64(len);
	unsigned int i;

	for (i = 0; i < ncrc; i++)
		crc = crc32c__update(crc, crc_parts[i].iov_base, crc_parts[i].iov_len);
	c = htobe32(crc);
	memcpy(hdr, &t, 4);
	memcpy(hdr + 4, &c, 4);
	memcpy(hdr + 8, &l, 8);
}

int live_wire__send_partial_crc(int fd, uint32_t type,
				const struct iovec *parts, unsigned int nparts,
				unsigned int ncrc)
{
	struct iovec iov[LIVE_MAX_PARTS + 1];
	uint8_t hdr[LIVE_HDR_SIZE];
	uint64_t len = 0;
	unsigned int i;

	if (nparts > LIVE_MAX_PARTS)
		return -EINVAL;
	for (i = 0; i < nparts; i++) {
		len += parts[i].iov_len;
		iov[i + 1] = parts[i];
	}
	make_hdr(hdr, type, parts, MIN(ncrc, nparts), len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	return sendv_all(fd, iov, nparts + 1);
}

/* vmsplice @len bytes at @data into the pipe, then all of it to @fd. */
static int splice_out(struct live_splice *sp, int fd, const uint8_t *data,
		      size_t len, bool *moved)
{
	while (len) {
		struct iovec iov = { (void *)(uintptr_t)data, MIN(len, sp->cap) };
		ssize_t n = vmsplice(sp->pipe[1], &iov, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		*moved = true;
		data += n;
		len -= (size_t)n;
		while (n) {
			ssize_t w = splice(sp->pipe[0], NULL, fd, NULL, (size_t)n,
					   SPLICE_F_MOVE | (len ? SPLICE_F_MORE : 0));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return errno == EAGAIN ? -ETIMEDOUT : -errno;
			if (w == 0)
				return -EPIPE;
			n -= w;
		}
	}
	return 0;
}

int live_wire__send_spliced(int fd, struct live_splice *sp, uint32_t type,
			    const struct iovec *head, unsigned int nhead,
			    const void *data, size_t len)
{
	struct iovec iov[LIVE_MAX_PARTS + 1];
	uint8_t hdr[LIVE_HDR_SIZE];
	uint64_t total = len;
	unsigned int i, n = 0;
	bool moved = false;
	int ret;

	if (nhead + 1 > LIVE_MAX_PARTS)
		return -EINVAL;
	for (i = 0; i < nhead; i++)
		total += head[i].iov_len;
	make_hdr(hdr, type, head, nhead, total);
	iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
	for (i = 0; i < nhead; i++)
		iov[n++] = head[i];
	if (!sp || sp->pipe[1] < 0 || sp->no_vmsplice || !len) {
		iov[n++] = (struct iovec){ (void *)(uintptr_t)data, len };
		return sendv_all(fd, iov, n);
	}
	ret = sendv_all_flags(fd, iov, n, MSG_MORE);
	if (ret)
		return ret;
	ret = splice_out(sp, fd, data, len, &moved);
	if (ret == -EINVAL && !moved) {
		/* This kernel will not splice here: copy from now on. */
		sp->no_vmsplice = true;
		return live_wire__send_all(fd, data, len);
	}
	return ret;
}

int live_wire__send_text(int fd, uint32_t type, const char *text)
{
	struct iovec iov = { (void *)(uintptr_t)text,
			     MIN(strlen(text), (size_t)LIVE_TEXT_MAX) };

	return live_wire__send(fd, type, &iov, 1);
}

int live_wire__recv_hdr(int fd, struct live_msg *m, char *err, size_t errlen)
{
	uint8_t hdr[LIVE_HDR_SIZE];
	uint32_t t, c;
	uint64_t l;
	int ret = live_wire__recv_all(fd, hdr, sizeof(hdr));

	if (ret) {
		snprintf(err, errlen, "connection: %s",
			 ret == -ECONNRESET ? "closed by the peer" : strerror(-ret));
		return ret;
	}
	memcpy(&t, hdr, 4);
	memcpy(&c, hdr + 4, 4);
	memcpy(&l, hdr + 8, 8);
	m->type = be32toh(t);
	m->crc = be32toh(c);
	m->len = be64toh(l);
	if (!known_type(m->type)) {
		snprintf(err, errlen, "unknown message type 0x%x", m->type);
		return -EPROTO;
	}
	if (m->len > live_wire__max_len(m->type)) {
		snprintf(err, errlen, "%s message of %llu bytes exceeds its limit of %llu",
			 live_wire__type_name(m->type), (unsigned long long)m->len,
			 (unsigned long long)live_wire__max_len(m->type));
		return -EPROTO;
	}
	return 0;
}

int live_wire__recv_payload(int fd, const struct live_msg *m, void *buf,
			    char *err, size_t errlen)
{
	int ret = live_wire__recv_all(fd, buf, (size_t)m->len);

	if (ret) {
		snprintf(err, errlen, "reading a %s message: %s",
			 live_wire__type_name(m->type),
			 ret == -ECONNRESET ? "connection closed by the peer" :
					      strerror(-ret));
		return ret;
	}
	if (crc32c__update(CRC32C_INIT, buf, (size_t)m->len) != m->crc) {
		snprintf(err, errlen, "%s message: checksum mismatch (corrupted stream)",
			 live_wire__type_name(m->type));
		return -EPROTO;
	}
	return 0;
}

void live_wire__text(const void *buf, uint64_t len, char *out, size_t outlen)
{
	const uint8_t *p = buf;
	size_t i, n = (size_t)MIN(len, (uint64_t)(outlen - 1));

	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[n] = '\0';
}
