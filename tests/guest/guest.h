/*
 * guest.h: declarations shared by the test guest's C files: the entry
 * from entry.S, the exit path through the debug-exit port, image
 * bounds from guest.lds and a few arithmetic helpers. The guest is
 * freestanding: no libc, only <stdint.h>, <stddef.h>, <stdbool.h> and
 * <stdarg.h>, plus the mem* functions in lib.c that the compiler may call.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB (1024UL)
#define MiB (1024UL * KiB)
#define GiB (1024UL * MiB)
#define PAGE_SIZE 4096UL
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* Bounds of the loaded image including .bss and all stacks (guest.lds). */
extern char _image_start[], _image_end[];

/*
 * CPL3 entry from entry.S. @slot is 0 on the BSP and the AP's claimed
 * slot otherwise; @start_info is the hvm_start_info paddr (BSP only).
 */
void guest__main(uint32_t slot, uint32_t start_info);

/*
 * Write 0 (@ok) or 1 to the debug-exit port, so the VMM exits with
 * status 1 or 3. If the write returns (no such device), the VM is reset
 * by a triple fault (QEMU with -no-reboot then exits with status 0).
 */
__noreturn void guest__exit(bool ok);

/* Halt this CPU for good (APs after checking in); entry.S. */
__noreturn void guest__park(void);

/*
 * Set or clear RFLAGS.IF of the calling CPL3 code (entry.S; CPL3 cannot
 * run sti/cli here, so CPL0 does it on request, ~25 us). Enable only
 * after the xAPIC and the IDT vectors in use are ready.
 */
void guest__irq_enable(void);
void guest__irq_disable(void);

/*
 * Per device-interrupt vector IRQ_VECTOR_BASE + k (layout.h): how many
 * interrupts arrived, and the TSC when the last one's handler ran.
 * Written by the CPL0 handlers in tables.S; read them as volatile.
 */
extern uint32_t irq_count[];
extern uint64_t irq_tsc[];

/* Print "ferry-guest: error: ..." and exit with failure. */
__noreturn void guest__fail(const char *fmt, ...) __printf(1, 2);

/* lib.c: the functions GCC may emit calls to even when freestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif /* GUEST_GUEST_H */
