#!/usr/bin/python3
"""Fault injection: the wall clock of a running houston jumps forward and back (Debian's
libfaketime preloaded, its offset changed through a file; only CLOCK_REALTIME moves, as an NTP
step would). Receivers answer 500 for a while, or slowly. Invariants afterwards (from the
history, the database and the receivers):

- escalations are neither skipped nor fired twice: step 1 (alice, at once) is delivered exactly
  once per incident however the clock moves; step 2 (bob, after 5 minutes) is not fired by a
  jump backwards, fires exactly once per unacknowledged incident when the clock reaches it, and
  never for an incident acknowledged before (G3, G4);
- a page answered 500 is retried when its backoff (30 s) has passed on the clock and delivered
  once it succeeds, within houston's attempt limit (G3);
- a send in flight while the clock jumps past its claim lease is not sent a second time;
- every trigger answered 202 before, during and after the jumps is stored once (G1, G2), and the
  server keeps serving.

Escalation delays are minutes: the clock jumps are what make them pass here, so this test takes
seconds. After a jump houston's loops notice within their longest sleep (30 s); the test sends a
trigger to wake them at once, as any new event does.
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402
import harness  # noqa: E402
from harness import wait_until  # noqa: E402

SEED = faults.fault_seed(__file__)

KEY_TWO = "clock-two-0123456789"   # step 1 alice at once, step 2 bob after 5 minutes
KEY_FLAKY = "clock-flaky-0123456789"  # carol, whose receiver answers 500 for a while
KEY_WAKE = "clock-wake-0123456789"    # dave: a page that wakes the dispatcher
PATHS = {"/c/alice": "alice-hook", "/c/bob": "bob-hook", "/c/carol": "carol-hook",
         "/c/dave": "dave-hook"}


def clock_org(c):
    u = c.url
    return f"""# clock-jump fault org (tests/e2e/fault_clock_test.py)
users:
  - {{id: alice, contact_methods: [{{id: alice-hook, type: webhook, url: "{u('/c/alice')}"}}]}}
  - {{id: bob, contact_methods: [{{id: bob-hook, type: webhook, url: "{u('/c/bob')}"}}]}}
  - {{id: carol, contact_methods: [{{id: carol-hook, type: webhook, url: "{u('/c/carol')}"}}]}}
  - {{id: dave, contact_methods: [{{id: dave-hook, type: webhook, url: "{u('/c/dave')}"}}]}}
escalation_policies:
  - id: two-step
    steps:
      - {{delay_minutes: 0, targets: [{{user: alice}}]}}
      - {{delay_minutes: 5, targets: [{{user: bob}}]}}
  - {{id: carol-ep, steps: [{{delay_minutes: 0, targets: [{{user: carol}}]}}]}}
  - {{id: dave-ep, steps: [{{delay_minutes: 0, targets: [{{user: dave}}]}}]}}
services:
  - {{id: two, escalation_policy: two-step, integrations: [{{type: events_v2, key: "{KEY_TWO}"}}]}}
  - {{id: flaky, escalation_policy: carol-ep, integrations: [{{type: events_v2, key: "{KEY_FLAKY}"}}]}}
  - {{id: wake, escalation_policy: dave-ep, integrations: [{{type: events_v2, key: "{KEY_WAKE}"}}]}}
