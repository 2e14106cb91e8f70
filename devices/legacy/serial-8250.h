/*
 * serial-8250.h: the 8250/16550 UART at COM1 (0x3f8, IRQ 4), ferry's
 * console. Output goes to stdout, a file, or nowhere (per the VM
 * configuration); input comes from ferry's stdin.
 */
#ifndef DEVICES_LEGACY_SERIAL_8250_H
#define DEVICES_LEGACY_SERIAL_8250_H

#include "devices/device.h"

#define SERIAL_8250_BASE 0x3f8
#define SERIAL_8250_IRQ 4

extern const struct device_type serial_8250_type;

#endif /* DEVICES_LEGACY_SERIAL_8250_H */
