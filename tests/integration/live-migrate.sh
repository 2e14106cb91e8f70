#!/bin/bash
# live-migrate.sh CASE: live migration between two ferry processes in two
# network namespaces over a veth pair, with the memtest guest rewriting
# memory throughout; afterwards the guest verifies every page.
#   basic        one migration; progress and result fields; source exits 0
#   cancel       cancel midway: the source keeps running, the destination
#                exits with an error; a second attempt then succeeds
#   kill-dest    kill -9 the destination midway: the source keeps running
#                and migrates again
#   nonconverge  the guest dirties faster than the (tc-limited) link
#                carries: on-timeout=fail fails and the source runs on;
#                on-timeout=switchover switches over anyway
#   pingpong     10 migrations of one VM back and forth
#   channels     the first RAM pass over 4 TCP connections, then 1 and 8
#   prealloc     a destination started with --memory allocates the guest
#                memory while it waits; one with the wrong size refuses
#                the source (which runs on), one with the right size
#                takes the VM
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"
case_=${1:?case}
netns_up

migrate_ok() { # SRC DEST_URL [params...]
	local s=$1 url=$2; shift 2
	ctl "$s" migrate "$url" "$@" > "$WORK/$s.migrate" 2>&1 ||
		{ cat "$WORK/$s.migrate"; tail -5 "$WORK/$s.err"; fail "$s: migration failed"; }
	wait_exit "$s" 20
	[ "$status" -eq 0 ] || fail "$s: exit status $status after migrating, expected 0"
}

case $case_ in
basic)
	start_source s A "mem=64M rate=4096 pause_ms=2"
	start_dest d B --log-level debug
	ctl s migrate "$DEST_URL" downtime=300 > "$WORK/m.out" 2>&1 ||
		{ cat "$WORK/m.out"; tail "$WORK/s.err" "$WORK/d.err"; fail "migration failed"; }
	grep -E "migration completed: [0-9]+ ms total, [0-9]+ ms downtime" "$WORK/m.out" ||
		fail "no completion line"
	wait_exit s 20
	[ "$status" -eq 0 ] || fail "source exit status $status"
	assert_running d
	# The stream was parsed on the loader thread under its own filter.
	grep -q "seccomp: role incoming confined (kill mode)" "$WORK/d.err" ||
		{ tail "$WORK/d.err"; fail "the loader thread was not confined"; }
	ctl d migrate status | grep -q none || true
	finish_guest d
	pass "basic: $(grep completed "$WORK/m.out")"
	;;
cancel)
	start_source s A "mem=64M rate=2048 pause_ms=2"
	start_dest d B
	# 8 MiB/s: the first pass takes seconds, so the cancel lands in it.
	ctl s migrate "$DEST_URL" bandwidth=8388608 nowait=1 || fail "start"
	sleep 1.5
	[ "$(mig_field s phase)" = precopy ] || fail "not in precopy: $(mig_field s phase)"
	ctl s migrate cancel || fail "cancel"
	for i in $(seq 50); do
		[ "$(mig_field s phase)" = cancelled ] && break; sleep 0.1
	done
	[ "$(mig_field s phase)" = cancelled ] || fail "phase $(mig_field s phase)"
	wait_exit d 10
	[ "$status" -ne 0 ] && [ "$status" -ne 1 ] || fail "destination exit $status"
	grep -q "aborted\|closed" "$WORK/d.err" || fail "destination gave no reason"
	assert_running s
	start_dest d2 B
	migrate_ok s "$DEST_URL"
	finish_guest d2
	pass "cancel, then a second attempt"
	;;
kill-dest)
	start_source s A "mem=64M rate=2048 pause_ms=2"
	start_dest d B
	ctl s migrate "$DEST_URL" bandwidth=8388608 nowait=1 || fail "start"
	sleep 1.5
	kill -9 "${PIDS[d]}"
	for i in $(seq 100); do
		[ "$(mig_field s phase)" = failed ] && break; sleep 0.1
	done
	[ "$(mig_field s phase)" = failed ] || fail "phase $(mig_field s phase)"
	echo "source says: $(mig_field s error)"
	assert_running s
	start_dest d2 B
	migrate_ok s "$DEST_URL"
	finish_guest d2
	pass "destination killed, source kept running and migrated again"
	;;
