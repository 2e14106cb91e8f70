#!/usr/bin/env bash
# exit-status.sh: each way a VM ends gives its documented exit status,
# and bad input gets one clear line on stderr.
#   1/3 guest verdict via debug-exit, 2 usage, 6 SIGTERM/SIGINT,
#   10 cannot start (bad kernel image), input on the serial port.
. "$(dirname "$0")/lib.sh"

# Usage errors: exit 2, one line, naming the problem.
run_guest 10 --kernel "$GUEST" --vcpus 0
expect_status 2 "--vcpus 0"
grep -q -- "--vcpus '0'" "$WORK/err" || fail "--vcpus 0: unclear error: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "usage error is not one line"
run_guest 10 --kernel "$GUEST" --memory 12Q
expect_status 2 "--memory 12Q"
run_guest 10 --cmdline "mode=hello"
expect_status 2 "no --kernel"
run_guest 10 --kernel "$GUEST" --no-such-flag
expect_status 2 "unknown flag"
pass "usage errors exit 2"

# Bad kernels: exit 10 with a message naming the file.
run_guest 10 --kernel "$WORK/missing.elf"
expect_status 10 "missing kernel"
grep -q "missing.elf" "$WORK/err" || fail "missing kernel: error does not name the file"
head -c 700 "$GUEST" >"$WORK/truncated.elf"
run_guest 10 --kernel "$WORK/truncated.elf"
expect_status 10 "truncated kernel"
printf 'this is not a kernel\n' >"$WORK/text.bin"
run_guest 10 --kernel "$WORK/text.bin"
expect_status 10 "text file as kernel"
pass "bad kernel images exit 10"

# The guest's own failure verdict propagates: (1 << 1) | 1 = 3.
run_guest 30 --kernel "$GUEST" --cmdline "mode=no-such-mode"
expect_status 3 "unknown guest mode"
pass "guest failure exits 3"

# SIGTERM stops a running guest: exit 6.
rm -f "$WORK/out"
"$FERRY" --kernel "$GUEST" --cmdline "mode=memtest mem=8M passes=0" \
	>"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_for_line "$WORK/out" "pass 1" 60 || fail "memtest did not start"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
expect_status 6 "SIGTERM"
pass "SIGTERM exits 6"

# A byte on the serial input ends memtest passes=0 with its verdict.
mkfifo "$WORK/in"
rm -f "$WORK/out"
"$FERRY" --kernel "$GUEST" --cmdline "mode=memtest mem=8M passes=0" \
	<"$WORK/in" >"$WORK/out" 2>"$WORK/err" &
pid=$!
exec 3>"$WORK/in"
wait_for_line "$WORK/out" "pass 2" 60 || fail "memtest did not run"
printf 'q' >&3
status=0
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "guest ignored serial input"; }
wait "$pid" || status=$?
exec 3>&-
expect_status 1 "memtest stopped by serial input"
pass "serial input reaches the guest"

# A guest reset request (i8042 pulse reset) ends the VM: exit 4.
run_guest 30 --kernel "$GUEST" --cmdline "mode=reset"
expect_status 4 "guest reset"
expect_out "requesting reset" "guest reset"
pass "guest reset exits 4"

# A guest exception is reported by the guest and fails it; ferry survives.
run_guest 30 --kernel "$GUEST" --cmdline "mode=selftest-fault fault=pf"
expect_status 3 "guest page fault"
expect_out "EXCEPTION #PF" "guest page fault"
pass "guest exception reported"

# Closed standard fds: ferry must not end up using /dev/kvm as its console.
status=0
timeout --signal=KILL 30 "$FERRY" --kernel "$GUEST" --cmdline "mode=hello" <&- >"$WORK/out" 2>"$WORK/err" || status=$?
expect_status 1 "closed stdin"
expect_out "hello" "closed stdin"
status=0
timeout --signal=KILL 30 "$FERRY" --kernel "$GUEST" --cmdline "mode=hello" >&- 2>"$WORK/err" </dev/null || status=$?
expect_status 1 "closed stdout"
pass "closed stdin or stdout: the guest still runs and reports"
