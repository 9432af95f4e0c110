"""Fault injection for houston's end-to-end tests: a Jepsen-style history, nemeses, checkers.

A fault test drives the real houston with client operations and records each of them in a
History (an event sent and its answer, or the error that replaced the answer; an acknowledge
and its answer; every fault injected). The peers record what they observe (deliveries at
paging_peers.WebhookCollector and the aiosmtpd sink). After the run, checkers read that history
and the database and return the invariants that were broken, as readable lines:

  G1  every event answered 2xx is stored                         check_events_stored
  G2  duplicates and retries open one alert and one incident     check_events_stored,
                                                                 check_one_incident_per_key
  G3  each (incident, step, contact method) delivered 1..k times  check_deliveries
  G4  no page claimed after its incident was acknowledged         check_no_page_after_ack
  G5  one outbox row per page; repeats only from takeovers        check_deliveries,
                                                                 check_repeats_explained
  G7  overload answered 429/503 with a JSON body                  check_answers

Faults ("nemeses"): kill -9 and restart (Nemesis.kill_restart), SIGSTOP/SIGCONT of any process
(Nemesis.pause), receivers that answer slowly, 5xx or never (FaultyReceivers.mode),
PostgreSQL restarted (pg.PgServer.restart), a full disk (FullDisk: a small tmpfs), and the wall
clock moved forward and back (FakeClock: Debian's libfaketime preloaded into houston).

Every run is seeded: fault_seed() prints the seed and how to replay it, e.g.
    HOUSTON_FAULT_SEED=1234 python3 tests/e2e/fault_kill_test.py
HOUSTON_FAULT_ROUNDS (default 1) multiplies the rounds of faults for a longer soak; see
tests/e2e/README.md.
"""

import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from paging_peers import WebhookCollector

def webhook(method_id, url):
    """A webhook contact method as a YAML flow mapping (for paging_org)."""
    return f'{{id: {method_id}, type: webhook, url: "{url}"}}'


def paging_org(title, alice_methods, key_quiet, key_page, extra_services=""):
    """The org the fault tests share: alice is paged at once through service `paged`; service
    `quiet` pages nobody (intake load only). `alice_methods` are YAML flow mappings of her
    contact methods; `extra_services` more service entries (YAML lines)."""
    methods = "\n".join(f"      - {m}" for m in alice_methods)
    return f"""# {title}
users:
  - id: alice
    contact_methods:
{methods}
  - {{id: nobody}}
escalation_policies:
  - {{id: page-ep, steps: [{{delay_minutes: 0, targets: [{{user: alice}}]}}]}}
  - {{id: quiet-ep, steps: [{{delay_minutes: 0, targets: [{{user: nobody}}]}}]}}
services:
  - {{id: quiet, escalation_policy: quiet-ep, integrations: [{{type: events_v2, key: "{key_quiet}"}}]}}
  - {{id: paged, escalation_policy: page-ep, integrations: [{{type: events_v2, key: "{key_page}"}}]}}
{extra_services}"""


SEED_ENV = "HOUSTON_FAULT_SEED"
ROUNDS_ENV = "HOUSTON_FAULT_ROUNDS"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def fault_seed(script):
    """The run's seed ($HOUSTON_FAULT_SEED, else random), printed with the replay command."""
    text = os.environ.get(SEED_ENV)
    seed = int(text) if text else random.SystemRandom().randrange(1, 2**31)
    sys.stderr.write(f"\n[fault seed {seed}; replay: {SEED_ENV}={seed} python3 "
                     f"tests/e2e/{os.path.basename(script)}]\n")
    return seed


def fault_rounds(default=1):
    """How many rounds of faults a test runs ($HOUSTON_FAULT_ROUNDS, for soaks)."""
    return max(1, int(os.environ.get(ROUNDS_ENV, str(default))))


# ---------------------------------------------------------------------------------- history


