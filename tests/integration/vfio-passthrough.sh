#!/usr/bin/env bash
# vfio-passthrough.sh: one ferry-testdev passed through over vfio-user.
# The test guest (mode=vfio) finds it on the PCI bus, exercises its
# registers (trapped BAR0), writes device memory through BAR2 (a KVM
# memslot over the device's mmap), runs DMA both ways through the guest
# RAM memfd with the MSI-X completion interrupt, and checks the device's
# digest every pass. ferry's debug log must show BAR2 as a memslot and
# every interrupt delivered by KVM through the irqfd route (none through
# the event loop).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vfio-lib.sh"

start_testdev vfio0
run_guest 300 --kernel "$GUEST" --cmdline "mode=vfio passes=4" \
	"$(vfio_arg vfio0)" --log-level debug
expect_status 1 "mode=vfio passes=4"
expect_out "^vfio: pass 4/4 ok, digest 0x[0-9a-f]{16}, irqs 8" "four passes, two interrupts each"
expect_out "^vfio: PASSED \(4 passes, 1 device\)" "verdict"
expect_err "vfio0: 4654:0001 class ff0000" "config space read from the device"
expect_err "vfio0: PCI slot 1, 4 MSI-X" "plugged with MSI-X"
expect_err "vfio0: BAR2 0x[0-9a-f]+\+0x4000000 -> memslot" "BAR2 mapped as a memslot"
expect_err "vfio0: vector 0 -> GSI [0-9]+ \(irqfd\)" "MSI-X vector 0 routed through an irqfd"
expect_err "vfio0: 0 interrupt\(s\) went through the event loop" "all interrupts via KVM"
grep -q "device failed" "$WORK/err" && fail "a device failed"
grep -q "DMA map iova 0x0 size 0x8000000" "$WORK/vfio0.td.log" ||
	fail "testdev did not get guest RAM for DMA"
pass "$(grep -c 'pass [0-9]*/4 ok' "$WORK/out") passes verified; DMA, MSI-X and BAR2 memslot work"

# INTx: the same device with an interrupt pin (--intx on). The guest
# programs the IOAPIC for the pin's GSI and takes every DMA completion
# as a level interrupt: KVM asserts the GSI through the resampling irqfd
# and, on the guest's EOI, deasserts it and unmasks the device.
start_testdev vfio1 --intx on
run_guest 300 --kernel "$GUEST" --cmdline "mode=vfio passes=4 irq=intx" \
	"--vfio-user=id=vfio1,socket=$WORK/vfio1.sock" --log-level debug
expect_status 1 "mode=vfio irq=intx"
expect_out "^vfio: pass 4/4 ok, digest 0x[0-9a-f]{16}, irqs 8, irq intx gsi 1[6-9]|^vfio: pass 4/4 ok, digest 0x[0-9a-f]{16}, irqs 8, irq intx gsi 2[0-3]" "four passes on INTx"
expect_out "^vfio: PASSED \(4 passes, 1 device\)" "verdict (INTx)"
expect_err "vfio1: INTx pin A -> GSI [0-9]+ \(resampling irqfd\)" "INTx wired through a resampling irqfd"
grep -q "device failed" "$WORK/err" && fail "a device failed (INTx)"
pass "INTx: $(grep -c 'pass [0-9]*/4 ok' "$WORK/out") passes with level interrupts through the IOAPIC"

# A pin the guest never uses: INTx is unwired before MSI-X is enabled.
start_testdev vfio2 --intx on
run_guest 300 --kernel "$GUEST" --cmdline "mode=vfio passes=2" \
	"--vfio-user=id=vfio2,socket=$WORK/vfio2.sock" --log-level debug
expect_status 1 "mode=vfio (MSI-X) on a device with a pin"
expect_out "^vfio: PASSED \(2 passes, 1 device\)" "verdict (MSI-X with a pin)"
grep -q "INTx disabled" "$WORK/vfio2.td.log" || fail "INTx was not unwired before MSI-X"
pass "MSI-X on a device with an INTx pin: INTx unwired first"

# With a PCI device there are no ACPI tables (their DSDT does not
# describe the PCI bus, and an ACPI-first Linux would not find the
# device): the guest finds no RSDP, and its CPUs through the MP table.
start_testdev vfio3
run_guest 120 --kernel "$GUEST" --vcpus 2 --cmdline "mode=smp cpu_tables=acpi" "--vfio-user=id=vfio3,socket=$WORK/vfio3.sock"
[ "$status" -ne 1 ] || fail "ACPI tables written for a VM with a PCI device"
expect_err "no ACPI tables: they do not describe the PCI bus" "the reason is logged"
run_guest 120 --kernel "$GUEST" --vcpus 2 --cmdline "mode=smp" "--vfio-user=id=vfio3,socket=$WORK/vfio3.sock"
expect_status 1 "smp with a PCI device"
expect_out "smp: 2 cpus from MP table" "CPUs from the MP table"
pass "a VM with a PCI device boots with the MP table only"
