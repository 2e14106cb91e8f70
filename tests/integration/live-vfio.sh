#!/bin/bash
# live-vfio.sh CASE: live migration of a VM with a passthrough device
# (ferry-testdev over vfio-user) between two network namespaces, while
# the vfio guest keeps running DMA, writes through the mmapped BAR2, and
# the device dirties its own memory in the background. Afterwards the
# destination device's digest equals the source device's at switchover
# and the guest verifies device memory and its DMA buffers.
#   precopy     device PRE_COPY on (the default)
#   stopcopy    device PRE_COPY off: all device state in the downtime
#   ack         switchover-ack: the destination device needs 1 s to
#               accept state (--resume-delay-ms 1000); the switchover
#               waits for it, so the downtime stays short
#   mismatch    the destination device lacks PRE_COPY: the handshake
#               refuses before any state flows, naming the device; the
#               source keeps running
#   kill-dest   the destination ferry is killed during precopy (8 MiB/s
#               cap): the source keeps running, its device goes back to
#               RUNNING, the guest goes on, and a second attempt to a
#               fresh destination succeeds with equal digests
#   cancel      the same with DELETE /migration instead of a kill
#   intx        as precopy, with the device's completions on INTx (a
#               level interrupt through the IOAPIC) instead of MSI-X
#   p2p         two devices that support the P2P states: every device
#               quiesces peer-to-peer DMA (PRE_COPY -> PRE_COPY_P2P) before
#               any stops, and on the destination every device reaches
#               RUNNING_P2P before any runs; both devices' digests match
#   pingpong    10 migrations of one VM and its device state back and
#               forth between the namespaces, each to a fresh ferry and
#               ferry-testdev; the digests match at every hop and the
#               guest keeps passing its checks in between
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"
. "$(dirname "$0")/vfio-lib.sh"
case_=${1:?case}
netns_up

td_args=(--mem-size 16M --dirty-rate 1M)
dst_args=()
guest_extra=
case $case_ in
precopy) ;;
intx) td_args+=(--intx on); guest_extra=" irq=intx" ;;
stopcopy) td_args+=(--precopy off) ;;
ack) dst_args=(--resume-delay-ms 1000) ;;
mismatch) dst_args=(--precopy off) ;;
pingpong|kill-dest|cancel) ;;
p2p) td_args+=(--p2p on) ;;
*) fail "unknown case $case_" ;;
esac

# hop_digests SRC_TD DST_TD: the state that left one device is the state
# the other holds.
hop_digests() {
	local src dst
	src=$(grep -E "state (PRE_COPY|PRE_COPY_P2P|STOP) -> STOP_COPY digest=" "$WORK/$1.td.log" | tail -1 | sed 's/.*digest=//')
	dst=$(grep -E "state RESUMING -> STOP digest=" "$WORK/$2.td.log" | tail -1 | sed 's/.*digest=//')
	[ -n "$src" ] && [ "$src" = "$dst" ] ||
		{ tail "$WORK/$1.td.log" "$WORK/$2.td.log"; fail "$1 -> $2: device digest $src at switchover, $dst at the destination"; }
}

