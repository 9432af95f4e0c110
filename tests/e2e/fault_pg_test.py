#!/usr/bin/python3
"""Fault injection on two houston replicas sharing one PostgreSQL database (tests/e2e/pg.py),
both with --claim-lease 5: clients send triggers to both (fresh keys, duplicated keys, retries)
while a slow receiver keeps sends in flight, and the nemesis, at seeded moments, kills a replica
with kill -9 mid-escalation (and restarts it), pauses one with SIGSTOP past its lease, pauses
PostgreSQL itself (every process of the cluster) with SIGSTOP/SIGCONT, and restarts PostgreSQL
under load. Invariants from the recorded history, the database and the receivers:

- G1/G2: every trigger answered 202 by either replica is stored once, counted at least once per
  202, and a key never has a second alert or incident;
- G5 (with G3): the escalation is processed once (one notification per incident and contact
  method), and each page is delivered at least once and at most 1 + (number of replica faults)
  times, and a page delivered again always has a kill or stop of a replica to explain it: only
  a takeover after a killed or stalled claimer may send again;
- G7: every answer is a 202 or a 503/429 with a JSON body (PostgreSQL away);
- both replicas serve at the end.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402
import harness  # noqa: E402
import pg  # noqa: E402
from harness import wait_until  # noqa: E402

SEED = faults.fault_seed(__file__)
ROUNDS = faults.fault_rounds()
LEASE = 5

KEY_QUIET = "pgf-quiet-0123456789"
KEY_PAGE = "pgf-page-0123456789"
PATHS = {"/g/alice/fast": "alice-fast", "/g/alice/slow": "alice-slow"}


def pg_org(c):
    u = c.url
    return faults.paging_org(
        "replicas fault org (tests/e2e/fault_pg_test.py)",
        [faults.webhook("alice-fast", u("/g/alice/fast")),
         faults.webhook("alice-slow", u("/g/alice/slow"))],
        KEY_QUIET, KEY_PAGE)


class FaultPgTest(harness.HoustonTestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.pg = pg.PgServer().start()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()
        super().tearDownClass()

    def test_replicas_under_faults(self):
        self.add_log("PostgreSQL server log", self.pg.log_path)
        rng = random.Random(SEED)
        history = faults.History()
        nemesis = faults.Nemesis(history, rng)
        self.addCleanup(nemesis.resume_all)
        receivers = faults.FaultyReceivers().start()
        self.addCleanup(receivers.close)
        receivers.mode("/g/alice/slow", "slow", 0.4)
        dbname = f"faults_{os.getpid()}"
        url = self.pg.new_database(dbname)
        args = ["--allow-egress", "127.0.0.1/32", "--claim-lease", str(LEASE),
                "--max-pages-per-minute", "1000"]
        org = pg_org(receivers)
        a = self.new_server(org_text=org, db=url, name="A", extra_args=args)
        b = self.new_server(org_text=org, db=url, name="B", extra_args=args)
        servers = [a, b]
        quiet = faults.EventLoad(history, lambda: servers, KEY_QUIET, "q", SEED, threads=2,
                                 dup_keys=[f"dup-{i}" for i in range(6)], p_dup=0.3,
                                 retries=5)
        paged = faults.EventLoad(history, lambda: servers, KEY_PAGE, "p", SEED + 1, threads=1,
                                 dup_keys=["pdup-0"], p_dup=0.1, retries=5, pause=0.1)
        replica_faults = 0
        plan = ["kill", "stop-replica", "stop-pg", "restart-pg"] * ROUNDS
        rng.shuffle(plan)
        try:
            quiet.start()
            paged.start()
            wait_until(lambda: quiet.acked() >= 30, 20, "30 accepted events")
            for what in plan:
                time.sleep(rng.uniform(0.3, 0.8))
                victim = rng.choice(servers)
                if what == "kill":
                    # Mid-escalation: wait until the victim has a send in flight, if it gets one.
                    nemesis.kill_restart(victim, down=(0.0, 0.5))
                    replica_faults += 1
                elif what == "stop-replica":
                    nemesis.pause(victim.name, [victim.proc.pid], LEASE + rng.uniform(0.5, 1.5))
                    replica_faults += 1
                elif what == "stop-pg":
                    nemesis.pause("postgresql", faults.process_tree(
                        faults.postmaster_pid(self.pg)), rng.uniform(0.5, 1.5))
                else:
                    history.fault("PostgreSQL restart")
                    self.pg.restart()
            time.sleep(rng.uniform(0.3, 0.8))
        finally:
            nemesis.resume_all()
            paged.stop()
            quiet.stop()
        receivers.mode("/g/alice/slow", "ok")
        sys.stderr.write(f"history: {history.summary()}\n")
        sys.stderr.write("faults:\n  " + "\n  ".join(history.faults()) + "\n")

        db = faults.DbReader({KEY_QUIET: "quiet", KEY_PAGE: "paged"}, pg_server=self.pg,
                             pg_database=dbname)

        def busy():
            return [n for n in db.notifications() if n["state"] in ("pending", "sending")]
        try:
            wait_until(lambda: not busy(), 30, "every notification settled")
        except AssertionError as e:
            raise AssertionError(f"{e}: {busy()[:5]}") from None

        problems = faults.check_answers(history)
        for key, prefixes in ((KEY_QUIET, ("q-", "dup-")), (KEY_PAGE, ("p-", "pdup-"))):
            view = faults.History()
            for o in history.ops("event"):
                if o["key"].startswith(prefixes):
                    view.record("event", **{k: v for k, v in o.items() if k not in ("kind", "t")})
            alerts = db.alerts(key)
            problems += faults.check_events_stored(view, alerts)
            problems += faults.check_one_incident_per_key(alerts)
        incidents = db.incidents()
        paged_incs = {i for i, x in incidents.items() if x["service_id"] == "paged"}
        expected = {(i, cm) for i in paged_incs for cm in PATHS.values()}
        notifications = db.notifications()
        rows = {}
        for n in notifications:
            rows[(n["incident_id"], n["contact_method_id"])] = rows.get(
                (n["incident_id"], n["contact_method_id"]), 0) + 1
        if rows != {p: 1 for p in expected}:
            problems.append(f"G5: escalation not processed exactly once: "
                            f"{sorted(set(rows.items()) ^ {(p, 1) for p in expected})[:10]}")
        # (No minimum gap between the two deliveries of a repeated page: a replica stopped
        # between its fencing check and writing the request sends when it is resumed, which
        # may be just when the server that took over sends. Both carry the message id that
        # receivers deduplicate on; check_deliveries' min_gap is for runs without SIGSTOP.)
        deliveries = faults.webhook_deliveries(receivers, PATHS)
        problems += faults.check_deliveries(deliveries, expected, bound=1 + replica_faults)
        problems += faults.check_repeats_explained(
            deliveries, faults.fault_windows(history, ("A", "B")), slack=1.0)
        problems += faults.check_outbox_settled(notifications, allowed=("sent",))
        if problems:  # the story of every page delivered more than once
            times = {}
            for d in faults.webhook_deliveries(receivers, PATHS):
                for i in d.incidents:
                    times.setdefault((i, d.dest), []).append(
                        f"{d.message_id}@{d.at - history.t0:.2f}s")
            for pair, ts in sorted(times.items()):
                if len(ts) > 1:
                    rows = [(n["id"], n["state"], n["attempts"], n["last_error"])
                            for n in notifications
                            if (n["incident_id"], n["contact_method_id"]) == pair]
                    sys.stderr.write(f"page {pair}: delivered {ts}; outbox {rows}\n")
        self.assertEqual(problems, [], f"seed {SEED}; faults: {history.faults()}")
        for h in servers:
            self.assertTrue(h.alive(), f"{h.name} died")
            self.assertStatus(h.get("/readyz"), 200, h.name)


if __name__ == "__main__":
    harness.main()
