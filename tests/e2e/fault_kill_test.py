#!/usr/bin/python3
"""Fault injection on one houston with SQLite (tests/e2e/faults.py): kill -9 and restart at
random moments, SIGSTOP/SIGCONT of houston and of the SMTP server, a slow receiver and one that
never answers, while client threads send triggers (fresh keys, a pool of duplicated keys,
retries of unanswered requests) and a responder acknowledges random incidents. Afterwards,
from the recorded history,
the database and what the receivers saw:

- G1: every trigger answered 202 is stored, counted at least once per 202;
- G2: no key has a second alert or incident, however often it was sent or retried;
- G3: each page of each incident nobody acknowledged reached each contact method at least once
  and at most 1 + (number of kill -9) times, also when a receiver never answered (the outcome
  is then unknown, and the page is not sent again);
- G4: no page was delivered that was claimed after its incident was acknowledged;
- G7: every answer is a 202, or a 429/503 with a JSON body; the rate-limited key is answered 429
  with Retry-After under a burst and loses nothing it accepted.

Seeded: the seed is printed; HOUSTON_FAULT_SEED=<seed> replays the same faults at the same
points of the run (timing still varies). HOUSTON_FAULT_ROUNDS=<n> runs n times more faults.
"""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from paging_peers import SmtpSink  # noqa: E402

SEED = faults.fault_seed(__file__)
ROUNDS = faults.fault_rounds()

KEY_QUIET = "fault-quiet-0123456789"  # pages nobody: intake load only
KEY_PAGE = "fault-page-0123456789"    # pages alice: two webhooks and an email
KEY_LIMITED = "fault-limit-0123456789"  # 5 events/s
ALICE_MAIL = "alice@example.com"
PATHS = {"/w/alice/fast": "alice-fast", "/w/alice/slow": "alice-slow"}


def fault_org(c):
    u = c.url
    return faults.paging_org(
        "fault injection org (tests/e2e/fault_kill_test.py)",
        [faults.webhook("alice-fast", u("/w/alice/fast")),
         faults.webhook("alice-slow", u("/w/alice/slow")),
         f"{{id: alice-mail, type: email, address: {ALICE_MAIL}}}"],
        KEY_QUIET, KEY_PAGE, extra_services=f"""  - id: limited
    escalation_policy: quiet-ep
    integrations: [{{type: events_v2, key: "{KEY_LIMITED}", rate_limit_per_second: 5}}]
""")


class Acker:
    """Acknowledges a random triggered incident of the paged service every ~0.2 s, as a
    responder would, recording each answer in the history (kind "ack")."""

    def __init__(self, history, srv, token, rng):
        self.history, self.srv, self.token, self.rng = history, srv, token, rng
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)

    def _run(self):
        while not self.stop_event.wait(self.rng.uniform(0.1, 0.3)):
            if not self.srv.alive():
                continue
            try:
                r = self.srv.get("/api/v1/incidents?status=triggered&limit=50", token=self.token,
                                 timeout=5)
                incs = [i["id"] for i in (r.json or {}).get("incidents", [])
                        if i.get("service") == "paged"]
                if not incs:
                    continue
                inc = self.rng.choice(incs)
                r = self.srv.post(f"/api/v1/incidents/{inc}/acknowledge", token=self.token,
                                  timeout=5)
                self.history.record("ack", incident=inc, status=r.status)
            except OSError as e:
                self.history.record("ack", incident=None, status=None, error=type(e).__name__)


