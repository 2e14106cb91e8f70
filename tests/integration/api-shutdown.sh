#!/usr/bin/env bash
# api-shutdown.sh: PUT /vm/shutdown (through ferryctl, then curl, also
# on a paused VM) makes ferry exit 0 and remove its socket; a live
# socket is never taken over by a second ferry; a stale one (ferry
# killed) is replaced; a non-socket file is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"

start_vm a "${MEMTEST[@]}" --api-sock "$SOCK"
wait_sock "$SOCK" 60
pid_a=$VM_PID

# A second ferry on the same live socket must refuse and leave it alone.
status=0
timeout 60 "$FERRY" "${MEMTEST[@]}" --api-sock "$SOCK" >"$WORK/b.out" 2>"$WORK/b.err" </dev/null || status=$?
[ "$status" != 0 ] || fail "second ferry started on a live socket"
grep -q "in use" "$WORK/b.err" || { cat "$WORK/b.err"; fail "no clear error for a live socket"; }
[ "$(vm_state)" = running ] || fail "first VM disturbed"
pass "live socket refused (exit $status): $(grep -m1 'in use' "$WORK/b.err")"

ctl shutdown
[ "$status" = 0 ] && [ "$out" = "VM shutting down" ] || fail "ferryctl shutdown: $status $out $err"
t0=$(date +%s%N)
wait_exit "$pid_a" 60
echo "ferry exited $(( ($(date +%s%N) - t0) / 1000000 )) ms after the shutdown answer"
[ "$status" = 0 ] || { dump a; fail "exit status $status after ferryctl shutdown"; }
[ -e "$SOCK" ] && fail "socket left behind"
pass "ferryctl shutdown: exit 0, socket removed"

# curl, on a paused VM.
start_vm c "${MEMTEST[@]}" --api-sock "$SOCK"
wait_sock "$SOCK" 60
http PUT /vm/pause; expect_http 200 "pause before shutdown"
http PUT /vm/shutdown; expect_http 200 "curl shutdown" '"state": "stopping"'
wait_exit "$VM_PID" 60
[ "$status" = 0 ] || { dump c; fail "exit status $status after curl shutdown"; }
[ -e "$SOCK" ] && fail "socket left behind (curl)"
pass "curl shutdown of a paused VM: exit 0, socket removed"

# A killed ferry leaves a stale socket; the next one replaces it.
start_vm d "${MEMTEST[@]}" --api-sock "$SOCK"
wait_sock "$SOCK" 60
kill -9 "$VM_PID"; wait "$VM_PID" 2>/dev/null || true
[ -S "$SOCK" ] || fail "expected a stale socket after kill -9"
start_vm e "${MEMTEST[@]}" --api-sock "$SOCK"
wait_sock "$SOCK" 60
grep -q "removed stale socket" "$WORK/e.err" || fail "stale socket not reported"
ctl shutdown; wait_exit "$VM_PID" 60
[ "$status" = 0 ] || fail "exit status $status (after stale)"
pass "stale socket replaced"

# A regular file at the path is never replaced.
echo keep >"$WORK/file.sock"
status=0
timeout 60 "$FERRY" "${MEMTEST[@]}" --api-sock "$WORK/file.sock" >/dev/null 2>"$WORK/f.err" </dev/null || status=$?
[ "$status" != 0 ] || fail "ferry replaced a regular file"
[ "$(cat "$WORK/file.sock")" = keep ] || fail "regular file modified"
pass "regular file refused (exit $status): $(head -1 "$WORK/f.err")"
