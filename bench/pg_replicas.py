#!/usr/bin/python3
"""First-page latency on one or more houston servers sharing a database (helper of pg_replicas.sh).

The measurement is bench/paging_latency.py's, reused from it: its generated org (one service whose
escalation policy pages one of N users round-robin at once, each user a webhook to this process's
loopback sink), its paced sender (new dedup keys: every event opens an incident) and its
percentiles. What this helper adds:
  - it starts SERVERS houston processes on one --db (a SQLite path, or a postgres:// URL that
    several servers may share) and spreads the events across them: one paced sender per server,
    each at RATE / SERVERS, with CONNECTIONS / SERVERS connections;
  - it pins houston to --cpu (taskset), so the shell script can keep it apart from this process;
  - its sink counts every webhook by message_id and by incident, so a page delivered twice (or
    never) is reported, not just the first arrival;
  - it prints one JSON line with the results.

    bench/pg_replicas.py --db 'postgresql://houston@/db?host=/tmp/x&port=5432' --servers 2 \
        [--houston build/houston] [--rate 200] [--seconds 10] [--users 200] [--cpu 1]

Loopback only; bounded in time; stops what it starts (houston also gets SIGTERM if this process
dies, through PR_SET_PDEATHSIG).
"""
import argparse
import asyncio
import collections
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paging_latency  # noqa: E402  (org_yaml, send_events, pct)

PROCS = []


def _pdeathsig():
    # The child gets SIGTERM when this process dies, however it dies.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class CountingSink(paging_latency.Sink):
    """paging_latency.Sink, but every delivery is kept: arrivals per incident title and per
    message_id, so duplicates and unknown pages can be counted."""

    def __init__(self):
        super().__init__()
        self.first = self.arrivals                     # title -> first arrival (monotonic)
        self.by_title = collections.Counter()          # title -> deliveries
        self.by_message = collections.Counter()        # message_id -> deliveries
        self.requests = 0
        self.unparsed = 0

    def record(self, body, now):
        self.requests += 1
        try:
            msg = json.loads(body)
            self.by_message[str(msg.get("message_id", ""))] += 1
            for inc in msg.get("incidents", [msg.get("incident", {})]):
                title = inc.get("title", "")
                self.first.setdefault(title, now)
                self.by_title[title] += 1
        except ValueError:
            self.unparsed += 1


def start_houston(args, tmp, org, i):
    port_file = os.path.join(tmp, f"port{i}")
    cmd = ["taskset", "-c", str(args.cpu), args.houston, "serve", "--config", org, "--db", args.db,
           "--listen", "127.0.0.1:0", "--port-file", port_file,
           "--allow-egress", "127.0.0.1/32", "--log-level", "warn",
           "--max-pages-per-minute", "1000", "--notify-workers", str(args.workers)]
    log = open(os.path.join(tmp, f"houston{i}.log"), "w")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_pdeathsig)
    PROCS.append(p)
    return p, port_file


async def wait_port(proc, port_file, tmp, i):
    deadline = time.monotonic() + 15
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if proc.poll() is not None or time.monotonic() > deadline:
            log = open(os.path.join(tmp, f"houston{i}.log")).read()[-2000:]
            raise RuntimeError(f"houston {i} did not start: {log}")
        await asyncio.sleep(0.02)
    return int(open(port_file).read())


