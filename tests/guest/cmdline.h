/*
 * cmdline.h: the guest's command line as space-separated key=value
 * words. Each mode fetches the words it knows; cmdline__check_unused()
 * then refuses anything left over, so a typo fails loudly instead of
 * silently running with defaults.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#define CMDLINE_MAX_WORDS 32

struct cmdline_word {
	const char *key;
	const char *val; /* NULL for a word without '=' */
	bool used;
};

struct cmdline {
	unsigned int nr;
	struct cmdline_word w[CMDLINE_MAX_WORDS];
};

/*
 * Split @line in place (it must outlive @cl). Returns 0, or -1 after
 * printing why (too many words, a repeated key).
 */
int cmdline__parse(char *line, struct cmdline *cl);

/* Value of @key or NULL; marks the word used. */
const char *cmdline__get(struct cmdline *cl, const char *key);

/*
 * Number for @key: decimal or 0x-hex, and with @size also a K/M/G
 * suffix (powers of 1024). Missing key: *out = @def. Returns 0, or -1
 * after printing "bad value" for junk or overflow.
 */
int cmdline__get_u64(struct cmdline *cl, const char *key, uint64_t def,
		     bool size, uint64_t *out);

/* Returns 0 when every word was used, else -1 after naming the first unknown one. */
int cmdline__check_unused(const struct cmdline *cl);

#endif /* GUEST_CMDLINE_H */
