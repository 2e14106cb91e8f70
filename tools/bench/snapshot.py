#!/usr/bin/env python3
"""Snapshot benchmark: ferry vs QEMU microvm on the same PVH test guest.

For each guest size (default 256 MiB and 1 GiB), the memtest guest first
writes nearly all of its RAM (mem = size - 16 MiB), then:

  create   ferry: PUT /snapshot/create of the paused VM (the server's
           elapsed time; files fsynced); QEMU: QMP stop + migrate
           "exec:cat > FILE" until query-migrate says completed (no fsync;
           max-bandwidth raised from QEMU's 128 MiB/s default). Next to
           it, the disk's sequential write bandwidth measured in the same
           run and directory: SIZE bytes of non-zero data in 8 MiB
           writes, then fsync. ferry's time includes fsyncing every
           file; QEMU's is shown both as reported (the stream written to
           cat, not durable) and with an fsync of the file added
           ("durable", the one compared).
  restore  process start -> the restored guest's first serial byte. The
           snapshot is taken while the guest is in the middle of printing
           a line (the source is paused and resumed until its serial
           output ends mid-line), so the guest's very first instructions
           after the restore print: the time is restore-to-running.
           ferry: --restore DIR --resume, lazy and copy; QEMU: a new QEMU
           with -incoming "exec:cat FILE", plus QMP `cont` as soon as the
           stream is loaded (a stopped source's VM restores stopped).

Runs alternate between ferry and QEMU; restore is repeated (--runs) and the
median reported. Prints both sides and the ratios, and the targets: lazy
restore of 1 GiB within 10 ms, create at >= 70 % of the write bandwidth,
both better than QEMU's.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
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


def ends_mid_line(path):
    data = read(path)
    return len(data) > 0 and not data.endswith(b"\n")


def passes(path):
    return read(path).count(b" ok, gen ")


class Ferry:
    name = "ferry"

    def __init__(self, a, work, size):
        self.a, self.work, self.size = a, work, size
        self.sock = os.path.join(work, "ferry.sock")
        self.out = os.path.join(work, "ferry.out")
        self.snap = os.path.join(work, "ferry-snap")

    def start(self):
        mem = self.size // MIB - 16
        self.p = subprocess.Popen(
            [self.a.ferry, "--kernel", self.a.guest, "--memory", f"{self.size // MIB}M",
             "--cmdline", f"mode=memtest mem={mem}M passes=0", "--api-sock", self.sock],
            stdout=open(self.out, "wb"), stderr=subprocess.DEVNULL,
            stdin=subprocess.PIPE)
        wait_for(lambda: passes(self.out) >= 1, 300, "ferry: memtest pass 1")

    def pause(self):
        st, body = api(self.sock, "PUT", "/vm/pause")
        assert st == 200, body

    def resume(self):
        st, body = api(self.sock, "PUT", "/vm/resume")
        assert st == 200, body

    def create(self):
        shutil.rmtree(self.snap, ignore_errors=True)
        t0 = time.perf_counter()
        st, body = api(self.sock, "PUT", "/snapshot/create", {"path": self.snap})
        wall = time.perf_counter() - t0
        if st != 200:
            raise RuntimeError(f"ferry snapshot: HTTP {st}: {body}")
        return body["elapsed_ms"] / 1000.0, wall

    def stop(self):
        self.p.kill()
        self.p.wait()

    def restore(self, mode):
        return first_byte([self.a.ferry, "--restore", self.snap, "--resume",
                           "--restore-mode", mode])


class Qemu:
    name = "qemu"

    def __init__(self, a, work, size):
        self.a, self.work, self.size = a, work, size
        self.qmp_path = os.path.join(work, "qmp.sock")
        self.out = os.path.join(work, "qemu.out")
        self.file = os.path.join(work, "qemu.mig")

    def base(self):
        mem = self.size // MIB - 16
        return [self.a.qemu, "-M", "microvm", "-accel", "kvm", "-m", str(self.size // MIB),
                "-nographic", "-monitor", "none", "-no-reboot",
                "-kernel", self.a.guest, "-append", f"mode=memtest mem={mem}M passes=0",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]

    def start(self):
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        self.p = subprocess.Popen(
            self.base() + ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"],
            stdout=open(self.out, "wb"), stderr=subprocess.DEVNULL,
            stdin=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.qmp_path), 30, "QMP socket")
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(self.qmp_path)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.qmp("qmp_capabilities")
        # QEMU caps migration at 128 MiB/s by default: lift it.
        self.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
        wait_for(lambda: passes(self.out) >= 1, 300, "qemu: memtest pass 1")

    def qmp(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {cmd}: {r['error']}")

    def pause(self):
        self.qmp("stop")

    def resume(self):
        self.qmp("cont")

    def create(self):
        if os.path.exists(self.file):
            os.unlink(self.file)
        t0 = time.perf_counter()
        self.qmp("migrate", uri=f"exec:cat > {self.file}")
        while True:
            r = self.qmp("query-migrate")
            if r.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.002)
        raw = time.perf_counter() - t0
        if r["status"] != "completed":
            raise RuntimeError(f"QEMU migrate: {r}")
        # Durable like ferry's: wait for cat, then fsync the file.
        while True:
            if os.path.exists(self.file) and os.path.getsize(self.file) > 0:
                fd = os.open(self.file, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
                break
        return time.perf_counter() - t0, raw

    def stop(self):
        try:
            self.qmp("quit")
        except Exception:
            pass
        self.p.kill()
        self.p.wait()

    def restore(self, mode):
        """A new QEMU with -incoming; the stream of a stopped source
        restores paused, so `cont` over QMP as soon as it is loaded."""
        qmp = os.path.join(self.work, "qmp-in.sock")
        if os.path.exists(qmp):
            os.unlink(qmp)
        t0 = time.perf_counter()
        p = subprocess.Popen(self.base() + ["-incoming", f"exec:cat {self.file}",
                                            "-qmp", f"unix:{qmp},server=on,wait=off"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.PIPE)
        try:
            while True:
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(qmp)
                    break
                except OSError:
                    s.close()
                    if p.poll() is not None:
                        raise RuntimeError("qemu -incoming exited")
                    time.sleep(0.0005)
            f = s.makefile("rw")
            f.readline()

            def cmd(c):
                f.write(json.dumps({"execute": c}) + "\n")
                f.flush()
                while True:
                    r = json.loads(f.readline())
                    if "return" in r or "error" in r:
                        return r

            cmd("qmp_capabilities")
            while cmd("query-status")["return"]["status"] == "inmigrate":
                time.sleep(0.0005)
            cmd("cont")
            b = p.stdout.read(1)
            t = time.perf_counter() - t0
            s.close()
        finally:
            p.kill()
            p.wait()
        if not b:
            raise RuntimeError("no output from qemu after restore")
        return t


def pause_mid_line(vm, tries=3000):
    """Pause/resume until the guest is paused in the middle of a line."""
    for i in range(tries):
        vm.pause()
        time.sleep(0.002)  # let the last byte reach the output file
        if ends_mid_line(vm.out):
            return i + 1
        vm.resume()
        time.sleep(0.001 + (i % 7) * 0.003)
    raise RuntimeError(f"{vm.name}: never paused mid-line in {tries} tries")


def first_byte(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.PIPE)
    b = p.stdout.read(1)
    t = time.perf_counter() - t0
    p.kill()
    p.wait()
    if not b:
        raise RuntimeError(f"no output from {cmd[0]} after restore")
    return t


def disk_bw(work, size):
    path = os.path.join(work, "bw.bin")
    chunk = bytes((i * 131 + 7) & 0xff for i in range(8 * MIB))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t0 = time.perf_counter()
    for _ in range(size // len(chunk)):
        os.write(fd, chunk)
    os.fsync(fd)
    t = time.perf_counter() - t0
    os.close(fd)
    os.unlink(path)
    return size / t


def fmt_rate(v):
    return f"{v / MIB:,.0f} MiB/s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--sizes", default="256,1024", help="guest sizes in MiB")
    ap.add_argument("--runs", type=int, default=5, help="restores per case")
    ap.add_argument("--dir", default=None,
                    help="where snapshots go (default: a temporary directory in /var/tmp)")
    ap.add_argument("--no-qemu", action="store_true")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ferry-bench-snap.", dir=a.dir or "/var/tmp")
    results = []
    ok = True
    try:
        for size_mib in [int(s) for s in a.sizes.split(",")]:
            size = size_mib * MIB
            r = {"size": size}
            sides = [Ferry(a, work, size)] + ([] if a.no_qemu else [Qemu(a, work, size)])
            bws = []
            for vm in sides:
                vm.start()
                try:
                    tries = pause_mid_line(vm)
                    bws.append(disk_bw(work, size))
                    t, wall = vm.create()
                    bws.append(disk_bw(work, size))
                    r[vm.name + "_create"] = t
                    r[vm.name + "_create_raw"] = wall
                    r[vm.name + "_tries"] = tries
                finally:
                    vm.stop()
            r["bw"] = statistics.median(bws)
            modes = [("ferry", "lazy"), ("ferry", "copy")] + ([] if a.no_qemu else [("qemu", "")])
            times = {m: [] for m in modes}
            for _ in range(a.runs):
                for side, mode in modes:
                    vm = sides[0] if side == "ferry" else sides[1]
                    times[(side, mode)].append(vm.restore(mode))
            for (side, mode), v in times.items():
                r[f"{side}_restore_{mode or 'incoming'}"] = statistics.median(v)
            results.append(r)
            shutil.rmtree(sides[0].snap, ignore_errors=True)
            if not a.no_qemu and os.path.exists(sides[1].file):
                os.unlink(sides[1].file)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"snapshot benchmark (median of {a.runs} restores; snapshots in {a.dir or '/var/tmp'})")
    for r in results:
        size = r["size"]
        print(f"\n== {size // MIB} MiB guest, {size // MIB - 16} MiB written by memtest ==")
        print(f"disk sequential write + fsync: {fmt_rate(r['bw'])}")
        fc = r["ferry_create"]
        print(f"{'':30}{'ferry':>14}{'qemu':>14}{'ferry/qemu':>12}")
        qc = r.get("qemu_create")
        print(f"{'create, durable (s)':30}{fc:>14.3f}{'-' if qc is None else f'{qc:.3f}':>14}"
              f"{'' if qc is None else f'{fc / qc:.2f}':>12}")
        if qc is not None:
            qr = r["qemu_create_raw"]
            print(f"{'create, qemu without fsync (s)':30}{'':>14}{qr:>14.3f}{fc / qr:>12.2f}")
        print(f"{'create rate, durable':30}{fmt_rate(size / fc):>14}"
              f"{'' if qc is None else fmt_rate(size / qc):>14}")
        bw = r["bw"]
        q_of_bw = "" if qc is None else f"{size / qc / bw:.0%}"
        print(f"{'create rate / disk bandwidth':30}{size / fc / bw:>14.0%}{q_of_bw:>14}")
        ql = r.get("qemu_restore_incoming")
        for mode in ("lazy", "copy"):
            t = r[f"ferry_restore_{mode}"]
            print(f"{'restore to first output, ' + mode + ' (ms)':30}{t * 1000:>14.1f}"
                  f"{'' if ql is None else f'{ql * 1000:.1f}':>14}"
                  f"{'' if ql is None else f'{t / ql:.3f}':>12}")
        print(f"(pause/resume tries to stop mid-line: ferry {r['ferry_tries']}"
              f"{'' if ql is None else ', qemu ' + str(r['qemu_tries'])})")

    print("\ntargets:")
    for r in results:
        size = r["size"]
        ratio = size / r["ferry_create"] / r["bw"]
        met = ratio >= 0.7
        ok &= met
        print(f"  {size // MIB} MiB create >= 70% of write bandwidth: {ratio:.0%} -> "
              f"{'met' if met else 'NOT met'}")
        if "qemu_create" in r:
            met = r["ferry_create"] < r["qemu_create"]
            ok &= met
            print(f"  {size // MIB} MiB create faster than QEMU (durable): {r['ferry_create']:.3f} s vs "
                  f"{r['qemu_create']:.3f} s -> {'met' if met else 'NOT met'}"
                  f" (QEMU without fsync: {r['qemu_create_raw']:.3f} s)")
            met = r["ferry_restore_lazy"] < r["qemu_restore_incoming"]
            ok &= met
            print(f"  {size // MIB} MiB restore faster than QEMU: "
                  f"{r['ferry_restore_lazy'] * 1000:.1f} ms vs "
                  f"{r['qemu_restore_incoming'] * 1000:.1f} ms -> {'met' if met else 'NOT met'}")
        if size >= 1 << 30:
            t = r["ferry_restore_lazy"] * 1000
            met = t <= 10
            ok &= met
            print(f"  {size // MIB} MiB lazy restore to running <= 10 ms: {t:.1f} ms -> "
                  f"{'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
