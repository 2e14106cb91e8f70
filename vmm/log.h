/*
 * log.h: ferry's logging. One line per message on stderr, prefixed with
 * "ferry[tag]: " where the tag names the thread (main, vcpu0, api, ...).
 * Messages a guest can trigger go through log_ratelimited so a hostile
 * guest cannot flood the host's logs.
 */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Set the process-wide threshold; messages above it are dropped. */
void log__set_level(enum log_level level);

/* Name the calling thread in its log lines (copied; at most 15 chars). */
void log__set_tag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Emit one message at @level. Safe from any thread; never fails. */
void log__msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Rate-limited variant for guest-triggerable conditions: at most a burst
 * of 10 lines per 5 s per call site (@state is a per-site static).
 */
struct log_ratelimit {
	long window_start;
	unsigned int count;
	unsigned int suppressed;
};
void log__ratelimited(struct log_ratelimit *state, enum log_level level,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...) log__msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log__msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log__msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log__msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_ratelimited(level, ...)                                   \
	do {                                                          \
		static struct log_ratelimit rl__;                     \
		log__ratelimited(&rl__, level, __VA_ARGS__);          \
	} while (0)

#endif /* VMM_LOG_H */
