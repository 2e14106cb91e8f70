#!/usr/bin/env bash
# tools/demo.sh: ferry's main job on the bundled defaults. Installs what
# is missing, builds ferry and its test guest, then boots the test guest
# in microVMs and shows it working: a banner, all vCPUs checking in, and
# a memory test whose verdict comes back as ferry's exit status.
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

printf '\nDone. See README.md for the API socket, passthrough devices and the test suite.\n'
