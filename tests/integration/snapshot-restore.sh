#!/usr/bin/env bash
# snapshot-restore.sh: the memtest guest survives snapshot -> SIGKILL ->
# restore. It is paused and snapshotted over the API (a snapshot of a
# running VM is refused with 409), ferry is killed with SIGKILL, and a
# new ferry restores it: once lazily with --resume, once copied and
# paused, resumed with ferryctl. The guest keeps verifying all of its
# memory every pass; its pass counter continues where it stopped, and
# its final full verification passes (exit status 1 = guest success).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"

SNAP=$WORK/snap

vm v0 "${SNAP_GUEST[@]}"
wait_sock "$SOCK" 60
wait_pass v0 3 120

# A running VM cannot be snapshotted: 409 with the reason.
http PUT /snapshot/create -H 'Content-Type: application/json' -d "{\"path\": \"$SNAP\"}"
expect_http 409 "snapshot while running" "pause it first"
[ ! -e "$SNAP" ] || fail "a refused snapshot left $SNAP behind"
pass "snapshot of a running VM: 409 ($body)"

pause_vm v0
n0=$(last_pass v0)
snap v0 "$SNAP"
jq -e '.state == "succeeded" and .operation == "snapshot" and .total_bytes == 100663296' <<<"$body" >/dev/null ||
	fail "snapshot reply: $body"
kill_vm
pass "snapshot at pass $n0, source killed with SIGKILL"

# 1: lazy restore, running at once.
vm v1 --restore "$SNAP" --resume
wait_sock "$SOCK" 30
[ "$(vm_state)" = running ] || fail "restored with --resume but $(vm_state)"
wait_pass v1 $((n0 + 3)) 60
first=$(grep -oE "memtest: pass [0-9]+ ok" "$WORK/v1.out" | head -1 | grep -oE "[0-9]+")
# n0 + 2 when the pause cut pass n0+1's line: its start is in v0.out and
# this file begins with the rest of it (check_run verifies the join).
[ "$first" -le $((n0 + 2)) ] && [ "$first" -gt "$n0" ] ||
	fail "restored guest's first full pass line is $first, source stopped after $n0"
check_run "$WORK/v0.out" "$WORK/v1.out" >/dev/null
pass "lazy restore --resume: memtest continues at pass $first (source stopped after $n0)"

pause_vm v1
n1=$(last_pass v1)
snap v1 "$SNAP" replace
kill_vm

# 2: copied restore, paused until ferryctl resume.
vm v2 --restore "$SNAP" --restore-mode copy
wait_sock "$SOCK" 30
[ "$(vm_state)" = paused ] || fail "restored without --resume but $(vm_state)"
sleep 1
[ ! -s "$WORK/v2.out" ] || fail "a VM restored paused printed: $(head -c 200 "$WORK/v2.out")"
ctl resume
[ "$status" = 0 ] || fail "ferryctl resume: $err"
wait_pass v2 $((n1 + 3)) 60
pass "copy restore, paused, ferryctl resume: memtest continues after pass $n1"

# The end: a byte on the serial input, then a full verify of 64 MiB.
echo x >"$WORK/v2.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump v2; fail "final verify: exit status $status, expected 1"; }
grep -q "memtest: final verify ok" "$WORK/v2.out" || { dump v2; fail "no final verify"; }
total=$(check_run "$WORK/v0.out" "$WORK/v1.out" "$WORK/v2.out")
pass "final verify ok after 2 restores; $total passes numbered without a gap or restart"
