/*
 * api-test-client.h: a raw HTTP/1.1 test client over a UNIX socket for
 * the API unit tests. Raw on purpose: the tests send malformed, slow
 * and oversized requests that a real client library would refuse to
 * produce. Responses are only split at the first blank line.
 */
#ifndef TESTS_UNIT_VMM_API_TEST_CLIENT_H
#define TESTS_UNIT_VMM_API_TEST_CLIENT_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TC_RESP_MAX 65536

static inline int tc_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static inline int tc_send(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Read until EOF or @timeout_ms; returns bytes read (NUL-terminated in
 * @out), or -ETIMEDOUT when the peer neither answered nor closed.
 */
static inline long tc_recv_all(int fd, char *out, size_t outlen,
			       int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	for (;;) {
		int n = poll(&p, 1, timeout_ms);
		ssize_t r;

		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r = recv(fd, out + len, outlen - 1 - len, 0);
		if (r < 0 && errno == ECONNRESET)
			r = 0;
		if (r < 0)
			return -errno;
		if (r == 0 || len + (size_t)r >= outlen - 1) {
			len += (size_t)(r > 0 ? r : 0);
			out[len] = '\0';
			return (long)len;
		}
		len += (size_t)r;
	}
}

/* One request with Connection: close; returns the HTTP status or -errno. */
static inline int tc_request(const char *path, const char *method,
			     const char *url, const char *ctype,
			     const char *body, char *out, size_t outlen)
{
	char head[1024];
	int fd, n, ret;
	long got;

	fd = tc_connect(path);
	if (fd < 0)
		return fd;
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		     "%s%s%sContent-Length: %zu\r\n\r\n",
		     method, url, ctype ? "Content-Type: " : "",
		     ctype ? ctype : "", ctype ? "\r\n" : "",
		     body ? strlen(body) : 0);
	ret = tc_send(fd, head, (size_t)n);
	if (!ret && body)
		ret = tc_send(fd, body, strlen(body));
	if (ret) {
		close(fd);
		return ret;
	}
	got = tc_recv_all(fd, out, outlen, 10000);
	close(fd);
	if (got < 0)
		return (int)got;
	if (strncmp(out, "HTTP/1.1 ", 9) != 0)
		return -EPROTO;
	return atoi(out + 9);
}

static inline const char *tc_body(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p ? p + 4 : "";
}

static inline long tc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* TESTS_UNIT_VMM_API_TEST_CLIENT_H */