def cpu_seconds(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


async def main_async(args):
    sink = CountingSink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink_port = server.sockets[0].getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="houston-pg-paging-")
    org = os.path.join(tmp, "org.yaml")
    with open(org, "w") as f:
        f.write(paging_latency.org_yaml(args.users, sink_port))
    result = {"servers": args.servers, "offered_rate": args.rate, "seconds": args.seconds}
    try:
        # Started one after the other: the first applies the migrations and the org.
        ports = []
        for i in range(args.servers):
            p, pf = start_houston(args, tmp, org, i)
            ports.append(await wait_port(p, pf, tmp, i))
        cpu0 = [cpu_seconds(p.pid) for p in PROCS]
        sent = {}
        n = args.servers
        t0 = time.monotonic()
        await asyncio.gather(*[
            paging_latency.send_events(port, args.rate / n, args.seconds,
                                       max(1, args.connections // n), sent)
            for port in ports])
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + args.drain
        while len(sink.first) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # A little longer, so that a page sent twice has time to arrive twice.
        await asyncio.sleep(args.settle)
        cpu1 = [cpu_seconds(p.pid) for p in PROCS]
        lat = [(sink.first[k] - t) * 1000 for k, t in sent.items() if k in sink.first]
        if args.dump:
            with open(args.dump, "w") as f:
                for k, t in sorted(sent.items(), key=lambda kv: kv[1]):
                    got = sink.first.get(k)
                    f.write(f"{t - t0:.4f} {(got - t) * 1000 if got else -1:.2f} {k}\n")
        dup_titles = {k: c for k, c in sink.by_title.items() if c > 1}
        dup_msgs = {k: c for k, c in sink.by_message.items() if c > 1}
        unknown = [k for k in sink.by_title if k not in sent]
        result.update({
            "sent": len(sent), "elapsed": round(elapsed, 3),
            "achieved_rate": round(len(sent) / elapsed, 1),
            "delivered": len(lat), "missing": len(sent) - len(lat),
            "webhook_requests": sink.requests,
            "distinct_message_ids": len(sink.by_message),
            "duplicate_message_ids": sum(c - 1 for c in dup_msgs.values()),
            "incidents_paged_more_than_once": len(dup_titles),
            "extra_pages": sum(c - 1 for c in dup_titles.values()),
            "unknown_titles": len(unknown), "unparsed": sink.unparsed,
            "p50_ms": round(paging_latency.pct(lat, 50), 2),
            "p90_ms": round(paging_latency.pct(lat, 90), 2),
            "p99_ms": round(paging_latency.pct(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else None,
            "houston_cpu_s": [round(b - a, 2) for a, b in zip(cpu0, cpu1)],
            "examples_duplicate": dict(list(dup_titles.items())[:5]),
        })
        print(json.dumps(result), flush=True)
        ok = (result["missing"] == 0 and result["duplicate_message_ids"] == 0
              and result["extra_pages"] == 0 and result["unknown_titles"] == 0)
        return 0 if ok else 1
    finally:
        stop_all()
        server.close()
        if args.keep_logs:
            for i in range(args.servers):
                src = os.path.join(tmp, f"houston{i}.log")
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(args.keep_logs, f"paging-houston{i}.log"))
        shutil.rmtree(tmp, ignore_errors=True)


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in PROCS:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--houston", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                      "houston"))
    p.add_argument("--db", required=True, help="SQLite path or postgres:// URL")
    p.add_argument("--servers", type=int, default=1, help="houston processes on --db")
    p.add_argument("--rate", type=float, default=200, help="events (= incidents) per second, in all")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--users", type=int, default=200, help="round-robin targets")
    p.add_argument("--connections", type=int, default=16, help="sender connections, in all")
    p.add_argument("--workers", type=int, default=4, help="houston --notify-workers (each server)")
    p.add_argument("--cpu", default="1", help="taskset CPU list for houston")
    p.add_argument("--drain", type=float, default=30, help="seconds to wait for missing pages")
    p.add_argument("--settle", type=float, default=2, help="seconds to wait for duplicates")
    p.add_argument("--dump", default="", help="write 'send time (s) latency (ms) key' lines here")
    p.add_argument("--keep-logs", default="", help="copy houston's logs into this directory")
    args = p.parse_args()
    if args.servers > 1 and not args.db.startswith(("postgres://", "postgresql://")):
        p.error("several servers need a postgres:// database")
    # SIGTERM/SIGINT from the shell script: leave through the finally blocks (houston stopped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(asyncio.run(main_async(args)))
    finally:
        stop_all()


if __name__ == "__main__":
    main()
