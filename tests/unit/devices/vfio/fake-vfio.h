/*
 * fake-vfio.h: a scripted stand-in for the kernel behind the kernel VFIO
 * backend's struct vfio_kernel_sys. A test lists the exact system calls
 * it expects, in order, each with the fd, path, ioctl number, offset and
 * length it must carry, the bytes the argument must start with, and the
 * canned answer (bytes written back, return value or errno). Any call
 * that is not the next step fails the test at once (cmocka fail_msg), so
 * a test proves both what the backend asked and what it did not.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_H
#define TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vfio_kernel_sys;

enum fake_call {
	FK_OPEN = 1,
	FK_CLOSE,
	FK_IOCTL,
	FK_PREAD,
	FK_PWRITE,
	FK_READ,
	FK_WRITE,
	FK_MMAP,
	FK_READLINK,
};

struct fake_step;

/*
 * Extra check/answer for a step: @arg is the call's pointer argument
 * (ioctl arg, rw buffer), @len its length where the call has one.
 * cmocka asserts inside; the step's ret/err still decide the result.
 */
typedef void (*fake_check_fn)(const struct fake_step *s, void *arg, size_t len);

struct fake_step {
	enum fake_call call;
	int fd;               /* expected fd (all but open/readlink) */
	const char *path;     /* open/readlink: expected path */
	int flags;            /* open: expected flags (0: not checked) */
	unsigned long req;    /* ioctl: expected request number */
	bool int_arg;         /* ioctl: arg is an int value, == ival */
	uintptr_t ival;
	const char *str_arg;  /* ioctl: arg is this C string */
	int64_t off;          /* pread/pwrite/mmap: expected offset */
	size_t len;           /* rw/mmap: expected length (0: not checked) */
	int prot;             /* mmap: expected prot */
	const void *in;       /* the argument must start with these bytes */
	size_t in_len;
	/*
	 * Bytes written back into the argument. ioctls: at most the argsz
	 * the caller put in the first u32 (as the kernel does); rw: at most
	 * the call's length.
	 */
	const void *out;
	size_t out_len;
	const char *link;     /* readlink: the link's target */
	fake_check_fn check;
	long ret;             /* result (open: fd; rw: byte count) */
	int err;              /* != 0: fail with -1 and this errno */
	void *ptr;            /* mmap: the address returned */
};

/* The fake's system-call table (ctx: the fake's own state). */
extern const struct vfio_kernel_sys fake_vfio_sys;

/* Arm a script of @n steps (borrowed until fake_vfio__done). */
void fake_vfio__start(const struct fake_step *steps, size_t n);

/* Append steps to the armed script (borrowed likewise). */
void fake_vfio__more(const struct fake_step *steps, size_t n);

/* Assert every step ran; then nothing is armed. */
void fake_vfio__done(void);

/* System calls seen since the last start. */
size_t fake_vfio__calls(void);

/* Step shorthands. */
#define FK_OPEN_OK(p, f) { .call = FK_OPEN, .path = (p), .ret = (f) }
#define FK_OPEN_ERR(p, e) { .call = FK_OPEN, .path = (p), .err = (e) }
#define FK_CLOSE_OK(f) { .call = FK_CLOSE, .fd = (f) }
#define FK_N(a) (sizeof(a) / sizeof((a)[0]))

#endif /* TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_H */
