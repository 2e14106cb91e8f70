#!/usr/bin/env bash
# vfio-device-killed.sh: the device server dies under a running guest.
# ferry must not crash: it logs one line naming the failed device, the
# API keeps answering, the guest then reads all ones from the device and
# reports the failure itself, and ferry ends with the guest's failure
# status (3), not a signal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/vfio-lib.sh"

start_testdev vfio0
start_vm vm --kernel "$GUEST" --cmdline "mode=vfio passes=0 dma=64K" \
	"$(vfio_arg vfio0)" --api-sock "$SOCK"
wait_sock "$SOCK" 60
wait_for_line "$WORK/vm.out" "^vfio: pass 3 ok" 120 || { dump vm; fail "no progress"; }
pass "guest drives the device"

# Pause, kill the server, check the API, resume into the dead device.
ctl pause
[ "$status" = 0 ] || fail "pause: $err"
kill -9 "${TD_PID[vfio0]}"
wait "${TD_PID[vfio0]}" 2>/dev/null || true
http GET /vm
expect_http 200 "GET /vm with the device server gone" '"state": *"paused"'
ctl resume
[ "$status" = 0 ] || fail "resume: $err"
wait_exit "$VM_PID" 120
[ "$status" = 3 ] || { dump vm; fail "exit status $status, expected 3 (guest failure)"; }
grep -qE "vfio0: device failed \(.*\); the guest now reads all ones" "$WORK/vm.err" ||
	{ dump vm; fail "no device-failed line"; }
[ "$(grep -cE '(error|warn): vfio0: device failed' "$WORK/vm.err")" = 1 ] ||
	{ dump vm; fail "not exactly one device-failed line for vfio0"; }
grep -qE "^vfio: .*stopped responding|^vfio: .*FAILED" "$WORK/vm.out" ||
	{ dump vm; fail "the guest did not report the dead device"; }
pass "device failure logged once, API answered, guest saw all ones: $(grep -m1 -E 'stopped responding|FAILED' "$WORK/vm.out")"

# Again without the pause: the server dies while the vCPU is mid-access.
start_testdev vfio1
start_vm vm2 --kernel "$GUEST" --cmdline "mode=vfio passes=0 dma=64K" \
	"$(vfio_arg vfio1)"
wait_for_line "$WORK/vm2.out" "^vfio: pass 3 ok" 120 || { dump vm2; fail "vm2: no progress"; }
kill -9 "${TD_PID[vfio1]}"
wait_exit "$VM_PID" 120
[ "$status" = 3 ] || { dump vm2; fail "vm2: exit status $status, expected 3"; }
[ "$(grep -cE '(error|warn): vfio1: device failed' "$WORK/vm2.err")" = 1 ] ||
	{ dump vm2; fail "vm2: not exactly one device-failed line"; }
pass "server killed under a running guest: ferry logged it and ended with the guest's verdict"