class History:
    """Every client operation and fault of a run, in the order they ended. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ops = []
        self.t0 = time.monotonic()

    def record(self, kind, **fields):
        op = {"kind": kind, "t": time.monotonic(), **fields}
        with self._lock:
            self._ops.append(op)
        return op

    def fault(self, what, **fields):
        return self.record("fault", what=what, **fields)

    def ops(self, kind=None):
        with self._lock:
            return [o for o in self._ops if kind is None or o["kind"] == kind]

    def faults(self):
        return [f"{o['t'] - self.t0:7.2f}s {o['what']} "
                + " ".join(f"{k}={v}" for k, v in o.items() if k not in ("kind", "t", "what"))
                for o in self.ops("fault")]

    def summary(self):
        events = self.ops("event")
        by = {}
        for o in events:
            by[o["status"] or o.get("error", "error")] = by.get(
                o["status"] or o.get("error", "error"), 0) + 1
        return f"{len(events)} event requests {by}; faults: {len(self.ops('fault'))}"

    def dump(self, path):
        """Writes the history as JSON lines (for a failing seed's post-mortem)."""
        with open(path, "w") as f:
            for o in self.ops():
                f.write(json.dumps({k: (v if isinstance(v, (int, float, str, list, dict,
                                                             type(None))) else repr(v))
                                    for k, v in o.items()}) + "\n")


def trigger(routing_key, dedup, summary=None, severity="critical"):
    return {"routing_key": routing_key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": summary or f"fault {dedup}", "source": "fault-e2e",
                        "severity": severity}}


def post_json(port, path, body, timeout=10, token=None):
    """One request on a new connection: (status, parsed body or raw text, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Content-Type": "application/json"}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request("POST", path, body=json.dumps(body), headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw[:300].decode("utf-8", "replace")
        return resp.status, parsed, resp
    finally:
        conn.close()


class EventLoad:
    """Client threads sending Events API v2 triggers to whichever server `targets()` lists now
    (a server being restarted is skipped: its port changes). Each request goes to a random
    target; a trigger is for a fresh key, or (probability `p_dup`) for one of `dup_keys`, which
    every thread sends again and again. A trigger that got no 2xx (no answer, 5xx, 429) is sent
    again with the same dedup key, at most `retries` more times, as pdjs and Alertmanager do.
    Every attempt is recorded in the history as kind "event": key, status (None without an
    answer), body, content type, error, server."""

    def __init__(self, history, targets, routing_key, prefix, seed, threads=4, dup_keys=(),
                 p_dup=0.0, retries=3, timeout=10, pause=0.0):
        self.history = history
        self.targets = targets
        self.routing_key = routing_key
        self.prefix = prefix
        self.dup_keys = list(dup_keys)
        self.p_dup = p_dup
        self.retries = retries
        self.timeout = timeout
        self.pause = pause
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i, seed * 1000 + i),
                                         daemon=True) for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=40):
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"{len(alive)} load threads still running after {timeout} s")

    def acked(self):
        return sum(1 for o in self.history.ops("event") if o["status"] and o["status"] < 300)

    def _send(self, srv, key, conn_box):
        start = time.monotonic()
        port = srv.port
        fields = {"key": key, "server": srv.name, "t0": start, "status": None, "body": None,
                  "ctype": "", "error": None, "retry_after": None}
        try:
            if conn_box.get(srv.name) is None or conn_box.get("port", {}).get(srv.name) != port:
                if conn_box.get(srv.name) is not None:
                    conn_box[srv.name].close()  # the server was restarted on another port
                conn_box[srv.name] = http.client.HTTPConnection("127.0.0.1", port,
                                                                timeout=self.timeout)
                conn_box.setdefault("port", {})[srv.name] = port
            conn = conn_box[srv.name]
            conn.request("POST", "/v2/enqueue", body=json.dumps(trigger(self.routing_key, key)),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            fields["status"] = resp.status
            fields["ctype"] = resp.getheader("Content-Type", "")
            fields["retry_after"] = resp.getheader("Retry-After")
            try:
                fields["body"] = json.loads(raw)
            except ValueError:
                fields["body"] = raw[:300].decode("utf-8", "replace")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn_box[srv.name] = None
        except (OSError, http.client.HTTPException) as e:
            fields["error"] = type(e).__name__
            c = conn_box.get(srv.name)
            if c is not None:
                c.close()
            conn_box[srv.name] = None
        return self.history.record("event", **fields)

    def _run(self, i, seed):
        rng = random.Random(seed)
        conns = {}
        seq = 0
        while not self.stop_event.is_set():
            if self.dup_keys and rng.random() < self.p_dup:
                key = rng.choice(self.dup_keys)
            else:
                key = f"{self.prefix}-{i}-{seq}"
                seq += 1
            for attempt in range(self.retries + 1):
                live = [s for s in self.targets() if s.alive() and s.port]
                if not live:
                    time.sleep(0.02)
                    continue
                op = self._send(rng.choice(live), key, conns)
                if op["status"] is not None and op["status"] < 300:
                    break
                if self.stop_event.is_set():
                    break
                time.sleep(0.01 + 0.02 * attempt)
            if self.pause:
                time.sleep(self.pause)
        for name, c in conns.items():
            if name != "port" and c is not None:
                c.close()


# ----------------------------------------------------------------------------------- nemeses


class Nemesis:
    """Injects faults at seeded random moments and records each in the history."""

    def __init__(self, history, rng):
        self.history = history
        self.rng = rng
        self._stopped = set()  # pids currently SIGSTOPped (resumed by resume_all)

    def kill_restart(self, srv, down=(0.0, 0.3)):
        """kill -9 and start again on the same database (a new port)."""
        self.history.fault("kill -9", server=srv.name, pid=srv.proc.pid)
        srv.kill9()
        time.sleep(self.rng.uniform(*down))
        srv.start()
        self.history.fault("restarted", server=srv.name, pid=srv.proc.pid, port=srv.port)

    def pause(self, name, pids, seconds):
        """SIGSTOP the processes for `seconds`, then SIGCONT them (also on error)."""
        pids = [p for p in pids if p]
        self.history.fault("SIGSTOP", target=name, pids=pids, seconds=round(seconds, 2))
        for p in pids:
            try:
                os.kill(p, signal.SIGSTOP)
                self._stopped.add(p)
            except ProcessLookupError:
                pass
        try:
            time.sleep(seconds)
        finally:
            for p in pids:
                try:
                    os.kill(p, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self._stopped.discard(p)
            self.history.fault("SIGCONT", target=name)

    def resume_all(self):
        for p in list(self._stopped):
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._stopped.clear()


def process_tree(pid):
    """`pid` and all its descendants (from /proc), e.g. PostgreSQL's postmaster and backends."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def postmaster_pid(pg_server):
    with open(os.path.join(pg_server.dir, "data", "postmaster.pid")) as f:
        return int(f.readline())


