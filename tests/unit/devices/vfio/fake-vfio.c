/*
 * fake-vfio.c: the scripted fake kernel for the kernel VFIO backend's
 * unit tests (see fake-vfio.h). Each system call takes the next step of
 * the script, checks every field the step names and answers as told.
 */
#include "fake-vfio.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "devices/vfio/vfio-kernel.h"

/* Script segments (start + more); a test needs a handful. */
#define MAX_SEGS 32

struct fake_state {
	struct {
		const struct fake_step *steps;
		size_t n;
	} seg[MAX_SEGS];
	size_t nseg, cur_seg, cur;
	size_t calls;
};

static struct fake_state fk;

static const char *call_name(enum fake_call c)
{
	static const char *const names[] = {
		"?", "open", "close", "ioctl", "pread", "pwrite", "read",
		"write", "mmap", "readlink",
	};

	return (unsigned int)c < sizeof(names) / sizeof(names[0]) ? names[c]
								  : "?";
}

/* The next step, which must be a @call. */
static const struct fake_step *next(enum fake_call call)
{
	const struct fake_step *s;

	fk.calls++;
	while (fk.cur_seg < fk.nseg && fk.cur >= fk.seg[fk.cur_seg].n) {
		fk.cur_seg++;
		fk.cur = 0;
	}
	if (fk.cur_seg >= fk.nseg)
		fail_msg("unexpected %s after the script ended (call %zu)",
			 call_name(call), fk.calls);
	s = &fk.seg[fk.cur_seg].steps[fk.cur++];
	if (s->call != call)
		fail_msg("call %zu: got %s, script expects %s", fk.calls,
			 call_name(call), call_name(s->call));
	return s;
}

static void check_fd(const struct fake_step *s, int fd)
{
	if (fd != s->fd)
		fail_msg("call %zu (%s): fd %d, expected %d", fk.calls,
			 call_name(s->call), fd, s->fd);
}

static void check_in(const struct fake_step *s, const void *arg, size_t avail)
{
	size_t i;

	if (!s->in_len)
		return;
	if (avail < s->in_len)
		fail_msg("call %zu: argument of %zu bytes, expected >= %zu",
			 fk.calls, avail, s->in_len);
	for (i = 0; i < s->in_len; i++)
		if (((const uint8_t *)arg)[i] != ((const uint8_t *)s->in)[i])
			fail_msg("call %zu (%s 0x%lx): argument byte %zu is 0x%02x, "
				 "expected 0x%02x", fk.calls, call_name(s->call),
				 s->req, i, ((const uint8_t *)arg)[i],
				 ((const uint8_t *)s->in)[i]);
}

/* Finish a step: the check hook, then the canned result. */
static long answer(const struct fake_step *s, void *arg, size_t len)
{
	if (s->check)
		s->check(s, arg, len);
	if (s->err) {
		errno = s->err;
		return -1;
	}
	return s->ret;
}

static int fk_open(void *ctx, const char *path, int flags)
{
	const struct fake_step *s = next(FK_OPEN);

	(void)ctx;
	if (strcmp(path, s->path))
		fail_msg("call %zu: open(%s), expected open(%s)", fk.calls, path,
			 s->path);
	if (s->flags && (flags & s->flags) != s->flags)
		fail_msg("call %zu: open(%s) flags 0x%x lack 0x%x", fk.calls, path,
			 flags, s->flags);
	return (int)answer(s, NULL, 0);
}

static int fk_close(void *ctx, int fd)
{
	const struct fake_step *s = next(FK_CLOSE);

	(void)ctx;
	check_fd(s, fd);
	return (int)answer(s, NULL, 0);
}

static int fk_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	const struct fake_step *s = next(FK_IOCTL);
	uint32_t argsz;

	(void)ctx;
	check_fd(s, fd);
	if (req != s->req)
		fail_msg("call %zu: ioctl 0x%lx on fd %d, expected 0x%lx",
			 fk.calls, req, fd, s->req);
	if (s->int_arg && (uintptr_t)arg != s->ival)
		fail_msg("call %zu: ioctl 0x%lx int argument %lu, expected %lu",
			 fk.calls, req, (unsigned long)(uintptr_t)arg,
			 (unsigned long)s->ival);
	if (s->str_arg && (!arg || strcmp(arg, s->str_arg)))
		fail_msg("call %zu: ioctl 0x%lx string argument '%s', expected "
			 "'%s'", fk.calls, req, arg ? (char *)arg : "(null)",
			 s->str_arg);
	if (s->in_len || s->out_len) {
		if (!arg)
			fail_msg("call %zu: ioctl 0x%lx without an argument",
				 fk.calls, req);
		memcpy(&argsz, arg, sizeof(argsz));
		check_in(s, arg, argsz);
		/* Like the kernel: never write past the caller's argsz. */
		if (s->out_len)
			memcpy(arg, s->out,
			       s->out_len < argsz ? s->out_len : argsz);
	}
	return (int)answer(s, arg, 0);
}

