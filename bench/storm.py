#!/usr/bin/python3
"""Alert storm: what houston does while a large outage pours in, and what its users see.

Starts build/houston (SQLite, --sync full) pinned to CPU 1 on a generated org of SERVICES
services, each grouping its alerts (a 10-minute window) and paging its two responders by webhook
to this script's sink (at once, and the second after 5 minutes). Then, with every client on CPU 0:
  - wrk (bench/storm.lua) sends ALERTS events in SECONDS seconds, paced, from SOURCES sources
    spread over the services, each source repeating its KEYS alerts (most events are duplicates)
    and resolving one now and then (RESOLVE %);
  - FEEDS live-feed WebSocket clients stream GET /api/v1/live: one parses every message and takes
    its lag (entry `at` to arrival), the others drain (bench/live_bench.py's clients);
  - POLLERS clients poll the incident and alert lists (a page of 50 each, alternating, every
    100 ms), as a web UI or a script would, and time each request;
  - houston's RSS is sampled every second.
Afterwards it checks and reports:
  - nothing lost: every trigger answered 202 is stored (the sum of the alerts' event counts,
    give or take the requests in flight when wrk stopped, at most one per connection);
  - grouping: incidents opened (per service: a handful, not one per alert);
  - no pager flood: notifications per responder (houston's outbox) and webhooks the sink got;
  - the list queries' p50/p99 during the storm, the live feed's lag p50/p99, RSS at the start,
    its peak and at the end.

    bench/storm.py [--build build] [--alerts 200000] [--seconds 60] [--sources 2000]
                   [--services 20] [--keys 5] [--resolve 10] [--feeds 20] [--pollers 5]
                   [--connections 64]

Loopback only; bounded in time; stops what it starts. About SECONDS + 30 s.
"""
import argparse
import asyncio
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from live_bench import metric  # noqa: E402
from paging_latency import CountingSink, pct  # noqa: E402


def org_yaml(services, sink_port):
    lines = ["users:"]
    for s in range(services):
        for r in range(2):
            lines += [f"  - id: r{s}-{r}",
                      "    contact_methods:",
                      f"      - {{id: hook, type: webhook, "
                      f"url: \"http://127.0.0.1:{sink_port}/r{s}-{r}\"}}"]
    lines.append("escalation_policies:")
    for s in range(services):
        lines += [f"  - id: ep-{s}",
                  "    steps:",
                  f"      - {{delay_minutes: 0, targets: [{{user: r{s}-0}}]}}",
                  f"      - {{delay_minutes: 5, targets: [{{user: r{s}-1}}]}}"]
    lines.append("services:")
    for s in range(services):
        lines += [f"  - id: svc-{s}",
                  f"    escalation_policy: ep-{s}",
                  "    grouping: {window_minutes: 10}",
                  "    integrations:",
                  f"      - {{type: events_v2, key: \"storm-key-{s}\"}}"]
    return "\n".join(lines) + "\n"


def start_sink():
    """paging_latency.py's counting sink, on a thread of its own: returns it and its port."""
    sink, loop = CountingSink(), asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(sink.handle, "127.0.0.1", 0))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return sink, server.sockets[0].getsockname()[1]


