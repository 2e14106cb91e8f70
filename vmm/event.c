/*
 * event.c: the VMM thread's epoll loop. Registrations live in a small
 * array indexed by slot; epoll carries the slot's address. A private
 * eventfd wakes the loop for event__stop().
 */
#include "vmm/event.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"

/* Registrations: serial, signals, API, a few per device. */
#define EVENT_MAX_SLOTS 128
/* epoll_wait batch size; any value works, more just means fewer calls. */
#define EVENT_BATCH 16

struct event_slot {
	int fd; /* -1: free */
	event_fn cb;
	void *opaque;
};

struct event_loop {
	int epfd;
	int stopfd;
	bool stop; /* protected by being written only via stopfd wakeups */
	struct event_slot slots[EVENT_MAX_SLOTS];
};

static void on_stop(void *opaque, uint32_t events)
{
	struct event_loop *loop = opaque;
	uint64_t v;

	if (read(loop->stopfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("event: stop eventfd read failed");
	loop->stop = true;
}

int event__create(struct event_loop **out)
{
	struct event_loop *loop;
	int ret, i;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	for (i = 0; i < EVENT_MAX_SLOTS; i++)
		loop->slots[i].fd = -1;
	loop->stopfd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	loop->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->stopfd < 0) {
		ret = -errno;
		goto err_epoll;
	}
	ret = event__add(loop, loop->stopfd, EPOLLIN, on_stop, loop);
	if (ret)
		goto err_stopfd;
	*out = loop;
	return 0;

err_stopfd:
	close(loop->stopfd);
err_epoll:
	close(loop->epfd);
err_free:
	free(loop);
	return ret;
}

void event__destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	if (loop->stopfd >= 0)
		close(loop->stopfd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop);
}

int event__add(struct event_loop *loop, int fd, uint32_t events, event_fn cb,
	       void *opaque)
{
	struct epoll_event ev = { .events = events };
	int i;

	for (i = 0; i < EVENT_MAX_SLOTS; i++)
		if (loop->slots[i].fd == fd)
			return -EEXIST;
	for (i = 0; i < EVENT_MAX_SLOTS; i++)
		if (loop->slots[i].fd < 0)
			break;
	if (i == EVENT_MAX_SLOTS)
		return -ENOSPC;
	ev.data.ptr = &loop->slots[i];
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->slots[i] = (struct event_slot){ fd, cb, opaque };
	return 0;
}

int event__del(struct event_loop *loop, int fd)
{
	int i;

	for (i = 0; i < EVENT_MAX_SLOTS; i++) {
		if (loop->slots[i].fd != fd)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		loop->slots[i].fd = -1;
		loop->slots[i].cb = NULL;
		return 0;
	}
	return -ENOENT;
}

int event__run(struct event_loop *loop)
{
	struct epoll_event evs[EVENT_BATCH];
	int n, i;

	loop->stop = false;
	while (!loop->stop) {
		n = epoll_wait(loop->epfd, evs, EVENT_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !loop->stop; i++) {
			struct event_slot *s = evs[i].data.ptr;

			/* A callback earlier in this batch may have removed it. */
			if (s->fd < 0 || !s->cb)
				continue;
			s->cb(s->opaque, evs[i].events);
		}
	}
	return 0;
}

void event__stop(struct event_loop *loop)
{
	uint64_t one = 1;

	if (write(loop->stopfd, &one, sizeof(one)) < 0)
		log_err("event: cannot signal stop");
}
