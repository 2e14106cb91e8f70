#!/usr/bin/env bash
# boot-guest.sh: ferry boots the test guest: hello, smp with 1, 2 and 4
# vCPUs (and with 3 found through the ACPI MADT alone and the MP table
# alone), memtest over 64 MiB; the guest's verdict comes back as ferry's
# exit status through the debug-exit port.
. "$(dirname "$0")/lib.sh"

run_guest 60 --kernel "$GUEST" --cmdline "mode=hello"
expect_status 1 "hello"
expect_out "hello" "hello banner"
pass "hello"

for n in 1 2 4; do
	run_guest 120 --kernel "$GUEST" --vcpus "$n" --cmdline "mode=smp"
	expect_status 1 "smp with $n vCPUs"
	expect_out "smp: $n/$n cpus online" "smp with $n vCPUs"
	pass "smp with $n vCPUs"
done

# The CPUs through each of ferry's tables alone: the ACPI MADT and the
# MP table must both list every vCPU.
for src in acpi mptable; do
	run_guest 120 --kernel "$GUEST" --vcpus 3 --cmdline "mode=smp cpu_tables=$src"
	expect_status 1 "smp from $src"
	expect_out "smp: 3 cpus from" "smp from $src"
	expect_out "smp: 3/3 cpus online" "smp from $src"
	pass "smp with 3 vCPUs found through $src"
done
# --no-acpi: no RSDP for the guest to find; the MP table still works.
run_guest 120 --kernel "$GUEST" --vcpus 2 --no-acpi --cmdline "mode=smp cpu_tables=acpi"
[ "$status" -ne 1 ] || fail "found ACPI tables with --no-acpi"
run_guest 120 --kernel "$GUEST" --vcpus 2 --no-acpi --cmdline "mode=smp"
expect_status 1 "smp with --no-acpi"
expect_out "smp: 2 cpus from MP table" "smp with --no-acpi"
pass "--no-acpi: no ACPI tables, CPUs from the MP table"

run_guest 300 --kernel "$GUEST" --memory 256M --cmdline "mode=memtest mem=64M passes=3"
expect_status 1 "memtest 64M"
expect_out "pass 3/3 ok" "memtest 64M"
pass "memtest 64 MiB, 3 passes"

# RAM above 4 GiB: the high region must work as well as the low one.
run_guest 300 --kernel "$GUEST" --memory 5G --cmdline "mode=memtest mem=64M passes=1"
expect_status 1 "memtest with 5 GiB of RAM"
pass "boots with RAM split around the MMIO hole"
