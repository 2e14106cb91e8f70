/*
 * registry.c: the per-VM list of migration handlers, kept sorted by
 * (order class, registration sequence) so both save and restore walk it
 * in the one order that is correct for KVM: irqchip, vCPUs, devices,
 * clock.
 */
#include "migration/registry.h"

#include "migration/dirty.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct migration {
	size_t nr;
	struct mig_handler handlers[MIG_MAX_HANDLERS]; /* sorted */
	struct guest_mem *mem;                         /* borrowed */
	unsigned int ack_pending;
	size_t nr_blockers;
	struct mig_blocker blockers[MIG_MAX_BLOCKERS];
	size_t nr_dirty;
	struct mig_dirty_source dirty[MIG_MAX_DIRTY_SOURCES];
};

int migration__create(struct migration **out)
{
	struct migration *mig = calloc(1, sizeof(*mig));

	if (!mig)
		return -ENOMEM;
	*out = mig;
	return 0;
}

void migration__destroy(struct migration *mig)
{
	size_t i;

	if (!mig)
		return;
	for (i = mig->nr; i-- > 0;) {
		struct mig_handler *h = &mig->handlers[i];

		if (h->ops->release)
			h->ops->release(h->opaque);
	}
	free(mig);
}

bool migration__valid_id(const char *id)
{
	size_t i, len;

	if (!id)
		return false;
	len = strlen(id);
	if (len == 0 || len >= MIG_ID_MAX || !strcmp(id, "memory"))
		return false;
	for (i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == ',' || c == '.' ||
		      c == '_' || c == '+' || c == '-'))
			return false;
	}
	/* "." and ".." would be odd file names under devices/. */
	return strspn(id, ".") != len;
}

int migration__register(struct migration *mig, const char *id,
			const struct mig_handler_ops *ops, void *opaque)
{
	size_t pos;

	if (!migration__valid_id(id) || !ops || !ops->save_state ||
	    !ops->load_state || !ops->load_apply)
		return -EINVAL;
	if (migration__find(mig, id))
		return -EEXIST;
	if (mig->nr == MIG_MAX_HANDLERS)
		return -ENOSPC;
	/* After every handler of the same or a lower order class. */
	for (pos = mig->nr; pos > 0; pos--)
		if (mig->handlers[pos - 1].ops->order <= ops->order)
			break;
	memmove(&mig->handlers[pos + 1], &mig->handlers[pos],
		(mig->nr - pos) * sizeof(mig->handlers[0]));
	memset(&mig->handlers[pos], 0, sizeof(mig->handlers[pos]));
	strcpy(mig->handlers[pos].id, id);
	mig->handlers[pos].ops = ops;
	mig->handlers[pos].opaque = opaque;
	mig->nr++;
	return 0;
}

int migration__unregister(struct migration *mig, const char *id)
{
	struct mig_handler *h = migration__find(mig, id);
	size_t i;

	if (!h)
		return -ENOENT;
	if (h->ops->release)
		h->ops->release(h->opaque);
	i = (size_t)(h - mig->handlers);
	memmove(h, h + 1, (mig->nr - i - 1) * sizeof(*h));
	mig->nr--;
	return 0;
}

size_t migration__count(const struct migration *mig)
{
	return mig->nr;
}

struct mig_handler *migration__handler(struct migration *mig, size_t i)
{
	return i < mig->nr ? &mig->handlers[i] : NULL;
}

struct mig_handler *migration__find(struct migration *mig, const char *id)
{
	size_t i;

	for (i = 0; i < mig->nr; i++)
		if (!strcmp(mig->handlers[i].id, id))
			return &mig->handlers[i];
	return NULL;
}

void migration__set_memory(struct migration *mig, struct guest_mem *mem)
{
	mig->mem = mem;
}

struct guest_mem *migration__memory(const struct migration *mig)
{
	return mig->mem;
}

unsigned int migration__switchover_reset(struct migration *mig)
{
	size_t i;

	mig->ack_pending = 0;
	for (i = 0; i < mig->nr; i++) {
		const struct mig_handler *h = &mig->handlers[i];

		if (h->ops->switchover_ack_needed &&
		    h->ops->switchover_ack_needed(h->opaque))
			mig->ack_pending++;
	}
	return mig->ack_pending;
}

int migration__approve_switchover(struct migration *mig)
{
	if (!mig->ack_pending)
		return -EINVAL;
	mig->ack_pending--;
	return 0;
}

unsigned int migration__switchover_pending(const struct migration *mig)
{
	return mig->ack_pending;
}

int migration__add_blocker(struct migration *mig, const char *id,
			   const char *reason, bool live_only)
{
	struct mig_blocker *b;

	if (mig->nr_blockers == MIG_MAX_BLOCKERS)
		return -ENOSPC;
	b = &mig->blockers[mig->nr_blockers++];
	snprintf(b->id, sizeof(b->id), "%s", id);
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
	b->live_only = live_only;
	return 0;
}

const struct mig_blocker *migration__blocker(const struct migration *mig,
					     bool live)
{
	size_t i;

	for (i = 0; i < mig->nr_blockers; i++)
		if (live || !mig->blockers[i].live_only)
			return &mig->blockers[i];
	return NULL;
}

int migration__add_dirty_source(struct migration *mig, const char *id,
				const struct mig_dirty_source_ops *ops,
				void *opaque)
{
	struct mig_dirty_source *d;

	if (!migration__valid_id(id))
		return -EINVAL;
	if (!ops || !ops->start || !ops->sync || !ops->stop)
		return -EINVAL;
	for (size_t i = 0; i < mig->nr_dirty; i++)
		if (!strcmp(mig->dirty[i].id, id))
			return -EEXIST;
	if (mig->nr_dirty == MIG_MAX_DIRTY_SOURCES)
		return -ENOSPC;
	d = &mig->dirty[mig->nr_dirty++];
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->ops = ops;
	d->opaque = opaque;
	return 0;
}

int migration__remove_dirty_source(struct migration *mig, const char *id)
{
	for (size_t i = 0; i < mig->nr_dirty; i++) {
		if (strcmp(mig->dirty[i].id, id))
			continue;
		memmove(&mig->dirty[i], &mig->dirty[i + 1],
			(mig->nr_dirty - i - 1) * sizeof(mig->dirty[0]));
		mig->nr_dirty--;
		return 0;
	}
	return -ENOENT;
}

size_t migration__dirty_count(const struct migration *mig)
{
	return mig->nr_dirty;
}

const struct mig_dirty_source *migration__dirty_source(
	const struct migration *mig, size_t i)
{
	return i < mig->nr_dirty ? &mig->dirty[i] : NULL;
}
