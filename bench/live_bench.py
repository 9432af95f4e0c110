#!/usr/bin/python3
"""Live feed benchmark (issue 17): intake with 2,000 open streams vs none, and fan-out latency.

Starts build/houston (SQLite, bench/org-intake.yaml: nothing is paged) on a fresh database, then
in one run, alternating:
  none     wrk's `new` triggers (bench/events_v2.lua) for DURATION s, no live stream open;
  streams  the same with STREAMS WebSocket streams open on GET /api/v1/live, held by a child
           process that reads and drops what they are sent (as fast as one Python process can).
Reports events/s of each, their ratio, and how many streams were still open afterwards (a stream
that cannot keep up is cut off when its 1 MiB buffer fills: by design it never slows intake).
Then fan-out latency: RATE new triggers/s (two changes each) for LATENCY_S s with the streams
open, one measuring stream parsing every message: wall-clock now minus the entry's `at` (the
instant the store applied the write, just before its commit; both clocks are this machine's),
p50/p90/p99/max over the alert.created messages.

  bench/live_bench.py [--build build] [--streams 2000] [--duration 10] [--repeat 2]
                      [--rate 500] [--latency-s 10]
"""

import argparse
import base64
import json
import os
import re
import resource
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
KEY = "0123456789abcdef0123456789abcdef"


def ws_connect(port, token, since=None):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    path = "/api/v1/live" + (f"?since={since}" if since is not None else "")
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head.decode(errors="replace"))
    return s, rest


def child(port, token, n):
    """Holds n streams, reads and drops their bytes; prints 'ready' once all are open."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s, _ = ws_connect(port, token)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    open_ = n
    while open_:
        for key, _ in sel.select(1.0):
            try:
                data = key.fileobj.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                open_ -= 1


def frames(sock, buf):
    """Yields text payloads from a stream (server frames are unmasked; pings are ignored)."""
    while True:
        while len(buf) < 2:
            buf += sock.recv(1 << 16)
        b0, b1 = buf[0], buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            while len(buf) < 4:
                buf += sock.recv(1 << 16)
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            while len(buf) < 10:
                buf += sock.recv(1 << 16)
            n, off = struct.unpack("!Q", buf[2:10])[0], 10
        while len(buf) < off + n:
            buf += sock.recv(1 << 16)
        payload, buf = buf[off:off + n], buf[off + n:]
        if b0 & 0x0F == 0x1:
            yield payload
        elif b0 & 0x0F == 0x8:
            return


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def wrk(port, duration, run_id):
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{duration}s", "-s",
                          os.path.join(HERE, "events_v2.lua"), f"http://127.0.0.1:{port}",
                          "--", "new", run_id], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def paced(port, rate, seconds, run_id):
    """`rate` new triggers per second from 4 keep-alive connections; returns how many were sent."""
    sent = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(w, per_s):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t0, i = time.monotonic(), 0
        while time.monotonic() < stop_at:
            due = t0 + i / per_s
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps({"routing_key": KEY, "event_action": "trigger",
                               "dedup_key": f"{run_id}-{w}-{i}",
                               "payload": {"summary": "latency", "source": "bench",
                                           "severity": "warning"}})
            c.request("POST", "/v2/enqueue", body=body,
                      headers={"Content-Type": "application/json"})
            c.getresponse().read()
            i += 1
        with lock:
            sent[0] += i
    ts = [threading.Thread(target=worker, args=(w, rate / 4)) for w in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sent[0]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--latency-s", type=int, default=10)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(int(a.child[0]), a.child[1], int(a.child[2]))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="houston-live-bench-")
    binary = os.path.join(a.build, "houston")
    db = os.path.join(tmp, "h.db")
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "houston.log"), "wb")
    srv = subprocess.Popen([binary, "serve", "--config", os.path.join(HERE, "org-intake.yaml"),
                            "--db", db, "--listen", "127.0.0.1:0", "--port-file", port_file,
                            "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT)
    kids = []
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            time.sleep(0.05)
        port = int(open(port_file).read())
        token = subprocess.run([binary, "token", "create", "--db", db, "--role", "viewer",
                                "--name", "bench"], capture_output=True, text=True,
                               check=True).stdout.strip()

        def open_streams():
            p = subprocess.Popen([sys.executable, __file__, "--child", str(port), token,
                                  str(a.streams)], stdout=subprocess.PIPE, text=True)
            kids.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("the stream holder failed")
            return p

        rates = {"none": [], "streams": []}
        left_open = []
        for r in range(a.repeat):
            rates["none"].append(wrk(port, a.duration, f"n{r}-{time.time_ns()}"))
            holder = open_streams()
            opened = metric(port, "houston_live_streams")
            rates["streams"].append(wrk(port, a.duration, f"s{r}-{time.time_ns()}"))
            time.sleep(1)
            left_open.append((opened, metric(port, "houston_live_streams")))
            holder.kill()
            holder.wait()
        print(f"intake events/s, {a.duration} s per case, {a.repeat} rounds, alternating")
        for case, v in rates.items():
            print(f"  {case:8s} " + "  ".join(f"{x:9.0f}" for x in v) +
                  f"   median {statistics.median(v):9.0f}")
        ratio = statistics.median(rates["streams"]) / statistics.median(rates["none"])
        print(f"  streams/none = {ratio:.3f}")
        print("  streams open before -> after each streams round: " +
              ", ".join(f"{int(b)} -> {int(e)}" for b, e in left_open))
        print(f"  slow clients cut off in total: "
              f"{int(metric(port, 'houston_websocket_slow_clients_total'))}")

        # Fan-out latency at RATE triggers/s (2 changes each) with the streams open.
        holder = open_streams()
        sock, rest = ws_connect(port, token)
        lat = []

        def measure():
            try:
                for payload in frames(sock, rest):
                    now = time.time()
                    m = json.loads(payload)
                    if m.get("type") == "alert.created":
                        at = time.mktime(time.strptime(m["at"][:19], "%Y-%m-%dT%H:%M:%S"))
                        at += float("0" + m["at"][19:-1]) - time.timezone
                        lat.append((now - at) * 1000)
            except (OSError, ValueError):
                pass
        t = threading.Thread(target=measure, daemon=True)
        t.start()
        sent = paced(port, a.rate, a.latency_s, f"lat-{time.time_ns()}")
        time.sleep(2)
        still = metric(port, "houston_live_streams")
        print(f"fan-out latency at {a.rate} triggers/s = {2 * a.rate} changes/s for "
              f"{a.latency_s} s, {a.streams} other streams open ({int(still) - 1} still open at "
              f"the end): {len(lat)} of {sent} alert.created received")
        if lat:
            print(f"  entry.at -> message received, ms: p50 {pct(lat, 50):.1f}  "
                  f"p90 {pct(lat, 90):.1f}  p99 {pct(lat, 99):.1f}  max {max(lat):.1f}")
        sock.close()
    finally:
        for p in kids:
            p.kill()
        srv.terminate()
        srv.wait()
        print(f"(server log and database in {tmp})")


if __name__ == "__main__":
    main()
