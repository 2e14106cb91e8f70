/*
 * serial.h: output to and input from COM1 (0x3f8). Messages are
 * formatted into a buffer, then written one OUT per byte (each is a VM
 * exit, ~30 us from CPL3, so output is kept short); the UARTs of ferry
 * and QEMU are always ready, so the line status is never polled on output. Output from several CPUs is
 * serialised by a spinlock, one message at a time.
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "guest.h"

/* Longest message serial__printf() emits; longer output is truncated. */
#define SERIAL_LINE_MAX 256

/*
 * Format like printf into @buf (always NUL-terminated when @size > 0).
 * Supports %s %c %d %u %x %p and %%, the l/ll/z length modifiers, a
 * '0' flag and a field width. Returns the length written.
 */
size_t serial__vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* serial__vformat() with variable arguments. */
size_t serial__snprintf(char *buf, size_t size, const char *fmt, ...)
	__printf(3, 4);

/* Write @len raw bytes to COM1 (no lock). */
void serial__write(const char *buf, size_t len);

/* Format and write one message under the output lock. */
void serial__printf(const char *fmt, ...) __printf(1, 2);

/* Same without taking the lock: for the CPL0 fault path only. */
void serial__printf_nolock(const char *fmt, ...) __printf(1, 2);

/* True when COM1 holds a received byte (one port read: a VM exit). */
bool serial__input_ready(void);

/* Read and drop one received byte. */
void serial__drain(void);

#endif /* GUEST_SERIAL_H */
