/*
 * vfio-user.h: the vfio-user client backend. It connects to a device
 * server's UNIX socket (--vfio-user id=NAME,socket=PATH), negotiates the
 * protocol version and returns a struct vfio_backend (vfio-backend.h)
 * whose operations become vfio-user messages. Every request waits for its
 * reply for a bounded time; every reply is validated, and any violation,
 * timeout or disconnect fails the backend for good (one log line naming
 * the device, -EIO from then on), so a hostile or crashed server can
 * neither crash ferry nor make it write outside the caller's buffers.
 */
#ifndef DEVICES_VFIO_VFIO_USER_H
#define DEVICES_VFIO_VFIO_USER_H

struct vfio_backend;

/* Default wait for one reply (ms): long enough for a loaded host. */
#define VFIO_USER_TIMEOUT_MS 5000
/* Default wait for a migration state change, which may do real work. */
#define VFIO_USER_STATE_TIMEOUT_MS 30000

struct vfio_user_opts {
	unsigned int timeout_ms;       /* 0: VFIO_USER_TIMEOUT_MS */
	unsigned int state_timeout_ms; /* 0: VFIO_USER_STATE_TIMEOUT_MS */
};

/*
 * Connect to the server at @path for device @id (copied, for log lines),
 * negotiate the version and read the device info. @opts may be NULL.
 * Returns 0 and *out (destroy with (*out)->ops->destroy), or -errno after
 * logging why.
 */
int vfio_user__connect(const char *id, const char *path,
		       const struct vfio_user_opts *opts,
		       struct vfio_backend **out);

/*
 * The same over an already connected stream socket @sock, which the
 * backend owns from now on (closed on failure too). For tests.
 */
int vfio_user__connect_fd(const char *id, int sock,
			  const struct vfio_user_opts *opts,
			  struct vfio_backend **out);

#endif /* DEVICES_VFIO_VFIO_USER_H */
