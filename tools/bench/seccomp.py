#!/usr/bin/env python3
"""Seccomp overhead benchmark: ferry with --seccomp=kill (the default) and
--seccomp=off, side by side in one run.

Two measurements, alternating the two modes run by run so both see the
same machine load:
  - guest port-I/O exit round trip: the test guest's mode=pio-bench times
    N `inb` exits with RDTSC from CPL3 and prints the average;
  - API request latency: GET /vm over the API socket, N requests on one
    connection (HTTP keep-alive), median of per-request times.
Prints both modes, the overhead in percent, and whether it is under 5%.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def pio_run(ferry, guest, mode, count):
    out = subprocess.run(
        [ferry, "--kernel", guest, "--seccomp", mode,
         "--cmdline", f"mode=pio-bench count={count}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        timeout=120, check=False)
    m = re.search(rb"pio-bench: .*avg_ns=(\d+)", out.stdout)
    if out.returncode != 1 or not m:
        raise RuntimeError(f"pio-bench failed (exit {out.returncode}): "
                           f"{out.stdout[-300:]!r} {out.stderr[-300:]!r}")
    return int(m.group(1))


def http_get(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("API closed the connection")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"Content-Length: (\d+)", head, re.I)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        body += sock.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())


def api_run(ferry, guest, mode, count):
    d = tempfile.mkdtemp(prefix="ferry-bench-")
    path = os.path.join(d, "api.sock")
    p = subprocess.Popen([ferry, "--kernel", guest, "--seccomp", mode,
                          "--api-sock", path,
                          "--cmdline", "mode=memtest mem=8M passes=0 pause_ms=50"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.01)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        http_get(s, "/vm")  # warm-up
        times = []
        for _ in range(count):
            t = time.perf_counter()
            http_get(s, "/vm")
            times.append(time.perf_counter() - t)
        s.close()
        return statistics.median(times) * 1e6
    finally:
        p.kill()
        p.wait()
        try:
            os.unlink(path)
        except OSError:
            pass
        os.rmdir(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pio-count", type=int, default=20000)
    ap.add_argument("--api-count", type=int, default=500)
    a = ap.parse_args()

    pio = {"kill": [], "off": []}
    api = {"kill": [], "off": []}
    for _ in range(a.runs):
        for mode in ("kill", "off"):
            pio[mode].append(pio_run(a.ferry, a.guest, mode, a.pio_count))
            api[mode].append(api_run(a.ferry, a.guest, mode, a.api_count))

    print(f"seccomp: {a.runs} runs per mode; port I/O: {a.pio_count} exits per run; "
          f"API: {a.api_count} GET /vm per run")
    print(f"{'':34}{'kill (default)':>16}{'off':>12}{'overhead':>10}")
    ok = True
    for name, data, unit in (("port-I/O exit round trip, median", pio, "ns"),
                             ("API GET /vm latency, median", api, "us")):
        k = statistics.median(data["kill"])
        o = statistics.median(data["off"])
        over = (k - o) / o * 100.0
        ok = ok and over < 5.0
        print(f"  {name:32}{k:13.1f} {unit}{o:9.1f} {unit}{over:9.1f}%")
    print(f"target: overhead under 5%: {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
