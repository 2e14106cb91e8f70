/*
 * live-test-fixture.h: the live-migration engine in one process, as the
 * live tests (test-live.c, test-live-input.c) share it: two "sides"
 * (guest memory from mem__create, a registry with the snapshot tests'
 * fake device "dev0" and a precopy device "pre0" with save_iterate and
 * switchover-ack; the source also has a fake dirty source standing in
 * for KVM/VFIO, whose "guest" writes pages between iterations and
 * reports them), and a harness that runs a source and a destination
 * thread over a socketpair.
 */
#ifndef TESTS_UNIT_MIGRATION_LIVE_TEST_FIXTURE_H
#define TESTS_UNIT_MIGRATION_LIVE_TEST_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fake-handlers.h"
#include "migration/live.h"

struct guest_mem;
struct live_save;
struct migration;

#define MEM_SIZE (32ULL << 20)
#define PRE_INIT 300000u /* initial precopy bytes */

/* The precopy device: data in save_iterate, ack on the destination. */
struct pre_dev {
	struct migration *mig; /* destination: where to approve */
	uint8_t data[PRE_INIT];
	uint32_t sent, got;
	bool approved;
	int applies, cleanups;
	int fail_load; /* destination: -errno from load_data */
};

/* The fake dirty source and "guest" (source side only). */
struct fake_guest {
	struct guest_mem *mem;
	uint64_t pending[MEM_SIZE / 4096 / 64];
	int starts, stops, syncs;
	unsigned int gen;
	unsigned int writes_per_iter; /* pages dirtied per progress call */
};

struct side {
	struct migration *mig;
	struct guest_mem *mem;
	struct fake_dev dev;
	struct pre_dev pre;
	struct fake_guest guest;
	bool extra_handler; /* destination: one component more */
};

struct harness {
	struct side src, dst;
	int sv[2];
	struct live_params params;
	struct live_save *ls;
	int src_ret, dst_ret;
	char dst_err[512];
	int pauses, resumes, progress_calls;
	int cancel_at; /* progress call that cancels; 0 = never */
	bool dst_close_early; /* destination drops the connection at once */
	int confine;          /* 0: no confine hook; 1: it succeeds; 2: it fails */
	pid_t dst_tid, confine_tid;
	/* RAM channels: socketpairs made by connect, handed out by accept. */
	bool dst_no_accept;   /* the destination takes one connection only */
	bool chan_bad_session; /* connect hands out a channel from nowhere */
	int chan_fds[8];      /* destination ends not yet accepted */
	unsigned int chan_made, chan_taken;
	pthread_mutex_t chan_lock;
	pthread_cond_t chan_cond;
};

/*
 * Set up one side: MEM_SIZE of guest memory, "dev0" (200000 bytes of
 * data on the source, none on the destination) and "pre0"; a @source
 * also gets the dirty source and a pattern in its first 4 MiB (the rest
 * stays holes). Asserts on failure.
 */
void side_init(struct side *s, bool source);
/* Free what side_init made. */
void side_exit(struct side *s);

/*
 * Both sides set up, the guest writing 20 pages per precopy iteration;
 * adjust the fields, then run(). Free with harness_free.
 */
struct harness *harness_new(void);
/*
 * Migrate: live_save__run on this thread into a socketpair whose other
 * end live__load reads on a destination thread (or which it drops
 * early, see dst_close_early); results land in h->src_ret, h->dst_ret
 * and h->dst_err.
 */
void run(struct harness *h);
/* Destroy the live_save and both sides. */
void harness_free(struct harness *h);

#endif /* TESTS_UNIT_MIGRATION_LIVE_TEST_FIXTURE_H */