def poller(port, token, stop, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    paths = ["/api/v1/incidents?limit=50", "/api/v1/alerts?limit=50"]
    n, errors = 0, 0
    while not stop.is_set():
        path = paths[n % 2]
        n += 1
        t0 = time.monotonic()
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors += 1
        except OSError:
            errors += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        out.append((time.monotonic() - t0) * 1000)
        stop.wait(0.1)
    out.append(("errors", errors))


def rss_sampler(pid, stop, out):
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]) // 1024)
        except OSError:
            return
        stop.wait(1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--alerts", type=int, default=200_000, help="events sent in all")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--sources", type=int, default=2000)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--keys", type=int, default=5, help="alerts per source")
    ap.add_argument("--resolve", type=int, default=10, help="percent of events that resolve")
    ap.add_argument("--feeds", type=int, default=20, help="live-feed streams")
    ap.add_argument("--pollers", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64, help="wrk connections")
    a = ap.parse_args()
    client = ["taskset", "-c", "0"] if (os.cpu_count() or 1) >= 2 else []
    server = ["taskset", "-c", "1"] if client else []
    binary = os.path.join(a.build, "houston")
    tmp = tempfile.mkdtemp(prefix="houston-storm-")
    db = os.path.join(tmp, "h.db")
    port_file = os.path.join(tmp, "port")
    sink, sink_port = start_sink()
    with open(os.path.join(tmp, "org.yaml"), "w") as f:
        f.write(org_yaml(a.services, sink_port))
    log = open(os.path.join(tmp, "houston.log"), "wb")
    srv = subprocess.Popen(server + [binary, "serve", "--config", os.path.join(tmp, "org.yaml"),
                                     "--db", db, "--listen", "127.0.0.1:0", "--port-file",
                                     port_file, "--log-level", "warn", "--allow-egress",
                                     "127.0.0.1/32"], stdout=log, stderr=subprocess.STDOUT)
    kids, stop = [], threading.Event()
    commit = subprocess.run(["git", "-C", SOURCE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if srv.poll() is not None:
                raise RuntimeError("houston exited: " + open(log.name).read()[-500:])
            time.sleep(0.05)
        port = int(open(port_file).read())
        token = subprocess.run([binary, "token", "create", "--db", db, "--role", "viewer",
                                "--name", "storm"], capture_output=True, text=True,
                               check=True).stdout.strip()

        def start(*args):
            p = subprocess.Popen(client + [sys.executable, os.path.join(HERE, "live_bench.py"),
                                           *args], stdout=subprocess.PIPE, text=True)
            kids.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the live-feed client {args[0]} failed")
            return p

        holder = start("--child", str(port), token, str(max(0, a.feeds - 1)))
        meter = start("--measure", str(port), token, str(a.seconds + 5))
        rss, polls = [], [[] for _ in range(a.pollers)]
        threading.Thread(target=rss_sampler, args=(srv.pid, stop, rss), daemon=True).start()
        threads = [threading.Thread(target=poller, args=(port, token, stop, polls[i]), daemon=True)
                   for i in range(a.pollers)]
        for t in threads:
            t.start()
        time.sleep(1)
        rss_start = rss[-1] if rss else 0
        rate = a.alerts / a.seconds
        run_id = f"s{time.time_ns()}"
        wrk = subprocess.run(client + ["wrk", "-t1", f"-c{a.connections}", f"-d{a.seconds}s",
                                       "--latency", "-s", os.path.join(HERE, "storm.lua"),
                                       f"http://127.0.0.1:{port}", "--", run_id, str(rate),
                                       str(a.services), str(a.sources), str(a.keys),
                                       str(a.resolve)], capture_output=True, text=True)
        stop.set()
        for t in threads:
            t.join()
        m = json.loads(meter.stdout.readline())
        holder.terminate()
        drained = json.loads(holder.stdout.readline())
        time.sleep(3)  # let the pages due now go out
        rss_end = rss[-1] if rss else 0
        slow = int(metric(port, "houston_websocket_slow_clients_total"))
        srv.terminate()
        srv.wait()
        result = dict(kv.split("=", 1) for line in wrk.stdout.splitlines()
                      if line.startswith(("RESULT ", "STORM ")) for kv in line.split()[1:])
        d = sqlite3.connect(db)
        stored = d.execute("SELECT COALESCE(SUM(event_count), 0) FROM alerts").fetchone()[0]
        alerts = d.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        incidents = d.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        per_service = [n for (n,) in d.execute(
            "SELECT COUNT(*) FROM incidents GROUP BY service_id ORDER BY 1")]
        per_user = [n for (n,) in d.execute(
            "SELECT COUNT(*) FROM notifications GROUP BY user_id ORDER BY 1")]
        d.close()
        triggers, ok = int(result["triggers"]), int(result["ok"])
        lat = [v for p in polls for v in p if not isinstance(v, tuple)]
        poll_errors = sum(v[1] for p in polls for v in p if isinstance(v, tuple))
        lost = triggers - stored
        print(f"# Alert storm: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {commit}")
        print()
        print(f"{a.alerts:,} events offered in {a.seconds} s ({rate:.0f}/s) from {a.sources:,} "
              f"sources over {a.services} services, {a.keys} alerts per source, {a.resolve}% "
              f"resolves; wrk -t1 -c{a.connections}; {a.feeds} live-feed streams, {a.pollers} "
              f"list pollers; houston on CPU 1, every client on CPU 0; load at the end "
              f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
        print()
        print("| measure | value | target |")
        print("|---|---:|---|")
        print(f"| events sent (achieved rate) | {int(result['requests']):,} "
              f"({float(result['rps']):,.0f}/s) | |")
        print(f"| answered 202 / other / socket errors | {ok:,} / {result['other']} / "
              f"{int(result['err_connect']) + int(result['err_read']) + int(result['err_write']) + int(result['err_timeout'])} | all 202 |")
        print(f"| triggers sent / stored (sum of event counts) | {triggers:,} / {stored:,} "
              f"({'ok' if 0 <= lost <= a.connections else 'MISMATCH'}: {lost} in flight at the "
              f"end, at most {a.connections}) | nothing lost |")
        print(f"| alerts stored / incidents opened | {alerts:,} / {incidents:,} (per service: "
              f"{min(per_service) if per_service else 0}-{max(per_service) if per_service else 0})"
              f" | a handful per service |")
        print(f"| notifications per responder (outbox rows; most / fewest) / webhooks the sink "
              f"got | {max(per_user) if per_user else 0} / {min(per_user) if per_user else 0} "
              f"/ {sink.received:,} | bounded |")
        print(f"| intake latency (wrk) p50 / p99 / max | {int(result['p50_us']) / 1000:.1f} / "
              f"{int(result['p99_us']) / 1000:.1f} / {int(result['max_us']) / 1000:.1f} ms | |")
        print(f"| list queries during the storm: requests, p50 / p99 / max | {len(lat):,} "
              f"({poll_errors} failed), {pct(lat, 50):.1f} / {pct(lat, 99):.1f} / "
              f"{max(lat) if lat else 0:.1f} ms | p99 < 100 ms |")
        feed = m["lat"]
        print(f"| live feed: messages, lag (entry at -> received) p50 / p99 / max | "
              f"{m['messages']:,} ({m['out_of_order']} out of order), {pct(feed, 50):.0f} / "
              f"{pct(feed, 99):.0f} / {max(feed) if feed else 0:.0f} ms; {drained['closed']} of "
              f"{max(0, a.feeds - 1)} draining streams closed by houston ({slow} cut off as too "
              f"slow to read; bytes each draining stream received: {drained['min']:,} to "
              f"{drained['max']:,}) | p99 < 1 s |")
        print(f"| houston RSS at the start / peak / at the end | {rss_start} / "
              f"{max(rss) if rss else 0} / {rss_end} MiB | bounded |")
        print()
        print("wrk's output:")
        print()
        print("```")
        print(wrk.stdout.strip())
        print("```")
        return 0 if result["other"] == "0" and 0 <= lost <= a.connections else 1
    finally:
        stop.set()
        for p in kids:
            p.kill()
        if srv.poll() is None:
            srv.terminate()
            srv.wait()
        print(f"(server log and database in {tmp})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
