/*
 * log.c: implementation of ferry's stderr logger. Each line is formatted
 * into one buffer and written with a single write(2), so lines from
 * different threads never interleave mid-line.
 */
#include "vmm/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;
static __thread char log_tag[16] = "main";

/* Lines past 1 KiB are truncated; no ferry message needs more. */
#define LOG_LINE_MAX 1024

/* Rate limit: 10 lines per 5 s window and call site. */
#define LOG_RL_BURST 10
#define LOG_RL_WINDOW_S 5

static const char *const level_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log__set_level(enum log_level level)
{
	log_threshold = level;
}

void log__set_tag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_tag, sizeof(log_tag), fmt, ap);
	va_end(ap);
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int n, m;
	ssize_t w;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "ferry[%s]: %s: ", log_tag,
		     level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

void log__msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log__ratelimited(struct log_ratelimit *st, enum log_level level,
		      const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - st->window_start >= LOG_RL_WINDOW_S) {
		if (st->suppressed)
			log__msg(LOG_LEVEL_WARN, "%u similar messages suppressed",
				 st->suppressed);
		st->window_start = now.tv_sec;
		st->count = 0;
		st->suppressed = 0;
	}
	if (st->count >= LOG_RL_BURST) {
		st->suppressed++;
		return;
	}
	st->count++;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
