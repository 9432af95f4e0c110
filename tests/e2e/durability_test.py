#!/usr/bin/python3
"""End-to-end: guarantee G1, every event answered 202 survives kill -9 (and SIGTERM).

Client threads send triggers with unique dedup keys over keep-alive connections and record
every key answered 202. The server is killed mid-load (kill -9 three times at different
moments, on one database, and once with --sync normal), or stopped with SIGTERM; after a
restart on the same database every acknowledged key must exist as exactly one alert, and no
alert may exist that was never sent."""

import http.client
import json
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AM_KEY, EVENTS_KEY, wait_until  # noqa: E402

THREADS = 8
SEED = int(os.environ.get("HOUSTON_E2E_SEED", str(int(time.time()))))


class Load:
    """THREADS client threads sending unique triggers until stopped or the server is gone."""

    def __init__(self, port, prefix, webhook_threads=0):
        self.port = port
        self.prefix = prefix
        self.webhook_threads = webhook_threads  # these send Alertmanager groups of 3 alerts
        self.lock = threading.Lock()
        self.sent = set()       # keys whose request was (at least partly) written
        self.acked = set()      # keys answered 202 with the right dedup_key
        self.acked_after = {}   # time of each 202
        self.other = []         # unexpected answers: (status, body)
        self.truncated = []     # responses cut off mid-way
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout=30):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"{len(alive)} load threads still running after {timeout} s")

    def count(self):
        with self.lock:
            return len(self.acked)

    def _request(self, i, seq):
        """(path, body, keys, expected 202 body check)"""
        key = f"{self.prefix}-t{i}-{seq}"
        if i >= self.webhook_threads:
            body = json.dumps({"routing_key": EVENTS_KEY, "event_action": "trigger",
                               "dedup_key": key,
                               "payload": {"summary": f"durability {key}", "source": "e2e",
                                           "severity": "info"}})
            return "/v2/enqueue", body, [key]
        keys = [f"{key}-a{j}" for j in range(3)]
        body = json.dumps({
            "version": "4", "groupKey": f'{{}}:{{alertname="{key}"}}', "status": "firing",
            "receiver": "houston", "groupLabels": {"alertname": key}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am.example", "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": {"alertname": key, "instance": k},
                        "annotations": {"summary": k}, "startsAt": "2026-01-01T00:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z", "fingerprint": k} for k in keys]})
        return f"/integrations/alertmanager/{AM_KEY}", body, keys

    @staticmethod
    def _answer_ok(path, keys, got):
        if path == "/v2/enqueue":
            return got == {"status": "success", "message": "Event processed",
                           "dedup_key": keys[0]}
        try:
            alerts = got["alerts"]
            return ([a["dedup_key"] for a in alerts] == keys
                    and all(a["result"] == "created" for a in alerts)
                    and len({a["incident_id"] for a in alerts}) == 1)
        except (KeyError, TypeError):
            return False

    def _run(self, i):
        conn = None
        seq = 0
        while not self.stop.is_set():
            path, body, keys = self._request(i, seq)
            seq += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                    conn.connect()
                with self.lock:
                    self.sent.update(keys)
                conn.request("POST", path, body=body,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except ConnectionRefusedError:
                return  # the server is gone
            except http.client.IncompleteRead as e:
                with self.lock:
                    self.truncated.append((keys, repr(e)))
                conn.close()
                conn = None
                continue
            except (OSError, http.client.HTTPException):
                # Closed or reset without an answer: the key's fate is unknown.
                if conn is not None:
                    conn.close()
                conn = None
                continue
            if resp.status == 202:
                try:
                    got = json.loads(data)
                except ValueError:
                    got = None
                with self.lock:
                    if self._answer_ok(path, keys, got):
                        now = time.monotonic()
                        for k in keys:
                            self.acked.add(k)
                            self.acked_after[k] = now
                    else:
                        self.other.append((resp.status, data[:300]))
            elif resp.status in (429, 503) and resp.getheader("Retry-After"):
                pass  # overload is allowed (never for an answered event), retry-able
            else:
                with self.lock:
                    self.other.append((resp.status, data[:300]))
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


class DurabilityTest(harness.HoustonTestCase):

    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED)
        sys.stderr.write(f"\n[durability seed {SEED}; rerun with HOUSTON_E2E_SEED={SEED}]\n")

    def verify(self, srv, acked, sent, prefix_filter=None):
        """Every acked key is exactly one alert; every alert was sent; no duplicates."""
        alerts = srv.all_alerts()
        ids = [a["id"] for a in alerts]
        self.assertEqual(len(ids), len(set(ids)), "pagination returned an alert twice")
        self.assertEqual(ids, sorted(ids, reverse=True), "alerts are not newest first")
        by_key = {}
        for a in alerts:
            if prefix_filter and not a["dedup_key"].startswith(prefix_filter):
                continue
            by_key.setdefault(a["dedup_key"], []).append(a)
        dups = {k: len(v) for k, v in by_key.items() if len(v) > 1}
        self.assertEqual(dups, {}, "dedup keys stored more than once")
        lost = sorted(acked - set(by_key))
        self.assertEqual(lost[:20], [], f"{len(lost)} of {len(acked)} acknowledged events lost")
        unsent = sorted(set(by_key) - sent)
        self.assertEqual(unsent[:20], [], "alerts that were never sent")
        groups = {}
        for key in acked:
            a = by_key[key][0]
            self.assertEqual((a["event_count"], a["status"]), (1, "triggered"), a)
            if a["group_key"]:
                groups.setdefault(a["group_key"], set()).add(a["incident_id"])
        # A webhook group is stored all or nothing, in one incident.
        for key, alerts in by_key.items():
            if "-a" in key and alerts[0]["group_key"]:
                base = key.rsplit("-a", 1)[0]
                siblings = [f"{base}-a{j}" for j in range(3)]
                self.assertTrue(all(k in by_key for k in siblings),
                                f"a webhook group was stored in part: {key}")
                self.assertEqual(len({by_key[k][0]["incident_id"] for k in siblings}), 1)
        return by_key

    def test_kill9_mid_load_three_times(self):
        srv = self.new_server()
        all_acked, all_sent = set(), set()
        # Kill at different moments: early, in the middle, late (plus jitter from the seed).
        for cycle, (min_acked, delay) in enumerate([(20, 0.05), (300, 0.9), (600, 2.0)]):
            delay += self.rng.uniform(0, 0.4)
            load = Load(srv.port, f"k9-c{cycle}", webhook_threads=2).start()
            try:
                wait_until(lambda: load.count() >= min_acked or not srv.alive(), 30,
                           f"{min_acked} acknowledged events")
                time.sleep(delay)  # let the load run: the kill lands at a random moment
                srv.kill9()
            finally:
                load.stop.set()
                load.join()
            self.assertEqual(load.other, [], "unexpected answers")
            acked, sent = set(load.acked), set(load.sent)
            self.assertGreater(len(acked), 0)
            sys.stderr.write(f"cycle {cycle}: killed after {len(acked)} acknowledged events; "
                             f"{len(sent) - len(acked)} sent but unanswered\n")
            all_acked |= acked
            all_sent |= sent
            srv.start()
            self.verify(srv, all_acked, all_sent)
        # Still fully working afterwards.
        r = srv.enqueue({"routing_key": EVENTS_KEY, "event_action": "trigger",
                         "dedup_key": "after-kills",
                         "payload": {"summary": "x", "source": "e2e", "severity": "info"}})
        self.assertStatus(r, 202)
        self.assertEqual(srv.stop(), 0)

    def test_kill9_with_sync_normal(self):
        """--sync normal: acknowledged events still survive a crash of the process."""
        srv = self.new_server(extra_args=["--sync", "normal"])
        load = Load(srv.port, "normal").start()
        try:
            wait_until(lambda: load.count() >= 300, 30, "300 acknowledged events")
            time.sleep(self.rng.uniform(0.2, 0.8))
            srv.kill9()
        finally:
            load.stop.set()
            load.join()
        self.assertEqual(load.other, [])
        srv.start()
        self.verify(srv, set(load.acked), set(load.sent))
        self.assertEqual(srv.stop(), 0)

    def test_sigterm_during_load(self):
        srv = self.new_server()
        load = Load(srv.port, "term", webhook_threads=2).start()
        try:
            wait_until(lambda: load.count() >= 300, 30, "300 acknowledged events")
            time.sleep(self.rng.uniform(0.2, 1.0))
            t_term = time.monotonic()
            start = time.monotonic()
            rc = srv.stop(timeout=30)
            took = time.monotonic() - start
        finally:
            load.stop.set()
            load.join()
        self.assertEqual(rc, 0, "houston did not exit 0 on SIGTERM")
        self.assertLess(took, 15, f"SIGTERM took {took:.1f} s")
        self.assertEqual(load.truncated, [], "responses were cut off during a graceful stop")
        self.assertEqual(load.other, [], "unexpected answers")
        late = sum(1 for t in load.acked_after.values() if t >= t_term)
        sys.stderr.write(f"SIGTERM: {len(load.acked)} acknowledged, {late} answered after the "
                         f"signal, stop took {took:.2f} s\n")
        log = srv.log()
        self.assertIn("stopped cleanly", log)
        # Nothing listens any more.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        srv.start()
        self.verify(srv, set(load.acked), set(load.sent))
        self.assertEqual(srv.stop(), 0)

    def test_pagination(self):
        """limit/cursor walk the whole list exactly once (the verification above relies on it)."""
        srv = self.new_server()
        keys = [f"page-{i}" for i in range(250)]
        load_conn = srv.connection()
        try:
            for k in keys:
                load_conn.request("POST", "/v2/enqueue", body=json.dumps(
                    {"routing_key": EVENTS_KEY, "event_action": "trigger", "dedup_key": k,
                     "payload": {"summary": k, "source": "e2e", "severity": "info"}}),
                    headers={"Content-Type": "application/json"})
                r = load_conn.getresponse()
                r.read()
                self.assertEqual(r.status, 202)
        finally:
            load_conn.close()
        for size in (1, 7, 100, 249, 250, 1000):
            alerts = srv.all_alerts(page_size=size) if size != 1 else None
            if size == 1:  # walk only the first few pages one by one
                page = srv.api("/api/v1/alerts?limit=1")
                self.assertEqual(len(page["alerts"]), 1)
                nxt = srv.api(f"/api/v1/alerts?limit=1&cursor={page['next_cursor']}")
                self.assertLess(nxt["alerts"][0]["id"], page["alerts"][0]["id"])
                continue
            self.assertEqual(sorted(a["dedup_key"] for a in alerts), sorted(keys), size)
        r = srv.get("/api/v1/alerts?limit=1001", token=srv.token())
        self.assertStatus(r, 400)
        r = srv.get("/api/v1/alerts?limit=0", token=srv.token())
        self.assertStatus(r, 400)
        r = srv.get("/api/v1/alerts?cursor=abc", token=srv.token())
        self.assertStatus(r, 400)


if __name__ == "__main__":
    harness.main()
