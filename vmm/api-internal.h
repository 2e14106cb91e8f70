/*
 * api-internal.h: what vmm/api.c (socket, thread, lifecycle),
 * vmm/api-http.c (libmicrohttpd callbacks, validation, sending) and
 * vmm/api-routes.c (endpoints, JSON bodies and replies) share. Not for
 * use outside vmm/api*.c.
 */
#ifndef VMM_API_INTERNAL_H
#define VMM_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "vmm/api.h"

struct MHD_Daemon;
struct op_progress;

/* The API's version: bumped on incompatible changes to docs/api.md. */
#define API_VERSION 1

struct api {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;            /* identity of the socket file we made, */
	ino_t sock_ino;            /* so destroy never unlinks a stranger's */
	int listen_fd;             /* owned until the daemon takes it */
	int dir_fd;                /* owned: O_PATH fd of the socket's directory */
	char base[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* name in dir_fd */
	int stop_fd;               /* eventfd: tells the thread to return */
	int wake_fd;               /* eventfd: a suspended connection was resumed */
	struct api_queue *queue;
	struct op_progress *ops;   /* owned: GET /vm/operation reads it here */
	struct api_params params;  /* defaults filled in */
	struct MHD_Daemon *daemon; /* used by the API thread only, once started */
	pthread_t thread;
	bool thread_started;
	/* Requests received but not yet completed (sent or aborted). */
	unsigned int inflight;     /* atomic (__atomic builtins) */
};

/*
 * Create the libmicrohttpd daemon (external epoll mode) on
 * api->listen_fd, which it then owns. Returns 0 or -errno.
 */
int api_http__start(struct api *api);

/*
 * API thread, before the sandbox hook: do once what libraries would
 * otherwise do lazily on the first request with syscalls the API
 * thread's seccomp policy need not allow (time zone file, json-c's
 * hash seed from getrandom, this thread's malloc arena).
 */
void api_http__prewarm(void);

/*
 * Any thread: make the API thread run libmicrohttpd once more, after
 * MHD_resume_connection (in external epoll mode libmicrohttpd's own
 * wake-up does not reach the thread's poll()).
 */
void api__wake(struct api *api);

/* Stop the daemon: closes every connection and the listen socket. */
void api_http__stop(struct api *api);

#endif /* VMM_API_INTERNAL_H */
