/*
 * live-load.c: the live-migration destination. Reads the stream as
 * untrusted input: the preamble and the handshake are checked (format,
 * version, memory size, the handler set and versions) and the VM is
 * built through the caller before any state flows; every message has a
 * bounded length and a checksum; RAM goes only through mem__gpa_ptr
 * with checked, page-aligned ranges inside one RAM region. Handler
 * hooks run in the live order: load_setup at the start, load_data as
 * device data arrives (approving switchover when the devices say their
 * initial data is in), load_state for all at STATE, load_apply at END.
 */
#include "migration/live-load-internal.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "migration/crc32c.h"
#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/registry.h"
#include "migration/state-fdt-read.h"
#include "vmm/log.h"
#include "vmm/mem.h"

int live_load__fail(struct load *l, int ret, const char *fmt, ...)
{
	va_list ap;

	if (l->failed)
		return ret;
	l->failed = true;
	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* Read a whole small message of type @type into a new buffer. */
static int recv_msg(struct load *l, struct live_msg *m, void **out)
{
	char msg[256];
	void *buf;
	int ret;

	ret = live_wire__recv_hdr(l->fd, m, msg, sizeof(msg));
	if (ret)
		return live_load__fail(l, ret, "%s", msg);
	buf = malloc(m->len + 1);
	if (!buf)
		return live_load__fail(l, -ENOMEM, "out of memory for a %s message of %llu bytes",
			     live_wire__type_name(m->type), (unsigned long long)m->len);
	ret = live_wire__recv_payload(l->fd, m, buf, msg, sizeof(msg));
	if (ret) {
		free(buf);
		return live_load__fail(l, ret, "%s", msg);
	}
	*out = buf;
	return 0;
}

/* Handshake checks that need only the handler set. */
static int check_handlers(struct load *l, struct state_reader *r, int node)
{
	int child, seen = 0;
	size_t i;

	for (i = 0; i < MIG_MAX_HANDLERS; i++)
		l->map[i] = -1;
	for (child = state__first_child(r, node); child >= 0;
	     child = state__next_child(r, child)) {
		const char *id = state__node_name(r, child);
		struct mig_handler *h = id ? migration__find(l->mig, id) : NULL;
		uint32_t index, version;
		uint64_t compat, mine;
		uint8_t data;

		if (state__get_u32(r, child, "index", &index) ||
		    state__get_u32(r, child, "version", &version) ||
		    state__get_u8(r, child, "data", &data) ||
		    state__get_u64(r, child, "compat", &compat))
			return live_load__fail(l, -EINVAL, "handshake: %s", state_reader__error(r));
		if (!h)
			return live_load__fail(l, -EINVAL, "the source has component '%s', which this VM does not have",
				     id ? id : "?");
		if (index >= MIG_MAX_HANDLERS || l->map[index] >= 0)
			return live_load__fail(l, -EINVAL, "handshake: bad index %u for '%s'",
				     index, id);
		if (version == 0 || version > h->ops->version)
			return live_load__fail(l, -EINVAL, "%s: state version %u is not supported (this ferry reads up to %u)",
				     id, version, h->ops->version);
		mine = h->ops->compat ? h->ops->compat(h->opaque) : 0;
		if (compat != mine)
			return live_load__fail(l, -EINVAL, "%s: incompatible with the source's (migration capabilities 0x%llx there, 0x%llx here)",
				     id, (unsigned long long)compat,
				     (unsigned long long)mine);
		if (data && !h->ops->load_data)
			return live_load__fail(l, -EINVAL, "%s: the source sends a data stream this component cannot take",
				     id);
		l->map[index] = (int)(h - migration__handler(l->mig, 0));
		seen++;
	}
	if ((size_t)seen != l->nr) {
		for (i = 0; i < l->nr; i++) {
			const char *id = migration__handler(l->mig, i)->id;

			if (state__find_node(r, node, id) < 0)
				return live_load__fail(l, -EINVAL, "this VM has component '%s', which the source does not",
					     id);
		}
	}
	return 0;
}

static int handshake(struct load *l, const struct live_load_env *env)
{
	struct state_reader r;
	struct live_msg m;
	char format[32];
	uint32_t version;
	uint64_t mem_size;
	void *blob = NULL;
	int ret, node;

	ret = live_wire__recv_preamble(l->fd, l->err, l->errlen);
	if (ret) {
		l->failed = true;
		return ret;
	}
	ret = recv_msg(l, &m, &blob);
	if (ret)
		return ret;
	if (m.type != LIVE_MSG_HELLO) {
		ret = live_load__fail(l, -EPROTO, "expected the handshake, got a %s message",
			    live_wire__type_name(m.type));
		goto out;
	}
	ret = state_reader__init(&r, blob, (size_t)m.len, LIVE_HELLO_MAX);
	if (ret) {
		live_load__fail(l, ret, "handshake: %s", state_reader__error(&r));
		goto out;
	}
	if (state__get_string(&r, STATE_ROOT, "format", format, sizeof(format)) ||
	    strcmp(format, "ferry-live") ||
	    state__get_u32(&r, STATE_ROOT, "version", &version)) {
		ret = live_load__fail(l, -EPROTO, "handshake: not a ferry live migration");
		goto out;
	}
	if (version != LIVE_VERSION) {
		ret = live_load__fail(l, -EPROTO, "handshake version %u is not supported (this ferry speaks %u)",
			    version, LIVE_VERSION);
		goto out;
	}
	node = state__node(&r, STATE_ROOT, "memory");
	state__get_u64(&r, node, "size", &mem_size);
	/* RAM channels: optional (absent means the main connection only). */
	if (state__has(&r, STATE_ROOT, "channels")) {
		state__get_u32(&r, STATE_ROOT, "channels", &l->channels);
		state__get_u64(&r, STATE_ROOT, "session", &l->session);
	}
	node = state__node(&r, STATE_ROOT, "vm");
	if (state_reader__status(&r)) {
		ret = live_load__fail(l, -EINVAL, "handshake: %s", state_reader__error(&r));
		goto out;
	}
	if (l->channels < 1 || l->channels > LIVE_MAX_CHANNELS) {
		ret = live_load__fail(l, -EINVAL, "handshake: %u RAM connections (1..%u)",
				      l->channels, LIVE_MAX_CHANNELS);
		goto out;
	}
	if (l->channels > 1 && !env->accept) {
		ret = live_load__fail(l, -EINVAL,
				      "the source wants %u RAM connections; this destination takes one",
				      l->channels);
		goto out;
	}
	if (mem_size < MEM_MIN_SIZE || mem_size > MEM_MAX_SIZE || mem_size % 4096) {
		ret = live_load__fail(l, -EINVAL, "handshake: memory size %llu is out of range",
			    (unsigned long long)mem_size);
		goto out;
	}
	ret = env->prepare(env->opaque, &r, node, mem_size, &l->mig, l->err,
			   l->errlen);
	if (!ret && env->ready)
		ret = env->ready(env->opaque, l->err, l->errlen);
	if (ret) {
		l->failed = true;
		goto out;
	}
	l->mem = migration__memory(l->mig);
	l->nr = migration__count(l->mig);
	if (!l->mem || l->mem->size != mem_size) {
		ret = live_load__fail(l, -EINVAL, "the VM was built with %llu bytes of RAM, the source has %llu",
			    (unsigned long long)(l->mem ? l->mem->size : 0),
			    (unsigned long long)mem_size);
		goto out;
	}
	ret = check_handlers(l, &r, state__node(&r, STATE_ROOT, "handlers"));
out:
	free(blob);
	return ret;
}

static int setup(struct load *l)
{
	size_t i;
	int ret;

	for (i = 0; i < l->nr; i++, l->nr_setup = i) {
		struct mig_handler *h = migration__handler(l->mig, i);

		if (h->ops->load_setup && (ret = h->ops->load_setup(h->opaque)))
			return live_load__fail(l, ret, "%s: load setup failed: %s", h->id,
				     strerror(-ret));
	}
	l->nr_setup = l->nr;
	l->ack_pending = migration__switchover_reset(l->mig);
	return 0;
}

static void cleanup(struct load *l)
{
	size_t i;

	for (i = 0; i < l->nr_setup; i++) {
		struct mig_handler *h = migration__handler(l->mig, i);

		if (h->ops->load_setup && h->ops->load_cleanup)
			h->ops->load_cleanup(h->opaque);
	}
	l->nr_setup = 0;
}

static int maybe_ack(struct load *l)
{
	int ret;

	if (l->ack_sent || migration__switchover_pending(l->mig))
		return 0;
	l->ack_sent = true;
	ret = live_wire__send(l->fd, LIVE_MSG_SWITCHOVER_ACK, NULL, 0);
	return ret ? live_load__fail(l, ret, "sending the switchover ack: %s", strerror(-ret)) : 0;
}

static int recv_device(struct load *l, const struct live_msg *m)
{
	char msg[256];
	uint32_t idx;
	struct mig_handler *h;
	int ret;

	if (m->len <= LIVE_DEV_HDR)
		return live_load__fail(l, -EPROTO, "DEVICE message too short");
	ret = live_wire__recv_payload(l->fd, m, l->buf, msg, sizeof(msg));
	if (ret)
		return live_load__fail(l, ret, "%s", msg);
	memcpy(&idx, l->buf, 4);
	idx = be32toh(idx);
	if (idx >= MIG_MAX_HANDLERS || l->map[idx] < 0)
		return live_load__fail(l, -EPROTO, "DEVICE message for unknown component %u", idx);
	h = migration__handler(l->mig, (size_t)l->map[idx]);
	if (!h->ops->load_data)
		return live_load__fail(l, -EPROTO, "%s: takes no data stream", h->id);
	ret = h->ops->load_data(h->opaque, l->buf + LIVE_DEV_HDR,
				(size_t)m->len - LIVE_DEV_HDR);
	if (ret)
		return live_load__fail(l, ret, "%s: loading device data failed: %s", h->id,
			     strerror(-ret));
	return maybe_ack(l);
}

/* Phase 1 on the STATE blob: ids, versions, every load_state. */
static int check_state(struct load *l)
{
	struct state_reader r;
	char format[32];
	uint32_t version;
	size_t i;
	int node, ret;

	ret = state_reader__init(&r, l->state, l->state_size, STATE_MAX_SIZE);
	if (ret)
		return live_load__fail(l, ret, "state: %s", state_reader__error(&r));
	if (state__get_string(&r, STATE_ROOT, "format", format, sizeof(format)) ||
	    strcmp(format, "ferry-state") ||
	    state__get_u32(&r, STATE_ROOT, "version", &version) || version != 1)
		return live_load__fail(l, -EINVAL, "state: not a ferry state tree of version 1");
	for (node = state__first_child(&r, STATE_ROOT); node >= 0;
	     node = state__next_child(&r, node)) {
		const char *name = state__node_name(&r, node);

		if (!name || !migration__find(l->mig, name))
			return live_load__fail(l, -EINVAL, "state for '%s', which this VM does not have",
				     name ? name : "?");
	}
	for (i = 0; i < l->nr; i++) {
		struct mig_handler *h = migration__handler(l->mig, i);

		node = state__find_node(&r, STATE_ROOT, h->id);
		if (node < 0)
			return live_load__fail(l, -EINVAL, "no state for '%s'", h->id);
		if (state__get_u32(&r, node, "version", &version))
			return live_load__fail(l, -EINVAL, "%s", state_reader__error(&r));
		if (version == 0 || version > h->ops->version)
			return live_load__fail(l, -EINVAL, "%s: state version %u is not supported",
				     h->id, version);
		ret = h->ops->load_state(h->opaque, &r, node, version);
		if (ret)
			return live_load__fail(l, ret, "%s", state_reader__status(&r) ?
						   state_reader__error(&r) :
						   "state rejected");
	}
	return 0;
}

static int apply(struct load *l)
{
	size_t i;
	int ret;

	for (i = 0; i < l->nr; i++) {
		struct mig_handler *h = migration__handler(l->mig, i);

		ret = h->ops->load_apply(h->opaque);
		if (ret)
			return live_load__fail(l, ret, "%s: applying state failed: %s", h->id,
				     strerror(-ret));
	}
	return 0;
}

static int stream(struct load *l)
{
	char msg[LIVE_TEXT_MAX + 1], text[LIVE_TEXT_MAX + 1];
	struct live_msg m;
	uint64_t t;
	int ret;

	for (;;) {
		ret = live_wire__recv_hdr(l->fd, &m, msg, sizeof(msg));
		if (ret)
			return live_load__fail(l, ret, "%s", msg);
		switch (m.type) {
		case LIVE_MSG_RAM:
		case LIVE_MSG_ZERO:
			ret = live_load__recv_ram(l, &l->rx0, &m);
			break;
		case LIVE_MSG_DEVICE:
			ret = recv_device(l, &m);
			break;
		case LIVE_MSG_STATE:
			if (l->state)
				return live_load__fail(l, -EPROTO, "a second STATE message");
			l->state = malloc(m.len ? m.len : 1);
			if (!l->state)
				return live_load__fail(l, -ENOMEM, "out of memory");
			l->state_size = (size_t)m.len;
			ret = live_wire__recv_payload(l->fd, &m, l->state, msg,
						      sizeof(msg));
			if (ret)
				return live_load__fail(l, ret, "%s", msg);
			t = live_load__now_us();
			ret = check_state(l);
			l->check_us = live_load__now_us() - t;
			break;
		case LIVE_MSG_CHANNELS_DONE:
			if (m.len)
				return live_load__fail(l, -EPROTO, "CHANNELS_DONE with a payload");
			ret = live_load__channels_join(l);
			break;
		case LIVE_MSG_END:
			if (!l->state)
				return live_load__fail(l, -EPROTO, "END before the state");
			if (l->channels > 1 && !l->chans_joined)
				return live_load__fail(l, -EPROTO, "END before CHANNELS_DONE");
			ret = live_wire__recv_payload(l->fd, &m, text, msg, sizeof(msg));
			if (ret)
				return live_load__fail(l, ret, "%s", msg);
			t = live_load__now_us();
			ret = apply(l);
			log_debug("migration: END received; state checked in %llu us, applied in %llu us",
				  (unsigned long long)l->check_us,
				  (unsigned long long)(live_load__now_us() - t));
			return ret;
		case LIVE_MSG_ABORT:
			ret = live_wire__recv_payload(l->fd, &m, text, msg, sizeof(msg));
			if (ret)
				return live_load__fail(l, ret, "%s", msg);
			/* A failed RAM channel is the cause, if one failed. */
			if (l->channels > 1 && !l->chans_joined &&
			    (ret = live_load__channels_join(l)))
				return ret;
			live_wire__text(text, m.len, msg, sizeof(msg));
			return live_load__fail(l, -ECANCELED, "the source aborted: %s", msg);
		default:
			return live_load__fail(l, -EPROTO, "unexpected %s message from the source",
				     live_wire__type_name(m.type));
		}
		if (ret)
			return ret;
	}
}

/* Everything after ACCEPT up to the applied state. */
static int load_body(struct load *l)
{
	uint64_t t;
	int ret;

	ret = setup(l);
	if (!ret)
		ret = maybe_ack(l);
	if (!ret)
		ret = stream(l);
	t = live_load__now_us();
	cleanup(l);
	log_debug("migration: load cleanup took %llu us", (unsigned long long)(live_load__now_us() - t));
	return ret;
}

struct loader {
	struct load *l;
	const struct live_load_env *env;
	int ret;
};

static void *loader_main(void *arg)
{
	struct loader *ld = arg;
	int ret = ld->env->confine(ld->env->opaque);

	if (ret)
		ld->ret = live_load__fail(ld->l, ret, "cannot confine the loader thread: %s",
				strerror(-ret));
	else
		ld->ret = load_body(ld->l);
	return NULL;
}

/* load_body on a thread of its own that confines itself first. */
static int load_on_thread(struct load *l, const struct live_load_env *env)
{
	struct loader ld = { .l = l, .env = env };
	pthread_t t;
	int ret;

	ret = -pthread_create(&t, NULL, loader_main, &ld);
	if (ret)
		return live_load__fail(l, ret, "cannot start the loader thread: %s", strerror(-ret));
	pthread_join(t, NULL);
	return ld.ret;
}

int live__load(int fd, const struct live_load_env *env, char *err,
	       size_t errlen)
{
	struct load l = { .fd = fd, .err = err, .errlen = errlen, .channels = 1,
			  .rx0 = { .fd = -1, .sp = { .pipe = { -1, -1 } } } };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(l.chans); i++)
		l.chans[i] = (struct live_rx){ .fd = -1, .sp = { .pipe = { -1, -1 } } };
	err[0] = '\0';
	ret = live_wire__set_timeouts(fd, LOAD_SEND_TIMEOUT_MS, LOAD_RECV_TIMEOUT_MS);
	if (ret)
		return live_load__fail(&l, ret, "socket: %s", strerror(-ret));
	ret = handshake(&l, env);
	if (ret) {
		/* Refuse with the reason before any state flows. */
		if (ret != -ECONNRESET && ret != -ETIMEDOUT)
			live_wire__send_text(fd, LIVE_MSG_REFUSE, err);
		return ret;
	}
	ret = mig_dirty__init(&l.written, l.mem);
	l.buf = malloc(LIVE_DEV_HDR + LIVE_DEV_CHUNK_MAX);
	/* Without a memfd or a pipe, RAM is read with recv. */
	live_rx__init(&l.rx0, &l, fd, 0);
	if (ret || !l.buf) {
		ret = live_load__fail(&l, -ENOMEM, "out of memory");
		live_wire__send_text(fd, LIVE_MSG_REFUSE, err);
		goto out;
	}
	ret = live_wire__send(fd, LIVE_MSG_ACCEPT, NULL, 0);
	if (ret) {
		live_load__fail(&l, ret, "sending ACCEPT: %s", strerror(-ret));
		goto out;
	}
	/* RAM channels connect right after ACCEPT; their threads confine. */
	ret = live_load__channels_start(&l, env);
	if (!ret)
		ret = env->confine ? load_on_thread(&l, env) : load_body(&l);
	if (!ret) {
		ret = live_wire__send(fd, LIVE_MSG_DONE, NULL, 0);
		if (ret)
			live_load__fail(&l, ret, "sending DONE: %s", strerror(-ret));
	} else if (ret != -ECANCELED && ret != -ECONNRESET) {
		live_wire__send_text(fd, LIVE_MSG_ERROR, err);
	}
out:
	live_load__channels_stop(&l);
	live_rx__exit(&l.rx0);
	mig_dirty__exit(&l.written);
	free(l.buf);
	free(l.state);
	return ret;
}
