#!/usr/bin/env python3
"""VFIO passthrough benchmark: what a ferry-testdev passed through over
vfio-user costs the guest, with the bare port-I/O exit measured in the same
guest run for scale.

Each run starts a fresh ferry-testdev and boots the test guest in
mode=vfio-bench (tests/guest/vfio-bench.c), which times from CPL3 with the
TSC:
  - a trapped BAR0 register read / write: VM exit -> ferry -> vfio-user
    round trip to the device server -> back into the guest;
  - an 8-byte read / write of BAR2 device memory, mapped into the guest as
    a KVM memslot over the server's memfd (no exit at all);
  - a bare port-I/O exit (COM1 LSR), the floor any trapped access pays;
  - DMA throughput both ways (DMA_CTRL write to completion interrupt);
  - interrupt latency: IRQ_TRIGGER write to the guest's handler, through
    eventfd -> KVM irqfd -> MSI route -> LAPIC.
Prints the median of the runs per metric, and for the trapped accesses
the part above the bare exit (the vfio-user round trip). No peer runs
alongside: Debian's QEMU has no vfio-user client.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

LINE = re.compile(rb"vfio-bench: (trapped_read_ns=.*)")
FIELD = re.compile(rb"(\w+)=([0-9.]+)")

# metric, label, unit
ROWS = [
    ("pio_exit_ns", "bare port-I/O exit (scale)", "ns"),
    ("trapped_read_ns", "BAR0 trapped read", "ns"),
    ("trapped_write_ns", "BAR0 trapped write", "ns"),
    ("mmap_read_ns", "BAR2 mmapped read (8 B)", "ns"),
    ("mmap_write_ns", "BAR2 mmapped write (8 B)", "ns"),
    ("dma_to_guest_MBps", "DMA device -> guest", "MB/s"),
    ("dma_from_guest_MBps", "DMA guest -> device", "MB/s"),
    ("irq_latency_ns", "MSI-X latency (trigger write -> handler)", "ns"),  # includes the write
]


def start_testdev(testdev, sock, log):
    p = subprocess.Popen([testdev, "--socket", sock], stdout=subprocess.DEVNULL,
                         stderr=log, stdin=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            return p
        if p.poll() is not None:
            raise RuntimeError("ferry-testdev exited at start")
        time.sleep(0.1)
    p.kill()
    raise RuntimeError("ferry-testdev: no socket after 10 s")


def one_run(args, d, i):
    sock = os.path.join(d, f"td{i}.sock")
    with open(os.path.join(d, f"td{i}.log"), "wb") as log:
        td = start_testdev(args.testdev, sock, log)
        try:
            out = subprocess.run(
                [args.ferry, "--kernel", args.guest,
                 "--cmdline", f"mode=vfio-bench iterations={args.iterations}",
                 "--vfio-user", f"id=vfio0,socket={sock}"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, timeout=600, check=False)
        finally:
            td.send_signal(signal.SIGTERM)
            td.wait(timeout=30)
    m = LINE.search(out.stdout)
    if out.returncode != 1 or not m:
        raise RuntimeError(f"vfio-bench failed (exit {out.returncode}): "
                           f"{out.stdout[-400:]!r} {out.stderr[-400:]!r}")
    return {k.decode(): float(v) for k, v in FIELD.findall(m.group(1))}


def fmt(v, unit):
    if unit == "MB/s":
        return f"{v:,.0f} MB/s"
    if v >= 1000:
        return f"{v / 1000:,.2f} us"
    return f"{v:.2f} ns"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--testdev", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=1000,
                    help="timed accesses per metric in each guest run")
    args = ap.parse_args()

    d = tempfile.mkdtemp(prefix="ferry-bench-vfio-")
    try:
        runs = []
        for i in range(args.runs):
            r = one_run(args, d, i)
            runs.append(r)
            print(f"run {i + 1}/{args.runs}: " +
                  " ".join(f"{k}={v:g}" for k, v in r.items()), flush=True)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"bench vfio: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(d, ignore_errors=True)

    med = {k: statistics.median(r[k] for r in runs) for k, _, _ in ROWS}
    pio = med["pio_exit_ns"]
    print(f"\nVFIO passthrough (vfio-user, ferry-testdev), median of "
          f"{args.runs} runs x {args.iterations} iterations")
    print(f"{'metric':44} {'value':>14} {'x pio exit':>11}")
    for k, label, unit in ROWS:
        ratio = ""
        if unit == "ns" and pio:
            r = med[k] / pio
            ratio = f"{r:10.2f}x" if r >= 0.01 else f"{r:10.1e}x"
        print(f"{label:44} {fmt(med[k], unit):>14} {ratio:>11}")
    for k in ("trapped_read_ns", "trapped_write_ns"):
        print(f"{k.replace('_ns', '')} above the bare exit (vfio-user round "
              f"trip and dispatch): {fmt(med[k] - pio, 'ns')}")
    # The trigger is itself a trapped write (the device signals the eventfd
    # before it replies), so the delivery cost is the per-run difference.
    extra = statistics.median(r["irq_latency_ns"] - r["trapped_write_ns"]
                              for r in runs)
    print(f"MSI-X latency minus its trapped trigger write (median of per-run "
          f"differences): {extra / 1000:+.2f} us (<= 0: delivered on the "
          f"VM entry that completes the write)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
