# linux-common.sh: shared body of the Linux boot proofs (sourced by
# linux-pvh.sh and linux-bzimage.sh, which set KERNEL_FILE and WAIT_S).
# Fetches Debian's cloud kernel (tools/fetch-linux.sh), boots it under
# ferry with the serial console in a file, waits (bounded) for the
# "Linux version" banner and the complete BIOS-e820 map, and checks the
# map against the one ferry's layout (vmm/mem.h) implies for --memory,
# then waits for Linux to take its 2 CPUs from ferry's ACPI MADT:
#   RAM 0..0x9fc00, reserved 0x9fc00..0x100000, RAM 1 MiB..min(mem, 3 GiB),
#   RAM 4 GiB..4 GiB + (mem - 3 GiB) when mem > 3 GiB.
# Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm, kernel not downloadable).

if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm missing or not writable"
	exit 77
fi
: "${FERRY:?FERRY must point at the ferry binary}"
BUILD_DIR=${BUILD_DIR:-$(dirname "$FERRY")}
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MEM=${FERRY_LINUX_MEM:-256M}
CACHE=${FERRY_LINUX_CACHE:-$BUILD_DIR/linux-cache}

BUILD_DIR=$BUILD_DIR "$SOURCE_DIR/tools/fetch-linux.sh" "$CACHE"
rc=$?
if [ $rc -ne 0 ]; then
	echo "fetch-linux.sh failed ($rc)"
	[ $rc -eq 77 ] && exit 77
	exit 1
fi

tmp=$(mktemp -d)
log=$tmp/serial.log
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sleep 1
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	echo "--- ferry output ---"
	cat "$tmp/ferry.out" 2>/dev/null
	echo "--- serial (last 40 lines) ---"
	tail -n 40 "$log" 2>/dev/null
	exit 1
}

# Size in bytes from a K/M/G suffixed value (powers of 1024).
to_bytes() {
	case $1 in
	*[kK]) echo $(( ${1%?} * 1024 )) ;;
	*[mM]) echo $(( ${1%?} * 1024 * 1024 )) ;;
	*[gG]) echo $(( ${1%?} * 1024 * 1024 * 1024 )) ;;
	*) echo "$1" ;;
	esac
}

e820_line() { # start end-exclusive type
	printf 'BIOS-e820: [mem 0x%016x-0x%016x] %s\n' "$1" $(( $2 - 1 )) "$3"
}

mem=$(to_bytes "$MEM")
hole=$(( 3 * 1024 * 1024 * 1024 ))
low_end=$mem
[ "$mem" -gt "$hole" ] && low_end=$hole
{
	e820_line 0 $(( 0x9fc00 )) usable
	e820_line $(( 0x9fc00 )) $(( 0x100000 )) reserved
	e820_line $(( 0x100000 )) "$low_end" usable
	if [ "$mem" -gt "$hole" ]; then
		hi=$(( 4 * 1024 * 1024 * 1024 ))
		e820_line "$hi" $(( hi + mem - hole )) usable
	fi
} > "$tmp/expected"

start=$(date +%s)
"$FERRY" --kernel "$CACHE/$KERNEL_FILE" --memory "$MEM" --vcpus 2 \
	--cmdline "console=ttyS0 earlyprintk=ttyS0" --serial "file:$log" \
	< /dev/null > "$tmp/ferry.out" 2>&1 &
pid=$!

# Done when the banner is there and a line follows the last e820 line.
e820_complete() {
	grep -q 'Linux version' "$log" 2>/dev/null || return 1
	awk '/BIOS-e820:/ { seen = 1; after = 0; next }
	     seen && NF { after = 1 }
	     END { exit !(seen && after) }' "$log"
}

banner_s=
while :; do
	now=$(date +%s)
	if [ -z "$banner_s" ] && grep -q 'Linux version' "$log" 2>/dev/null; then
		banner_s=$(( now - start ))
	fi
	e820_complete && break
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		fail "ferry exited ($?) before the e820 map was printed"
	fi
	[ $(( now - start )) -ge "$WAIT_S" ] &&
		fail "no banner and e820 map within ${WAIT_S} s"
	sleep 1
done
echo "banner after ${banner_s:-?} s, e820 map after $(( $(date +%s) - start )) s"
grep -m1 'Linux version' "$log"

sed -n 's/.*\(BIOS-e820: .*\)/\1/p' "$log" | tr -d '\r' > "$tmp/got"
if ! cmp -s "$tmp/expected" "$tmp/got"; then
	echo "expected:"; cat "$tmp/expected"
	echo "got:"; cat "$tmp/got"
	fail "e820 map differs from ferry's layout for --memory $MEM"
fi
cat "$tmp/got"

# ferry's ACPI tables (vmm/acpi.c) as Linux reads them: RSDP, XSDT,
# FADT, DSDT and MADT found and checksummed, CPUs taken from the MADT.
while ! grep -q 'smpboot: Allowing' "$log" 2>/dev/null; do
	kill -0 "$pid" 2>/dev/null || fail "ferry exited before Linux counted its CPUs"
	[ $(( $(date +%s) - start )) -ge "$WAIT_S" ] &&
		fail "no 'smpboot: Allowing' line within ${WAIT_S} s"
	sleep 1
done
for t in RSDP XSDT FACP DSDT APIC; do
	grep -q "ACPI: $t 0x00000000000E" "$log" || fail "Linux did not list ACPI table $t"
done
grep -q 'ACPI: Using ACPI (MADT) for SMP configuration information' "$log" ||
	fail "Linux did not take its CPUs from the ACPI MADT"
grep -q 'smpboot: Allowing 2 CPUs' "$log" || fail "Linux did not find 2 CPUs"
grep 'ACPI: RSDP\|Using ACPI (MADT)\|smpboot: Allowing' "$log" | tr -d '\r'
echo "PASS: $KERNEL_FILE booted, e820 matches --memory $MEM, ACPI MADT gives 2 CPUs ($(( $(date +%s) - start )) s)"
exit 0
