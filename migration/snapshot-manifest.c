/*
 * snapshot-manifest.c: the MANIFEST of a snapshot directory: a short
 * text file, one "key value..." line each, that names the format
 * version and lists every part with its size and CRC-32C, closed by an
 * "end crc32c" line over all the bytes before it. The parser is strict:
 * unknown keys, malformed numbers, duplicate or unexpected parts and
 * trailing bytes are all errors (a snapshot from a newer ferry must
 * fail loudly, never half-load). Also the directory removal helper.
 */
#include "migration/snapshot-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "migration/registry.h"

/* Most space-separated words on a manifest line ("part N S crc32c X"). */
#define MAX_WORDS 6
#define MAX_LINE 256

int snap_manifest__format(const struct snap_manifest *m, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;
	int w;

#define EMIT(...)                                                        \
	do {                                                             \
		w = snprintf(buf + n, len - n, __VA_ARGS__);             \
		if (w < 0 || (size_t)w >= len - n)                       \
			return -ENOSPC;                                  \
		n += (size_t)w;                                          \
	} while (0)

	EMIT("%s %u\n", SNAP_MAGIC, m->version);
	EMIT("arch %s\n", m->arch);
	EMIT("created %s\n", m->created);
	EMIT("ferry %s\n", m->ferry);
	EMIT("mem-size %llu\n", (unsigned long long)m->mem_size);
	for (i = 0; i < m->nr_parts; i++) {
		const struct snap_part *p = &m->parts[i];

		if (p->kind == SNAP_PART_MEMORY)
			EMIT("part %s %llu chunks\n", p->name,
			     (unsigned long long)p->size);
		else
			EMIT("part %s %llu crc32c %08x\n", p->name,
			     (unsigned long long)p->size, p->crc);
	}
	EMIT("end crc32c %08x\n", crc32c__update(CRC32C_INIT, buf, n));
#undef EMIT
	return (int)n;
}

static int perr(char *err, size_t errlen, unsigned int line, const char *fmt,
		...) __printf(4, 5);

static int perr(char *err, size_t errlen, unsigned int line, const char *fmt,
		...)
{
	va_list ap;
	int n = snprintf(err, errlen, "MANIFEST line %u: ", line);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_crc(const char *s, uint32_t *v)
{
	unsigned long x;
	char *end;

	if (strlen(s) != 8 || strspn(s, "0123456789abcdef") != 8)
		return false;
	x = strtoul(s, &end, 16);
	*v = (uint32_t)x;
	return !*end;
}

/* A value word: printable, no spaces (that is how it was split). */
static bool copy_word(char *dst, size_t size, const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= size)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	memcpy(dst, s, len + 1);
	return true;
}

/* Name -> kind; device parts must be "devices/<valid id>.bin". */
static bool classify(struct snap_part *p, const char *name)
{
	size_t len = strlen(name);

	if (!strcmp(name, SNAP_STATE)) {
		p->kind = SNAP_PART_STATE;
	} else if (!strcmp(name, SNAP_MEMORY)) {
		p->kind = SNAP_PART_MEMORY;
	} else if (!strcmp(name, SNAP_CONFIG)) {
		p->kind = SNAP_PART_CONFIG;
	} else if (!strncmp(name, SNAP_DEVICES "/", 8) && len > 12 &&
		   !strcmp(name + len - 4, ".bin") && len - 12 < MIG_ID_MAX) {
		memcpy(p->id, name + 8, len - 12);
		p->id[len - 12] = '\0';
		if (!migration__valid_id(p->id))
			return false;
		p->kind = SNAP_PART_DEVICE;
	} else {
		return false;
	}
	strcpy(p->name, name);
	return true;
}

static int parse_line(char *line, unsigned int lineno, struct snap_manifest *m,
		      char *err, size_t errlen)
{
	char *word[MAX_WORDS + 1];
	unsigned int n = 0;
	char *save = NULL, *t;
	struct snap_part *p;

	for (t = strtok_r(line, " ", &save); t && n <= MAX_WORDS;
	     t = strtok_r(NULL, " ", &save))
		word[n++] = t;
	if (n == 0)
		return perr(err, errlen, lineno, "empty line");
	if (n > MAX_WORDS)
		return perr(err, errlen, lineno, "too many words");

	if (!strcmp(word[0], "arch") && n == 2) {
		if (!copy_word(m->arch, sizeof(m->arch), word[1]))
			return perr(err, errlen, lineno, "bad arch");
	} else if (!strcmp(word[0], "created") && n == 2) {
		if (!copy_word(m->created, sizeof(m->created), word[1]))
			return perr(err, errlen, lineno, "bad creation time");
	} else if (!strcmp(word[0], "ferry") && n == 2) {
		if (!copy_word(m->ferry, sizeof(m->ferry), word[1]))
			return perr(err, errlen, lineno, "bad ferry version");
	} else if (!strcmp(word[0], "mem-size") && n == 2) {
		if (!parse_u64(word[1], &m->mem_size))
			return perr(err, errlen, lineno, "bad mem-size '%s'", word[1]);
	} else if (!strcmp(word[0], "part") && (n == 4 || n == 5)) {
		if (m->nr_parts == SNAP_MAX_PARTS)
			return perr(err, errlen, lineno, "more than %d parts",
				    SNAP_MAX_PARTS);
		p = &m->parts[m->nr_parts];
		memset(p, 0, sizeof(*p));
		if (!classify(p, word[1]))
			return perr(err, errlen, lineno, "unknown part '%.64s'",
				    word[1]);
		if (snap_manifest__find(m, p->name))
			return perr(err, errlen, lineno, "part '%s' listed twice",
				    p->name);
		if (!parse_u64(word[2], &p->size))
			return perr(err, errlen, lineno, "bad size '%.32s'", word[2]);
		if (p->kind == SNAP_PART_MEMORY) {
			if (n != 4 || strcmp(word[3], "chunks"))
				return perr(err, errlen, lineno,
					    "memory.img must say 'chunks'");
		} else if (n != 5 || strcmp(word[3], "crc32c") ||
			   !parse_crc(word[4], &p->crc)) {
			return perr(err, errlen, lineno, "bad checksum for '%s'",
				    p->name);
		}
		m->nr_parts++;
	} else {
		return perr(err, errlen, lineno, "unknown or malformed entry '%.32s'",
			    word[0]);
	}
	return 0;
}

