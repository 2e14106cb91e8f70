#!/usr/bin/env python3
"""Live-migration benchmark: ferry vs QEMU microvm, same memtest guest.

Both sides migrate the PVH test guest running `mode=memtest passes=0
rate=R` (it keeps rewriting R pages per pass and verifies all of its
memory each pass) over loopback TCP to a second process of the same kind
(`ferry --incoming tcp:...` / `qemu -incoming tcp:...`), with a 300 ms
downtime limit. Reported per run: total time, downtime (ferry: its own
measurement, VM paused -> destination confirmed; QEMU: `query-migrate`'s
downtime), bytes sent and throughput, next to the loopback TCP throughput
measured in the same run (two processes, 4 MiB sends). After each
migration the destination guest verifies every page (a byte on its
serial input ends memtest with a final verify).

Cases are a table (CASES): "ram" (RAM only, also run on QEMU), and
device-state cases where the VM has a ferry-testdev passthrough device
whose migration data is its BAR2 memory (64/256/1024 MiB; the device
dirties 1 MiB/s of it in the background): PRE_COPY on ("pre") or off
("stop"), and switchover-ack on or off with a destination device that
needs 1000 ms to set up ("ack-delay1000" / "noack-delay1000"). The
device cases compare ferry with itself (QEMU has no such device here).
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def api(sock, method, path, body=None):
    c = UnixHTTP(sock)
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers=hdrs)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timeout waiting for {what}")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def passes(path):
    return read(path).count(b" ok, gen ")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


SINK = r"""
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); buf = bytearray(4 << 20); n = 0
while True:
    k = c.recv_into(buf)
    if not k: break
    n += k