if [ "$case_" = kill-dest ] || [ "$case_" = cancel ]; then
	start_testdev src "${td_args[@]}"
	start_testdev dst "${td_args[@]}"
	start_ferry s A --kernel "$GUEST" --memory 96M \
		--cmdline "mode=vfio passes=0 dma=256K$guest_extra" \
		--vfio-user "id=dev0,socket=$WORK/src.sock"
	wait_for_line "$WORK/s.out" "pass 1 ok" 60 || { tail "$WORK/s.out" "$WORK/s.err"; fail "source guest did not run"; }
	PORT=$((PORT + 1))
	start_ferry d B --incoming "tcp:$IPB:$PORT" --vfio-user "id=dev0,socket=$WORK/dst.sock"
	wait_for_line "$WORK/d.err" "waiting for a source" 10 || { tail "$WORK/d.err"; fail "destination not listening"; }
	# 8 MiB/s: the first pass takes seconds, so the failure lands in it.
	ctl s migrate "tcp:$IPB:$PORT" bandwidth=8388608 nowait=1 || fail "start"
	sleep 1.5
	[ "$(mig_field s phase)" = precopy ] || fail "not in precopy: $(mig_field s phase)"
	grep -q "state RUNNING -> PRE_COPY" "$WORK/src.td.log" || fail "the device is not in PRE_COPY"
	if [ "$case_" = cancel ]; then
		ctl s migrate cancel || fail "cancel"
		want=cancelled
	else
		kill -9 "${PIDS[d]}"
		want=failed
	fi
	for i in $(seq 100); do
		[ "$(mig_field s phase)" = $want ] && break; sleep 0.1
	done
	[ "$(mig_field s phase)" = $want ] || fail "phase $(mig_field s phase), expected $want"
	echo "source says: $(mig_field s phase): $(mig_field s error)"
	[ "$(ctl s --json status | jq -r .state)" = running ] || fail "source VM not running"
	grep -q "state PRE_COPY -> RUNNING" "$WORK/src.td.log" ||
		{ tail "$WORK/src.td.log"; fail "the source device did not go back to RUNNING"; }
	# The guest goes on: DMA, BAR2 writes and its checks still pass.
	n=$(grep -cE "pass [0-9]+ ok" "$WORK/s.out")
	for i in $(seq 300); do
		[ "$(grep -cE "pass [0-9]+ ok" "$WORK/s.out")" -gt $((n + 1)) ] && break; sleep 0.1
	done
	[ "$(grep -cE "pass [0-9]+ ok" "$WORK/s.out")" -gt $((n + 1)) ] || { tail "$WORK/s.out"; fail "the source guest stopped"; }
	wait_exit d 20
	[ "$case_" = kill-dest ] || [ "$status" -gt 1 ] || fail "destination exit status $status after the cancel"
	# A second attempt, to a fresh destination.
	start_testdev dst2 "${td_args[@]}"
	PORT=$((PORT + 1))
	start_ferry d2 B --incoming "tcp:$IPB:$PORT" --vfio-user "id=dev0,socket=$WORK/dst2.sock"
	wait_for_line "$WORK/d2.err" "waiting for a source" 10 || { tail "$WORK/d2.err"; fail "second destination not listening"; }
	ctl s migrate "tcp:$IPB:$PORT" downtime=300 timeout=30000 > "$WORK/m.out" 2>&1 ||
		{ cat "$WORK/m.out"; tail "$WORK/s.err" "$WORK/d2.err"; fail "second attempt failed"; }
	wait_exit s 20
	[ "$status" -eq 0 ] || fail "source exit status $status"
	hop_digests src dst2
	wait_for_line "$WORK/d2.out" "pass [0-9]+ ok" 30 || { tail "$WORK/d2.out" "$WORK/d2.err"; fail "destination guest did not continue"; }
	echo x > "$WORK/d2.in"
	wait_exit d2 60
	grep -q "PASSED" "$WORK/d2.out" || { tail -20 "$WORK/d2.out"; fail "the guest's final verify failed"; }
	[ "$status" -eq 1 ] || fail "destination exit status $status"
	pass "$case_: source and device kept running; second attempt: $(grep -o "[0-9]* ms downtime" "$WORK/m.out")"
	exit 0
fi

# first_line FILE REGEX: line number of the first match (0 if none).
first_line() { grep -nE "$2" "$1" | head -1 | cut -d: -f1 | grep . || echo 0; }

