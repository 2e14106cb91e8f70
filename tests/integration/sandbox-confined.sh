#!/usr/bin/env bash
# sandbox-confined.sh: a running VM (2 vCPUs, API socket) has every
# thread in seccomp filter mode with no capabilities, in the default
# kill mode; --seccomp=trap reports nothing while the guest works; and
# --chroot/--user give a jailer-style start.
. "$(dirname "$0")/lib.sh"
CHECK="$SOURCE_DIR/tools/seccomp/check-confined.sh"

start_vm() {
	local i
	# Fresh files: the previous VM's output must not satisfy the waits below.
	rm -f "$WORK/out" "$WORK/err"
	"$FERRY" --kernel "$GUEST" --vcpus 2 --api-sock "$WORK/api.sock" \
		--cmdline "mode=memtest mem=8M passes=0" "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	cleanup_hooks+=("kill -KILL $pid 2>/dev/null")
	wait_for_line "$WORK/out" "pass 2" 60 || { cat "$WORK/err"; fail "guest did not run"; }
	# The API thread exists once the socket answers.
	for ((i = 0; i < 50; i++)); do
		curl -s --unix-socket "$WORK/api.sock" http://localhost/version >/dev/null && return 0
		sleep 0.1
	done
	fail "API socket does not answer"
}

stop_vm() {
	curl -s -X PUT --unix-socket "$WORK/api.sock" http://localhost/vm/shutdown >/dev/null
	status=0; wait "$pid" || status=$?
	expect_status 0 "shutdown of a sandboxed VM"
	[ ! -e "$WORK/api.sock" ] || fail "API socket left behind by a sandboxed VM"
}

start_vm
"$CHECK" "$pid" >"$WORK/confined" || { cat "$WORK/confined"; fail "a thread is not confined"; }
n=$(grep -c ": ok$" "$WORK/confined")
# main + 2 vCPUs + API at least
[ "$n" -ge 4 ] || { cat "$WORK/confined"; fail "expected >= 4 threads, saw $n"; }
stop_vm
pass "all $n threads confined in kill mode; clean shutdown removes the socket"

start_vm --seccomp trap
sleep 1
stop_vm
grep -q "seccomp" "$WORK/err" && { cat "$WORK/err"; fail "trap mode reported a syscall"; }
pass "trap mode: no forbidden syscall during a run"

# Jailer-style start: chroot into an empty directory, run as nobody.
# The API socket's directory must be writable by the new user, who
# removes the socket at exit.
mkdir -p "$WORK/jail"
chmod 755 "$WORK" "$WORK/jail"
chown 65534:65534 "$WORK"
start_vm --chroot "$WORK/jail" --user 65534:65534
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 65534 ] || fail "--user: running as uid $uid"
[ "$(readlink "/proc/$pid/root")" = "$WORK/jail" ] || fail "--chroot: root is $(readlink "/proc/$pid/root")"
"$CHECK" "$pid" >/dev/null || fail "jailed VM not confined"
stop_vm
pass "--chroot and --user"
