/*
 * i8042.h: the PS/2 keyboard controller at ports 0x60/0x64, reduced to
 * what a guest needs to find it and to request a reset (command 0xfe),
 * which ends the VM cleanly with VM_STOP_RESET.
 */
#ifndef DEVICES_LEGACY_I8042_H
#define DEVICES_LEGACY_I8042_H

#include "devices/device.h"

extern const struct device_type i8042_type;

#endif /* DEVICES_LEGACY_I8042_H */
