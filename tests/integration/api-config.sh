#!/usr/bin/env bash
# api-config.sh: a VM started from a saved `GET /vm` configuration
# (ferryctl config) matches the original; flags override --config;
# bad configuration files are refused with the JSON path of the
# offending member.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"

start_vm a --kernel "$GUEST" --memory 96M --vcpus 2 \
	--cmdline "mode=memtest mem=16M passes=0" \
	--serial "file:$WORK/a.serial" --api-sock "$SOCK"
wait_sock "$SOCK" 60
ctl config
[ "$status" = 0 ] || fail "ferryctl config: $err"
printf '%s\n' "$out" >"$WORK/saved.json"
http GET /vm
jq -S .config <<<"$body" >"$WORK/a.config"
jq -S . "$WORK/saved.json" | cmp -s - "$WORK/a.config" || fail "ferryctl config differs from GET /vm .config"
[ "$(jq -r .memory "$WORK/saved.json")" = 100663296 ] || fail "saved memory: $(cat "$WORK/saved.json")"
ctl shutdown; wait_exit "$VM_PID" 60
[ "$status" = 0 ] || fail "first VM exit $status"
pass "configuration saved: $(jq -c . "$WORK/saved.json")"

# Same configuration, from the file alone.
start_vm b --config "$WORK/saved.json"
wait_sock "$SOCK" 60
http GET /vm
jq -S .config <<<"$body" >"$WORK/b.config"
diff -u "$WORK/a.config" "$WORK/b.config" || fail "restarted VM's configuration differs"
[ "$(jq -r .vcpus <<<"$body")" = 2 ] && [ "$(jq -r .memory <<<"$body")" = 100663296 ] ||
	fail "restarted VM: $body"
wait_for_line "$WORK/a.serial" "memtest: pass 1 ok" 120 || fail "restarted guest does not run"
ctl shutdown; wait_exit "$VM_PID" 60
[ "$status" = 0 ] || fail "second VM exit $status"
pass "VM started from the saved configuration matches the original"

# Flags override the file.
start_vm c --config "$WORK/saved.json" --vcpus 1 --memory 64M
wait_sock "$SOCK" 60
http GET /vm
[ "$(jq -r .config.vcpus <<<"$body")" = 1 ] && [ "$(jq -r .config.memory <<<"$body")" = 67108864 ] &&
	[ "$(jq -r .config.cmdline <<<"$body")" = "mode=memtest mem=16M passes=0" ] ||
	fail "flags did not override --config: $body"
ctl shutdown; wait_exit "$VM_PID" 60
pass "flags override --config"

# Bad files: ferry refuses to start and names the member.
bad() {
	local json=$1 want=$2 st=0
	printf '%s\n' "$json" >"$WORK/bad.json"
	timeout 30 "$FERRY" --config "$WORK/bad.json" >/dev/null 2>"$WORK/bad.err" </dev/null || st=$?
	[ "$st" = 2 ] || fail "bad config '$json': exit $st, expected 2 ($(cat "$WORK/bad.err"))"
	grep -qF -- "$want" "$WORK/bad.err" || fail "bad config '$json': $(cat "$WORK/bad.err"), want '$want'"
}
bad "{\"kernel\": \"$GUEST\", \"memroy\": \"64M\"}" '$.memroy: unknown key'
bad "{\"kernel\": \"$GUEST\", \"vcpus\": 0}" '$.vcpus: 0 is out of range'
bad "{\"kernel\": \"$GUEST\", \"vcpus\": \"2\"}" '$.vcpus: expected an integer'
bad "{\"kernel\": \"$GUEST\", \"vfio\": [{\"kind\": \"vfio-user\", \"id\": \"d0\", \"socket\": \"/s\", \"migration\": \"maybe\"}]}" '$.vfio[0].migration: must be one of'
bad "{\"kernel\": \"$GUEST\"," 'malformed JSON'
pass "bad configuration files refused with the JSON path"
