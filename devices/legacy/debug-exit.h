/*
 * debug-exit.h: a test-harness port at 0xf4 compatible with QEMU's
 * isa-debug-exit: a write of value v stops the VM and ferry exits with
 * status (v << 1) | 1, so tests read the guest's verdict.
 */
#ifndef DEVICES_LEGACY_DEBUG_EXIT_H
#define DEVICES_LEGACY_DEBUG_EXIT_H

#include "devices/device.h"

#define DEBUG_EXIT_PORT 0xf4

extern const struct device_type debug_exit_type;

#endif /* DEVICES_LEGACY_DEBUG_EXIT_H */
