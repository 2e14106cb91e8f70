#!/usr/bin/env bash
# api-pause.sh: pause really stops the guest: the memtest guest's
# progress lines stand still while paused, and resume continues them.
# Measures how long PUT /vm/pause takes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"

start_vm vm "${MEMTEST[@]}" --api-sock "$SOCK"
wait_sock "$SOCK" 60
wait_for_line "$WORK/vm.out" "memtest: pass 2 ok" 120 || { dump vm; fail "memtest made no progress"; }

# Baseline: lines keep coming while running.
n0=$(passes vm)
for ((i = 0; i < 300; i++)); do [ "$(passes vm)" -gt "$n0" ] && break; sleep 0.1; done
[ "$(passes vm)" -gt "$n0" ] || { dump vm; fail "no progress while running"; }
pass "memtest progresses while running"

for round in 1 2; do
	t0=$(date +%s%N)
	ctl pause
	t1=$(date +%s%N)
	[ "$status" = 0 ] || fail "pause $round: $err"
	echo "pause $round answered in $(( (t1 - t0) / 1000000 )) ms (ferryctl round trip)"
	[ "$(vm_state)" = paused ] || fail "state after pause $round"
	n1=$(passes vm)
	bytes1=$(stat -c %s "$WORK/vm.out")
	sleep 3
	n2=$(passes vm)
	bytes2=$(stat -c %s "$WORK/vm.out")
	[ "$n1" = "$n2" ] && [ "$bytes1" = "$bytes2" ] ||
		fail "guest ran while paused: $n1 -> $n2 lines, $bytes1 -> $bytes2 bytes"
	pass "round $round: no guest output for 3 s while paused (stuck at pass $n2)"

	# Uptime keeps counting while paused (wall time since first run).
	ctl resume
	[ "$status" = 0 ] || fail "resume $round: $err"
	[ "$(vm_state)" = running ] || fail "state after resume $round"
	for ((i = 0; i < 300; i++)); do [ "$(passes vm)" -gt "$n2" ] && break; sleep 0.1; done
	[ "$(passes vm)" -gt "$n2" ] || { dump vm; fail "no progress after resume $round"; }
	pass "round $round: resumed, memtest continues (pass $(passes vm))"
done

# The guest verifies its memory every pass: nothing was lost across pauses.
grep -q "MISMATCH\|FAILED" "$WORK/vm.out" && { dump vm; fail "memtest found corruption"; }

# Stop the guest cleanly: a byte on its serial input ends memtest.
echo x >"$WORK/vm.in"
wait_exit "$VM_PID" 120
grep -q "memtest: final verify ok" "$WORK/vm.out" || { dump vm; fail "final verify"; }
pass "final verify after pauses ok (exit status $status)"
