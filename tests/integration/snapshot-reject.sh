#!/usr/bin/env bash
# snapshot-reject.sh: `ferry --restore` refuses a damaged snapshot
# before anything runs: exit status 10, one error naming the problem,
# no guest output. Damage: memory.img truncated (lazy and copy) or
# altered in place (copy verifies every chunk; lazy does not read the
# image up front, see docs/snapshot.md, but `ferryctl snapshot inspect`
# finds it), state.dtb altered, a MANIFEST of another format version or
# with a broken checksum, and each file missing. The intact copy still
# restores.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"

GOOD=$WORK/good
vm src "${SNAP_GUEST[@]}"
wait_sock "$SOCK" 60
wait_pass src 2 120
pause_vm src
snap src "$GOOD"
kill_vm

# damaged NAME: a fresh copy of the good snapshot to damage.
damaged() {
	rm -rf "$WORK/$1"
	cp -a "$GOOD" "$WORK/$1"
	echo "$WORK/$1"
}

# reject WHAT PATTERN FERRY-ARGS...: exit 10, stderr matches, no output.
reject() {
	local what=$1 pat=$2; shift 2
	run_guest 30 "$@"
	expect_status 10 "$what"
	grep -qE -- "$pat" "$WORK/err" ||
		fail "$what: error does not say /$pat/: $(cat "$WORK/err")"
	[ ! -s "$WORK/out" ] || fail "$what: the guest ran: $(head -c 200 "$WORK/out")"
	pass "$what: exit 10: $(grep -m1 "cannot restore" "$WORK/err" | sed 's/^ferry\[main\]: //')"
}

# A byte in the middle of the guest's RAM (the memtest area), flipped.
flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 0x5a) & 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

d=$(damaged trunc)
truncate -s -4096 "$d/memory.img"
reject "memory.img truncated (lazy)" "memory.img" --restore "$d" --resume
reject "memory.img truncated (copy)" "memory.img" --restore "$d" --resume --restore-mode copy

d=$(damaged memflip)
flip "$d/memory.img" $((40 << 20))
reject "memory.img altered (copy)" "memory (image|\.img).*(chunk|checksum)" \
	--restore "$d" --resume --restore-mode copy
status=0
"$FERRYCTL" snapshot inspect "$d" >"$WORK/inspect.out" 2>"$WORK/inspect.err" || status=$?
[ "$status" = 1 ] && grep -qi "chunk\|crc" "$WORK/inspect.err" ||
	fail "inspect of an altered memory.img: status $status: $(cat "$WORK/inspect.err")"
pass "memory.img altered: ferryctl snapshot inspect says: $(cat "$WORK/inspect.err")"

d=$(damaged dtbflip)
flip "$d/state.dtb" 200
reject "state.dtb altered" "state.dtb" --restore "$d" --resume

d=$(damaged version)
sed -i '1s/^FERRYSNP 1$/FERRYSNP 2/' "$d/MANIFEST"
reject "MANIFEST of format version 2" "version 2" --restore "$d" --resume

d=$(damaged mancrc)
sed -i 's/^ferry .*/ferry 9.9.9/' "$d/MANIFEST"
reject "MANIFEST edited (checksum)" "MANIFEST" --restore "$d" --resume

for f in MANIFEST memory.img state.dtb config.json; do
	d=$(damaged "no-$f")
	rm "$d/$f"
	reject "$f missing" "$f" --restore "$d" --resume
done
reject "no such directory" "$WORK/nothing" --restore "$WORK/nothing" --resume

# The intact snapshot restores (the damage above was to copies).
vm good --restore "$GOOD" --resume
wait_sock "$SOCK" 30
wait_pass good $(( $(last_pass src) + 2 )) 60
echo x >"$WORK/good.in"
wait_exit "$VM_PID" 120
[ "$status" = 1 ] || { dump good; fail "intact snapshot: exit status $status"; }
pass "the intact snapshot restores and verifies"
