/*
 * modes.h: the guest's modes, selected by the mode= command-line word.
 * Each takes the parsed start info and command line, fetches its own
 * words, and returns true for success; main.c turns that into the exit.
 */
#ifndef GUEST_MODES_H
#define GUEST_MODES_H

#include <stdbool.h>
#include <stdint.h>

struct boot_info;
struct cmdline;

/* mode=memtest (memtest.c). */
bool memtest__run(const struct boot_info *bi, struct cmdline *cl);

/* mode=smp on the BSP (smp.c). */
bool smp__run(const struct boot_info *bi, struct cmdline *cl);

/* mode=vfio: drive ferry-testdev devices (vfio.c). */
bool vfio__run(const struct boot_info *bi, struct cmdline *cl);

/* mode=vfio-bench: time trapped, mapped, DMA and interrupt paths (vfio-bench.c). */
bool vfio_bench__run(const struct boot_info *bi, struct cmdline *cl);

/* mode=pio-bench: average port-I/O exit round trip (pio-bench.c). */
bool pio_bench__run(const struct boot_info *bi, struct cmdline *cl);

/* An AP that reached CPL3 in slot @slot checks in (smp.c); never returns. */
void smp__ap_main(uint32_t slot) __attribute__((noreturn));

#endif /* GUEST_MODES_H */
