#!/usr/bin/env bash
# snapshot-enospc.sh: a snapshot that does not fit fails cleanly. On an
# 8 MiB tmpfs holding an older, small snapshot, snapshotting a guest
# with 64 MiB of live memory fails with 507 and the reason (also in
# GET /vm/operation); nothing is left behind, the older snapshot, even
# when it was the one to be replaced, is byte for byte untouched and
# still restores, and the source VM resumes and verifies its memory.
# Needs root for the mount (exit 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"

SMALL=$WORK/small
mkdir "$SMALL"
if ! mount -t tmpfs -o size=8M,mode=0700 tmpfs "$SMALL" 2>"$WORK/mount.err"; then
	echo "SKIP: cannot mount a tmpfs (needs root): $(cat "$WORK/mount.err")" >&2
	exit 77
fi
cleanup_hooks+=("umount -l '$SMALL'")

# The older snapshot: a guest that touched only ~3 MiB (memory.img is sparse).
vm tiny --kernel "$GUEST" --memory 64M --cmdline "mode=memtest mem=2M passes=0"
wait_sock "$SOCK" 60
wait_pass tiny 3 60
pause_vm tiny
snap tiny "$SMALL/old"
kill_vm
(cd "$SMALL/old" && md5sum MANIFEST memory.img state.dtb config.json) >"$WORK/old.md5"
pass "older snapshot on the 8 MiB tmpfs: $(du -sk "$SMALL/old" | cut -f1) KiB used"

vm big "${SNAP_GUEST[@]}"
wait_sock "$SOCK" 60
wait_pass big 3 60
pause_vm big
nb=$(last_pass big)

for target in new old; do
	rep=false
	[ "$target" = old ] && rep=true
	http PUT /snapshot/create -H 'Content-Type: application/json' \
		-d "{\"path\": \"$SMALL/$target\", \"replace\": $rep}"
	expect_http 507 "snapshot to a full file system ($target)" "No space left on device"
	pass "snapshot to $target (replace $rep): 507: $body"
	http GET /vm/operation
	jq -e '.state == "failed" and (.error | test("No space left"))' <<<"$body" >/dev/null ||
		fail "GET /vm/operation after ENOSPC: $body"
	left=$(find "$SMALL" -mindepth 1 -maxdepth 1 ! -name old)
	[ -z "$left" ] || fail "a failed snapshot left $left behind"
done
(cd "$SMALL/old" && md5sum -c --quiet "$WORK/old.md5") || fail "the older snapshot changed"
[ "$(df --output=used -k "$SMALL" | tail -1)" -lt 8192 ] || fail "space not given back"
pass "nothing left behind; the older snapshot is untouched"

# ferryctl reports the same error and exits 1.
ctl snapshot create "$SMALL/new"
[ "$status" = 1 ] && grep -q "No space left" <<<"$err" || fail "ferryctl on ENOSPC: status $status: $err"
pass "ferryctl snapshot create: exit 1: $err"

# The source VM is unharmed: resume, more passes, full verify.
ctl resume
[ "$status" = 0 ] || fail "resume after the failed snapshot: $err"
wait_pass big $((nb + 3)) 60
echo x >"$WORK/big.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump big; fail "source VM final verify: exit status $status"; }
pass "source VM resumed and verified its memory after the failed snapshots"

# The older snapshot still restores.
vm tiny2 --restore "$SMALL/old" --resume
wait_sock "$SOCK" 30
wait_pass tiny2 $(( $(last_pass tiny) + 2 )) 60
echo x >"$WORK/tiny2.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump tiny2; fail "restore of the older snapshot: exit status $status"; }
check_run "$WORK/tiny.out" "$WORK/tiny2.out" >/dev/null
pass "the older snapshot restores and verifies"