class FaultKillTest(harness.HoustonTestCase):
    maxDiff = None

    def test_kill_pause_and_slow_receivers_under_load(self):
        rng = random.Random(SEED)
        history = faults.History()
        nemesis = faults.Nemesis(history, rng)
        receivers = faults.FaultyReceivers().start()
        sink = SmtpSink(self.tmp).start()
        self.add_log("aiosmtpd", sink.log_path)
        srv = self.new_server(org_text=fault_org(receivers), extra_args=[
            "--allow-egress", "127.0.0.1/32", "--max-pages-per-minute", "1000",
            "--smtp-url", sink.url, "--smtp-from", "houston@example.com"])
        token = srv.token()
        quiet = faults.EventLoad(history, lambda: [srv], KEY_QUIET, "q", SEED, threads=3,
                                 dup_keys=[f"dup-{i}" for i in range(8)], p_dup=0.3)
        paged = faults.EventLoad(history, lambda: [srv], KEY_PAGE, "p", SEED + 1, threads=1,
                                 dup_keys=["pdup-0", "pdup-1"], p_dup=0.2, pause=0.08)
        acker = Acker(history, srv, token, random.Random(SEED + 2))
        kills = 0
        try:
            quiet.start()
            paged.start()
            acker.start()
            wait_until(lambda: quiet.acked() >= 50, 20, "50 accepted events before the faults")
            for _ in range(4 * ROUNDS):
                time.sleep(rng.uniform(0.3, 1.0))
                what = rng.choice(["kill", "kill", "pause", "smtp", "slow", "never"])
                if what == "kill":
                    nemesis.kill_restart(srv)
                    kills += 1
                elif what == "pause":
                    nemesis.pause("houston", [srv.proc.pid], rng.uniform(0.3, 1.2))
                elif what == "smtp":
                    nemesis.pause("aiosmtpd", [sink.proc.pid], rng.uniform(0.3, 1.5))
                elif what == "never":
                    # Requests to it now hang until houston's send timeout (10 s): the outcome
                    # is unknown and never resent, though the receiver got the page.
                    receivers.mode("/w/alice/slow", "never")
                    history.fault("receiver never answers", path="/w/alice/slow")
                    time.sleep(rng.uniform(0.2, 0.5))
                    receivers.mode("/w/alice/slow", "ok")
                    history.fault("receiver answers again", path="/w/alice/slow")
                else:
                    delay = rng.uniform(0.2, 1.0)
                    receivers.mode("/w/alice/slow", "slow", delay)
                    history.fault("slow receiver", path="/w/alice/slow", seconds=round(delay, 2))
            if kills == 0:  # every seed kills at least once
                nemesis.kill_restart(srv)
                kills += 1
            time.sleep(rng.uniform(0.2, 0.6))
        finally:
            nemesis.resume_all()
            acker.stop()
            paged.stop()
            quiet.stop()
        receivers.mode("/w/alice/slow", "ok")

        # G7 under a burst on the rate-limited key (5/s): 429s with JSON and Retry-After; the
        # accepted ones are all stored.
        burst = faults.EventLoad(history, lambda: [srv], KEY_LIMITED, "lim", SEED + 3,
                                 threads=4, retries=0).start()
        time.sleep(0.6)
        burst.stop()
        limited = [o for o in history.ops("event") if o["key"].startswith("lim-")]
        self.assertGreater(sum(1 for o in limited if o["status"] == 429), 0,
                           "a burst on a 5/s key was never answered 429")

        sys.stderr.write(f"history: {history.summary()}, {kills} kill -9\n")
        sys.stderr.write("faults:\n  " + "\n  ".join(history.faults()) + "\n")
        db = faults.DbReader({KEY_QUIET: "quiet", KEY_PAGE: "paged", KEY_LIMITED: "limited"},
                             sqlite_path=srv.db)

        def settled():
            return not any(n["state"] in ("pending", "sending") for n in db.notifications())
        wait_until(settled, 30, "every notification sent, cancelled or unknown")
        # The mail of the last batch may be written to the Maildir a moment after it was sent.
        time.sleep(0.3)

        problems = []
        problems += faults.check_answers(history)
        for key in (KEY_QUIET, KEY_PAGE, KEY_LIMITED):
            alerts = db.alerts(key)
            problems += faults.check_events_stored(
                _only(history, key), alerts)
            problems += faults.check_one_incident_per_key(alerts)
        incidents = db.incidents()
        notifications = db.notifications()
        paged_incidents = {i for i, x in incidents.items() if x["service_id"] == "paged"}
        untouched = {i for i in paged_incidents if incidents[i]["status"] == "triggered"}
        stopped = paged_incidents - untouched
        expected = {(i, cm) for i in untouched for cm in ("alice-fast", "alice-slow",
                                                          "alice-mail")}
        deliveries = (faults.webhook_deliveries(receivers, PATHS)
                      + faults.mail_deliveries(sink, {ALICE_MAIL: "alice-mail"}, notifications))
        problems += faults.check_deliveries(deliveries, expected, bound=1 + kills,
                                            unexpected_ok=stopped)
        problems += faults.check_no_page_after_ack(deliveries, notifications, incidents)
        problems += faults.check_outbox_settled(notifications)
        acks = history.ops("ack")
        sys.stderr.write(f"paged incidents: {len(paged_incidents)} ({len(stopped)} acknowledged "
                         f"by {sum(1 for a in acks if a['status'] == 200)} acks); "
                         f"deliveries: {len(deliveries)}\n")
        if problems:
            history.dump(os.path.join(self.tmp, "history.jsonl"))
        self.assertEqual(problems, [], f"seed {SEED}")
        self.assertGreater(len(untouched), 0, "no incident stayed unacknowledged: G3 untested")
        self.assertGreater(len(stopped), 0, "no incident was acknowledged: G4 untested")
        self.assertTrue(srv.alive())
        self.assertEqual(srv.stop(), 0)
        receivers.close()
        sink.close()


def _only(history, key):
    """A view of the history with the event operations for integration `key` only."""
    prefix = {KEY_QUIET: ("q-", "dup-"), KEY_PAGE: ("p-", "pdup-"), KEY_LIMITED: ("lim-",)}[key]
    view = faults.History()
    for o in history.ops("event"):
        if o["key"].startswith(prefix):
            view.record("event", **{k: v for k, v in o.items() if k not in ("kind", "t")})
    return view


if __name__ == "__main__":
    harness.main()
