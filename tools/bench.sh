#!/usr/bin/env bash
# tools/bench.sh: ferry's benchmarks, each run side by side with its peer
# (QEMU microvm booting the same test guest) in one run, printing both
# sides and their ratio. Absolute times on shared machines are noisy:
# read the ratios.
#
#   tools/bench.sh startup [RUNS]   process start -> first serial byte and
#                                   -> exit, ferry vs QEMU; ferry's memory
#                                   overhead (RSS minus guest memory)
#   tools/bench.sh vfio             passthrough: trapped and mmapped BAR
#                                   latency, DMA throughput, MSI-X latency,
#                                   next to the bare port-I/O exit cost
#   tools/bench.sh seccomp          guest port-I/O exit and API latency with
#                                   seccomp in kill mode and off
#   tools/bench.sh migrate          live migration over loopback TCP, ferry vs
#                                   QEMU: downtime, total time, throughput
#                                   next to loopback TCP (tools/bench/migrate.py)
#   tools/bench.sh snapshot [ARGS]  snapshot create throughput vs the disk's
#                                   write bandwidth, restore to running
#                                   (lazy, copy), ferry vs QEMU migrate to
#                                   a file, 256 MiB and 1 GiB guests
#   tools/bench.sh list             list the benchmarks
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ -n "$cmd" ] || { usage; exit 2; }
shift || true
case "$cmd" in
list|--help|-h) usage; exit 0 ;;
startup)
	build_ferry
	ensure_packages qemu-system-x86 python3
	[ -c /dev/kvm ] || die "/dev/kvm is missing: benchmarks need KVM"
	exec python3 "$FERRY_SRC/tools/bench/startup.py" \
		--ferry "$FERRY_BUILD/ferry" \
		--guest "$FERRY_BUILD/tests/guest/ferry-guest.elf" "$@"
	;;
vfio)
	build_ferry
	[ -c /dev/kvm ] || die "/dev/kvm is missing: benchmarks need KVM"
	exec python3 "$FERRY_SRC/tools/bench/vfio.py" --ferry "$FERRY_BUILD/ferry" \
		--guest "$FERRY_BUILD/tests/guest/ferry-guest.elf" \
		--testdev "$FERRY_BUILD/tools/testdev/ferry-testdev" "$@"
	;;
seccomp)
	build_ferry
	[ -c /dev/kvm ] || die "/dev/kvm is missing: benchmarks need KVM"
	exec python3 "$FERRY_SRC/tools/bench/seccomp.py" \
		--ferry "$FERRY_BUILD/ferry" \
		--guest "$FERRY_BUILD/tests/guest/ferry-guest.elf" "$@"
	;;
migrate)
	build_ferry
	ensure_packages qemu-system-x86 python3
	[ -c /dev/kvm ] || die "/dev/kvm is missing: benchmarks need KVM"
	exec python3 "$FERRY_SRC/tools/bench/migrate.py" \
		--ferry "$FERRY_BUILD/ferry" \
		--guest "$FERRY_BUILD/tests/guest/ferry-guest.elf" \
		--testdev "$FERRY_BUILD/tools/testdev/ferry-testdev" "$@"
	;;
snapshot)
	build_ferry
	ensure_packages qemu-system-x86 python3
	[ -c /dev/kvm ] || die "/dev/kvm is missing: benchmarks need KVM"
	exec python3 "$FERRY_SRC/tools/bench/snapshot.py" \
		--ferry "$FERRY_BUILD/ferry" \
		--guest "$FERRY_BUILD/tests/guest/ferry-guest.elf" "$@"
	;;
*) usage >&2; die "unknown benchmark '$cmd'" ;;
esac