static ssize_t rw(enum fake_call call, int fd, void *buf, size_t len,
		  int64_t off)
{
	const struct fake_step *s = next(call);

	check_fd(s, fd);
	if ((call == FK_PREAD || call == FK_PWRITE) && off != s->off)
		fail_msg("call %zu (%s): offset 0x%llx, expected 0x%llx", fk.calls,
			 call_name(call), (unsigned long long)off,
			 (unsigned long long)s->off);
	if (s->len && len != s->len)
		fail_msg("call %zu (%s): length %zu, expected %zu", fk.calls,
			 call_name(call), len, s->len);
	check_in(s, buf, len);
	if (s->out_len)
		memcpy(buf, s->out, s->out_len < len ? s->out_len : len);
	return answer(s, buf, len);
}

static ssize_t fk_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	(void)ctx;
	return rw(FK_PREAD, fd, buf, len, off);
}

static ssize_t fk_pwrite(void *ctx, int fd, const void *buf, size_t len,
			 off_t off)
{
	(void)ctx;
	return rw(FK_PWRITE, fd, (void *)buf, len, off);
}

static ssize_t fk_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	return rw(FK_READ, fd, buf, len, -1);
}

static ssize_t fk_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	return rw(FK_WRITE, fd, (void *)buf, len, -1);
}

static void *fk_mmap(void *ctx, void *addr, size_t len, int prot, int flags,
		     int fd, off_t off)
{
	const struct fake_step *s = next(FK_MMAP);

	(void)ctx;
	(void)addr;
	check_fd(s, fd);
	if (off != s->off || (s->len && len != s->len) || prot != s->prot ||
	    !(flags & MAP_SHARED))
		fail_msg("call %zu: mmap(len 0x%zx prot %d flags 0x%x off 0x%llx), "
			 "expected (0x%zx, %d, MAP_SHARED, 0x%llx)", fk.calls,
			 len, prot, flags, (unsigned long long)off, s->len,
			 s->prot, (unsigned long long)s->off);
	if (s->check)
		s->check(s, NULL, len);
	if (s->err) {
		errno = s->err;
		return MAP_FAILED;
	}
	return s->ptr;
}

static int fk_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	(void)addr;
	(void)len;
	fail_msg("the backend must never munmap (the caller owns mappings)");
	return -1;
}

static ssize_t fk_readlink(void *ctx, const char *path, char *buf, size_t len)
{
	const struct fake_step *s = next(FK_READLINK);
	size_t n;

	(void)ctx;
	if (strcmp(path, s->path))
		fail_msg("call %zu: readlink(%s), expected readlink(%s)", fk.calls,
			 path, s->path);
	if (s->err) {
		errno = s->err;
		return -1;
	}
	n = strlen(s->link);
	/* readlink truncates silently and does not terminate. */
	memcpy(buf, s->link, n < len ? n : len);
	return s->ret ? s->ret : (ssize_t)(n < len ? n : len);
}

const struct vfio_kernel_sys fake_vfio_sys = {
	.ctx = &fk,
	.open = fk_open,
	.close = fk_close,
	.ioctl = fk_ioctl,
	.pread = fk_pread,
	.pwrite = fk_pwrite,
	.read = fk_read,
	.write = fk_write,
	.mmap = fk_mmap,
	.munmap = fk_munmap,
	.readlink = fk_readlink,
};

void fake_vfio__start(const struct fake_step *steps, size_t n)
{
	memset(&fk, 0, sizeof(fk));
	fake_vfio__more(steps, n);
}

void fake_vfio__more(const struct fake_step *steps, size_t n)
{
	assert_true(fk.nseg < MAX_SEGS);
	fk.seg[fk.nseg].steps = steps;
	fk.seg[fk.nseg].n = n;
	fk.nseg++;
}

void fake_vfio__done(void)
{
	while (fk.cur_seg < fk.nseg && fk.cur >= fk.seg[fk.cur_seg].n) {
		fk.cur_seg++;
		fk.cur = 0;
	}
	if (fk.cur_seg < fk.nseg)
		fail_msg("script not finished: next step is a %s (segment %zu "
			 "step %zu)", call_name(fk.seg[fk.cur_seg].steps[fk.cur].call),
			 fk.cur_seg, fk.cur);
	memset(&fk, 0, sizeof(fk));
}

size_t fake_vfio__calls(void)
{
	return fk.calls;
}
