/*
 * progress.h: ferryctl's progress display for long-running operations
 * (snapshot, migration). Generic: it follows `GET /vm/operation`, which
 * any long operation on the server reports through, and draws a bar
 * with the transfer rate and the time remaining.
 */
#ifndef TOOLS_FERRYCTL_PROGRESS_H
#define TOOLS_FERRYCTL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct client;

/* One observation of an operation (the fields of GET /vm/operation). */
struct progress_sample {
	char name[32];
	char state[16];    /* "none", "running", "succeeded", "failed" */
	uint64_t id;
	uint64_t done_bytes;
	uint64_t total_bytes; /* 0: unknown */
	uint64_t elapsed_ms;
};

/*
 * Format one status line into @buf: name, a @bar_width-wide bar (when
 * the total is known), percentage, done/total, @rate_bps (bytes per
 * second, 0: unknown) and the time remaining.
 */
void progress__format(char *buf, size_t len, const struct progress_sample *s,
		      double rate_bps, unsigned int bar_width);

/*
 * Poll @path (GET, a JSON object as above) every @interval_ms until the
 * state is no longer "running", drawing progress on @out: one line
 * redrawn in place when @out is a terminal, one line per second
 * otherwise, or every sample as a JSON line with @json. Returns 0 when
 * the operation succeeded (or none ever ran), 1 when it failed or the
 * server answered an error, 3 when the server cannot be reached; the
 * reason goes to stderr.
 */
int progress__follow(struct client *c, const char *path,
		     unsigned int interval_ms, bool json, FILE *out);

#endif /* TOOLS_FERRYCTL_PROGRESS_H */