nonconverge)
	# 100 Mbit/s link; the guest rewrites 16384 pages (64 MiB) per pass.
	ip netns exec "$NSA" tc qdisc add dev "$VETHA" root tbf rate 100mbit burst 256k latency 50ms
	start_source s A "mem=64M rate=16384"
	start_dest d B
	if ctl s migrate "$DEST_URL" downtime=50 iterations=4 timeout=8000 on-timeout=fail \
		> "$WORK/m1.out" 2>&1; then fail "converged unexpectedly"; fi
	grep -q "did not converge" "$WORK/m1.out" || { cat "$WORK/m1.out"; fail "no reason"; }
	wait_exit d 10
	assert_running s
	start_dest d2 B
	migrate_ok s "$DEST_URL" downtime=50 iterations=3 timeout=8000 on-timeout=switchover
	grep -q "switched over anyway" "$WORK/s.migrate" || { cat "$WORK/s.migrate"; fail "no note"; }
	finish_guest d2
	pass "non-convergence: fail, then switchover anyway ($(grep completed "$WORK/s.migrate"))"
	;;
channels)
	VM_MEM=128M
	start_source v0 A "mem=96M rate=4096 pause_ms=2"
	side=B
	for n in 4 1 8; do
		start_dest "d$n" $side --log-level debug
		migrate_ok "$([ $n = 4 ] && echo v0 || echo "$prev")" "$DEST_URL" downtime=300 channels=$n
		if [ $n -gt 1 ]; then
			grep -q "migration: $n RAM channels" "$WORK/d$n.err" ||
				{ tail "$WORK/d$n.err"; fail "destination d$n did not take $n RAM connections"; }
		fi
		grep -o "[0-9]* ms total, [0-9]* ms downtime" "$WORK/$([ $n = 4 ] && echo v0 || echo "$prev").migrate"
		prev=d$n
		side=$([ $side = A ] && echo B || echo A)
	done
	assert_running d8
	finish_guest d8
	pass "channels: 4, 1 and 8 RAM connections; every page verified"
	;;
prealloc)
	start_source s A "mem=64M rate=4096 pause_ms=2"
	start_dest bad B --memory 64M
	grep -q "64 MiB of guest memory ready" "$WORK/bad.err" || { tail "$WORK/bad.err"; fail "no preallocation"; }
	if ctl s migrate "$DEST_URL" > "$WORK/m1.out" 2>&1; then fail "migrated to a destination of another size"; fi
	grep -q "started with --memory 64 MiB; the source has 96 MiB" "$WORK/m1.out" ||
		{ cat "$WORK/m1.out"; fail "no reason for the refusal"; }
	wait_exit bad 10
	assert_running s
	start_dest d B --memory 96M
	grep -q "96 MiB of guest memory ready" "$WORK/d.err" || { tail "$WORK/d.err"; fail "no preallocation"; }
	migrate_ok s "$DEST_URL"
	grep -o "[0-9]* ms total, [0-9]* ms downtime" "$WORK/s.migrate"
	assert_running d
	finish_guest d
	pass "prealloc: a wrong size refused with the reason, the right one took the VM"
	;;
pingpong)
	VM_MEM=48M
	start_source v0 A "mem=24M rate=2048 pause_ms=2"
	side=B
	for i in $(seq 1 10); do
		start_dest "v$i" $side
		migrate_ok "v$((i - 1))" "$DEST_URL"
		grep -o "[0-9]* ms downtime" "$WORK/v$((i - 1)).migrate"
		side=$([ $side = A ] && echo B || echo A)
	done
	assert_running v10
	finish_guest v10
	pass "10 ping-pong migrations"
	;;
*)
	fail "unknown case $case_"
	;;
esac