print(n, flush=True)
"""


def loopback_tcp(total=2 << 30):
    """Bytes/s of one TCP stream over loopback between two processes."""
    p = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline())
    s = socket.create_connection(("127.0.0.1", port))
    buf = os.urandom(4 << 20)
    t0 = time.perf_counter()
    sent = 0
    while sent < total:
        s.sendall(buf)
        sent += len(buf)
    s.shutdown(socket.SHUT_WR)
    got = int(p.stdout.readline())
    dt = time.perf_counter() - t0
    s.close()
    p.wait()
    assert got == sent
    return sent / dt


def memfd_fill(total=1 << 30):
    """Bytes/s of filling fresh memfd pages with pwrite (hot 1 MiB source):
    what any destination must at least do with every byte of guest RAM it
    receives (allocate the page and copy into it), with no network at all."""
    fd = os.memfd_create("ferry-bench-fill")
    try:
        os.ftruncate(fd, total)
        buf = os.urandom(1 << 20)
        t0 = time.perf_counter()
        for off in range(0, total, len(buf)):
            os.pwrite(fd, buf, off)
        return total / (time.perf_counter() - t0)
    finally:
        os.close(fd)


def guest_cmdline(a):
    return f"mode=memtest mem={a.size - 16}M passes=0 rate={a.rate} pause_ms={a.pause_ms}"


def finish(out, p, what):
    """End memtest on the destination: it must verify every page."""
    p.stdin.write(b"x")
    p.stdin.flush()
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise RuntimeError(f"{what}: destination did not finish")
    data = read(out)
    if b"final verify ok" not in data or p.returncode != 1:
        raise RuntimeError(f"{what}: destination guest failed (exit {p.returncode}): "
                           + data[-300:].decode(errors="replace"))


def start_testdev(a, path, dev, dest):
    args = [a.testdev, "--socket", path, "--mem-size", f"{dev['mb']}M",
            "--dirty-rate", "1M", "--precopy", "on" if dev["precopy"] else "off"]
    if dest and dev["delay"]:
        args += ["--resume-delay-ms", str(dev["delay"])]
    if os.path.exists(path):
        os.unlink(path)
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(path), 10, "ferry-testdev socket")
    return p


def run_ferry(a, work, dev):
    extra, tds = [], []
    if dev:
        for name, dest in (("tds", False), ("tdd", True)):
            path = os.path.join(work, name + ".sock")
            tds.append(start_testdev(a, path, dev, dest))
        extra_src = ["--vfio-user", f"id=dev0,socket={os.path.join(work, 'tds.sock')}"]
        extra_dst = ["--vfio-user", f"id=dev0,socket={os.path.join(work, 'tdd.sock')}"]
    else:
        extra_src = extra_dst = []
    try:
        return run_ferry_vm(a, work, dev, extra_src, extra_dst)
    finally:
        for p in tds:
            p.kill()
            p.wait()


def run_ferry_vm(a, work, dev, extra_src, extra_dst):
    src_sock = os.path.join(work, "src.sock")
    dst_sock = os.path.join(work, "dst.sock")
    for f in (src_sock, dst_sock):
        if os.path.exists(f):
            os.unlink(f)
    port = free_port()
    src_out, dst_out = os.path.join(work, "fsrc.out"), os.path.join(work, "fdst.out")
    src = subprocess.Popen([a.ferry, "--log-level", "debug", "--kernel", a.guest, "--memory", f"{a.size}M",
                            "--cmdline", guest_cmdline(a), "--api-sock", src_sock] + extra_src,
                           stdout=open(src_out, "wb"), stderr=open(src_out + ".err", "wb"),
                           stdin=subprocess.PIPE)
    # --memory on the destination: it allocates guest memory while waiting.
    prealloc = ["--memory", f"{a.size}M"] if a.prealloc else []
    dst = subprocess.Popen([a.ferry, "--log-level", "debug", "--incoming", f"tcp:127.0.0.1:{port}",
                            "--api-sock", dst_sock] + prealloc + extra_dst,
                           stdout=open(dst_out, "wb"), stderr=open(dst_out + ".err", "wb"),
                           stdin=subprocess.PIPE)
    try:
        wait_for(lambda: passes(src_out) >= a.warm_passes, 300, "ferry: memtest passes")
        body = {"url": f"tcp:127.0.0.1:{port}", "downtime_limit_ms": a.downtime,
                "on_timeout": "switchover"}
        if a.channels:
            body["channels"] = a.channels
        if dev:
            body["switchover_ack"] = dev["ack"]
        st, body = api(src_sock, "PUT", "/migration", body)
        if st != 200:
            raise RuntimeError(f"ferry PUT /migration: HTTP {st}: {body}")
        r = None
        while True:
            try:
                st, r = api(src_sock, "GET", "/migration")
            except OSError:
                break
            if r["phase"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.05)
        if not r or r["phase"] != "completed":
            raise RuntimeError(f"ferry migration: {r}")
        src.wait(timeout=30)
        finish(dst_out, dst, "ferry")
        return {"total_ms": r["total_ms"], "downtime_ms": r["downtime_ms"],
                "bytes": r["bytes_sent"], "iterations": r["iteration"]}
    finally:
        for p in (src, dst):
            if p.poll() is None:
                p.kill()
                p.wait()


class Qmp:
    def __init__(self, path):
        wait_for(lambda: os.path.exists(path), 30, "QMP socket")
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, c, **args):
        msg = {"execute": c}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {c}: {r['error']}")


def run_qemu(a, work):
    port = free_port()
    base = [a.qemu, "-M", "microvm", "-accel", "kvm", "-m", str(a.size),
            "-nographic", "-monitor", "none", "-no-reboot", "-kernel", a.guest,
            "-append", guest_cmdline(a), "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
    sq, dq = os.path.join(work, "sq.sock"), os.path.join(work, "dq.sock")
    for f in (sq, dq):
        if os.path.exists(f):
            os.unlink(f)
    src_out, dst_out = os.path.join(work, "qsrc.out"), os.path.join(work, "qdst.out")
    src = subprocess.Popen(base + ["-qmp", f"unix:{sq},server=on,wait=off"],
                           stdout=open(src_out, "wb"), stderr=subprocess.DEVNULL,
                           stdin=subprocess.PIPE)
    # The same preparation as ferry's destination: memory allocated first.
    prealloc = ["-mem-prealloc"] if a.prealloc else []
    dst = subprocess.Popen(base + prealloc + ["-qmp", f"unix:{dq},server=on,wait=off",
                                   "-incoming", f"tcp:127.0.0.1:{port}"],
                           stdout=open(dst_out, "wb"), stderr=subprocess.DEVNULL,
                           stdin=subprocess.PIPE)
    try:
        q = Qmp(sq)
        Qmp(dq)
        # QEMU's defaults: 128 MiB/s cap and 300 ms downtime; lift the cap.
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40,
                                           "downtime-limit": a.downtime})
        wait_for(lambda: passes(src_out) >= a.warm_passes, 300, "qemu: memtest passes")
        q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        while True:
            r = q.cmd("query-migrate")
            if r.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.05)
        if r["status"] != "completed":
            raise RuntimeError(f"QEMU migrate: {r}")
        q.cmd("quit")
        src.wait(timeout=30)
        # QEMU's destination runs after "completed"; give its first pass time.
        finish(dst_out, dst, "qemu")
        ram = r.get("ram", {})
        return {"total_ms": r["total-time"], "downtime_ms": r["downtime"],
                "bytes": ram.get("transferred", 0),
                "iterations": ram.get("dirty-sync-count", 0)}
    finally:
        for p in (src, dst):
            if p.poll() is None:
                p.kill()
                p.wait()


# name -> extra ferry arguments (None: not available yet, with the reason).
# name -> device parameters (None: RAM only).
CASES = {"ram": None}
for _mb in (64, 256, 1024):
    CASES[f"dev{_mb}-pre"] = {"mb": _mb, "precopy": True, "delay": 0, "ack": True}
    CASES[f"dev{_mb}-stop"] = {"mb": _mb, "precopy": False, "delay": 0, "ack": True}
CASES["dev256-ack-delay1000"] = {"mb": 256, "precopy": True, "delay": 1000, "ack": True}
CASES["dev256-noack-delay1000"] = {"mb": 256, "precopy": True, "delay": 1000, "ack": False}
DEFAULT_CASES = ",".join(CASES)


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--size", type=int, default=1024, help="guest RAM, MiB")
    ap.add_argument("--rate", type=int, default=4096, help="pages rewritten per pass")
    ap.add_argument("--pause-ms", dest="pause_ms", type=int, default=0)
    ap.add_argument("--downtime", type=int, default=300)
    ap.add_argument("--warm-passes", dest="warm_passes", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--testdev", default=None, help="ferry-testdev binary (device cases)")
    ap.add_argument("--cases", default=DEFAULT_CASES,
                    help="comma-separated: " + DEFAULT_CASES)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--no-prealloc", dest="prealloc", action="store_false",
                    help="destinations allocate guest memory as pages arrive "
                         "(default: ferry --incoming --memory / QEMU "
                         "-mem-prealloc allocate it while waiting)")
    ap.add_argument("--channels", type=int, default=0,
                    help="ferry's RAM connections for the first pass "
                         "(1..8; default: ferry's own, 2)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ferry-bench-mig.")
    print(f"guest: {a.size} MiB, {guest_cmdline(a)}; downtime limit {a.downtime} ms; "
          f"{a.runs} runs, medians")
    lo = loopback_tcp()
    print(f"loopback TCP (1 stream, 2 processes): {lo * 8 / 1e9:.2f} Gbit/s "
          f"({lo / MIB:.0f} MiB/s)")
    fill = memfd_fill()
    print(f"fresh memfd fill (pwrite from one process, no network): "
          f"{fill / MIB:.0f} MiB/s = {100 * fill / lo:.0f}% of loopback "
          f"(a destination does at least this for every byte of RAM)")
    ok = True
    downtimes = {}
    for case in a.cases.split(","):
        if case not in CASES:
            print(f"unknown case {case}; cases: {DEFAULT_CASES}")
            return 2
        dev = CASES[case]
        if dev and not a.testdev:
            print(f"{case}: skipped: no --testdev given")
            continue
        res = {"ferry": [], "qemu": []}
        for _ in range(a.runs):
            res["ferry"].append(run_ferry(a, work, dev))
            if not a.no_qemu and case == "ram":
                res["qemu"].append(run_qemu(a, work))
        lo2 = loopback_tcp()
        print(f"\ncase {case} (loopback TCP re-measured after: {lo2 * 8 / 1e9:.2f} Gbit/s)")
        print(f"{'':8}{'total ms':>10}{'downtime ms':>13}{'MiB sent':>10}"
              f"{'MiB/s':>8}{'of loopback':>13}{'iters':>7}")
        summary = {}
        for side, rs in res.items():
            if not rs:
                continue
            t = med([r["total_ms"] for r in rs])
            d = med([r["downtime_ms"] for r in rs])
            b = med([r["bytes"] for r in rs])
            tp = med([r["bytes"] / (r["total_ms"] / 1000.0) for r in rs if r["total_ms"]])
            it = med([r["iterations"] for r in rs])
            summary[side] = (t, d, tp)
            print(f"{side:8}{t:10.0f}{d:13.0f}{b / MIB:10.0f}{tp / MIB:8.0f}"
                  f"{100 * tp / max(lo, lo2):12.0f}%{it:7.0f}"
                  f"   ({100 * tp / fill:.0f}% of the memfd fill rate)")
            print(f"{'':8}runs: " + ", ".join(
                f"{r['total_ms']:.0f}/{r['downtime_ms']:.0f} ms" for r in rs))
        if "ferry" in summary:
            downtimes[case] = summary["ferry"][1]
        if dev:
            continue
        if "ferry" in summary:
            t, d, tp = summary["ferry"]
            checks = [(f"downtime {d:.0f} ms <= {a.downtime} ms", d <= a.downtime),
                      (f"throughput {100 * tp / max(lo, lo2):.0f}% >= 50% of loopback",
                       tp >= 0.5 * max(lo, lo2))]
            if "qemu" in summary:
                qt, qd, _ = summary["qemu"]
                checks += [(f"downtime {d:.0f} ms <= QEMU's {qd:.0f} ms", d <= qd),
                           (f"total {t:.0f} ms <= QEMU's {qt:.0f} ms", t <= qt)]
            for what, good in checks:
                print(f"  target: {what}: {'met' if good else 'NOT met'}")
                ok = ok and good
    if "dev256-pre" in downtimes and "dev256-stop" in downtimes:
        d_pre, d_stop = downtimes["dev256-pre"], downtimes["dev256-stop"]
        good = d_pre <= d_stop / 4
        print(f"\ntarget: 256 MiB device state, downtime with PRE_COPY + switchover-ack "
              f"{d_pre:.0f} ms <= 1/4 of stop-copy-only {d_stop:.0f} ms "
              f"(ratio {d_pre / max(d_stop, 1e-9):.3f}): {'met' if good else 'NOT met'}")
        ok = ok and good
    if "dev256-ack-delay1000" in downtimes and "dev256-noack-delay1000" in downtimes:
        print(f"switchover-ack with a 1000 ms destination set-up: downtime "
              f"{downtimes['dev256-ack-delay1000']:.0f} ms with ack, "
              f"{downtimes['dev256-noack-delay1000']:.0f} ms without")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