"""


class FaultClockTest(harness.HoustonTestCase):
    maxDiff = None

    def setUp(self):
        super().setUp()
        if not faults.FakeClock.available():
            self.fail(f"{faults.FAKETIME_LIB} is missing: run scripts/install-deps.sh "
                      "(package faketime)")
        self.rng = random.Random(SEED)
        self.history = faults.History()
        self.receivers = faults.FaultyReceivers().start()
        self.clock = faults.FakeClock(self.tmp)
        self.srv = self.new_server(org_text=clock_org(self.receivers), env=self.clock.env(),
                                   extra_args=["--allow-egress", "127.0.0.1/32",
                                               "--max-pages-per-minute", "1000"])
        self.token = self.srv.token()
        self.db = faults.DbReader({KEY_TWO: "two", KEY_FLAKY: "flaky", KEY_WAKE: "wake"},
                                  sqlite_path=self.srv.db)
        self.wakes = 0

    def tearDown(self):
        self.receivers.close()
        super().tearDown()

    def send(self, key, dedup):
        status, body, _ = faults.post_json(self.srv.port, "/v2/enqueue",
                                           faults.trigger(key, dedup))
        self.history.record("event", key=dedup, server=self.srv.name, status=status, body=body,
                            ctype="application/json", error=None, retry_after=None,
                            integration=key)
        self.assertEqual(status, 202, f"trigger {dedup}: {body}")

    def incident_of(self, dedup):
        alerts = wait_until(lambda: self.srv.alerts_by_dedup().get(dedup), 10, dedup)
        return alerts[0]["incident_id"]

    def jump(self, seconds):
        self.clock.jump(seconds, self.history)
        # Wake the engines (any new event does): a trigger that pages dave.
        self.wakes += 1
        self.send(KEY_WAKE, f"wake-{self.wakes}")

    def pages(self, path):
        """incident id -> number of deliveries to `path`."""
        out = {}
        for d in faults.webhook_deliveries(self.receivers, {path: path}):
            for i in d.incidents:
                out[i] = out.get(i, 0) + 1
        return out

    def settle(self):
        def busy():
            return [n for n in self.db.notifications() if n["state"] in ("pending", "sending")
                    and n["contact_method_id"] != "carol-hook"]
        try:
            wait_until(lambda: not busy(), 15, "every page but carol's sent")
        except AssertionError as e:
            raise AssertionError(f"{e}: {busy()}") from None

    def test_jumps_forward_and_back_neither_skip_nor_repeat_escalations(self):
        n = 4
        keys = [f"two-{i}" for i in range(n)]
        for k in keys:
            self.send(KEY_TWO, k)
        incs = [self.incident_of(k) for k in keys]
        wait_until(lambda: all(self.pages("/c/alice").get(i) for i in incs), 10,
                   "step 1 (alice) for every incident")

        # Back 10 minutes: nothing is due again; step 1 is not repeated, step 2 not fired.
        self.jump(-600 - self.rng.randint(0, 120))
        # New incidents while the clock is behind: paged at once as usual.
        late = [f"two-late-{i}" for i in range(2)]
        for k in late:
            self.send(KEY_TWO, k)
        incs += [self.incident_of(k) for k in late]
        wait_until(lambda: all(self.pages("/c/alice").get(i) for i in incs), 10,
                   "step 1 for the incidents opened while the clock was behind")
        wait_until(lambda: self.pages("/c/dave").get(self.incident_of("wake-1")), 10, "dave")
        self.assertEqual(self.pages("/c/bob"), {}, "step 2 fired by a jump backwards")

        # Acknowledge one before step 2 is due: bob must never be paged for it.
        acked = incs[1]
        r = self.srv.post(f"/api/v1/incidents/{acked}/acknowledge", token=self.token)
        self.assertStatus(r, 200)

        # Forward past step 2 of every incident (and past the first ones' once more):
        # exactly one page to bob per unacknowledged incident.
        self.jump(600 + 120 + 6 * 60 + self.rng.randint(0, 60))
        want_bob = [i for i in incs if i != acked]
        wait_until(lambda: all(self.pages("/c/bob").get(i) for i in want_bob), 20,
                   "step 2 (bob) for every unacknowledged incident")
        # A jump far ahead, then back again: nothing fires a second time.
        self.jump(3 * 3600)
        self.jump(-2 * 3600)
        self.settle()
        wait_until(lambda: self.pages("/c/dave").get(self.incident_of(f"wake-{self.wakes}")),
                   10, "the last wake-up page")
        self.assertEqual(self.pages("/c/alice"), {i: 1 for i in incs}, "step 1 deliveries")
        self.assertEqual(self.pages("/c/bob"), {i: 1 for i in want_bob}, "step 2 deliveries")
        self.check_history()

    def test_receiver_errors_are_retried_when_the_clock_reaches_the_backoff(self):
        self.receivers.mode("/c/carol", "error", 500)
        self.send(KEY_FLAKY, "flaky-1")
        inc = self.incident_of("flaky-1")
        wait_until(lambda: self.pages("/c/carol").get(inc), 10, "the first attempt to carol")
        wait_until(lambda: any(n["contact_method_id"] == "carol-hook" and n["state"] == "pending"
                               and n["attempts"] == 1 for n in self.db.notifications()),
                   10, "carol's page back to pending after the 500")
        # Backwards first: the retry is not due any sooner.
        self.jump(-300)
        self.assertEqual(self.pages("/c/carol"), {inc: 1})
        # Still failing when it is due (30 s after the first attempt on the clock).
        self.jump(300 + 35)
        wait_until(lambda: self.pages("/c/carol").get(inc) == 2, 20, "the second attempt")
        wait_until(lambda: any(n["contact_method_id"] == "carol-hook" and n["state"] == "pending"
                               and n["attempts"] == 2 for n in self.db.notifications()),
                   10, "carol's page back to pending after the second 500")
        self.receivers.mode("/c/carol", "ok")
        # Backoff doubles: 60 s.
        self.jump(65)
        wait_until(lambda: any(n["contact_method_id"] == "carol-hook" and n["state"] == "sent"
                               for n in self.db.notifications()), 20, "carol's page sent")
        self.assertEqual(self.pages("/c/carol"), {inc: 3})
        self.jump(3600)
        self.settle()
        self.assertEqual(self.pages("/c/carol"), {inc: 3}, "sent again after it succeeded")
        self.check_history()

    def test_clock_jump_past_the_claim_lease_during_a_send(self):
        """A slow receiver holds the send while the clock jumps past the claim lease (120 s):
        the page must not be taken back and sent a second time by the same server."""
        self.receivers.mode("/c/alice", "slow", 3.0)
        self.send(KEY_TWO, "lease-1")
        inc = self.incident_of("lease-1")
        wait_until(lambda: self.pages("/c/alice").get(inc), 10, "the page reaches alice")
        self.clock.jump(200, self.history)  # while alice's answer is still held
        self.send(KEY_WAKE, "wake-lease")  # wakes the dispatcher while the send is in flight
        wait_until(lambda: self.pages("/c/dave").get(self.incident_of("wake-lease")), 10,
                   "dave's page")
        wait_until(lambda: any(n["contact_method_id"] == "alice-hook" and n["state"] == "sent"
                               for n in self.db.notifications()), 15, "alice's page sent")
        self.settle()
        self.assertEqual(self.pages("/c/alice"), {inc: 1}, "a send in flight was sent twice")
        self.check_history()

    def check_history(self):
        problems = []
        for key in (KEY_TWO, KEY_FLAKY, KEY_WAKE):
            view = faults.History()
            for o in self.history.ops("event"):
                if o.get("integration") == key:
                    view.record("event", **{k: v for k, v in o.items() if k not in ("kind", "t")})
            alerts = self.db.alerts(key)
            problems += faults.check_events_stored(view, alerts)
            problems += faults.check_one_incident_per_key(alerts)
        problems += faults.check_answers(self.history)
        # (G4 is checked directly above: the claim and acknowledgement stamps come from a clock
        # that was moved, so check_no_page_after_ack's comparison does not apply here.)
        self.assertEqual(problems, [], f"seed {SEED}; faults: {self.history.faults()}")
        self.assertTrue(self.srv.alive())
        self.assertStatus(self.srv.get("/healthz"), 200)


if __name__ == "__main__":
    harness.main()