/* Line 1: "FERRYSNP <version>". Returns its length, or -EINVAL. */
static int parse_magic(const char *text, size_t len, struct snap_manifest *m,
		       char *err, size_t errlen)
{
	const char *nl = memchr(text, '\n', len);
	unsigned long v;
	char *end;

	if (len < 9 || strncmp(text, SNAP_MAGIC " ", 9)) {
		snprintf(err, errlen,
			 "not a ferry snapshot (MANIFEST does not start with %s)",
			 SNAP_MAGIC);
		return -EINVAL;
	}
	if (!nl || nl - text > 20 || text[9] < '0' || text[9] > '9')
		return perr(err, errlen, 1, "bad format version");
	v = strtoul(text + 9, &end, 10);
	if (end != nl)
		return perr(err, errlen, 1, "bad format version");
	if (v != SNAP_VERSION) {
		snprintf(err, errlen,
			 "unsupported snapshot format version %lu (this ferry reads version %u)",
			 v, SNAP_VERSION);
		return -EINVAL;
	}
	m->version = (uint32_t)v;
	return (int)(nl - text + 1);
}

int snap_manifest__parse(const char *text, size_t len, struct snap_manifest *m,
			 char *err, size_t errlen)
{
	char line[MAX_LINE];
	unsigned int lineno = 1;
	size_t pos, body_end;
	uint32_t crc;
	int ret;

	memset(m, 0, sizeof(*m));
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "MANIFEST: contains NUL bytes");
		return -EINVAL;
	}
	ret = parse_magic(text, len, m, err, errlen);
	if (ret < 0)
		return ret;
	pos = (size_t)ret;
	/* The checksum first: any damage is reported as such. */
	if (len == pos || text[len - 1] != '\n') {
		snprintf(err, errlen, "MANIFEST: truncated (no end line)");
		return -EINVAL;
	}
	for (body_end = len - 1; body_end > pos && text[body_end - 1] != '\n';)
		body_end--;
	if (len - body_end != 20 || strncmp(text + body_end, "end crc32c ", 11)) {
		snprintf(err, errlen, "MANIFEST: truncated (no end line)");
		return -EINVAL;
	}
	memcpy(line, text + body_end + 11, 8);
	line[8] = '\0';
	if (!parse_crc(line, &crc) ||
	    crc != crc32c__update(CRC32C_INIT, text, body_end)) {
		snprintf(err, errlen, "MANIFEST: checksum mismatch (corrupted or edited)");
		return -EINVAL;
	}
	while (pos < body_end) {
		const char *nl = memchr(text + pos, '\n', body_end - pos);
		size_t l = (size_t)(nl - (text + pos));

		lineno++;
		if (l >= sizeof(line))
			return perr(err, errlen, lineno, "line too long");
		memcpy(line, text + pos, l);
		line[l] = '\0';
		ret = parse_line(line, lineno, m, err, errlen);
		if (ret)
			return ret;
		pos += l + 1;
	}
	if (strcmp(m->arch, SNAP_ARCH)) {
		snprintf(err, errlen, "snapshot is for arch '%s', this is %s",
			 m->arch, SNAP_ARCH);
		return -EINVAL;
	}
	return 0;
}

const struct snap_part *snap_manifest__find(const struct snap_manifest *m,
					    const char *name)
{
	unsigned int i;

	for (i = 0; i < m->nr_parts; i++)
		if (!strcmp(m->parts[i].name, name))
			return &m->parts[i];
	return NULL;
}

/* Unlink the regular files directly in directory @fd. */
static int remove_files(int fd)
{
	struct dirent *de;
	DIR *d;
	int ret = 0, dup_fd;

	dup_fd = dup(fd);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		ret = -errno;
		close(dup_fd);
		return ret;
	}
	while ((de = readdir(d))) {
		if (de->d_type == DT_REG && unlinkat(fd, de->d_name, 0) < 0 && !ret)
			ret = -errno;
	}
	closedir(d);
	return ret;
}

int snap_dir__remove(int dirfd, const char *name)
{
	int fd, sub, ret;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sub = openat(fd, SNAP_DEVICES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC);
	if (sub >= 0) {
		ret = remove_files(sub);
		close(sub);
		if (!ret && unlinkat(fd, SNAP_DEVICES, AT_REMOVEDIR) < 0)
			ret = -errno;
		if (ret)
			goto out;
	}
	ret = remove_files(fd);
	if (!ret && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		ret = -errno;
out:
	close(fd);
	return ret;
}
