#!/usr/bin/env bash
# snapshot-vfio.sh: snapshot and restore carry passthrough devices'
# state. The vfio guest keeps running DMA with two ferry-testdev devices
# that also dirty their memory in the background; each cycle pauses the
# VM, snapshots it, kills ferry and both device servers, and restores
# into new processes with new sockets. Every device digest logged at the
# restore equals the one logged at the save, and after 20 cycles the
# guest verifies everything and passes. Also: a device with
# migration=off blocks the snapshot with its reason.
# SNAPSHOT_VFIO_IRQ=intx runs the same with the devices' completions on
# INTx (ferry-testdev --intx on, guest irq=intx) instead of MSI-X.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vfio-lib.sh"

CYCLES=${SNAPSHOT_VFIO_CYCLES:-20}
TD_ARGS=(--dirty-rate 4M)
GUEST_IRQ=
if [ "${SNAPSHOT_VFIO_IRQ:-msix}" = intx ]; then
	TD_ARGS+=(--intx on)
	GUEST_IRQ=" irq=intx"
fi
API="$WORK/api.sock"
api() { curl -s --max-time 60 --unix-socket "$API" -X "$1" "http://localhost$2" \
	${3:+-H 'Content-Type: application/json' -d "$3"}; }

wait_api() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$API" ] && return 0
		kill -0 "$pid" 2>/dev/null || { tail "$WORK/err"; fail "ferry exited"; }
		sleep 0.1
	done
	fail "no API socket"
}

# digest_at LOG TRANSITION: the last digest logged on that transition.
digest_at() {
	grep -E "state $2 digest=" "$1" | tail -1 | sed 's/.*digest=//'
}

mkfifo "$WORK/in"
exec 3<>"$WORK/in"

gen=0
start_testdev "d0_$gen" "${TD_ARGS[@]}"
start_testdev "d1_$gen" "${TD_ARGS[@]}"
"$FERRY" --kernel "$GUEST" --memory 128M --api-sock "$API" \
	--cmdline "mode=vfio passes=0 devices=2$GUEST_IRQ" \
	--vfio-user "id=d0,socket=$WORK/d0_$gen.sock" \
	--vfio-user "id=d1,socket=$WORK/d1_$gen.sock" \
	<"$WORK/in" >"$WORK/out.$gen" 2>"$WORK/err" &
pid=$!
cleanup_hooks+=("kill -KILL \$pid 2>/dev/null")
wait_api
wait_for_line "$WORK/out.$gen" "pass 2 ok" 60 || { tail "$WORK/out.$gen" "$WORK/err"; fail "vfio guest did not run"; }

for ((c = 1; c <= CYCLES; c++)); do
	api PUT /vm/pause | grep -q paused || fail "cycle $c: pause failed"
	rm -rf "$WORK/snap"
	r=$(api PUT /snapshot/create "{\"path\": \"$WORK/snap\"}")
	echo "$r" | grep -q succeeded || fail "cycle $c: snapshot failed: $r"
	src0=$(digest_at "$WORK/d0_$gen.td.log" "STOP -> STOP_COPY")
	src1=$(digest_at "$WORK/d1_$gen.td.log" "STOP -> STOP_COPY")
	[ -n "$src0" ] && [ -n "$src1" ] || fail "cycle $c: no digest logged at save"
	kill -KILL "$pid" "${TD_PID[d0_$gen]}" "${TD_PID[d1_$gen]}"
	wait "$pid" 2>/dev/null
	rm -f "$API"
	gen=$c
	start_testdev "d0_$gen" "${TD_ARGS[@]}"
	start_testdev "d1_$gen" "${TD_ARGS[@]}"
	"$FERRY" --restore "$WORK/snap" --resume --api-sock "$API" \
		--vfio-user "id=d0,socket=$WORK/d0_$gen.sock" \
		--vfio-user "id=d1,socket=$WORK/d1_$gen.sock" \
		<"$WORK/in" >"$WORK/out.$gen" 2>"$WORK/err" &
	pid=$!
	wait_api
	# The API socket exists before the restore is done: wait for both devices.
	wait_for_line "$WORK/d0_$gen.td.log" "state RESUMING -> STOP digest=" 60 &&
		wait_for_line "$WORK/d1_$gen.td.log" "state RESUMING -> STOP digest=" 60 ||
		{ tail "$WORK/err"; fail "cycle $c: devices were not restored"; }
	dst0=$(digest_at "$WORK/d0_$gen.td.log" "RESUMING -> STOP")
	dst1=$(digest_at "$WORK/d1_$gen.td.log" "RESUMING -> STOP")
	[ "$src0" = "$dst0" ] || fail "cycle $c: device d0 digest $src0 at save, $dst0 at restore"
	[ "$src1" = "$dst1" ] || fail "cycle $c: device d1 digest $src1 at save, $dst1 at restore"
	wait_for_line "$WORK/out.$gen" "pass [0-9]+ ok" 60 ||
		{ tail "$WORK/out.$gen" "$WORK/err"; fail "cycle $c: guest did not continue"; }
done
pass "$CYCLES snapshot/kill/restore cycles, device digests equal at every restore"

# End the guest: final verification of device memory and DMA buffers.
printf 'q' >&3
status=0
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || status=$?
expect_status 1 "final verification after $CYCLES restores"
grep -q "PASSED" "$WORK/out.$gen" || fail "guest did not pass"
first=$(grep -oE "pass [0-9]+ ok" "$WORK/out.1" | head -1 | grep -oE "[0-9]+")
[ "${first:-0}" -gt 1 ] || fail "the restored guest restarted instead of continuing (first pass $first)"
pass "guest verified everything after the last restore"

# migration=off: the device blocks snapshots, with the reason.
start_testdev off
rm -f "$API"
"$FERRY" --kernel "$GUEST" --api-sock "$API" --cmdline "mode=vfio passes=0" \
	--vfio-user "id=dev0,socket=$WORK/off.sock,migration=off" \
	<"$WORK/in" >"$WORK/out.off" 2>"$WORK/err" &
pid=$!
wait_api
api PUT /vm/pause >/dev/null
r=$(api PUT /snapshot/create "{\"path\": \"$WORK/snap-off\"}")
echo "$r" | grep -q "migration=off" || fail "migration=off: snapshot not refused with the reason: $r"
[ ! -e "$WORK/snap-off" ] || fail "migration=off: a snapshot directory was left"
api PUT /vm/shutdown >/dev/null
wait "$pid"
pass "a device with migration=off blocks snapshots with its reason"
