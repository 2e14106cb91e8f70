#!/usr/bin/env bash
# tools/demo.sh: ferry's main job on the bundled defaults. Installs what
# is missing, builds ferry, its test guest and ferry-testdev, then shows:
# the test guest booting (banner, all vCPUs, a memory test whose verdict
# comes back as ferry's exit status); a passthrough PCI device served by
# ferry-testdev over vfio-user, driven by the guest with DMA and MSI-X;
# and that VM snapshotted and restored into new processes with the
# device's state.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_ferry
[ -c /dev/kvm ] || die "/dev/kvm is missing: ferry needs KVM (enable nested virtualization?)"

FERRY="$FERRY_BUILD/ferry"
GUEST="$FERRY_BUILD/tests/guest/ferry-guest.elf"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
verdict() {
	local st=$1
	if [ "$st" -eq 1 ]; then echo "-> guest verdict: success (ferry exit status 1 = (0<<1)|1)";
	else echo "-> guest verdict: FAILURE (ferry exit status $st)"; exit 1; fi
}

step "Boot the test guest (PVH) and print its banner" \
	ferry --kernel ferry-guest.elf --cmdline mode=hello
st=0; "$FERRY" --kernel "$GUEST" --cmdline "mode=hello" </dev/null || st=$?
verdict $st

step "Four vCPUs: the guest starts its APs and each checks in" \
	ferry --kernel ferry-guest.elf --vcpus 4 --cmdline mode=smp
st=0; "$FERRY" --kernel "$GUEST" --vcpus 4 --cmdline "mode=smp" </dev/null || st=$?
verdict $st

step "Memory test: 64 MiB written and verified, 3 passes" \
	ferry --kernel ferry-guest.elf --memory 256M --cmdline "mode=memtest mem=64M passes=3"
st=0; "$FERRY" --kernel "$GUEST" --memory 256M \
	--cmdline "mode=memtest mem=64M passes=3" </dev/null || st=$?
verdict $st

TESTDEV="$FERRY_BUILD/tools/testdev/ferry-testdev"
DEMO=$(mktemp -d /tmp/ferry-demo.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$DEMO"' EXIT
start_testdev() { # NAME: a device server on $DEMO/NAME.sock
	"$TESTDEV" --socket "$DEMO/$1.sock" 2>"$DEMO/$1.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$DEMO/$1.sock" ] && return 0; sleep 0.05; done
	die "ferry-testdev did not start"
}

step "Passthrough: a PCI device served by ferry-testdev over vfio-user; the guest writes through BAR2, runs DMA both ways and takes MSI-X interrupts" \
	"ferry-testdev --socket dev0.sock & " ferry --kernel ferry-guest.elf --vfio-user id=dev0,socket=dev0.sock --cmdline "mode=vfio passes=3"
start_testdev dev0
st=0; "$FERRY" --kernel "$GUEST" --vfio-user "id=dev0,socket=$DEMO/dev0.sock" \
	--cmdline "mode=vfio passes=3" </dev/null 2>/dev/null || st=$?
verdict $st

FERRYCTL="$FERRY_BUILD/tools/ferryctl/ferryctl"
wait_line() { # FILE PATTERN: up to 30 s
	for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	die "timed out waiting for '$2' in $1"
}

step "Snapshot and restore with the device's state: run the vfio guest (DMA running), pause, snapshot, kill ferry and the device server, restore into new processes" \
	ferryctl pause ";" ferryctl snapshot create DIR ";" ferry --restore DIR --resume --vfio-user id=dev0,socket=NEW.sock
start_testdev snap0
mkfifo "$DEMO/in"
exec 3<>"$DEMO/in"
"$FERRY" --kernel "$GUEST" --api-sock "$DEMO/api.sock" --cmdline "mode=vfio passes=0" \
	--vfio-user "id=dev0,socket=$DEMO/snap0.sock" <"$DEMO/in" >"$DEMO/src.out" 2>"$DEMO/src.err" &
