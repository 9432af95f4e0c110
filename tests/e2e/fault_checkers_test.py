#!/usr/bin/python3
"""The fault harness's checkers (tests/e2e/faults.py) report the violations they exist for:
each is fed a small made-up history with one broken invariant, and a clean one. Runs in well
under a second, no server."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402


def history(*events):
    h = faults.History()
    for key, status, body in events:
        ok = {"status": "success", "message": "Event processed", "dedup_key": key}
        h.record("event", key=key, server="A", status=status,
                 body=ok if body == "ok" else body,
                 ctype=("application/json" if isinstance(body, dict) or body == "ok"
                        else "text/html"),
                 error=None if status else "ConnectionResetError",
                 retry_after="1" if status == 429 else None)
    return h


class CheckersTest(unittest.TestCase):

    def test_g1_lost_event_and_g2_duplicate_alert(self):
        h = history(("a", 202, "ok"), ("b", 202, "ok"), ("b", None, None), ("c", None, None))
        self.assertEqual(faults.check_events_stored(h, {"a": [(1, 1, 1, "triggered")],
                                                        "b": [(2, 2, 2, "triggered")]}), [])
        lost = faults.check_events_stored(h, {"b": [(2, 2, 1, "triggered")]})
        self.assertTrue(any(p.startswith("G1: 1 of 2 keys") for p in lost), lost)
        dup = faults.check_events_stored(h, {"a": [(1, 1, 1, "triggered"), (3, 3, 1, "x")],
                                             "b": [(2, 2, 1, "triggered")]})
        self.assertTrue(any(p.startswith("G2: key a has 2 alerts") for p in dup), dup)
        # Counted more often than sent; stored but never sent.
        extra = faults.check_events_stored(h, {"a": [(1, 1, 2, "t")], "b": [(2, 2, 1, "t")],
                                               "zzz": [(9, 9, 1, "t")]})
        self.assertIn("G2: key a: event_count 2 > 1 requests sent", extra)
        self.assertIn("G1: alert zzz stored but never sent", extra)
        self.assertEqual(faults.check_one_incident_per_key({"a": [(1, 7, 1, "r"), (2, 8, 1, "t")]}),
                         ["G2: key a opened incidents [7, 8]"])

    def test_g7_answers(self):
        good = history(("a", 202, "ok"), ("b", 503, {"status": "unavailable", "message": "x"}),
                       ("c", 429, {"status": "throttled", "message": "slow down"}))
        self.assertEqual(faults.check_answers(good), [])
        bad = history(("a", 500, {"message": "boom"}), ("b", 503, "<html>"),
                      ("c", 202, {"status": "success", "dedup_key": "other"}))
        self.assertEqual(len(faults.check_answers(bad)), 3, faults.check_answers(bad))

    def test_g3_bounds(self):
        d = [faults.Delivery("hook", "ntf-1", [1], 0, 0.0),
             faults.Delivery("hook", "ntf-2", [1, 2], 0, 0.0)]
        self.assertEqual(faults.check_deliveries(d, {(1, "hook"), (2, "hook")}, bound=2), [])
        over = faults.check_deliveries(d, {(1, "hook"), (2, "hook")}, bound=1)
        self.assertTrue(over and "more than 1 times" in over[0], over)
        missing = faults.check_deliveries(d, {(1, "hook"), (2, "hook"), (3, "hook")}, bound=2)
        self.assertTrue(missing and "never delivered" in missing[0], missing)
        extra = faults.check_deliveries(d, {(1, "hook")}, bound=2)
        self.assertTrue(extra and "nobody expected" in extra[0], extra)
        self.assertEqual(faults.check_deliveries(d, {(1, "hook")}, bound=2, unexpected_ok={2}), [])
        # G5: two deliveries of page (1, hook) 0.2 s apart: two servers sent it at once.
        d2 = [faults.Delivery("hook", "ntf-1", [1], 0, 10.0),
              faults.Delivery("hook", "ntf-1", [1], 0, 10.2)]
        close = faults.check_deliveries(d2, {(1, "hook")}, bound=2, min_gap=2.5)
        self.assertTrue(close and close[0].startswith("G5: 1 pages delivered twice"), close)
        d2[1].at = 14.0  # a takeover after the lease
        self.assertEqual(faults.check_deliveries(d2, {(1, "hook")}, bound=2, min_gap=2.5), [])

    def test_g5_repeats_need_a_server_fault(self):
        h = faults.History()
        stop = h.fault("SIGSTOP", target="A", pids=[1], seconds=6)
        cont = h.fault("SIGCONT", target="A")
        h.fault("SIGSTOP", target="postgresql", pids=[2], seconds=1)
        windows = faults.fault_windows(h, ("A", "B"))
        self.assertEqual(windows, [(stop["t"], cont["t"])])
        t = stop["t"]
        taken_over = [faults.Delivery("hook", "ntf-1", [1], 0, t - 0.1),
                      faults.Delivery("hook", "ntf-1", [1], 0, t + 5.0)]
        self.assertEqual(faults.check_repeats_explained(taken_over, windows, slack=1.0), [])
        twice = [faults.Delivery("hook", "ntf-1", [1], 0, t + 100.0),
                 faults.Delivery("hook", "ntf-1", [1], 0, t + 100.2)]
        self.assertEqual(len(faults.check_repeats_explained(twice, windows, slack=1.0)), 1)

    def test_g4_page_claimed_after_ack(self):
        notes = [{"id": 5, "incident_id": 1, "kind": "page", "batch_id": 5, "attempted_at": 1000}]
        d = [faults.Delivery("hook", "ntf-5", [1], 0, 0.0)]
        acked_later = {1: {"acknowledged_at": 1000, "resolved_at": None}}
        self.assertEqual(faults.check_no_page_after_ack(d, notes, acked_later), [])
        acked_before = {1: {"acknowledged_at": 999, "resolved_at": None}}
        self.assertEqual(len(faults.check_no_page_after_ack(d, notes, acked_before)), 1)
        resolved_before = {1: {"acknowledged_at": None, "resolved_at": 10}}
        self.assertEqual(len(faults.check_no_page_after_ack(d, notes, resolved_before)), 1)

    def test_seed_is_printed_and_replayed(self):
        os.environ[faults.SEED_ENV] = "1234"
        try:
            self.assertEqual(faults.fault_seed("fault_x_test.py"), 1234)
        finally:
            del os.environ[faults.SEED_ENV]


if __name__ == "__main__":
    unittest.main(verbosity=2)
