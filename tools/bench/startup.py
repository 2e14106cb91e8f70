#!/usr/bin/env python3
"""Startup benchmark: ferry vs QEMU microvm booting the same PVH test guest.

For each run, measures from process start (just before exec) to the first
byte on the guest's serial console, and to process exit. Runs alternate
between ferry and QEMU so both see the same machine load. Prints min and
median per side and the ratio ferry/QEMU. Then measures ferry's own memory
overhead: RSS minus the guest memory it has touched (the memfd pages show
up as RssShmem), sampled while a guest idles.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def timed_run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    first = p.stdout.read(1)
    t_first = time.perf_counter() - t0
    p.stdout.read()
    rc = p.wait()
    t_exit = time.perf_counter() - t0
    if not first:
        raise RuntimeError(f"no serial output from {argv[0]} (exit {rc})")
    if rc != 1:  # guest success through isa-debug-exit: (0 << 1) | 1
        raise RuntimeError(f"{argv[0]} exited {rc}, expected 1")
    return t_first, t_exit


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def ferry_overhead(ferry, guest):
    """RSS minus guest memory, with a guest running its memtest idle loop."""
    p = subprocess.Popen([ferry, "--kernel", guest, "--memory", "128M",
                          "--cmdline", "mode=memtest mem=8M passes=0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.PIPE)
    try:
        # Wait for the first pass line, then sample.
        line = p.stdout.readline()
        deadline = time.time() + 20
        while b"pass" not in line and time.time() < deadline:
            line = p.stdout.readline()
        time.sleep(0.3)
        rss = status_kib(p.pid, "VmRSS")
        shmem = status_kib(p.pid, "RssShmem")
        anon = status_kib(p.pid, "RssAnon")
        filek = status_kib(p.pid, "RssFile")
    finally:
        p.kill()
        p.wait()
    return rss, shmem, anon, filek


def fmt_ms(v):
    return f"{v * 1000:8.2f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("runs", nargs="?", type=int, default=20)
    a = ap.parse_args()

    ferry_cmd = [a.ferry, "--kernel", a.guest, "--memory", "128M",
                 "--cmdline", "mode=hello"]
    qemu_cmd = [a.qemu, "-M", "microvm", "-accel", "kvm", "-m", "128",
                "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
                "-kernel", a.guest, "-append", "mode=hello",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
    res = {"ferry": ([], []), "qemu": ([], [])}
    # One warm-up each (page cache, lazy binding), not counted.
    timed_run(ferry_cmd)
    timed_run(qemu_cmd)
    for _ in range(a.runs):
        for name, cmd in (("ferry", ferry_cmd), ("qemu", qemu_cmd)):
            f, e = timed_run(cmd)
            res[name][0].append(f)
            res[name][1].append(e)

    print(f"startup: {a.runs} runs each, test guest mode=hello, 128 MiB, 1 vCPU")
    print(f"{'':28}{'ferry':>12}{'qemu microvm':>16}{'ferry/qemu':>12}")
    for idx, what in ((0, "first serial byte"), (1, "process exit")):
        for stat, fn in (("min", min), ("median", statistics.median)):
            fv = fn(res["ferry"][idx])
            qv = fn(res["qemu"][idx])
            print(f"  {what + ' ' + stat:26}{fmt_ms(fv):>12}{fmt_ms(qv):>16}"
                  f"{fv / qv:11.3f}x")
    for idx, what in ((0, "to first serial byte"), (1, "to process exit")):
        r = statistics.median(res["ferry"][idx]) / statistics.median(res["qemu"][idx])
        print(f"target: ferry median startup {what} <= 1/5 of QEMU's (ratio <= 0.200): "
              f"{'MET' if r <= 0.2 else 'NOT MET'} ({r:.3f})")

    rss, shmem, anon, filek = ferry_overhead(a.ferry, a.guest)
    over = rss - shmem
    print(f"memory: ferry VmRSS {rss} KiB, of which guest memory (RssShmem) "
          f"{shmem} KiB; overhead {over} KiB = {over / 1024:.2f} MiB "
          f"(anon {anon} KiB, file-backed incl. shared libraries {filek} KiB)")
    print(f"target: overhead < 5 MiB: {'MET' if over < 5 * 1024 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