class FakeClock:
    """The wall clock of the processes started with env(): Debian's libfaketime, reading its
    offset from a file on every call (FAKETIME_NO_CACHE), so that a test moves the clock of a
    running houston forward and back. Only CLOCK_REALTIME moves (as an NTP step would): the
    monotonic clock, which houston's timeouts and sleeps use, is left alone."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "faketime")
        self.offset = 0
        self._write()

    @staticmethod
    def available():
        return os.path.exists(FAKETIME_LIB)

    def env(self):
        return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": self.path,
                "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def jump(self, seconds, history=None):
        self.offset += seconds
        self._write()
        if history is not None:
            history.fault("clock jump", by_s=seconds, offset_s=self.offset)

    def now(self):
        """What the faked processes read as the time now (epoch seconds)."""
        return time.time() + self.offset

    def _write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{self.offset:+d}\n")
        os.replace(tmp, self.path)  # readers never see a half-written file


class FullDisk:
    """A small tmpfs (needs root) for the SQLite database; fill() takes every free byte with a
    filler file, free() deletes it. Unmounted by close()."""

    def __init__(self, size="16m"):
        self.mnt = tempfile.mkdtemp(prefix="houston-fault-disk-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                            self.mnt], capture_output=True, text=True)
        if p.returncode != 0:
            os.rmdir(self.mnt)
            raise OSError(f"cannot mount a tmpfs: {p.stderr.strip()}")
        self.filler = os.path.join(self.mnt, "filler")

    def path(self, name):
        return os.path.join(self.mnt, name)

    def fill(self, leave=0):
        """Fills the disk, leaving about `leave` bytes free."""
        with open(self.filler, "ab") as f:
            chunk = b"\0" * 65536
            try:
                while True:
                    st = os.statvfs(self.mnt)
                    free = st.f_bavail * st.f_frsize
                    if free <= leave:
                        break
                    f.write(chunk[:max(4096, min(len(chunk), free - leave))])
                    f.flush()
            except OSError:
                pass

    def free(self):
        try:
            os.unlink(self.filler)
        except FileNotFoundError:
            pass

    def close(self):
        if subprocess.run(["umount", self.mnt], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", self.mnt], check=False)
        os.rmdir(self.mnt)


class FaultyReceivers(WebhookCollector):
    """A WebhookCollector whose paths misbehave on demand: mode(path, "slow", seconds) answers
    after a delay, mode(path, "error", status) answers that status, mode(path, "never") holds
    the request until the collector closes (the sender times out), mode(path, "ok") is normal.
    Every request is recorded when it arrives, whatever the answer."""

    def __init__(self):
        super().__init__()
        self._modes = {}
        self._closing = threading.Event()

    def mode(self, path, how, arg=None):
        with self._lock:
            self._modes[path] = (how, arg)

    def _record(self, handler, body):
        status, extra, hold = super()._record(handler, body)
        with self._lock:
            how, arg = self._modes.get(handler.path, ("ok", None))
        if how == "slow":
            self._closing.wait(arg)
        elif how == "error":
            status = arg
        elif how == "never":
            self._closing.wait(120)
        return status, extra, hold

    def close(self):
        self._closing.set()
        super().close()


# ----------------------------------------------------------------------------------- reading


class DbReader:
    """Reads houston's tables directly: SQLite (read-only, beside a running server) or a
    PostgreSQL database of pg.PgServer. The integration keys in those tables are sealed (a
    database file reveals none), so rows are found by the service of each key: `services` maps
    each integration key of the test's org to its service (one key per service)."""

    def __init__(self, services, sqlite_path=None, pg_server=None, pg_database=None):
        self.services = dict(services)
        self.sqlite_path = sqlite_path
        self.pg_server = pg_server
        self.pg_database = pg_database

    def rows(self, sql):
        if self.sqlite_path:
            con = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30)
            try:
                return [list(r) for r in con.execute(sql)]
            finally:
                con.close()
        out = []
        for r in self.pg_server.psql(self.pg_database, sql):
            out.append([None if v == "" else (int(v) if v.lstrip("-").isdigit() else v)
                        for v in r])
        return out

    def alerts(self, integration_key):
        """dedup_key -> [(alert id, incident id, event_count, status)]."""
        by = {}
        for key, aid, inc, count, status in self.rows(
                "SELECT dedup_key, id, incident_id, event_count, status FROM alerts "
                f"WHERE service_id = '{self.services[integration_key]}' ORDER BY id"):
            by.setdefault(key, []).append((aid, inc, int(count), status))
        return by

    def incidents(self):
        """id -> {status, acknowledged_at (ms or None), resolved_at, service_id}."""
        return {int(r[0]): {"status": r[1], "acknowledged_at": r[2], "resolved_at": r[3],
                            "service_id": r[4]}
                for r in self.rows("SELECT id, status, acknowledged_at, resolved_at, "
                                   "service_id FROM incidents")}

    def notifications(self):
        """Every notification row as a dict."""
        cols = ["id", "incident_id", "loop", "step", "user_id", "contact_method_id", "kind",
                "state", "attempts", "batch_id", "attempted_at", "sent_at", "last_error",
                "created_at", "not_before"]
        return [dict(zip(cols, r)) for r in self.rows(
            "SELECT id, incident_id, loop, step, user_id, contact_method_id, kind, state, "
            "attempts, batch_id, attempted_at, sent_at, last_error, created_at, not_before "
            "FROM notifications "
            "ORDER BY id")]


