#!/usr/bin/env bash
# snapshot-api.sh: PUT /snapshot/create and its errors, and progress
# while a large snapshot is written: GET /vm/operation is answered by
# the API thread during the snapshot (the VMM thread is busy), showing
# a running operation with growing done_bytes; ferryctl snapshot
# create/inspect and their JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"

# 512 MiB, nearly all of it written by memtest, so the snapshot takes a while.
vm v --kernel "$GUEST" --memory 512M --cmdline "mode=memtest mem=500M passes=0"
wait_sock "$SOCK" 60
http GET /vm/operation
expect_http 200 "operation before any" '"state": "none"'
wait_pass v 1 120

J=(-H 'Content-Type: application/json')
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/s\"}"
expect_http 409 "snapshot while running" "the VM is running \\(pause it first\\)"
pause_vm v
http PUT /snapshot/create
expect_http 400 "no body" "path"
http PUT /snapshot/create "${J[@]}" -d '{"path": 5}'
expect_http 400 "path not a string" '\$.path: expected a string'
http PUT /snapshot/create "${J[@]}" -d '{"path": ""}'
expect_http 400 "empty path" '\$.path'
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/s\", \"replace\": \"yes\"}"
expect_http 400 "replace not a boolean" '\$.replace'
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/s\", \"force\": true}"
expect_http 400 "unknown key" '\$.force: unknown key'
http PUT /snapshot/create -H 'Content-Type: text/plain' -d "{\"path\": \"$WORK/s\"}"
expect_http 415 "wrong content type"
http GET /snapshot/create
expect_http 405 "GET on a PUT endpoint"
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/no/such/dir/s\"}"
expect_http 404 "parent missing" "No such file or directory"
mkdir "$WORK/notsnap"
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/notsnap\", \"replace\": true}"
expect_http 409 "replace a directory that is not a snapshot" "not a ferry snapshot"
pass "request errors: 400/404/405/409/415 with reasons"

# Progress while the snapshot is written, from a second connection.
(
	for ((i = 0; i < 400; i++)); do
		curl -sS --max-time 2 --unix-socket "$SOCK" http://localhost/vm/operation |
			jq -c . 2>/dev/null
		sleep 0.01
	done
) >"$WORK/polls" &
poller=$!
t0=$(date +%s%N)
ctl snapshot create "$WORK/s"
t1=$(date +%s%N)
[ "$status" = 0 ] || fail "ferryctl snapshot create: $err"
kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null
running=$(grep -c '"state":"running"' "$WORK/polls" || true)
partial=$(jq -s '[.[] | select(.state == "running" and .done_bytes < .total_bytes)] | length' "$WORK/polls")
[ "$running" -ge 1 ] && [ "$partial" -ge 1 ] || fail "no progress seen while the snapshot ran ($running running samples): $(head -3 "$WORK/polls")"
pass "GET /vm/operation during the snapshot: $running running samples, $partial partial ($(( (t1 - t0) / 1000000 )) ms for 512 MiB)"
grep -q "snapshot saved to $WORK/s: 512.0 MiB" <<<"$out" || fail "ferryctl output: $out"
grep -q "snapshot \[" <<<"$out" || fail "ferryctl showed no progress bar: $out"
pass "ferryctl: $(tail -1 <<<"$out")"

# Exists: 409 without replace; with replace it is swapped in.
http PUT /snapshot/create "${J[@]}" -d "{\"path\": \"$WORK/s\"}"
expect_http 409 "target exists" "already exists"
ctl --json --replace snapshot create "$WORK/s"
[ "$status" = 0 ] || fail "replace: $err"
jq -e '.state == "succeeded" and .id >= 2 and .total_bytes == 536870912' <<<"$out" >/dev/null ||
	fail "ferryctl --json snapshot create: $out"
pass "existing target: 409 without replace, replaced with --replace"

ctl snapshot inspect "$WORK/s"
[ "$status" = 0 ] || fail "inspect: $err"
grep -q "verified  all parts and 256 memory chunks" <<<"$out" || fail "inspect output: $out"
ctl --json snapshot inspect "$WORK/s"
jq -e '.valid and .memory_bytes == 536870912 and (.config.cmdline | test("mem=500M"))' <<<"$out" >/dev/null ||
	fail "inspect --json: $out"
pass "ferryctl snapshot inspect (text and JSON)"

ctl resume
[ "$status" = 0 ] || fail "resume: $err"
n=$(last_pass v)
wait_pass v $((n + 1)) 60
echo x >"$WORK/v.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump v; fail "final verify: exit status $status"; }
pass "source VM verified its memory after two snapshots"
