#!/usr/bin/python3
"""Live feed benchmark (issue 17): intake with 2,000 open streams vs none, and fan-out latency.

Starts build/houston (SQLite, bench/org-intake.yaml: nothing is paged) on a fresh database, then
in one run, alternating (none then streams in odd rounds, streams then none in even ones, as
intake slows while the database grows):
  none     wrk's `new` triggers (bench/events_v2.lua) for DURATION s, no live stream open;
  streams  the same with STREAMS WebSocket streams open on GET /api/v1/live, held by a child
           process (one epoll loop) that drains every byte they are sent and drops it
           (recv with MSG_TRUNC: the kernel discards the bytes without copying them out).
A warm-up round (one run of each case) comes first and is not counted. Reports events/s of
each, their ratio, how many streams were still open afterwards (a stream that cannot keep up is
cut off when its bounded buffer fills: by design it never slows intake) and the bytes each idle
stream received (all streams get the same messages, so the same count).
Then fan-out latency: wrk with bench/paced.lua at RATE new triggers/s (two changes each) for
LATENCY_S s with the streams open, and one more stream in a process of its own that parses every
message, checks that seqs rise and that the alert.created messages account for every alert sent
(named, or counted by a message that stands for many: --live-max-ids), and takes wall-clock now
minus the message's `at` (the instant the store applied the oldest change it stands for, just
before its commit; both clocks are this machine's): p50/p90/p99/max over the alert.created
messages.

The streams offer permessage-deflate (RFC 7692) as browsers do (`--no-deflate`: they do not);
houston then sends each batch compressed once and shared by all streams.

--pin (the default with 2 CPUs or more), as bench/run.sh does: houston runs on CPU 0
(`taskset -c 0`), and every client (wrk, the stream holder, the measuring stream) on CPU 1, so
the client side's cost (2,000 sockets read by Python) does not come out of the server's CPU.
Loopback TCP's receive processing still runs mostly on the sending CPU. --no-pin: everything
shares every CPU.

  bench/live_bench.py [--build build] [--streams 2000] [--duration 10] [--repeat 2]
                      [--rate 500] [--latency-s 10] [--no-pin] [--no-deflate]
                      [--max-ids N] [--max-writes N]  (houston's --live-max-ids and
                      --live-max-writes; default: houston's)
"""

import argparse
import base64
import json
import os
import re
import resource
import selectors
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)


DEFLATE = [True]  # offer permessage-deflate, as browsers do (--no-deflate: not)


def ws_connect(port, token, since=None):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    path = "/api/v1/live" + (f"?since={since}" if since is not None else "")
    ext = ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
           if DEFLATE[0] else "")
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{ext}Authorization: Bearer {token}\r\n\r\n").encode())
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


# A masked, empty pong (RFC 6455 allows an unsolicited one as a heartbeat). The clients here drop
# what they read, pings included, so they send this every PONG_EVERY seconds, as a browser's
# automatic pong would keep the stream alive: houston closes a WebSocket client that has sent
# nothing for a minute.
PONG = bytes([0x8A, 0x80]) + os.urandom(4)
PONG_EVERY = 20.0


