# tests/integration/lib.sh: helpers for integration scripts. Source it.
# Environment (set by meson's integ_env): FERRY, BUILD_DIR, SOURCE_DIR.
# Scripts exit 77 (meson: skipped) when /dev/kvm is missing.

set -u
: "${FERRY:?FERRY must point at the ferry binary}"
: "${BUILD_DIR:?}"
GUEST=${GUEST:-$BUILD_DIR/tests/guest/ferry-guest.elf}

if [ ! -c /dev/kvm ]; then
	echo "SKIP: /dev/kvm is missing: this test needs KVM" >&2
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")
cleanup_hooks=()
cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	# FERRY_TEST_KEEP=1 keeps the logs of a run for a look afterwards.
	if [ -n "${FERRY_TEST_KEEP:-}" ]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# run_guest TIMEOUT_S ARGS...: run ferry with a bounded time; output in
# $WORK/out (serial on stdout) and $WORK/err; sets $status.
run_guest() {
	local t=$1; shift
	status=0
	timeout --signal=KILL "$t" "$FERRY" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
}

# expect_status WANT WHAT: compare $status, dump output on mismatch.
expect_status() {
	if [ "$status" -ne "$1" ]; then
		echo "--- stdout"; tail -20 "$WORK/out"; echo "--- stderr"; tail -20 "$WORK/err"
		fail "$2: exit status $status, expected $1"
	fi
}

# expect_out PATTERN WHAT: the serial output must match (grep -E).
expect_out() {
	grep -qE "$1" "$WORK/out" || {
		echo "--- stdout"; tail -20 "$WORK/out"; echo "--- stderr"; tail -20 "$WORK/err"
		fail "$2: output lacks /$1/"
	}
}

# wait_for_line FILE PATTERN TIMEOUT_S: poll a growing file.
wait_for_line() {
	local f=$1 pat=$2 t=$3 i
	for ((i = 0; i < t * 10; i++)); do
		grep -qE "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
