#!/usr/bin/python3
"""Event accepted -> first webhook delivered: houston's paging latency, over loopback.

Starts houston on a generated org (one service whose escalation policy pages one of N users
round-robin at once, each user with a webhook pointing at this script's sink), sends Events API
v2 triggers at a fixed rate with new dedup keys (every event opens an incident), and measures
for each incident the time from sending the event to its webhook arriving at the sink. Send and
arrival times come from the same clock (this process). Round-robin over N users keeps every
contact method under --max-pages-per-minute, so nothing is bundled or deferred.

    bench/paging_latency.py [--houston build/houston] [--rate 100] [--seconds 20] [--users 200]

With --sink-only DIR it starts only the sink, writes the org pointing at it to DIR/org.yaml, and
serves until SIGTERM, then writes the number of webhooks it received to DIR/sink.count: run.sh's
W1a case runs houston on that org under wrk, so that every new alert opens an incident that
pages at once, and the pages are really delivered.

Loopback only; bounded in time; stops what it starts.
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROUTING_KEY = "0123456789abcdef0123456789abcdef"


def org_yaml(users, sink_port):
    lines = ["users:"]
    for i in range(users):
        lines += [f"  - id: u{i}",
                  "    contact_methods:",
                  f"      - {{id: hook, type: webhook, url: \"http://127.0.0.1:{sink_port}/u{i}\"}}"]
    targets = ", ".join(f"{{user: u{i}}}" for i in range(users))
    lines += ["escalation_policies:",
              "  - id: now",
              "    steps:",
              f"      - {{delay_minutes: 0, round_robin: true, targets: [{targets}]}}",
              "services:",
              "  - id: checkout",
              "    escalation_policy: now",
              "    integrations:",
              f"      - {{type: events_v2, key: \"{ROUTING_KEY}\"}}"]
    return "\n".join(lines) + "\n"


class Sink:
    """A minimal HTTP/1.1 server: records arrival time per incident title, answers 200."""

    def __init__(self):
        self.arrivals = {}

    def record(self, body, now):
        """Called with each request's body and its arrival time (monotonic)."""
        try:
            msg = json.loads(body)
            for inc in msg.get("incidents", [msg.get("incident", {})]):
                self.arrivals.setdefault(inc.get("title", ""), now)
        except ValueError:
            pass

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.record(body, time.monotonic())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            pass  # the sink is shutting down with this connection still open
        finally:
            writer.close()


class CountingSink(Sink):
    """The sink, counting the webhooks it receives without reading them (run.sh's W1a, the
    storm)."""

    def __init__(self):
        super().__init__()
        self.received = 0

    def record(self, body, now):
        self.received += 1


async def send_events(port, rate, seconds, conns, sent):
    interval = 1.0 / rate
    total = int(rate * seconds)
    queue = asyncio.Queue()

    async def worker():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            key = await queue.get()
            if key is None:
                break
            body = json.dumps({"routing_key": ROUTING_KEY, "event_action": "trigger",
                               "dedup_key": key,
                               "payload": {"summary": key, "source": "bench",
                                           "severity": "critical"}}).encode()
            sent[key] = time.monotonic()
            writer.write(b"POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 202"):
                raise RuntimeError("houston answered " + head.split(b"\r\n")[0].decode())
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(conns)]
    start = time.monotonic()
    run_id = os.urandom(3).hex()
    for i in range(total):
        target = start + i * interval
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await queue.put(f"pl-{run_id}-{i}")
    for _ in workers:
        await queue.put(None)
    await asyncio.gather(*workers)
    return time.monotonic() - start


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100.0 * len(values)))]


async def main_async(args):
    sink = Sink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink_port = server.sockets[0].getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="houston-paging-")
    org = os.path.join(tmp, "org.yaml")
    with open(org, "w") as f:
        f.write(org_yaml(args.users, sink_port))
    proc = subprocess.Popen(
        [args.houston, "serve", "--config", org, "--db", os.path.join(tmp, "h.db"),
         "--listen", "127.0.0.1:0", "--port-file", os.path.join(tmp, "port"),
         "--allow-egress", "127.0.0.1/32", "--log-level", "warn",
         "--max-pages-per-minute", "1000", "--notify-workers", str(args.workers)],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(tmp, "port")) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        port = int(open(os.path.join(tmp, "port")).read())
        sent = {}
        elapsed = await send_events(port, args.rate, args.seconds, args.connections, sent)
        deadline = time.monotonic() + 30
        while len(sink.arrivals) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        lat = [(sink.arrivals[k] - t) * 1000 for k, t in sent.items() if k in sink.arrivals]
        missing = len(sent) - len(lat)
        print(f"offered {args.rate}/s for {args.seconds}s: sent {len(sent)} in {elapsed:.1f}s "
              f"({len(sent) / elapsed:.0f}/s), webhooks received {len(lat)}, missing {missing}")
        print(f"event sent -> first webhook received, ms: p50 {pct(lat, 50):.2f}  "
              f"p90 {pct(lat, 90):.2f}  p99 {pct(lat, 99):.2f}  max {max(lat) if lat else 0:.2f}")
        return 0 if missing == 0 else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def sink_only_async(args):
    sink = CountingSink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink_port = server.sockets[0].getsockname()[1]
    os.makedirs(args.sink_only, exist_ok=True)
    org = os.path.join(args.sink_only, "org.yaml")
    with open(org + ".tmp", "w") as f:
        f.write(org_yaml(args.users, sink_port))
    os.rename(org + ".tmp", org)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    with open(os.path.join(args.sink_only, "sink.count"), "w") as f:
        f.write(f"{sink.received}\n")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--houston", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                      "houston"))
    p.add_argument("--rate", type=float, default=100, help="events (= incidents) per second")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--users", type=int, default=200, help="round-robin targets")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=4, help="houston --notify-workers")
    p.add_argument("--sink-only", metavar="DIR",
                   help="only the sink: write DIR/org.yaml, serve until SIGTERM, then write "
                        "DIR/sink.count")
    args = p.parse_args()
    if args.sink_only:
        sys.exit(asyncio.run(sink_only_async(args)))
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
