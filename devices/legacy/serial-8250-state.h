/*
 * serial-8250-state.h: the guest-visible state of the 8250/16550 UART
 * as plain data, and its encoding in the state tree. The receive ring
 * is saved in order, oldest byte first. The interrupt line level is not
 * saved: the device recomputes it from this state after a load.
 */
#ifndef DEVICES_LEGACY_SERIAL_8250_STATE_H
#define DEVICES_LEGACY_SERIAL_8250_STATE_H

#include <stdint.h>

struct state_writer;
struct state_reader;

/* Same size as serial-8250.c's input ring (SERIAL_RX_RING). */
#define SERIAL_STATE_RX_MAX 1024

struct serial_state {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	uint8_t thri_pending;  /* 0 or 1 */
	uint32_t rx_count;     /* bytes waiting in rx[0..rx_count) */
	uint8_t rx[SERIAL_STATE_RX_MAX];
};

/* Write @s into the open node of @w. Returns the writer's status. */
int serial_state__save(struct state_writer *w, const struct serial_state *s);

/*
 * Read node @node into @s (zeroed first) and check it: IER/MCR/FCR
 * reserved bits clear, rx_count <= SERIAL_STATE_RX_MAX and equal to the
 * length of the saved bytes. Returns 0 or -EINVAL with the message in
 * the reader.
 */
int serial_state__load(struct state_reader *r, int node,
		       struct serial_state *s);

#endif /* DEVICES_LEGACY_SERIAL_8250_STATE_H */
