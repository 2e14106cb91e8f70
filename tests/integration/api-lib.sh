# tests/integration/api-lib.sh: helpers for the API tests (api-*.sh).
# Source after lib.sh. Starts ferry in the background with the test
# guest and an API socket, and talks to it through ferryctl and curl.

FERRYCTL=${FERRYCTL:-$BUILD_DIR/tools/ferryctl/ferryctl}
SOCK=$WORK/api.sock
[ -x "$FERRYCTL" ] || fail "ferryctl not built at $FERRYCTL"
command -v curl >/dev/null || fail "curl is needed"
command -v jq >/dev/null || fail "jq is needed"

# The memtest guest: one progress line per pass, until a byte arrives
# on its serial input.
MEMTEST=(--kernel "$GUEST" --memory 128M --cmdline "mode=memtest mem=64M passes=0")

# start_vm NAME FERRY-ARGS...: run ferry in the background. Serial
# output in $WORK/NAME.out, stderr in $WORK/NAME.err, its stdin a FIFO
# held open (write to it to talk to the guest); $VM_PID is its pid.
start_vm() {
	local name=$1 fd; shift
	mkfifo "$WORK/$name.in"
	exec {fd}<>"$WORK/$name.in"
	"$FERRY" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" <"$WORK/$name.in" &
	VM_PID=$!
	VM_NAME=$name
	cleanup_hooks+=("kill -9 $VM_PID 2>/dev/null")
}

# dump NAME: show the end of a VM's output (on failure).
dump() {
	echo "--- $1 serial"; tail -15 "$WORK/$1.out"
	echo "--- $1 stderr"; tail -15 "$WORK/$1.err"
}

# wait_sock PATH TIMEOUT_S: until the API answers GET /version.
wait_sock() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		curl -sf --unix-socket "$1" http://localhost/version >/dev/null 2>&1 && return 0
		kill -0 "$VM_PID" 2>/dev/null || { dump "$VM_NAME"; fail "ferry exited before serving $1"; }
		sleep 0.1
	done
	dump "$VM_NAME"
	fail "no API on $1 after $2 s"
}

# wait_exit PID TIMEOUT_S: wait for ferry to exit; sets $status.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && { dump "$VM_NAME"; fail "ferry still running after $2 s"; }
	status=0
	wait "$1" || status=$?
}

# http METHOD PATH [CURL-ARGS...]: one request with curl; sets $code
# (HTTP status) and $body.
http() {
	local m=$1 p=$2; shift 2
	code=$(curl -sS --unix-socket "$SOCK" -X "$m" -o "$WORK/body" \
		-w '%{http_code}' "$@" "http://localhost$p") || code=000
	body=$(cat "$WORK/body" 2>/dev/null || true)
}

# expect_http WANT WHAT [BODY-PATTERN]
expect_http() {
	[ "$code" = "$1" ] || fail "$2: HTTP $code, expected $1 (body: $body)"
	if [ $# -ge 3 ]; then
		grep -qE -- "$3" <<<"$body" || fail "$2: body lacks /$3/: $body"
	fi
}

# ctl ARGS...: run ferryctl against $SOCK; sets $status, $out, $err.
ctl() {
	status=0
	"$FERRYCTL" --api-sock "$SOCK" "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err" || status=$?
	out=$(cat "$WORK/ctl.out"); err=$(cat "$WORK/ctl.err")
}

# passes NAME: memtest progress lines printed so far.
passes() {
	grep -c "memtest: pass [0-9]* ok" "$WORK/$1.out" || true
}

# vm_state: the state GET /vm reports.
vm_state() {
	curl -sS --unix-socket "$SOCK" http://localhost/vm | jq -r .state
}
