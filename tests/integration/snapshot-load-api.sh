#!/usr/bin/env bash
# snapshot-load-api.sh: PUT /snapshot/load before any VM has run. A ferry
# started with --wait-restore serves its API with no VM; requests other
# than a load get a clear 409; a bad snapshot is refused and the wait
# goes on; a good one builds the VM (paused, then resumed here) and the
# memtest guest continues and verifies all its memory. Also: shutdown
# while waiting exits 0, and the flag's misuse exits 2.
. "$(dirname "$0")/lib.sh"
FERRYCTL=${FERRYCTL:-$BUILD_DIR/tools/ferryctl/ferryctl}

api() { curl -s --max-time 30 --unix-socket "$1" -X "$2" "http://localhost$3" \
	${4:+-H 'Content-Type: application/json' -d "$4"}; }
wait_sock() {
	local i
	for ((i = 0; i < 100; i++)); do [ -S "$1" ] && return 0; sleep 0.1; done
	fail "no API socket $1"
}

mkfifo "$WORK/in"
exec 3<>"$WORK/in"

# A snapshot of a running memtest guest.
"$FERRY" --kernel "$GUEST" --api-sock "$WORK/a.sock" \
	--cmdline "mode=memtest mem=32M passes=0" <"$WORK/in" >"$WORK/a.out" 2>"$WORK/a.err" &
pid=$!
cleanup_hooks+=("kill -KILL $pid 2>/dev/null")
wait_for_line "$WORK/a.out" "pass 3 ok" 60 || fail "source guest did not run"
"$FERRYCTL" --api-sock "$WORK/a.sock" pause >/dev/null || fail "pause"
"$FERRYCTL" --api-sock "$WORK/a.sock" snapshot create "$WORK/snap" >/dev/null || fail "snapshot create"
last=$(grep -oE "pass [0-9]+ ok" "$WORK/a.out" | tail -1 | grep -oE "[0-9]+")
kill -KILL "$pid"; wait "$pid" 2>/dev/null

# Waiting for a load.
"$FERRY" --wait-restore --api-sock "$WORK/b.sock" <"$WORK/in" >"$WORK/b.out" 2>"$WORK/b.err" &
pid=$!
cleanup_hooks+=("kill -KILL $pid 2>/dev/null")
wait_sock "$WORK/b.sock"
api "$WORK/b.sock" GET /vm | grep -q '"state": "created"' || fail "GET /vm while waiting"
r=$(api "$WORK/b.sock" PUT /vm/pause)
echo "$r" | grep -q "load a snapshot first" || fail "pause while waiting: $r"
if "$FERRYCTL" --api-sock "$WORK/b.sock" snapshot load "$WORK/nope" 2>"$WORK/ctl.err"; then
	fail "loading a missing snapshot succeeded"
fi
grep -q "nope" "$WORK/ctl.err" || fail "unclear error for a missing snapshot: $(cat "$WORK/ctl.err")"
cp -r "$WORK/snap" "$WORK/bad"
printf 'garbage' | dd of="$WORK/bad/state.dtb" bs=1 seek=100 conv=notrunc 2>/dev/null
r=$(api "$WORK/b.sock" PUT /snapshot/load "{\"path\": \"$WORK/bad\"}")
echo "$r" | grep -q "state.dtb" || fail "corrupt snapshot not refused by name: $r"
kill -0 "$pid" || fail "ferry died on a bad snapshot"
pass "waiting: GET /vm answers, other requests and bad snapshots are refused clearly"

"$FERRYCTL" --api-sock "$WORK/b.sock" snapshot load "$WORK/snap" >"$WORK/load.out" ||
	{ cat "$WORK/load.out" "$WORK/b.err"; fail "load"; }
grep -q "paused" "$WORK/load.out" || fail "loaded VM not paused: $(cat "$WORK/load.out")"
r=$(api "$WORK/b.sock" PUT /snapshot/load "{\"path\": \"$WORK/snap\"}")
echo "$r" | grep -q "already exists" || fail "second load not refused: $r"
"$FERRYCTL" --api-sock "$WORK/b.sock" resume >/dev/null || fail "resume"
wait_for_line "$WORK/b.out" "pass [0-9]+ ok" 60 || fail "restored guest did not continue"
first=$(grep -oE "pass [0-9]+ ok" "$WORK/b.out" | head -1 | grep -oE "[0-9]+")
[ "$first" -gt "$last" ] || fail "guest restarted (pass $first after $last)"
printf 'q' >&3
status=0; wait "$pid" || status=$?
expect_status 1 "restored guest's final verification"
grep -q "PASSED" "$WORK/b.out" || fail "guest did not pass"
pass "PUT /snapshot/load: the guest continued from pass $last and verified its memory"

# Shutdown while waiting: exit 0, socket removed.
"$FERRY" --wait-restore --api-sock "$WORK/c.sock" </dev/null >/dev/null 2>"$WORK/c.err" &
pid=$!
wait_sock "$WORK/c.sock"
api "$WORK/c.sock" PUT /vm/shutdown >/dev/null
status=0; wait "$pid" || status=$?
expect_status 0 "shutdown while waiting"
[ ! -e "$WORK/c.sock" ] || fail "socket left behind"
run_guest 10 --wait-restore
expect_status 2 "--wait-restore without --api-sock"
run_guest 10 --wait-restore --api-sock "$WORK/d.sock" --kernel "$GUEST"
expect_status 2 "--wait-restore with --kernel"
pass "shutdown while waiting exits 0; misuse exits 2"