if [ "$case_" = p2p ]; then
	for n in src0 src1 dst0 dst1; do start_testdev $n "${td_args[@]}"; done
	start_ferry s A --kernel "$GUEST" --memory 96M --log-level debug \
		--cmdline "mode=vfio passes=0 dma=256K devices=2" \
		--vfio-user "id=dev0,socket=$WORK/src0.sock" \
		--vfio-user "id=dev1,socket=$WORK/src1.sock"
	wait_for_line "$WORK/s.out" "pass 2 ok" 60 || { tail "$WORK/s.out" "$WORK/s.err"; fail "source guest did not run"; }
	grep -q "dev0: migration: STOP_COPY P2P PRE_COPY" "$WORK/s.err" ||
		{ grep migration: "$WORK/s.err"; fail "dev0 does not report P2P"; }
	PORT=$((PORT + 1))
	start_ferry d B --incoming "tcp:$IPB:$PORT" --log-level debug \
		--vfio-user "id=dev0,socket=$WORK/dst0.sock" \
		--vfio-user "id=dev1,socket=$WORK/dst1.sock"
	wait_for_line "$WORK/d.err" "waiting for a source" 10 || { tail "$WORK/d.err"; fail "destination not listening"; }
	ctl s migrate "tcp:$IPB:$PORT" downtime=300 timeout=30000 > "$WORK/m.out" 2>&1 ||
		{ cat "$WORK/m.out"; tail "$WORK/s.err" "$WORK/d.err"; fail "migration failed"; }
	wait_exit s 20
	[ "$status" -eq 0 ] || fail "source exit status $status"
	hop_digests src0 dst0
	hop_digests src1 dst1
	# Source: both devices in PRE_COPY_P2P before either goes to STOP_COPY.
	q0=$(first_line "$WORK/s.err" "dev0: PRE_COPY -> PRE_COPY_P2P")
	q1=$(first_line "$WORK/s.err" "dev1: PRE_COPY -> PRE_COPY_P2P")
	sc=$(first_line "$WORK/s.err" "dev[01]: PRE_COPY_P2P -> STOP_COPY")
	[ "$q0" -gt 0 ] && [ "$q1" -gt 0 ] && [ "$sc" -gt "$q0" ] && [ "$sc" -gt "$q1" ] ||
		{ grep -E "dev[01]: [A-Z_]+ -> " "$WORK/s.err"; fail "source: not every device quiesced P2P before the first STOP_COPY"; }
	# Destination: both in RUNNING_P2P before either runs.
	r0=$(first_line "$WORK/d.err" "dev0: STOP -> RUNNING_P2P")
	r1=$(first_line "$WORK/d.err" "dev1: STOP -> RUNNING_P2P")
	ru=$(first_line "$WORK/d.err" "dev[01]: RUNNING_P2P -> RUNNING")
	[ "$r0" -gt 0 ] && [ "$r1" -gt 0 ] && [ "$ru" -gt "$r0" ] && [ "$ru" -gt "$r1" ] ||
		{ grep -E "dev[01]: [A-Z_]+ -> " "$WORK/d.err"; fail "destination: a device ran before every device reached RUNNING_P2P"; }
	wait_for_line "$WORK/d.out" "pass [0-9]+ ok" 30 || { tail "$WORK/d.out" "$WORK/d.err"; fail "destination guest did not continue"; }
	echo x > "$WORK/d.in"
	wait_exit d 60
	grep -q "PASSED" "$WORK/d.out" || { tail -20 "$WORK/d.out"; fail "the guest's final verify failed"; }
	[ "$status" -eq 1 ] || fail "destination exit status $status"
	pass "p2p: $(grep -o "[0-9]* ms downtime" "$WORK/m.out"); two devices through the P2P states, digests equal"
	exit 0
fi

if [ "$case_" = pingpong ]; then
	start_testdev td0 "${td_args[@]}"
	start_ferry v0 A --kernel "$GUEST" --memory 96M \
		--cmdline "mode=vfio passes=0 dma=256K$guest_extra" \
		--vfio-user "id=dev0,socket=$WORK/td0.sock"
	wait_for_line "$WORK/v0.out" "pass 1 ok" 60 || { tail "$WORK/v0.out" "$WORK/v0.err"; fail "v0: guest did not run"; }
	side=B
	for i in $(seq 1 10); do
		p=$((i - 1))
		start_testdev "td$i" "${td_args[@]}"
		PORT=$((PORT + 1))
		url="tcp:$(ip_of $side):$PORT"
		start_ferry "v$i" $side --incoming "$url" --vfio-user "id=dev0,socket=$WORK/td$i.sock"
		wait_for_line "$WORK/v$i.err" "waiting for a source" 10 || { tail "$WORK/v$i.err"; fail "v$i: not listening"; }
		ctl "v$p" migrate "$url" downtime=300 timeout=30000 > "$WORK/m$i.out" 2>&1 ||
			{ cat "$WORK/m$i.out"; tail "$WORK/v$p.err" "$WORK/v$i.err"; fail "hop $i failed"; }
		grep -o "[0-9]* ms downtime" "$WORK/m$i.out" || fail "hop $i: no completion line"
		wait_exit "v$p" 20
		[ "$status" -eq 0 ] || fail "v$p: exit status $status after migrating"
		hop_digests "td$p" "td$i"
		# The guest runs on (DMA, BAR2 writes, checks) before the next hop.
		wait_for_line "$WORK/v$i.out" "pass [0-9]+ ok" 30 || { tail "$WORK/v$i.out" "$WORK/v$i.err"; fail "v$i: guest did not continue"; }
		kill "${TD_PID[td$p]}" 2>/dev/null
		side=$([ $side = A ] && echo B || echo A)
	done
	echo x > "$WORK/v10.in"
	wait_exit v10 60
	grep -q "PASSED" "$WORK/v10.out" || { tail -20 "$WORK/v10.out"; fail "the guest's final verify failed"; }
	[ "$status" -eq 1 ] || fail "v10: exit status $status"
	pass "pingpong: 10 migrations with device state, digests equal at every hop"
	exit 0
