/*
 * api.h: the HTTP/1.1 + JSON API server on a UNIX domain socket
 * (`ferry --api-sock PATH`). It runs in its own thread (libmicrohttpd
 * driven from an epoll loop there), validates requests, and hands the
 * ones that need the VM to the VMM thread through the queue that
 * vmm/control.c drains. It never touches a struct vm. Endpoints and
 * errors are documented in docs/api.md and docs/openapi.yaml.
 *
 * Lifecycle (vmm/main.c):
 *   api__create(path)            before vm__create: socket bound
 *   control__attach(api, vm)     after vm__create (vmm/control.h)
 *   api__start(api, &params)     before vm__run: the API thread serves
 *   vm__run(...)
 *   control__detach(ctl); api__destroy(api)
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <stddef.h>

#include "vmm/util.h"

struct api;
struct api_queue;
struct op_progress;

/*
 * Runs first on the new API thread, before it serves anything: the
 * place for sandbox__enter(SC_ROLE_API). A non-zero return stops the
 * thread (logged); the socket then accepts but serves nothing, so the
 * hook should itself stop the VM if that is fatal.
 */
typedef int (*api_thread_fn)(void *opaque);

#define API_DEFAULT_CONN_TIMEOUT_S 10       /* idle / half-open clients */
#define API_DEFAULT_REQUEST_TIMEOUT_MS 30000 /* wait for the VMM thread */
#define API_DEFAULT_MAX_CONNS 64            /* a control socket, not a web server */
#define API_DEFAULT_MAX_BODY (64 * 1024)    /* requests are small JSON objects */

struct api_params {
	api_thread_fn thread_start;      /* NULL: none */
	void *thread_opaque;
	unsigned int conn_timeout_s;     /* 0: API_DEFAULT_CONN_TIMEOUT_S */
	unsigned int request_timeout_ms; /* 0: API_DEFAULT_REQUEST_TIMEOUT_MS */
	unsigned int max_conns;          /* 0: API_DEFAULT_MAX_CONNS */
	size_t max_body;                 /* 0: API_DEFAULT_MAX_BODY */
};

/*
 * Create the listening socket at @sock_path with mode 0600. An existing
 * path is replaced only when it is a stale socket (nobody accepts on
 * it); a live socket gives -EADDRINUSE, anything else -EEXIST. Also
 * creates the request queue. Logs the reason and returns 0 or -errno.
 */
int __must_check api__create(const char *sock_path, struct api **out);

/*
 * Start the API thread with @params (NULL: all defaults; copied).
 * Requests that need the VMM thread wait in the queue until the event
 * loop runs. Returns 0 or -errno (logged).
 */
int __must_check api__start(struct api *api, const struct api_params *params);

/* The request queue (owned by @api) for control__attach. */
struct api_queue *api__queue(struct api *api);

/*
 * The long-operation progress record (owned by @api; thread-safe) that
 * `GET /vm/operation` reads on the API thread; control__attach hands
 * it to the code doing the work.
 */
struct op_progress *api__op_progress(struct api *api);

/*
 * O_PATH fd of the socket's directory, through which api__destroy
 * removes the socket (the sandbox allows fstatat/unlinkat on it only).
 */
int api__dir_fd(const struct api *api);

/* The socket path (borrowed). */
const char *api__sock_path(const struct api *api);

/*
 * Stop serving: give responses already produced up to 1 s to reach
 * their clients, stop and join the thread, close every connection and
 * remove the socket path (if it is still ours). Call control__detach
 * first. NULL-safe.
 */
void api__destroy(struct api *api);

#endif /* VMM_API_H */
