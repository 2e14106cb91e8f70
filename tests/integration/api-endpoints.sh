#!/usr/bin/env bash
# api-endpoints.sh: every endpoint through ferryctl and through curl
# against the running memtest guest, and every class of bad input:
# unknown path and method, malformed JSON, wrong content type, unknown
# member, oversized body, slow and half-open clients, 50 concurrent
# clients. Throughout, the guest keeps running unaffected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api-lib.sh"

start_vm vm "${MEMTEST[@]}" --vcpus 2 --api-sock "$SOCK"
wait_sock "$SOCK" 60
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), expected 600"
pass "socket created with mode 0600"

# GET /version
ctl version
[ "$status" = 0 ] && grep -qE '^ferry [0-9.]+ \(API version 1\)$' <<<"$out" || fail "ferryctl version: $status $out $err"
http GET /version
expect_http 200 "curl version" '"api_version": 1'
pass "GET /version"

# GET /vm
ctl status
[ "$status" = 0 ] || fail "ferryctl status: $err"
grep -q '^state:    running$' <<<"$out" || fail "status: $out"
grep -q '^vcpus:    2$' <<<"$out" || fail "status vcpus: $out"
grep -q '^memory:   128 MiB$' <<<"$out" || fail "status memory: $out"
ctl --json status
[ "$(jq -r .config.kernel <<<"$out")" = "$GUEST" ] || fail "status --json: $out"
http GET /vm
expect_http 200 "curl GET /vm"
[ "$(jq -r .state <<<"$body")" = running ] || fail "GET /vm state: $body"
[ "$(jq -r .vcpus <<<"$body")" = 2 ] || fail "GET /vm vcpus: $body"
[ "$(jq -r .memory <<<"$body")" = 134217728 ] || fail "GET /vm memory: $body"
[ "$(jq -r .config.cmdline <<<"$body")" = "mode=memtest mem=64M passes=0" ] || fail "GET /vm config: $body"
up1=$(jq -r .uptime_ms <<<"$body"); sleep 0.3
http GET /vm
up2=$(jq -r .uptime_ms <<<"$body")
[ "$up2" -gt "$up1" ] || fail "uptime does not advance: $up1 -> $up2"
pass "GET /vm (state, uptime, vcpus, memory, config)"

# PUT /vm/pause, /vm/resume with their conflicts, through both clients.
ctl pause; [ "$status" = 0 ] && [ "$out" = "VM paused" ] || fail "ferryctl pause: $status $out $err"
ctl pause; [ "$status" = 1 ] || fail "second pause: exit $status"
[ "$err" = "ferryctl: cannot pause: the VM is paused (HTTP 409)" ] || fail "second pause: $err"
http PUT /vm/pause
expect_http 409 "curl pause while paused" '"error":"cannot pause: the VM is paused"'
ctl resume; [ "$status" = 0 ] && [ "$out" = "VM resumed" ] || fail "ferryctl resume: $status $out $err"
http PUT /vm/resume
expect_http 409 "curl resume while running" 'cannot resume: the VM is running'
http PUT /vm/pause
expect_http 200 "curl pause" '"state": "paused"'
http PUT /vm/resume -H 'Content-Type: application/json' -d '{}'
expect_http 200 "curl resume with {}" '"state": "running"'
pass "pause / resume and their 409s"

http GET /vm/operation
expect_http 200 "GET /vm/operation" '"state": "none"'
ctl wait; [ "$status" = 0 ] || fail "ferryctl wait: $err"
pass "GET /vm/operation"

# Bad input: each gets a clear error; nothing reaches the VM.
http GET /nope;            expect_http 404 "unknown path" '"error":"no such endpoint: /nope"'
http DELETE /vm;           expect_http 405 "wrong method" 'DELETE is not allowed on /vm \(use GET\)'
http GET /vm/pause;        expect_http 405 "GET on a PUT endpoint"
http PUT /vm/pause -H 'Content-Type: application/json' -d '{"force":'
expect_http 400 "malformed JSON" 'malformed JSON'
http PUT /vm/pause -H 'Content-Type: application/json' -d '{"force": true}'
expect_http 400 "unknown member" '\$.force: unknown key'
http PUT /vm/pause -H 'Content-Type: text/plain' -d '{}'
expect_http 415 "wrong content type" 'must be application/json'
head -c 100000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
http PUT /vm/pause -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
expect_http 413 "oversized body" 'larger than 65536 bytes'
[ "$(vm_state)" = running ] || fail "bad requests changed the VM state"
pass "404, 405, 400 (JSON, member), 415, 413"

# Slow, half-open and many clients, with raw sockets.
python3 - "$SOCK" <<'PY' || fail "raw-socket clients"
import socket, sys, threading, time, json
path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def get(p="/vm"):
    s = conn()
    s.sendall(f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data.decode()

# A slow client (half a request) and a half-open one (nothing at all)
# must not block others, and are dropped after the idle timeout.
slow, idle = conn(), conn()
slow.sendall(b"GET /vm HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
assert get().startswith("HTTP/1.1 200"), "served while others dawdle"
assert time.time() - t0 < 2, "a slow client delayed others"
for s in (slow, idle):
    s.settimeout(30)
    assert s.recv(1) == b"", "dropped"
print(f"slow/idle clients dropped after {time.time() - t0:.1f} s")

# 50 concurrent clients, 4 requests each: all answered.
ok = []
def client():
    for _ in range(4):
        r = get()
        body = r.split("\r\n\r\n", 1)[1]
        ok.append(r.startswith("HTTP/1.1 200") and json.loads(body)["state"] == "running")
ts = [threading.Thread(target=client) for _ in range(50)]
t0 = time.time()
for t in ts: t.start()
for t in ts: t.join()
assert len(ok) == 200 and all(ok), f"{sum(ok)}/{len(ok)} answered"
print(f"200 requests from 50 concurrent clients in {time.time() - t0:.2f} s")

# Garbage on the wire: an error status or a dropped connection.
for junk in (b"HELLO\r\n\r\n", b"\x00\x01\x02\r\n\r\n", b"GET /vm HTTP/7.0\r\n\r\n"):
    s = conn(); s.sendall(junk); s.settimeout(30)
    r = s.recv(100); s.close()
    assert r == b"" or r.startswith(b"HTTP/1.1 4") or r.startswith(b"HTTP/1.1 505"), r
PY
pass "slow / half-open clients dropped, 50 concurrent clients served, garbage refused"

# The guest kept running through all of it.
n=$(passes vm)
for ((i = 0; i < 300; i++)); do [ "$(passes vm)" -gt "$n" ] && break; sleep 0.1; done
[ "$(passes vm)" -gt "$n" ] || { dump vm; fail "the guest stopped making progress"; }
[ "$(vm_state)" = running ] || fail "VM not running at the end"
pass "guest unaffected"

ctl shutdown; [ "$status" = 0 ] || fail "shutdown: $err"
wait_exit "$VM_PID" 60
[ "$status" = 0 ] || { dump vm; fail "ferry exit status $status after shutdown"; }
pass "shutdown"
