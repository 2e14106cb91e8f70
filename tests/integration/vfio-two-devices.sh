#!/usr/bin/env bash
# vfio-two-devices.sh: two ferry-testdev devices at once. Each gets its
# own slot, BARs, MSI route and interrupt vector in the guest; mode=vfio
# drives both every pass and checks each device's own digest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vfio-lib.sh"

start_testdev vfio0
start_testdev vfio1 --mem-size 16M
run_guest 300 --kernel "$GUEST" --cmdline "mode=vfio passes=3 devices=2" \
	"$(vfio_arg vfio0)" "$(vfio_arg vfio1)" --log-level debug
expect_status 1 "mode=vfio devices=2"
expect_out "^vfio: 00:01.0 pass 3/3 ok" "device 00:01.0"
expect_out "^vfio: 00:02.0 pass 3/3 ok" "device 00:02.0"
expect_out "^vfio: PASSED \(3 passes, 2 devices\)" "verdict"
expect_err "vfio0: PCI slot 1" "first device in slot 1"
expect_err "vfio1: PCI slot 2" "second device in slot 2"
g0=$(sed -nE 's/.*vfio0: vector 0 -> GSI ([0-9]+) \(irqfd\).*/\1/p' "$WORK/err" | head -1)
g1=$(sed -nE 's/.*vfio1: vector 0 -> GSI ([0-9]+) \(irqfd\).*/\1/p' "$WORK/err" | head -1)
[ -n "$g0" ] && [ -n "$g1" ] && [ "$g0" != "$g1" ] ||
	fail "each device needs its own MSI route (GSIs '$g0' '$g1')"
grep -q "device failed" "$WORK/err" && fail "a device failed"
pass "two devices, GSIs $g0 and $g1, 3 passes each"
