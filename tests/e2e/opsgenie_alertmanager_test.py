#!/usr/bin/python3
"""End-to-end with Debian's Prometheus Alertmanager 0.25 and its *Opsgenie* notifier
(`opsgenie_configs`), unchanged except for `api_url`, which points at houston under a path
prefix (http://127.0.0.1:<port>/houston/og/ -> POST /houston/og/v2/alerts). An alert fires:
houston opens an alert under Alertmanager's alias (hex SHA-256 of the group key) and pages
Alice; Alertmanager's re-sends (repeat_interval) count the same alert up, and its
`update_alerts` calls (PUT .../message and .../description?identifierType=alias) are answered;
the alert resolves: Alertmanager closes it by alias and the incident resolves."""

import datetime
import json
import os
import re
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from alertmanager_test import Alertmanager, rfc3339  # noqa: E402
from harness import wait_until  # noqa: E402
from opsgenie_peers import OG_KEY, opsgenie_org  # noqa: E402
from paging_peers import WebhookCollector  # noqa: E402

ALERTNAME = "DiskFull"


class OpsgenieAlertmanager(Alertmanager):
    """Alertmanager whose one receiver is its Opsgenie notifier pointed at houston."""

    def __init__(self, workdir, houston_port):
        super().__init__(workdir, houston_port)
        with open(self.config, "w") as f:
            f.write(f"""global:
  resolve_timeout: 5m
route:
  receiver: houston
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: houston
    opsgenie_configs:
      - api_key: "{OG_KEY}"
        api_url: http://127.0.0.1:{houston_port}/houston/og/
        send_resolved: true
        update_alerts: true
        priority: P1
        tags: "disk,db"
        entity: db-cluster
        responders:
          - {{name: ops, type: team}}
        details:
          runbook: https://wiki.example.com/disk
""")


class OpsgenieAlertmanagerTest(harness.HoustonTestCase):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access("/usr/bin/prometheus-alertmanager", os.X_OK),
                        "prometheus-alertmanager is missing (scripts/install-deps.sh)")
        self.collector = WebhookCollector().start()
        self.addCleanup(self.collector.close)
        self.h = self.new_server(org_text=opsgenie_org(self.collector.url("/hook/alice")),
                                 extra_args=["--allow-egress", "127.0.0.1/32"])
        self.am = OpsgenieAlertmanager(self.tmp, self.h.port)
        self.add_log("Alertmanager log", self.am.log_path)
        self.addCleanup(self.am.stop)
        self.am.start()

    def post(self, ends_at):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.am.post_alerts([{
            "labels": {"alertname": ALERTNAME, "instance": "db1:9100", "severity": "critical"},
            "annotations": {"summary": "Disk full on db1"},
            "startsAt": rfc3339(now - datetime.timedelta(minutes=5)),
            "endsAt": rfc3339(ends_at)}])

    def og_alerts(self):
        return [a for a in self.h.all_alerts() if a["client"] == "Opsgenie API"]

    def test_fire_repeat_update_and_resolve(self):
        self.post(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))

        # Fired: one alert under Alertmanager's alias, paged through the service's policy.
        alert = wait_until(lambda: (lambda a: len(a) == 1 and a[0])(self.og_alerts()), 20,
                           "houston to hold the alert Alertmanager's opsgenie notifier created")
        self.assertRegex(alert["dedup_key"], r"^[0-9a-f]{64}$")
        self.assertEqual(alert["service"], "checkout")
        self.assertEqual(alert["status"], "triggered")
        self.assertEqual(alert["severity"], "critical")  # P1 -> critical (the org's mapping)
        self.assertEqual(alert["summary"], f"[FIRING:1] {ALERTNAME} (db1:9100 critical)")
        self.assertEqual(alert["component"], "db-cluster")  # entity
        d = alert["custom_details"]
        self.assertEqual(d["priority"], "P1")
        self.assertEqual(d["tags"], ["disk", "db"])
        self.assertEqual(d["entity"], "db-cluster")
        self.assertEqual(d["responders"], [{"name": "ops", "type": "team"}])
        self.assertEqual(d["details"]["runbook"], "https://wiki.example.com/disk")
        self.assertEqual(d["details"]["alertname"], ALERTNAME)
        self.assertTrue(d["source"].startswith("http://"), d)  # Alertmanager's URL
        self.assertIn("Disk full on db1", d["description"])
        page = self.collector.wait_for(
            lambda reqs: [r for r in reqs if r.path == "/hook/alice"], 20, "Alice to be paged")[0]
        self.assertEqual(page.json["incident"]["id"], alert["incident_id"])
        self.assertEqual(page.json["incident"]["service"], "checkout")

        # Repeats (repeat_interval 2 s) fold into the same alert; nothing else is opened.
        alert = wait_until(
            lambda: (lambda a: len(a) == 1 and a[0]["event_count"] >= 2 and a[0])(
                self.og_alerts()), 20, "a repeated create to count the alert up")
        self.assertEqual(len(self.h.api("/api/v1/incidents?limit=100")["incidents"]), 1)

        # Its update_alerts calls (PUT message/description by alias) were accepted too.
        # Houston's Opsgenie GET shows the alert as Opsgenie would.
        alias = alert["dedup_key"]
        req = urllib.request.Request(
            f"{self.h.url}/houston/og/v2/alerts/{alias}?identifierType=alias",
            headers={"Authorization": f"GenieKey {OG_KEY}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            got = json.loads(r.read())["data"]
        self.assertEqual(got["alias"], alias)
        self.assertEqual(got["status"], "open")
        self.assertEqual(got["priority"], "P1")
        self.assertGreaterEqual(got["count"], 2)
        self.assertEqual(got["id"], str(alert["id"]))

        # Resolved: Alertmanager closes it by alias; the incident resolves with it.
        self.post(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1))
        resolved = wait_until(lambda: (lambda a: a["status"] == "resolved" and a)(
            self.h.alert(alert["id"])), 20, "Alertmanager's close to resolve the alert")
        self.assertIsNotNone(resolved["resolved_at"])
        inc = self.h.incident(alert["incident_id"])
        self.assertEqual(inc["incident"]["status"], "resolved")
        self.assertEqual(len(self.og_alerts()), 1)
        timeline = self.h.api(f"/api/v1/incidents/{alert['incident_id']}/timeline")["timeline"]
        closes = [e for e in timeline if e["action"] == "incident.note"
                  and e["details"].get("action") == "Close"]
        self.assertEqual(len(closes), 1, timeline)
        self.assertTrue(closes[0]["details"]["source"].startswith("http://"))

        # Alertmanager saw every notification succeed, none retried or failed.
        log = self.am.log()
        ok = [ln for ln in log.splitlines()
              if "integration=opsgenie[0]" in ln and "Notify success" in ln]
        self.assertGreaterEqual(len(ok), 3, "create, a repeat and the close should have succeeded")
        for line in log.splitlines():
            self.assertNotRegex(line, r"level=error|Notify for alerts failed|notify retry|"
                                      r"unexpected status code", line)
        metrics = harness.parse_metrics(self.h.metrics())
        accepted = metrics.get('houston_events_total{integration="opsgenie",result="accepted"}', 0)
        # create + message + description for the first send and each repeat, then the close.
        self.assertGreaterEqual(accepted, 7)
        self.assertEqual(metrics.get('houston_events_total{integration="opsgenie",'
                                     'result="rejected"}', 0), 0)
        self.assertFalse(re.search(r"\[error\]", self.h.log()), self.h.log()[-3000:])


if __name__ == "__main__":
    harness.main()
