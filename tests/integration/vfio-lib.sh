# tests/integration/vfio-lib.sh: helpers for the VFIO passthrough tests
# (vfio-*.sh): ferry-testdev device servers next to ferry and the test
# guest's mode=vfio. Source after lib.sh.

TESTDEV=${TESTDEV:-$BUILD_DIR/tools/testdev/ferry-testdev}
[ -x "$TESTDEV" ] || fail "ferry-testdev not built at $TESTDEV"

# start_testdev NAME [ARGS...]: serve a device on $WORK/NAME.sock (log in
# $WORK/NAME.td.log); waits for the socket. The pid is in TD_PID[NAME].
declare -A TD_PID
start_testdev() {
	local name=$1 i; shift
	"$TESTDEV" --socket "$WORK/$name.sock" "$@" 2>"$WORK/$name.td.log" &
	TD_PID[$name]=$!
	cleanup_hooks+=("kill ${TD_PID[$name]} 2>/dev/null")
	for ((i = 0; i < 100; i++)); do
		[ -S "$WORK/$name.sock" ] && return 0
		kill -0 "${TD_PID[$name]}" 2>/dev/null ||
			{ cat "$WORK/$name.td.log"; fail "ferry-testdev $name exited"; }
		sleep 0.1
	done
	fail "ferry-testdev $name: no socket after 10 s"
}

# vfio_arg NAME: ferry's option for testdev NAME as device NAME.
vfio_arg() {
	echo "--vfio-user=id=$1,socket=$WORK/$1.sock"
}

# expect_err PATTERN WHAT: ferry's stderr ($WORK/err) must match.
expect_err() {
	grep -qE "$1" "$WORK/err" || {
		echo "--- stderr"; tail -20 "$WORK/err"
		fail "$2: stderr lacks /$1/"
	}
}
