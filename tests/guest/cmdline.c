/*
 * cmdline.c: key=value command-line words (see cmdline.h).
 */
#include "cmdline.h"

#include "guest.h"
#include "serial.h"

int cmdline__parse(char *line, struct cmdline *cl)
{
	unsigned int i;
	char *p = line;

	cl->nr = 0;
	for (;;) {
		struct cmdline_word *w;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = 0;
		if (!*p)
			break;
		if (cl->nr == CMDLINE_MAX_WORDS) {
			serial__printf("ferry-guest: error: more than %u "
				       "command-line words\n", CMDLINE_MAX_WORDS);
			return -1;
		}
		w = &cl->w[cl->nr++];
		w->key = p;
		w->val = NULL;
		w->used = false;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '=' && !w->val) {
				*p = 0;
				w->val = p + 1;
			}
			p++;
		}
	}
	for (i = 0; i < cl->nr; i++) {
		unsigned int j;

		for (j = 0; j < i; j++) {
			if (!strcmp(cl->w[i].key, cl->w[j].key)) {
				serial__printf("ferry-guest: error: '%s' given "
					       "twice\n", cl->w[i].key);
				return -1;
			}
		}
	}
	return 0;
}

const char *cmdline__get(struct cmdline *cl, const char *key)
{
	unsigned int i;

	for (i = 0; i < cl->nr; i++) {
		if (!strcmp(cl->w[i].key, key)) {
			cl->w[i].used = true;
			return cl->w[i].val ? cl->w[i].val : "";
		}
	}
	return NULL;
}

static int parse_u64(const char *s, bool size, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;
	bool any = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			break;
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return -1;
		any = true;
	}
	if (!any)
		return -1;
	if (size && *s) {
		switch (*s) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		s++;
		if (*s == 'i' && s[1] == 'B') /* accept KiB/MiB/GiB too */
			s += 2;
		else if (*s == 'B' || *s == 'b')
			s++;
		if (shift && v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
	}
	if (*s)
		return -1;
	*out = v;
	return 0;
}

int cmdline__get_u64(struct cmdline *cl, const char *key, uint64_t def,
		     bool size, uint64_t *out)
{
	const char *v = cmdline__get(cl, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (parse_u64(v, size, out)) {
		serial__printf("ferry-guest: error: bad value for %s: '%s'\n",
			       key, v);
		return -1;
	}
	return 0;
}

int cmdline__check_unused(const struct cmdline *cl)
{
	unsigned int i;

	for (i = 0; i < cl->nr; i++) {
		if (!cl->w[i].used) {
			serial__printf("ferry-guest: error: unknown word '%s"
				       "%s%s'\n", cl->w[i].key,
				       cl->w[i].val ? "=" : "",
				       cl->w[i].val ? cl->w[i].val : "");
			return -1;
		}
	}
	return 0;
}
