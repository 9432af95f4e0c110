#!/usr/bin/python3
"""Fault injection: the disk under the SQLite database fills up (a small tmpfs, mounted by the
test; needs root, as in CI) while clients send triggers and incidents page a webhook receiver.
Invariants from the recorded history:

- while the disk is full, intake answers 503 with a JSON body (never 202 for an event it could
  not store, never another status) and the server stays up (/healthz 200);
- once there is room again, intake accepts events again by itself;
- after a kill -9 and restart, every event answered 202 is stored once (G1, G2);
- every page of an incident is delivered at least once, and at most once per kill (G3), and no
  notification is left half-done.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402
import harness  # noqa: E402
from harness import wait_until  # noqa: E402

SEED = faults.fault_seed(__file__)
ROUNDS = faults.fault_rounds()

KEY_QUIET = "disk-quiet-0123456789"
KEY_PAGE = "disk-page-0123456789"
PATHS = {"/d/alice": "alice-hook"}


def disk_org(c):
    return faults.paging_org(
        "full-disk fault org (tests/e2e/fault_disk_test.py)",
        [faults.webhook("alice-hook", c.url("/d/alice"))], KEY_QUIET, KEY_PAGE)


class FaultDiskTest(harness.HoustonTestCase):
    maxDiff = None

    def test_full_disk_under_load(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        try:
            disk = faults.FullDisk("16m")
        except OSError as e:
            self.skipTest(str(e))
        try:
            self._run(disk)
        finally:
            for srv in self._servers:
                srv.close()
            disk.close()

    def _run(self, disk):
        rng = random.Random(SEED)
        history = faults.History()
        nemesis = faults.Nemesis(history, rng)
        receivers = faults.FaultyReceivers().start()
        self.addCleanup(receivers.close)
        srv = self.new_server(org_text=disk_org(receivers), db=disk.path("h.db"), extra_args=[
            "--allow-egress", "127.0.0.1/32", "--max-pages-per-minute", "1000"])
        quiet = faults.EventLoad(history, lambda: [srv], KEY_QUIET, "q", SEED, threads=3,
                                 dup_keys=[f"dup-{i}" for i in range(6)], p_dup=0.3, retries=2)
        paged = faults.EventLoad(history, lambda: [srv], KEY_PAGE, "p", SEED + 1, threads=1,
                                 retries=2, pause=0.05)
        full_503 = 0
        try:
            quiet.start()
            paged.start()
            wait_until(lambda: quiet.acked() >= 30, 20, "30 accepted events")
            for rnd in range(3 * ROUNDS):
                time.sleep(rng.uniform(0.2, 0.6))
                history.fault("disk full")
                disk.fill(leave=rng.choice([0, 4096, 65536]))
                before = len(history.ops("event"))
                wait_until(lambda: sum(1 for o in history.ops("event")[before:]
                                       if o["status"] == 503) >= 5, 20,
                           "503 answers while the disk is full")
                time.sleep(rng.uniform(0.3, 0.8))
                r = srv.get("/healthz")
                self.assertStatus(r, 200, "/healthz while the disk is full")
                self.assertTrue(srv.alive(), "houston died on a full disk")
                full_503 += sum(1 for o in history.ops("event")[before:] if o["status"] == 503)
                history.fault("disk has room again")
                disk.free()
                mark = len(history.ops("event"))
                wait_until(lambda: sum(1 for o in history.ops("event")[mark:]
                                       if o["status"] == 202) >= 20, 20,
                           "intake accepting events again once the disk has room")
                if rnd % 2 == 1:
                    nemesis.kill_restart(srv)
        finally:
            disk.free()
            paged.stop()
            quiet.stop()
        sys.stderr.write(f"history: {history.summary()}\n")
        self.assertGreater(full_503, 0)

        db = faults.DbReader({KEY_QUIET: "quiet", KEY_PAGE: "paged"}, sqlite_path=srv.db)

        def busy():
            return [n for n in db.notifications() if n["state"] in ("pending", "sending")]
        try:
            wait_until(lambda: not busy(), 30, "every notification settled")
        except AssertionError as e:
            raise AssertionError(f"{e}: {busy()[:5]}") from None
        problems = faults.check_answers(history, overload=(503,))
        for key, prefixes in ((KEY_QUIET, ("q-", "dup-")), (KEY_PAGE, ("p-",))):
            view = faults.History()
            for o in history.ops("event"):
                if o["key"].startswith(prefixes):
                    view.record("event", **{k: v for k, v in o.items() if k not in ("kind", "t")})
            alerts = db.alerts(key)
            problems += faults.check_events_stored(view, alerts)
            problems += faults.check_one_incident_per_key(alerts)
        incidents = db.incidents()
        paged_incs = {i for i, x in incidents.items() if x["service_id"] == "paged"}
        kills = sum(1 for o in history.ops("fault") if o["what"] == "kill -9")
        problems += faults.check_deliveries(faults.webhook_deliveries(receivers, PATHS),
                                            {(i, "alice-hook") for i in paged_incs},
                                            bound=1 + kills)
        problems += faults.check_outbox_settled(db.notifications(), allowed=("sent",))
        self.assertEqual(problems, [], f"seed {SEED}; faults: {history.faults()}")
        self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    harness.main()
