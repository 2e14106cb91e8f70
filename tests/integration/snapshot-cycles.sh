#!/usr/bin/env bash
# snapshot-cycles.sh: 20 consecutive snapshot -> SIGKILL -> restore
# cycles of the memtest guest, alternating lazy and copied memory, the
# snapshot replaced in place each time (a lazily restored VM runs from
# the very snapshot it then replaces). Every cycle the guest runs a few
# more passes; at the end its full verification must pass and the
# serial output of all 21 VMs must read like one uninterrupted run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"

CYCLES=${CYCLES:-20}
SNAP=$WORK/snap

vm c0 "${SNAP_GUEST[@]}"
wait_sock "$SOCK" 60
wait_pass c0 2 120
outs=("$WORK/c0.out")
t0=$(date +%s%N)
for ((i = 1; i <= CYCLES; i++)); do
	prev=c$((i - 1))
	pause_vm "$prev"
	n=$(last_pass "$prev")
	if [ "$i" = 1 ]; then snap "$prev" "$SNAP"; else snap "$prev" "$SNAP" replace; fi
	kill_vm
	if ((i % 2)); then mode=lazy; else mode=copy; fi
	if ((i % 5 == 0)); then
		# Every fifth: restored paused, resumed through the API.
		vm "c$i" --restore "$SNAP" --restore-mode "$mode"
		wait_sock "$SOCK" 30
		ctl resume
		[ "$status" = 0 ] || fail "cycle $i: resume: $err"
	else
		vm "c$i" --restore "$SNAP" --restore-mode "$mode" --resume
		wait_sock "$SOCK" 30
	fi
	wait_pass "c$i" $((n + 2)) 60
	outs+=("$WORK/c$i.out")
done
t1=$(date +%s%N)
pass "$CYCLES cycles in $(( (t1 - t0) / 1000000 )) ms, now at pass $(last_pass "c$CYCLES")"

echo x >"$WORK/c$CYCLES.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump "c$CYCLES"; fail "final verify: exit status $status, expected 1"; }
total=$(check_run "${outs[@]}")
pass "final verify ok after $CYCLES restores; $total passes numbered 1..$total across all VMs"
