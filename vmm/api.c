/*
 * api.c: the API server's socket and thread. Creates the UNIX socket
 * (0600, stale-socket check), runs the API thread, which drives
 * libmicrohttpd from a poll() on its epoll fd plus a stop eventfd, and
 * tears everything down again, removing the socket path. The HTTP side
 * (routes, JSON) is in api-http.c.
 */
#include "vmm/api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api-mhd.h"

#include "vmm/api-internal.h"
#include "vmm/api-queue.h"
#include "vmm/log.h"
#include "vmm/op-progress.h"

/* Pending connections the kernel holds while the API thread is busy. */
#define API_LISTEN_BACKLOG 64
/* How long destroy lets finished responses drain to their clients. */
#define API_FLUSH_MS 1000

/*
 * Decide what to do with an existing @path: a socket nobody accepts on
 * (ECONNREFUSED) is stale and removed; anything else is refused.
 */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		log_err("api: %s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("api: %s exists and is not a socket; not replacing it",
			path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		log_err("api: socket: %s", strerror(-ret));
		return ret;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		log_err("api: %s is in use by a running process", path);
		return -EADDRINUSE;
	}
	ret = -errno;
	close(fd);
	if (ret != -ECONNREFUSED) {
		log_err("api: %s: cannot tell whether it is stale: %s", path,
			strerror(-ret));
		return ret;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		ret = -errno;
		log_err("api: cannot remove stale socket %s: %s", path,
			strerror(-ret));
		return ret;
	}
	log_info("api: removed stale socket %s", path);
	return 0;
}

static int open_dir(struct api *api);

static int make_socket(struct api *api)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		log_err("api: socket: %s", strerror(-ret));
		return ret;
	}
	memcpy(sa.sun_path, api->path, strlen(api->path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		log_err("api: bind %s: %s", api->path, strerror(-ret));
		goto err_close;
	}
	/*
	 * Nobody can connect before listen(), so tightening the mode here
	 * leaves no window in which the umask's mode applies.
	 */
	if (chmod(api->path, 0600) < 0 || stat(api->path, &st) < 0) {
		ret = -errno;
		log_err("api: chmod %s: %s", api->path, strerror(-ret));
		goto err_unlink;
	}
	api->sock_dev = st.st_dev;
	api->sock_ino = st.st_ino;
	if (listen(fd, API_LISTEN_BACKLOG) < 0) {
		ret = -errno;
		log_err("api: listen %s: %s", api->path, strerror(-ret));
		goto err_unlink;
	}
	api->listen_fd = fd;
	return 0;

err_unlink:
	unlink(api->path);
err_close:
	close(fd);
	return ret;
}

int api__create(const char *sock_path, struct api **out)
{
	struct api *api;
	int ret;

	if (!sock_path[0] || strlen(sock_path) >= sizeof(api->path)) {
		log_err("api: socket path must be 1 to %zu bytes long",
			sizeof(api->path) - 1);
		return -ENAMETOOLONG;
	}
	ret = api_mhd__load();
	if (ret)
		return ret;
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->listen_fd = -1;
	api->stop_fd = -1;
	api->wake_fd = -1;
	api->dir_fd = -1;
	snprintf(api->path, sizeof(api->path), "%s", sock_path);
	ret = open_dir(api);
	if (ret)
		goto err_free;

	ret = op_progress__create(&api->ops);
	if (ret)
		goto err_free;
	ret = api_queue__create(&api->queue);
	if (ret) {
		log_err("api: request queue: %s", strerror(-ret));
		goto err_free;
	}
	api->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (api->stop_fd < 0) {
		ret = -errno;
		log_err("api: eventfd: %s", strerror(-ret));
		goto err_queue;
	}
	api->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (api->wake_fd < 0) {
		ret = -errno;
		log_err("api: eventfd: %s", strerror(-ret));
		goto err_efd;
	}
	ret = clear_stale(api->path);
	if (ret)
		goto err_efd;
	ret = make_socket(api);
	if (ret)
		goto err_efd;
	*out = api;
	return 0;

err_efd:
	if (api->wake_fd >= 0)
		close(api->wake_fd);
	close(api->stop_fd);
err_queue:
	api_queue__destroy(api->queue);
err_free:
	op_progress__destroy(api->ops);
	if (api->dir_fd >= 0)
		close(api->dir_fd);
	free(api);
	return ret;
}

struct api_queue *api__queue(struct api *api)
{
	return api->queue;
}

struct op_progress *api__op_progress(struct api *api)
{
	return api->ops;
}

const char *api__sock_path(const struct api *api)
{
	return api->path;
}