def child(port, token, n):
    """Holds n streams, drains and drops their bytes; prints 'ready' once all are open, and on
    SIGTERM a JSON line: bytes received per stream (min, max, how many got the max), closed."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.EpollSelector()
    got = {}
    for _ in range(n):
        s, rest = ws_connect(port, token)
        s.setblocking(False)
        got[s.fileno()] = len(rest)
        sel.register(s, selectors.EVENT_READ)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    buf = bytearray(1 << 20)
    closed = 0
    next_pong = time.monotonic() + PONG_EVERY
    while not stop:
        if time.monotonic() >= next_pong:
            next_pong += PONG_EVERY
            for key in list(sel.get_map().values()):
                try:
                    key.fileobj.send(PONG)
                except OSError:
                    pass
        for key, _ in sel.select(1.0):
            try:
                k = key.fileobj.recv_into(buf, len(buf), socket.MSG_TRUNC)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                k = 0
            if k:
                got[key.fd] += k
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                closed += 1
    v = list(got.values())
    print(json.dumps({"min": min(v), "max": max(v), "at_max": v.count(max(v)),
                      "closed": closed}), flush=True)


def measure(port, token, seconds):
    """One stream that parses every message: prints 'ready', then after `seconds` (or when the
    server closes it) a JSON line with the alert.created latencies (ms), the number of messages,
    how many did not rise in seq, and the alerts the alert.created messages account for."""
    s, rest = ws_connect(port, token)
    inflater = zlib.decompressobj(-15)
    print("ready", flush=True)
    s.settimeout(0.2)
    deadline = time.monotonic() + seconds
    lat, count, bad, last, alerts = [], 0, 0, None, 0
    buf = rest
    next_pong = time.monotonic() + PONG_EVERY
    try:
        while time.monotonic() < deadline:
            if time.monotonic() >= next_pong:
                next_pong += PONG_EVERY
                s.sendall(PONG)
            try:
                chunk = s.recv(1 << 16)
            except socket.timeout:
                continue
            if not chunk:
                break
            buf += chunk
            now = time.time()
            while len(buf) >= 2:
                op, n, off = buf[0] & 0x0F, buf[1] & 0x7F, 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                elif n == 127:
                    if len(buf) < 10:
                        break
                    n, off = struct.unpack("!Q", buf[2:10])[0], 10
                if len(buf) < off + n:
                    break
                payload, compressed, buf = buf[off:off + n], buf[0] & 0x40, buf[off + n:]
                if op != 0x1:
                    continue
                if compressed:  # RFC 7692
                    payload = inflater.decompress(payload + b"\x00\x00\xff\xff")
                m = json.loads(payload)
                count += 1
                if last is not None and m["seq"] <= last:
                    bad += 1
                last = m["seq"]
                if m.get("type") == "alert.created":
                    alerts += m.get("count", 1)
                    at = time.mktime(time.strptime(m["at"][:19], "%Y-%m-%dT%H:%M:%S"))
                    at += float("0" + m["at"][19:-1]) - time.timezone
                    lat.append((now - at) * 1000)
    except OSError:
        pass
    print(json.dumps({"lat": lat, "messages": count, "out_of_order": bad, "alerts": alerts}),
          flush=True)


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


CLIENT = []  # the command prefix for clients (taskset with --pin)


def wrk(port, duration, script, *args):
    out = subprocess.run(CLIENT + ["wrk", "-t1", "-c32", f"-d{duration}s", "-s",
                                   os.path.join(HERE, script), f"http://127.0.0.1:{port}",
                                   "--", *args], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


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
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction,
                    default=(os.cpu_count() or 1) >= 2)
    ap.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--max-ids", type=int, help="houston's --live-max-ids")
    ap.add_argument("--max-writes", type=int, help="houston's --live-max-writes")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    DEFLATE[0] = a.deflate
    if a.child:
        return child(int(a.child[0]), a.child[1], int(a.child[2]))
    if a.measure:
        return measure(int(a.measure[0]), a.measure[1], float(a.measure[2]))
    server_prefix = []
    if a.pin:
        server_prefix = ["taskset", "-c", "0"]
        CLIENT[:] = ["taskset", "-c", "1"]
    commit = subprocess.run(["git", "-C", SOURCE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}  commit {commit}  {os.cpu_count()} CPUs  "
          f"pinned: {'houston CPU 0, clients CPU 1' if a.pin else 'no'}  "
          f"streams offer permessage-deflate: {'yes' if a.deflate else 'no'}  "
          f"--live-max-ids {a.max_ids if a.max_ids is not None else '(default)'}  "
          f"--live-max-writes {a.max_writes if a.max_writes is not None else '(default)'}  "
          f"load average at start {open('/proc/loadavg').read().split()[:3]}")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="houston-live-bench-")
    binary = os.path.join(a.build, "houston")
    db = os.path.join(tmp, "h.db")
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "houston.log"), "wb")
    srv = subprocess.Popen(server_prefix + [binary, "serve", "--config", os.path.join(HERE, "org-intake.yaml"),
                            "--db", db, "--listen", "127.0.0.1:0", "--port-file", port_file,
                            "--log-level", "warn"] +
                           ([] if a.max_ids is None else ["--live-max-ids", str(a.max_ids)]) +
                           ([] if a.max_writes is None else
                            ["--live-max-writes", str(a.max_writes)]),
                           stdout=log, stderr=subprocess.STDOUT)
    kids = []
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            time.sleep(0.05)
        port = int(open(port_file).read())
        token = subprocess.run([binary, "token", "create", "--db", db, "--role", "viewer",
                                "--name", "bench"], capture_output=True, text=True,
                               check=True).stdout.strip()

        def start(*args):
            p = subprocess.Popen(CLIENT + [sys.executable, __file__, *args] +
                                 ([] if a.deflate else ["--no-deflate"]),
                                 stdout=subprocess.PIPE, text=True)
            kids.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the client {args[0]} failed")
            return p

        def open_streams():
            return start("--child", str(port), token, str(a.streams))

        def close_streams(holder):
            holder.terminate()
            stats = json.loads(holder.stdout.readline())
            holder.wait()
            return stats

        rates = {"none": [], "streams": []}
        left_open, received = [], []
        def none_case(r):
            rates["none"].append(wrk(port, a.duration, "events_v2.lua", "new",
                                     f"n{r}-{time.time_ns()}"))
            time.sleep(1)

        def streams_case(r):
            holder = open_streams()
            # The gauge also counts the last round's streams until the feed notices they closed.
            deadline = time.monotonic() + 10
            while (opened := metric(port, "houston_live_streams")) != a.streams and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
            rates["streams"].append(wrk(port, a.duration, "events_v2.lua", "new",
                                        f"s{r}-{time.time_ns()}"))
            time.sleep(1)
            left_open.append((opened, metric(port, "houston_live_streams")))
            received.append(close_streams(holder))
            time.sleep(1)

        # ABBA: intake slows as the database grows, so each case goes first in every other
        # round, and neither is always measured on the bigger database.
        # Warm-up, not counted: one run of each case (the first 2,000 sessions also warm up the
        # server's allocator; that first streams round was often the slowest).
        none_case("w")
        streams_case("w")
        for k in rates:
            rates[k].clear()
        left_open.clear()
        received.clear()
        for r in range(a.repeat):
            for case in ((none_case, streams_case) if r % 2 == 0 else (streams_case, none_case)):
                case(r)
        print(f"intake events/s, {a.duration} s per case, {a.repeat} rounds, "
              f"none-streams then streams-none")
        for case, v in rates.items():
            print(f"  {case:8s} " + "  ".join(f"{x:9.0f}" for x in v) +
                  f"   median {statistics.median(v):9.0f}")
        ratio = statistics.median(rates["streams"]) / statistics.median(rates["none"])
        print(f"  streams/none = {ratio:.3f}")
        print("  streams open before -> after each streams round: " +
              ", ".join(f"{int(b)} -> {int(e)}" for b, e in left_open))
        print("  bytes received per idle stream in each streams round (min / max, streams at max,"
              " closed): " + ", ".join(f"{x['min']:,} / {x['max']:,}, {x['at_max']}, {x['closed']}"
                                      for x in received))
        print(f"  slow clients cut off in total: "
              f"{int(metric(port, 'houston_websocket_slow_clients_total'))}")

        # Fan-out latency at RATE triggers/s (2 changes each) with the streams open.
        holder = open_streams()
        meter = start("--measure", str(port), token, str(a.latency_s + 3))
        per_s = wrk(port, a.latency_s, "paced.lua", f"lat-{time.time_ns()}", str(a.rate))
        sent = round(per_s * a.latency_s)
        m = json.loads(meter.stdout.readline())
        meter.wait()
        still = metric(port, "houston_live_streams")
        stats = close_streams(holder)
        lat = m["lat"]
        print(f"fan-out latency, paced at {a.rate} triggers/s = {2 * a.rate} changes/s for "
              f"{a.latency_s} s (reached {per_s:.0f} triggers/s = {2 * per_s:.0f} changes/s), "
              f"{a.streams} other streams open ({int(still) - 1} still open at the end; bytes "
              f"each: {stats['min']:,} / {stats['max']:,}, {stats['at_max']} at max)")
        print(f"  measuring stream: {m['messages']} messages, {m['out_of_order']} not rising in "
              f"seq, {len(lat)} alert.created messages for {m['alerts']} alerts (about {sent} "
              f"sent)")
        if lat:
            print(f"  entry.at -> message received, ms: p50 {pct(lat, 50):.1f}  "
                  f"p90 {pct(lat, 90):.1f}  p99 {pct(lat, 99):.1f}  max {max(lat):.1f}")
        print(f"load average at the end {open('/proc/loadavg').read().split()[:3]}")
    finally:
        for p in kids:
            p.kill()
        srv.terminate()
        srv.wait()
        print(f"(server log and database in {tmp})")


if __name__ == "__main__":
    main()