fi

start_testdev src "${td_args[@]}"
start_testdev dst "${td_args[@]}" "${dst_args[@]}"

start_ferry s A --kernel "$GUEST" --memory 96M \
	--cmdline "mode=vfio passes=0 dma=256K$guest_extra" \
	--vfio-user "id=dev0,socket=$WORK/src.sock"
wait_for_line "$WORK/s.out" "pass 2 ok" 60 || { tail "$WORK/s.out" "$WORK/s.err"; fail "source guest did not run"; }

PORT=$((PORT + 1))
start_ferry d B --incoming "tcp:$IPB:$PORT" --vfio-user "id=dev0,socket=$WORK/dst.sock"
wait_for_line "$WORK/d.err" "waiting for a source" 10 || { tail "$WORK/d.err"; fail "destination not listening"; }

if [ "$case_" = mismatch ]; then
	if ctl s migrate "tcp:$IPB:$PORT" downtime=300 > "$WORK/m.out" 2>&1; then
		fail "migrated to an incompatible device"
	fi
	grep -q "dev0: incompatible" "$WORK/m.out" "$WORK/d.err" ||
		{ cat "$WORK/m.out"; tail "$WORK/d.err"; fail "no reason naming the device"; }
	grep -q "RESUMING" "$WORK/dst.td.log" && fail "state reached the destination device"
	wait_exit d 10
	[ "$(ctl s --json status | jq -r .state)" = running ] || fail "source not running"
	before=$(grep -c "pass [0-9]* ok" "$WORK/s.out")
	sleep 1
	[ "$(grep -c "pass [0-9]* ok" "$WORK/s.out")" -gt "$before" ] || fail "source guest stopped"
	pass "mismatch: refused before any state flowed; the source keeps running"
	exit 0
fi
ctl s migrate "tcp:$IPB:$PORT" downtime=300 timeout=30000 > "$WORK/m.out" 2>&1 ||
	{ cat "$WORK/m.out"; tail "$WORK/s.err" "$WORK/d.err" "$WORK/src.td.log" "$WORK/dst.td.log"; fail "migration failed"; }
line=$(grep -E "migration completed: [0-9]+ ms total, [0-9]+ ms downtime" "$WORK/m.out") ||
	{ cat "$WORK/m.out"; fail "no completion line"; }
wait_exit s 20
[ "$status" -eq 0 ] || fail "source exit status $status"

# The device state that left the source is the state the destination holds.
src=$(grep -E "state (PRE_COPY|PRE_COPY_P2P|STOP) -> STOP_COPY digest=" "$WORK/src.td.log" | tail -1 | sed 's/.*digest=//')
dst=$(grep -E "state RESUMING -> STOP digest=" "$WORK/dst.td.log" | tail -1 | sed 's/.*digest=//')
[ -n "$src" ] && [ "$src" = "$dst" ] ||
	{ tail "$WORK/src.td.log" "$WORK/dst.td.log"; fail "device digest $src at switchover, $dst at the destination"; }
case $case_ in
precopy|ack|intx)
	grep -q "RUNNING -> PRE_COPY" "$WORK/src.td.log" || fail "the device never entered PRE_COPY"
	;;
stopcopy)
	grep -q "PRE_COPY" "$WORK/src.td.log" && fail "PRE_COPY used with --precopy off"
	;;
esac
# The source device leaves STOP_COPY after completion, not in the downtime.
grep -q "state STOP_COPY -> STOP" "$WORK/src.td.log" || fail "source device left in STOP_COPY"

wait_for_line "$WORK/d.out" "pass [0-9]+ ok" 30 || { tail "$WORK/d.out" "$WORK/d.err"; fail "destination guest did not continue"; }
echo x > "$WORK/d.in"
wait_exit d 60
grep -q "PASSED" "$WORK/d.out" || { tail -20 "$WORK/d.out"; fail "the guest's final verify failed"; }
[ "$status" -eq 1 ] || fail "destination exit status $status"
pass "$case_: $line; device digest $src on both sides"