static unsigned int nr_connections(struct api *api)
{
	const union MHD_DaemonInfo *info = api_mhd.get_daemon_info(
		api->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/*
 * One round of libmicrohttpd work. At the connection limit MHD takes
 * the listen socket out of its epoll set and only puts it back at the
 * start of a later round; when this round freed a slot, run one more
 * so clients waiting in the backlog are not stranded until some other
 * event arrives.
 */
static void run_daemon(struct api *api)
{
	unsigned int before = nr_connections(api);

	api_mhd.run(api->daemon);
	if (before >= api->params.max_conns &&
	    nr_connections(api) < api->params.max_conns)
		api_mhd.run(api->daemon);
}

static void *api_thread(void *arg)
{
	struct api *api = arg;
	const union MHD_DaemonInfo *info;
	MHD_UNSIGNED_LONG_LONG to;
	struct pollfd pfd[3];
	uint64_t cnt;
	ssize_t r;
	int ret, ms;

	log__set_tag("api");
	api_http__prewarm();
	if (api->params.thread_start) {
		ret = api->params.thread_start(api->params.thread_opaque);
		if (ret) {
			log_err("api: thread start hook failed (%d); not serving",
				ret);
			return NULL;
		}
	}
	info = api_mhd.get_daemon_info(api->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		log_err("api: no epoll fd from libmicrohttpd; not serving");
		return NULL;
	}
	pfd[0] = (struct pollfd){ .fd = info->epoll_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = api->stop_fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = api->wake_fd, .events = POLLIN };
	for (;;) {
		ms = -1;
		if (api_mhd.get_timeout(api->daemon, &to) == MHD_YES)
			ms = to > INT_MAX ? INT_MAX : (int)to;
		ret = poll(pfd, 3, ms);
		if (ret < 0 && errno != EINTR) {
			log_err("api: poll: %s; not serving", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[2].revents) {
			/* Nonblocking; the count is irrelevant. */
			r = read(api->wake_fd, &cnt, sizeof(cnt));
			(void)r;
		}
		run_daemon(api);
	}
	return NULL;
}

int api__start(struct api *api, const struct api_params *params)
{
	int ret;

	if (api->thread_started || api->listen_fd < 0)
		return -EALREADY;
	if (params)
		api->params = *params;
	if (!api->params.conn_timeout_s)
		api->params.conn_timeout_s = API_DEFAULT_CONN_TIMEOUT_S;
	if (!api->params.request_timeout_ms)
		api->params.request_timeout_ms = API_DEFAULT_REQUEST_TIMEOUT_MS;
	if (!api->params.max_conns)
		api->params.max_conns = API_DEFAULT_MAX_CONNS;
	if (!api->params.max_body)
		api->params.max_body = API_DEFAULT_MAX_BODY;

	ret = api_http__start(api);
	if (ret)
		return ret;
	api->listen_fd = -1; /* the daemon owns it now */
	ret = -pthread_create(&api->thread, NULL, api_thread, api);
	if (ret) {
		log_err("api: cannot start thread: %s", strerror(-ret));
		api_http__stop(api);
		return ret;
	}
	api->thread_started = true;
	log_info("api: listening on %s", api->path);
	return 0;
}

/*
 * Remove the socket through the directory fd opened at creation: after
 * the sandbox is up the main thread may only stat and unlink relative
 * to that fd (sandbox rules keyed on api__dir_fd), and a chroot does
 * not change what the fd names.
 */
static void remove_path(struct api *api)
{
	struct stat st;

	if (api->dir_fd < 0)
		return;
	if (fstatat(api->dir_fd, api->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (st.st_dev != api->sock_dev || st.st_ino != api->sock_ino) {
		log_warn("api: %s was replaced by someone else; leaving it",
			 api->path);
		return;
	}
	if (unlinkat(api->dir_fd, api->base, 0) < 0)
		log_warn("api: cannot remove %s: %s", api->path,
			 strerror(errno));
}

/* Open the socket's directory (O_PATH) and remember the socket's name. */
static int open_dir(struct api *api)
{
	char dir[sizeof(api->path)];
	char *slash;
	int ret;

	snprintf(dir, sizeof(dir), "%s", api->path);
	slash = strrchr(dir, '/');
	if (!slash) {
		snprintf(api->base, sizeof(api->base), "%s", dir);
		snprintf(dir, sizeof(dir), ".");
	} else {
		snprintf(api->base, sizeof(api->base), "%s", slash + 1);
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	api->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (api->dir_fd < 0) {
		ret = -errno;
		log_err("api: cannot open directory %s: %s", dir, strerror(-ret));
		return ret;
	}
	return 0;
}

void api__wake(struct api *api)
{
	uint64_t one = 1;
	ssize_t w;

	/* Cannot fail short of a counter overflow. */
	w = write(api->wake_fd, &one, sizeof(one));
	(void)w;
}

int api__dir_fd(const struct api *api)
{
	return api->dir_fd;
}

void api__destroy(struct api *api)
{
	struct timespec ts = { .tv_nsec = 10 * 1000000L };
	uint64_t one = 1;
	unsigned int waited;
	ssize_t w;

	if (!api)
		return;
	if (api->thread_started) {
		/* Let the thread send what is finished (e.g. the shutdown reply). */
		for (waited = 0; waited < API_FLUSH_MS &&
				 __atomic_load_n(&api->inflight, __ATOMIC_ACQUIRE);
		     waited += 10)
			nanosleep(&ts, NULL);
		w = write(api->stop_fd, &one, sizeof(one));
		(void)w;
		pthread_join(api->thread, NULL);
		api->thread_started = false;
	}
	api_http__stop(api);
	if (api->listen_fd >= 0) {
		close(api->listen_fd);
		api->listen_fd = -1;
	}
	remove_path(api);
	if (api->dir_fd >= 0)
		close(api->dir_fd);
	if (api->stop_fd >= 0)
		close(api->stop_fd);
	if (api->wake_fd >= 0)
		close(api->wake_fd);
	api_queue__destroy(api->queue);
	op_progress__destroy(api->ops);
	free(api);
}
