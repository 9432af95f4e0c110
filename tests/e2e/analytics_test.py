#!/usr/bin/python3
"""End-to-end: analytics, the weekly report and the responder record on the real binary.

A houston with the harness's org (alice in team ops owns checkout and payments) gets a few
incidents declared, acknowledged and resolved through the `houston incident` CLI; then:

- GET /api/v1/analytics/incidents (viewer token) counts them per severity and gives response
  times; bad queries are 400s naming the field;
- `houston analytics incidents --format csv`, `houston analytics oncall-load`, `houston
  analytics noise --format json` and `houston report weekly` (text, json and csv) print them;
- `houston record alice` prints her record as Markdown (commander of the SEV1s).
"""

import csv
import io
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DECLARED_RE = re.compile(r"^incident (\d+) is triggered", re.M)


class AnalyticsTest(harness.HoustonTestCase):
    SHARED_SERVER = True

    def declare(self, sev, service, title, commander=None):
        args = ["incident", "declare", "--sev", sev, "--service", service, "--title", title]
        if commander:
            args += ["--commander", commander]
        p = self.h.client_cli(*args, role="responder", check=True)
        m = DECLARED_RE.search(p.stdout)
        self.assertIsNotNone(m, p.stdout)
        return int(m.group(1))

    def test_analytics_report_and_record(self):
        h = self.h
        sev1 = [self.declare("1", "checkout", f"checkout down {i}", commander="alice")
                for i in range(2)]
        sev2 = self.declare("2", "payments", "payments slow")
        for i in sev1 + [sev2]:
            h.client_cli("incident", "ack", str(i), role="responder", check=True)
        for i in sev1:
            h.client_cli("incident", "resolve", str(i), role="responder", check=True)

        # The API, with a viewer token.
        a = h.api("/api/v1/analytics/incidents?group_by=severity", role="viewer")
        self.assertEqual(len(a["buckets"]), 1)
        groups = {g["group"]: g for g in a["buckets"][0]["groups"]}
        self.assertEqual(groups["SEV1"]["count"], 2)
        self.assertEqual(groups["SEV2"]["count"], 1)
        self.assertEqual(groups["SEV1"]["tta"]["n"], 2)
        self.assertEqual(groups["SEV1"]["ttr"]["n"], 2)
        self.assertEqual(groups["SEV2"]["ttr"]["n"], 0)  # still open
        self.assertIsNone(groups["SEV2"]["ttr"]["p50"])
        team = h.api("/api/v1/analytics/incidents?group_by=team&interval=day&tz=Europe/Berlin",
                     role="viewer")
        self.assertEqual(sum(g["count"] for b in team["buckets"] for g in b["groups"]
                             if g["group"] == "ops"), 3)

        r = h.get("/api/v1/analytics/incidents?group_by=region&from=2026-13-01",
                  token=h.token("viewer"))
        self.assertEqual(r.status, 400, r)
        self.assertIn("'group_by'", r.text)
        self.assertIn("'from'", r.text)
        r = h.get("/api/v1/users/nobody/record", token=h.token("viewer"))
        self.assertEqual(r.status, 400, r)
        self.assertIn("unknown user 'nobody'", r.text)

        # The CLI.
        p = h.client_cli("analytics", "incidents", "--group-by", "severity", "--format", "csv",
                         role="viewer", check=True)
        rows = list(csv.reader(io.StringIO(p.stdout)))
        self.assertEqual(rows[0][:3], ["BUCKET", "SEV", "COUNT"])
        self.assertEqual({r[1]: r[2] for r in rows[1:]}, {"SEV1": "2", "SEV2": "1"})
        p = h.client_cli("analytics", "oncall-load", "--team", "ops", role="viewer", check=True)
        self.assertIn("alice", p.stdout)
        self.assertIn("Pages per person", p.stdout)
        p = h.client_cli("analytics", "noise", "--format", "json", role="viewer", check=True)
        self.assertIn("alerts_per_incident", json.loads(p.stdout))

        # The week that contains today: incidents by severity, the slowest responses.
        today = a["to"][:10]
        p = h.client_cli("report", "weekly", "--week", today, "--format", "json", role="viewer",
                         check=True)
        w = json.loads(p.stdout)
        self.assertEqual({s["sev"]: s["count"] for s in w["incidents_by_severity"]},
                         {"SEV1": 2, "SEV2": 1})
        self.assertEqual(len(w["slowest_resolve"]), 2)
        p = h.client_cli("report", "weekly", "--week", today, "--team", "ops", role="viewer",
                         check=True)
        self.assertIn("Incidents by severity", p.stdout)
        self.assertIn("Slowest to acknowledge", p.stdout)
        p = h.client_cli("report", "weekly", "--week", today, "--format", "csv", role="viewer",
                         check=True)
        self.assertTrue(p.stdout.startswith("section,item,value\n"), p.stdout)
        p = h.client_cli("report", "weekly", "--team", "nobody", role="viewer")
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("unknown team 'nobody'", p.stderr)

        p = h.client_cli("record", "alice", role="viewer", check=True)
        self.assertIn("# Responder record: alice", p.stdout)
        self.assertIn("- Incidents handled: 2", p.stdout)
        self.assertIn("  - commander: 2", p.stdout)
        for cmd in (["analytics", "incidents"], ["report", "weekly"], ["record"]):
            p = h.cli(*cmd, "--help")
            self.assertEqual(p.returncode, 0, p)
            self.assertIn("--format" if cmd[0] != "record" else "--from", p.stdout)


if __name__ == "__main__":
    unittest.main()
