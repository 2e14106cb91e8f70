# tests/integration/snapshot-lib.sh: helpers for the snapshot tests
# (snapshot-*.sh). Source after lib.sh and api-lib.sh. Each VM gets a
# name: serial output $WORK/NAME.out, stderr $WORK/NAME.err, serial
# input the FIFO $WORK/NAME.in (held open), API socket $WORK/NAME.sock.

# The memtest guest, small so that cycles stay fast: 64 MiB rewritten
# and verified every pass, until a byte arrives on the serial input.
SNAP_GUEST=(--kernel "$GUEST" --memory 96M --cmdline "mode=memtest mem=64M passes=0")

# vm NAME FERRY-ARGS...: start ferry in the background with the API on
# $WORK/NAME.sock (sets VM_PID, VM_NAME; SOCK points at its socket).
vm() {
	local name=$1; shift
	start_vm "$name" "$@" --api-sock "$WORK/$name.sock"
	SOCK=$WORK/$name.sock
}

# last_pass NAME: the number of the last complete memtest pass line.
last_pass() {
	grep -o "memtest: pass [0-9]* ok" "$WORK/$1.out" 2>/dev/null |
		tail -1 | grep -o "[0-9]*" || echo 0
}

# wait_pass NAME N TIMEOUT_S: until pass N (or later) has been printed.
wait_pass() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(last_pass "$1")" -ge "$2" ] && return 0
		kill -0 "$VM_PID" 2>/dev/null || { dump "$1"; fail "$1: ferry exited waiting for pass $2"; }
		sleep 0.05
	done
	dump "$1"
	fail "$1: no memtest pass $2 within $3 s"
}

# snap NAME DIR [replace]: pause is the caller's job; PUT /snapshot/create.
snap() {
	local rep=false
	[ $# -ge 3 ] && rep=true
	SOCK=$WORK/$1.sock http PUT /snapshot/create \
		-H 'Content-Type: application/json' \
		-d "{\"path\": \"$2\", \"replace\": $rep}"
	[ "$code" = 200 ] || { dump "$1"; fail "$1: snapshot to $2: HTTP $code: $body"; }
}

# pause_vm NAME: PUT /vm/pause, must succeed.
pause_vm() {
	SOCK=$WORK/$1.sock http PUT /vm/pause
	[ "$code" = 200 ] || { dump "$1"; fail "$1: pause: HTTP $code: $body"; }
}

# kill_vm: SIGKILL the current VM and reap it.
kill_vm() {
	kill -9 "$VM_PID" 2>/dev/null || true
	wait "$VM_PID" 2>/dev/null || true
}

# check_run FILE...: the serial output of a chain of VMs (each restored
# from its predecessor's snapshot), concatenated, must read like one
# uninterrupted memtest run: every line well-formed (no duplicated or
# lost bytes across the cuts), passes numbered 1, 2, 3, ... without a
# gap or a restart, no MISMATCH. Prints the last pass number.
check_run() {
	local all=$WORK/chain.out n=0 p bad
	cat "$@" >"$all"
	bad=$(grep -vE '^memtest: (testing .*|initial fill done, gen 1|pass [0-9]+ ok, gen [0-9]+, [0-9]+ pages rewritten|stop requested after pass [0-9]+|final verify ok, gen [0-9]+|PASSED \([0-9]+ passes\))$' "$all" | head -3)
	[ -z "$bad" ] || fail "malformed serial output across restores: $bad"
	grep -q "MISMATCH\|FAILED" "$all" && fail "memtest found corruption"
	for p in $(grep -oE "^memtest: pass [0-9]+ ok" "$all" | grep -oE "[0-9]+"); do
		n=$((n + 1))
		[ "$p" = "$n" ] || fail "pass numbers jump from $((n - 1)) to $p across a restore"
	done
	echo "$n"
}
