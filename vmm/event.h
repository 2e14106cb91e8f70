/*
 * event.h: the VMM thread's event loop (epoll). Device backends, the
 * API request eventfd and signal handling register fds with a callback;
 * callbacks run on the loop's thread, one at a time.
 */
#ifndef VMM_EVENT_H
#define VMM_EVENT_H

#include <stdint.h>

struct event_loop;

/* Called on the loop thread with the epoll event bits that fired. */
typedef void (*event_fn)(void *opaque, uint32_t events);

/* Create a loop. Returns 0 or -errno. */
int event__create(struct event_loop **out);

/* Close the loop's fds and free it. Registered fds stay open (not owned). NULL-safe. */
void event__destroy(struct event_loop *loop);

/*
 * Watch @fd (borrowed) for @events (EPOLLIN, ...) and call @cb. One
 * registration per fd. Returns 0 or -errno.
 */
int event__add(struct event_loop *loop, int fd, uint32_t events, event_fn cb,
	       void *opaque);

/* Stop watching @fd. Returns 0 or -ENOENT. */
int event__del(struct event_loop *loop, int fd);

/* Run until event__stop(). Returns 0, or -errno if epoll fails. */
int event__run(struct event_loop *loop);

/* Make event__run() return after the current callback. Thread-safe. */
void event__stop(struct event_loop *loop);

#endif /* VMM_EVENT_H */
