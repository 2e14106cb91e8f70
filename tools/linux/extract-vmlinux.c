/*
 * extract-vmlinux.c: ferry-extract-vmlinux BZIMAGE OUT. Takes the
 * compressed kernel out of a Linux bzImage (located through the setup
 * header's payload_offset/payload_length, which count from the start of
 * the protected-mode code at (setup_sects + 1) * 512), decompresses it
 * when it is LZ4 in the legacy frame format (what Debian's kernels use),
 * and writes the resulting vmlinux ELF, which ferry boots through its
 * PVH note. Other compressors are named and refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_SETUP_SECTS 0x1f1
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_MIN_VERSION 0x0208 /* payload_offset/length appeared in 2.08 */

#define LZ4_LEGACY_MAGIC 0x184c2102U
/* Every legacy block decompresses to at most 8 MiB. */
#define LZ4_LEGACY_BLOCK (8U << 20)
/* The kernel build appends the decompressed size (le32) to the payload. */
#define SIZE_TRAILER 4
#define MAX_INPUT (256U << 20)  /* no bzImage comes near this */
#define MAX_OUTPUT (1U << 30)

static const char *prog = "ferry-extract-vmlinux";

struct buf {
	uint8_t *data;
	size_t size;
};

/* Bounds-checked little-endian reads from the input. */
static int rd(const struct buf *b, uint64_t off, void *dst, size_t len)
{
	if (off > b->size || len > b->size - off)
		return -1;
	memcpy(dst, b->data + off, len);
	return 0;
}