class Delivery:
    """A page as a receiver saw it: destination (a contact method id), message id, the incidents
    it is about, its step, when it arrived (monotonic)."""

    def __init__(self, dest, message_id, incidents, step, at):
        self.dest = dest
        self.message_id = message_id
        self.incidents = incidents
        self.step = step
        self.at = at

    def __repr__(self):
        return f"<{self.dest} {self.message_id} incidents={self.incidents} step={self.step}>"


def webhook_deliveries(collector, dest_of_path):
    """The collector's page requests as Deliveries (`dest_of_path`: path -> contact method)."""
    out = []
    for r in collector.requests():
        dest = dest_of_path.get(r.path)
        if dest is None:
            continue
        try:
            body = r.json
        except ValueError:
            continue
        ids = [i.get("id") for i in body.get("incidents") or []]
        out.append(Delivery(dest, body.get("message_id"), ids, body.get("step"), r.at))
    return out


def mail_deliveries(sink, dest_of_address, notifications):
    """The SMTP sink's messages as Deliveries. A mail names its message id (X-Houston-Message-Id:
    ntf-<id>); its incidents are those of the notification rows of that batch."""
    by_batch = {}
    for n in notifications:
        by_batch.setdefault(n["batch_id"], set()).add(n["incident_id"])
        by_batch.setdefault(n["id"], set()).add(n["incident_id"])
    out = []
    for m in sink.messages():
        mid = m.get("X-Houston-Message-Id", "")
        dest = dest_of_address.get(str(m.get("To", "")).strip())
        if dest is None or not mid.startswith("ntf-"):
            continue
        ids = sorted(by_batch.get(int(mid[4:]), set()))
        out.append(Delivery(dest, mid, ids, None, 0.0))
    return out


