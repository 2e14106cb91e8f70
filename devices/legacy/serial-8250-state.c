/*
 * serial-8250-state.c: the UART's registers and pending input in the
 * state tree: one u8 property per register, the pending input as a byte
 * array, with the checks a hand-edited or corrupted snapshot needs.
 */
#include "devices/legacy/serial-8250-state.h"

#include <string.h>

#include "migration/state-fdt-read.h"

/* Writable bits, as serial-8250.c masks them. */
#define IER_MASK 0x0f
#define MCR_MASK 0x1f
#define FCR_MASK 0xc1

static const struct state_field serial_fields[] = {
	STATE_FIELD(struct serial_state, ier),
	STATE_FIELD(struct serial_state, lcr),
	STATE_FIELD(struct serial_state, mcr),
	STATE_FIELD(struct serial_state, scr),
	STATE_FIELD(struct serial_state, fcr),
	STATE_FIELD(struct serial_state, dll),
	STATE_FIELD(struct serial_state, dlm),
	STATE_FIELD_NAMED("thri-pending", struct serial_state, thri_pending),
};

int serial_state__save(struct state_writer *w, const struct serial_state *s)
{
	uint32_t n = s->rx_count <= SERIAL_STATE_RX_MAX ? s->rx_count
						       : SERIAL_STATE_RX_MAX;

	state__put_fields(w, serial_fields, ARRAY_SIZE(serial_fields), s);
	state__put_bytes(w, "rx", s->rx, n);
	return state_writer__status(w);
}

int serial_state__load(struct state_reader *r, int node,
		       struct serial_state *s)
{
	size_t len;

	memset(s, 0, sizeof(*s));
	state__get_fields(r, node, serial_fields, ARRAY_SIZE(serial_fields), s);
	state__get_bytes_max(r, node, "rx", s->rx, SERIAL_STATE_RX_MAX, &len);
	if (state_reader__status(r))
		return state_reader__status(r);
	s->rx_count = (uint32_t)len;
	if (s->ier & ~IER_MASK)
		return state__fail(r, node, "ier 0x%02x has reserved bits set", s->ier);
	if (s->mcr & ~MCR_MASK)
		return state__fail(r, node, "mcr 0x%02x has reserved bits set", s->mcr);
	if (s->fcr & ~FCR_MASK)
		return state__fail(r, node, "fcr 0x%02x has reserved bits set", s->fcr);
	if (s->thri_pending > 1)
		return state__fail(r, node, "thri-pending is %u, not 0 or 1",
				   s->thri_pending);
	return 0;
}