static int read_all(const char *path, struct buf *b)
{
	struct stat st;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_INPUT) {
		fprintf(stderr, "%s: %s: not a regular file of 1..%u bytes\n",
			prog, path, MAX_INPUT);
		close(fd);
		return -1;
	}
	b->size = (size_t)st.st_size;
	b->data = malloc(b->size);
	while (b->data && done < b->size) {
		ssize_t n = read(fd, b->data + done, b->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: %s: read failed\n", prog, path);
			free(b->data);
			b->data = NULL;
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	return b->data ? 0 : -1;
}

/* Name the compressor of a payload that is not LZ4 legacy. */
static const char *compressor(const uint8_t *p, size_t len)
{
	static const struct {
		const char *name;
		const char *magic;
		size_t len;
	} known[] = {
		{ "gzip", "\x1f\x8b", 2 },
		{ "bzip2", "BZh", 3 },
		{ "lzma", "\x5d\x00\x00", 3 },
		{ "xz", "\xfd" "7zXZ\x00", 6 },
		{ "lzo", "\x89LZO", 4 },
		{ "zstd", "\x28\xb5\x2f\xfd", 4 },
		{ "lz4 (frame format, not legacy)", "\x04\x22\x4d\x18", 4 },
		{ "none (already an ELF)", "\x7f" "ELF", 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (len >= known[i].len && !memcmp(p, known[i].magic, known[i].len))
			return known[i].name;
	return "unknown";
}

/* Locate the payload; returns 0 and its [off, off+len) in the file. */
static int find_payload(const char *path, const struct buf *b, uint64_t *off,
			uint32_t *len)
{
	uint8_t sects;
	uint32_t magic, poff;
	uint16_t version;
	uint64_t pm_start;

	if (rd(b, HDR_SETUP_SECTS, &sects, 1) || rd(b, HDR_MAGIC, &magic, 4) ||
	    rd(b, HDR_VERSION, &version, 2)) {
		fprintf(stderr, "%s: %s: too short for a bzImage\n", prog, path);
		return -1;
	}
	if (memcmp(&magic, "HdrS", 4)) {
		fprintf(stderr, "%s: %s: no \"HdrS\" at 0x202: not a bzImage\n",
			prog, path);
		return -1;
	}
	if (version < HDR_MIN_VERSION) {
		fprintf(stderr, "%s: %s: boot protocol %u.%02u has no payload "
			"fields (need 2.08)\n", prog, path, version >> 8,
			version & 0xff);
		return -1;
	}
	if (rd(b, HDR_PAYLOAD_OFFSET, &poff, 4) ||
	    rd(b, HDR_PAYLOAD_LENGTH, len, 4)) {
		fprintf(stderr, "%s: %s: truncated setup header\n", prog, path);
		return -1;
	}
	pm_start = ((uint64_t)(sects ? sects : 4) + 1) * 512;
	*off = pm_start + poff;
	if (*len < 4 || *off > b->size || *len > b->size - *off) {
		fprintf(stderr, "%s: %s: payload [0x%llx, +0x%x) is outside the "
			"file (%zu bytes)\n", prog, path,
			(unsigned long long)*off, *len, b->size);
		return -1;
	}
	return 0;
}

static int decompress(const char *path, const uint8_t *p, uint32_t len,
		      struct buf *out)
{
	uint32_t magic, pos = 4;
	size_t cap = 0;

	memcpy(&magic, p, 4);
	if (magic != LZ4_LEGACY_MAGIC) {
		fprintf(stderr, "%s: %s: payload is compressed with %s; only "
			"LZ4 (legacy format) is supported\n", prog, path,
			compressor(p, len));
		return -1;
	}
	out->size = 0;
	out->data = NULL;
	while (len - pos >= 4) {
		uint32_t csize;
		int n;

		memcpy(&csize, p + pos, 4);
		if (csize == LZ4_LEGACY_MAGIC) { /* concatenated stream */
			pos += 4;
			continue;
		}
		/* The size trailer (or garbage) cannot be a block: stop. */
		if (csize == 0 || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) ||
		    csize > len - pos - 4)
			break;
		pos += 4;
		if (out->size + LZ4_LEGACY_BLOCK > cap) {
			uint8_t *nd;

			cap = cap ? cap * 2 : 4 * LZ4_LEGACY_BLOCK;
			if (cap > MAX_OUTPUT) {
				fprintf(stderr, "%s: %s: output larger than "
					"%u bytes\n", prog, path, MAX_OUTPUT);
				return -1;
			}
			nd = realloc(out->data, cap);
			if (!nd) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return -1;
			}
			out->data = nd;
		}
		n = LZ4_decompress_safe((const char *)p + pos,
					(char *)out->data + out->size,
					(int)csize, LZ4_LEGACY_BLOCK);
		if (n < 0) {
			fprintf(stderr, "%s: %s: corrupt LZ4 block at payload "
				"offset 0x%x\n", prog, path, pos - 4);
			return -1;
		}
		out->size += (size_t)n;
		pos += csize;
	}
	if (out->size == 0) {
		fprintf(stderr, "%s: %s: LZ4 payload has no blocks\n", prog,
			path);
		return -1;
	}
	if (len - pos == SIZE_TRAILER) {
		uint32_t want;

		memcpy(&want, p + pos, 4);
		if (want != out->size) {
			fprintf(stderr, "%s: %s: decompressed %zu bytes but the "
				"payload says %u\n", prog, path, out->size,
				want);
			return -1;
		}
	}
	return 0;
}

static int write_out(const char *path, const struct buf *b)
{
	char tmp[4096];
	size_t done = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "%s: %s: path too long\n", prog, path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err;
	while (done < b->size) {
		ssize_t n = write(fd, b->data + done, b->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			goto err;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto err;
	return 0;
err:
	fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	unlink(tmp);
	return -1;
}

int main(int argc, char **argv)
{
	struct buf in = { 0 }, out = { 0 };
	uint64_t off;
	uint32_t len;
	int ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s BZIMAGE VMLINUX-OUT\n", prog);
		return 2;
	}
	if (read_all(argv[1], &in))
		return 1;
	if (find_payload(argv[1], &in, &off, &len) ||
	    decompress(argv[1], in.data + off, len, &out))
		goto out;
	if (out.size < 4 || memcmp(out.data, "\x7f" "ELF", 4)) {
		fprintf(stderr, "%s: %s: decompressed payload is not an ELF\n",
			prog, argv[1]);
		goto out;
	}
	if (write_out(argv[2], &out))
		goto out;
	printf("%s: wrote %s (%zu bytes)\n", prog, argv[2], out.size);
	ret = 0;
out:
	free(out.data);
	free(in.data);
	return ret;
}