# ---------------------------------------------------------------------------------- checkers


def _is_json_error(op):
    body = op.get("body")
    return ("json" in (op.get("ctype") or "") and isinstance(body, dict)
            and isinstance(body.get("message", body.get("error")), (str, dict)))


def check_answers(history, ok=(202,), overload=(429, 503)):
    """G7: every answer is a success in `ok`, or an overload status with a JSON body (and a
    Retry-After on 429). Anything else (a 500, an HTML page, a 202 with a wrong body) is a
    problem."""
    problems = []
    for o in history.ops("event"):
        s = o["status"]
        if s is None:
            continue
        if s in ok:
            body = o["body"]
            if not (isinstance(body, dict) and body.get("dedup_key") == o["key"]
                    and body.get("status") == "success"):
                problems.append(f"{o['key']} on {o['server']}: {s} with body {body!r}")
        elif s in overload:
            if not _is_json_error(o):
                problems.append(f"{o['key']} on {o['server']}: {s} without a JSON body "
                                f"({o['ctype']!r}, {o['body']!r})")
            if s == 429 and not o.get("retry_after"):
                problems.append(f"{o['key']} on {o['server']}: 429 without Retry-After")
        else:
            problems.append(f"{o['key']} on {o['server']}: unexpected {s} {o['body']!r}")
    return problems


def check_events_stored(history, alerts_by_key, prefix=""):
    """G1 and G2 for triggers of fresh and duplicated keys (never resolved in the run):
    every key answered 2xx is stored, as exactly one alert, whose event_count is at least the
    number of 2xx answers (each accepted trigger counted) and at most the number of attempts
    (nothing counted that was not sent); nothing is stored that was never sent."""
    problems = []
    acked, sent = {}, {}
    for o in history.ops("event"):
        sent[o["key"]] = sent.get(o["key"], 0) + 1
        if o["status"] is not None and 200 <= o["status"] < 300:
            acked[o["key"]] = acked.get(o["key"], 0) + 1
    lost = sorted(k for k in acked if k not in alerts_by_key)
    if lost:
        problems.append(f"G1: {len(lost)} of {len(acked)} keys answered 2xx are not stored, "
                        f"e.g. {lost[:5]}")
    for key, alerts in alerts_by_key.items():
        if prefix and not key.startswith(prefix):
            continue
        if key not in sent:
            problems.append(f"G1: alert {key} stored but never sent")
            continue
        if len(alerts) != 1:
            problems.append(f"G2: key {key} has {len(alerts)} alerts: {alerts}")
            continue
        count = alerts[0][2]
        if count < acked.get(key, 0):
            problems.append(f"G1: key {key}: event_count {count} < {acked[key]} answers 2xx")
        if count > sent[key]:
            problems.append(f"G2: key {key}: event_count {count} > {sent[key]} requests sent")
    return problems


def check_one_incident_per_key(alerts_by_key):
    """G2: different keys never share an alert, and one key never opens two incidents."""
    problems = []
    owner = {}
    for key, alerts in alerts_by_key.items():
        incs = {a[1] for a in alerts}
        if len(incs) > 1:
            problems.append(f"G2: key {key} opened incidents {sorted(incs)}")
        for inc in incs:
            if inc in owner and owner[inc] != key:
                problems.append(f"G2: incident {inc} holds keys {owner[inc]} and {key}")
            owner[inc] = key
    return problems