vm=$!; pids+=($vm)
wait_line "$DEMO/src.out" "pass 3 ok"
tail -1 "$DEMO/src.out"
"$FERRYCTL" --api-sock "$DEMO/api.sock" pause
"$FERRYCTL" --api-sock "$DEMO/api.sock" snapshot create "$DEMO/snap"
saved=$(grep -E "STOP -> STOP_COPY digest=" "$DEMO/snap0.log" | tail -1 | sed 's/.*digest=//')
kill -KILL "$vm"; wait "$vm" 2>/dev/null || true
"$FERRYCTL" snapshot inspect "$DEMO/snap" >"$DEMO/inspect.txt"
head -12 "$DEMO/inspect.txt"
start_testdev snap1
"$FERRY" --restore "$DEMO/snap" --resume --vfio-user "id=dev0,socket=$DEMO/snap1.sock" \
	<"$DEMO/in" >"$DEMO/dst.out" 2>"$DEMO/dst.err" &
vm=$!; pids+=($vm)
wait_line "$DEMO/snap1.log" "RESUMING -> STOP digest="
restored=$(grep -E "RESUMING -> STOP digest=" "$DEMO/snap1.log" | tail -1 | sed 's/.*digest=//')
echo "device digest at save: $saved; in the new device server after restore: $restored"
[ "$saved" = "$restored" ] || die "device state differs after restore"
wait_line "$DEMO/dst.out" "pass [0-9]+ ok"
printf 'q' >&3
st=0; wait "$vm" || st=$?
tail -3 "$DEMO/dst.out"
verdict $st

if ip netns add "ferry-demo-probe-$$" 2>/dev/null; then
	ip netns del "ferry-demo-probe-$$"
	step "Live migration between two hosts (network namespaces joined by a veth pair), passthrough device included, guest running DMA throughout" \
		ferry --incoming tcp:10.99.0.2:4444 --memory 128M ... ";" ferryctl migrate tcp:10.99.0.2:4444
	NSA="ferry-demo-a-$$"; NSB="ferry-demo-b-$$"
	trap 'kill "${pids[@]}" 2>/dev/null; ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null; rm -rf "$DEMO"' EXIT
	ip netns add "$NSA"; ip netns add "$NSB"
	ip link add "fda$$" type veth peer name "fdb$$"
	ip link set "fda$$" netns "$NSA"; ip link set "fdb$$" netns "$NSB"
	ip -n "$NSA" addr add 10.99.0.1/24 dev "fda$$"; ip -n "$NSB" addr add 10.99.0.2/24 dev "fdb$$"
	ip -n "$NSA" link set "fda$$" up; ip -n "$NSB" link set "fdb$$" up
	start_testdev mig0; start_testdev mig1
	ip netns exec "$NSA" "$FERRY" --kernel "$GUEST" --memory 128M --api-sock "$DEMO/a.sock" \
		--cmdline "mode=vfio passes=0" --vfio-user "id=dev0,socket=$DEMO/mig0.sock" \
		<"$DEMO/in" >"$DEMO/a.out" 2>"$DEMO/a.err" &
	pids+=($!)
	# --memory: the destination readies the guest memory while it waits.
	ip netns exec "$NSB" "$FERRY" --incoming tcp:10.99.0.2:4444 --memory 128M --api-sock "$DEMO/b.sock" \
		--vfio-user "id=dev0,socket=$DEMO/mig1.sock" <"$DEMO/in" >"$DEMO/b.out" 2>"$DEMO/b.err" &
	dst=$!; pids+=($dst)
	wait_line "$DEMO/a.out" "pass 3 ok"
	wait_line "$DEMO/b.err" "waiting for a source"
	"$FERRYCTL" --api-sock "$DEMO/a.sock" migrate tcp:10.99.0.2:4444 downtime=300
	wait_line "$DEMO/b.out" "pass [0-9]+ ok"
	tail -1 "$DEMO/b.out"
	printf 'q' >&3
	st=0; wait "$dst" || st=$?
	tail -2 "$DEMO/b.out"
	verdict $st
else
	printf '\n(live migration step skipped: creating network namespaces needs root)\n'
fi

printf '\nDone. See README.md for the API, snapshots, live migration and the test suite.\n'
