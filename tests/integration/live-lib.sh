# tests/integration/live-lib.sh: two "hosts" on one machine for the
# live-migration tests. Source it after lib.sh. Creates two network
# namespaces joined by a veth pair (10.77.N.1 and 10.77.N.2, inside the
# namespaces only), and helpers to start a source ferry (memtest guest)
# in one and `ferry --incoming` in the other. Everything is removed on
# exit. Needs root (ip netns); skips (77) otherwise.
FERRYCTL=${FERRYCTL:-$BUILD_DIR/tools/ferryctl/ferryctl}

if ! ip netns add "ferry-probe-$$" 2>/dev/null; then
	echo "SKIP: cannot create network namespaces (needs root and iproute2)" >&2
	exit 77
fi
ip netns del "ferry-probe-$$"

# A subnet per test process, so tests may run in parallel.
SUB=$(( $$ % 200 + 20 ))
NSA="ferry-live-a-$$"
NSB="ferry-live-b-$$"
IPA="10.77.$SUB.1"
IPB="10.77.$SUB.2"
VETHA="fla$$"
VETHB="flb$$"
# Below Linux's ephemeral range (32768-60999): a listening port there can
# collide with the local port of an earlier migration's outgoing
# connection (the RAM channels make more of those), "Address already in use".
PORT=31000

netns_up() {
	ip netns add "$NSA"
	ip netns add "$NSB"
	cleanup_hooks+=("ip netns del $NSA" "ip netns del $NSB")
	ip link add "$VETHA" type veth peer name "$VETHB"
	ip link set "$VETHA" netns "$NSA"
	ip link set "$VETHB" netns "$NSB"
	ip -n "$NSA" addr add "$IPA/24" dev "$VETHA"
	ip -n "$NSB" addr add "$IPB/24" dev "$VETHB"
	ip -n "$NSA" link set "$VETHA" up
	ip -n "$NSB" link set "$VETHB" up
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
}

# ns_of A|B, ip_of A|B
ns_of() { [ "$1" = A ] && echo "$NSA" || echo "$NSB"; }
ip_of() { [ "$1" = A ] && echo "$IPA" || echo "$IPB"; }

# Each ferry gets a fifo on stdin (serial input: one byte ends memtest)
# held open by a sleeper, and $WORK/NAME.{out,err,sock,pid}.
declare -A PIDS
start_ferry() {
	local name=$1 side=$2; shift 2
	mkfifo "$WORK/$name.in"
	sleep 600 > "$WORK/$name.in" &
	cleanup_hooks+=("kill $! 2>/dev/null")
	ip netns exec "$(ns_of "$side")" "$FERRY" --api-sock "$WORK/$name.sock" "$@" \
		< "$WORK/$name.in" > "$WORK/$name.out" 2> "$WORK/$name.err" &
	PIDS[$name]=$!
	cleanup_hooks+=("kill -9 ${PIDS[$name]} 2>/dev/null")
}

# start_source NAME SIDE MEMTEST_ARGS: boot the memtest guest.
start_source() {
	local name=$1 side=$2 args=$3
	start_ferry "$name" "$side" --kernel "$GUEST" --memory "${VM_MEM:-96M}" \
		--cmdline "mode=memtest passes=0 $args"
	wait_for_line "$WORK/$name.out" "initial fill done" 30 ||
		{ tail "$WORK/$name.err"; fail "$name: the guest did not start"; }
}

# start_dest NAME SIDE [ARGS...]: ferry --incoming on the side's address.
start_dest() {
	local name=$1 side=$2; shift 2
	PORT=$((PORT + 1))
	start_ferry "$name" "$side" --incoming "tcp:$(ip_of "$side"):$PORT" "$@"
	wait_for_line "$WORK/$name.err" "waiting for a source" 10 ||
		{ tail "$WORK/$name.err"; fail "$name: not listening"; }
	DEST_URL="tcp:$(ip_of "$side"):$PORT"
}

# ctl NAME ARGS...: ferryctl against NAME's API socket.
ctl() { local n=$1; shift; "$FERRYCTL" --api-sock "$WORK/$n.sock" "$@"; }

# mig_field NAME FIELD: one field of GET /migration.
mig_field() { ctl "$1" --json migrate status | jq -r ".$2"; }

# wait_exit NAME TIMEOUT_S: wait for the process; sets $status.
wait_exit() {
	local n=$1 t=$2 i
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "${PIDS[$n]}" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "${PIDS[$n]}" 2>/dev/null; then
		tail -5 "$WORK/$n.err"
		fail "$n did not exit within $t s"
	fi
	status=0
	wait "${PIDS[$n]}" || status=$?
}

# finish_guest NAME: end memtest with a byte; it must verify all memory.
finish_guest() {
	local n=$1
	echo x > "$WORK/$n.in"
	wait_exit "$n" 30
	grep -q "final verify ok" "$WORK/$n.out" && grep -q "PASSED" "$WORK/$n.out" || {
		tail -20 "$WORK/$n.out"; tail -5 "$WORK/$n.err"
		fail "$n: the guest's final verify failed"
	}
	[ "$status" -eq 1 ] || fail "$n: exit status $status, expected 1 (guest success)"
}

# running NAME: the VM is running and its guest still makes progress.
assert_running() {
	local n=$1 before after
	[ "$(ctl "$n" --json status | jq -r .state)" = running ] ||
		fail "$n: the VM is not running"
	before=$(grep -c "ok, gen" "$WORK/$n.out")
	sleep 1
	after=$(grep -c "ok, gen" "$WORK/$n.out")
	[ "$after" -gt "$before" ] || fail "$n: the guest makes no progress"
}