def check_deliveries(deliveries, expected, bound, unexpected_ok=(), min_gap=None):
    """G3/G5: each expected (incident, destination) was delivered at least once and at most
    `bound` times (a message that bundles several incidents counts for each); a delivery for a
    pair that was not expected is a problem unless its incident is in `unexpected_ok` (pages
    legitimately cancelled or not yet due). With `min_gap` (seconds), two deliveries of one page
    closer than that are a problem: a repeat may only come from a takeover after a claim lease
    ran out, never from two servers sending at once."""
    counts, arrivals = {}, {}
    for d in deliveries:
        for inc in d.incidents:
            counts[(inc, d.dest)] = counts.get((inc, d.dest), 0) + 1
            arrivals.setdefault((inc, d.dest), []).append(d.at)
    problems = []
    if min_gap is not None:
        close = []
        for pair, times in arrivals.items():
            times.sort()
            gaps = [b - a for a, b in zip(times, times[1:])]
            if gaps and min(gaps) < min_gap:
                close.append((pair, round(min(gaps), 3)))
        if close:
            problems.append(f"G5: {len(close)} pages delivered twice within {min_gap} s "
                            f"(double-processed), e.g. {sorted(close)[:5]}")
    missing = sorted(p for p in expected if counts.get(p, 0) == 0)
    if missing:
        problems.append(f"G3: {len(missing)} of {len(expected)} pages never delivered, "
                        f"e.g. {missing[:5]}")
    over = sorted((p, n) for p, n in counts.items() if n > bound)
    if over:
        problems.append(f"G3: {len(over)} pages delivered more than {bound} times, "
                        f"e.g. {over[:5]}")
    extra = sorted(p for p in counts if p not in expected and p[0] not in unexpected_ok)
    if extra:
        problems.append(f"G3: deliveries nobody expected, e.g. {extra[:5]}")
    return problems


def fault_windows(history, targets):
    """(start, end) monotonic times of the kill -9 (to its restart) and SIGSTOP (to SIGCONT) of
    the processes named in `targets`."""
    out, open_ = [], {}
    for o in history.ops("fault"):
        who = o.get("server", o.get("target"))
        if who not in targets:
            continue
        if o["what"] in ("kill -9", "SIGSTOP"):
            open_[who] = o["t"]
        elif o["what"] in ("restarted", "SIGCONT") and who in open_:
            out.append((open_.pop(who), o["t"]))
    return out


def check_repeats_explained(deliveries, windows, slack):
    """G5: a page delivered again must have a server fault to explain it: its first delivery
    came before the end of a kill or stop of a replica (plus `slack` s) and the next one after
    that fault began. A repeat outside every fault window means two servers processed it."""
    arrivals = {}
    for d in deliveries:
        for inc in d.incidents:
            arrivals.setdefault((inc, d.dest), []).append(d.at)
    unexplained = []
    for pair, times in arrivals.items():
        times.sort()
        for a, b in zip(times, times[1:]):
            if not any(a <= end + slack and b >= start for start, end in windows):
                unexplained.append((pair, round(b - a, 3)))
    if unexplained:
        return [f"G5: {len(unexplained)} repeated deliveries no server fault explains "
                f"(double-processed), e.g. {sorted(unexplained)[:5]}"]
    return []


def check_no_page_after_ack(deliveries, notifications, incidents):
    """G4: no delivered page was claimed after its incident had been acknowledged (or
    resolved). A delivery's message id is ntf-<batch id>; its claim time is the notification
    rows' attempted_at, compared with the incident's acknowledged_at/resolved_at, both stamped
    by the database writer (a claim that commits first has the earlier stamp)."""
    by_batch = {}
    for n in notifications:
        if n["kind"] == "page" and n["batch_id"] is not None:
            by_batch.setdefault(n["batch_id"], []).append(n)
    problems = []
    for d in deliveries:
        if not d.message_id or not d.message_id.startswith("ntf-"):
            continue
        for n in by_batch.get(int(d.message_id[4:]), []):
            inc = incidents.get(n["incident_id"])
            if inc is None or n["attempted_at"] is None:
                continue
            stops = [t for t in (inc["acknowledged_at"], inc["resolved_at"]) if t is not None]
            if stops and int(n["attempted_at"]) > min(int(t) for t in stops):
                problems.append(f"G4: notification {n['id']} (incident {n['incident_id']}) "
                                f"claimed at {n['attempted_at']}, after the incident was "
                                f"stopped at {min(stops)}, and delivered to {d.dest}")
    return problems


def check_outbox_settled(notifications, allowed=("sent", "cancelled", "unknown")):
    """No page left half-done once the run has settled: every row is sent, cancelled (its
    incident was acknowledged first) or unknown (a receiver that never answered)."""
    bad = [n for n in notifications if n["state"] not in allowed]
    return [f"outbox: {len(bad)} notifications not settled, e.g. "
            f"{[(n['id'], n['state'], n['last_error']) for n in bad[:5]]}"] if bad else []
