#!/usr/bin/python3
"""End-to-end with the real Prometheus Alertmanager (Debian's 0.25): one receiver that sends to
houston both through its PagerDuty notifier (Events API v2 on /v2/enqueue) and through its
webhook (payload v4 on /integrations/alertmanager/am-checkout). Two alerts of one alertname
fire (amtool), then resolve (endsAt in the past, via /api/v2/alerts).

Resolved at the source: a critical alert on a tier-1 service that an incident rule made a SEV2
resolves its incident when Alertmanager sends the resolve and nobody took it over (the webhook
and the status page say so); one that a person acknowledged stays open and its timeline says
why."""

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AM_KEY, EVENTS_KEY, wait_until  # noqa: E402
from paging_peers import WebhookCollector  # noqa: E402

ALERTMANAGER = os.environ.get("ALERTMANAGER_BIN", "/usr/bin/prometheus-alertmanager")
AMTOOL = os.environ.get("AMTOOL_BIN", "/usr/bin/amtool")
ALERTNAME = "DiskFull"


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Alertmanager(harness.ReadyPeer):
    name = "Alertmanager"

    def __init__(self, workdir, houston_port):
        super().__init__()
        self.workdir = workdir
        self.config = os.path.join(workdir, "alertmanager.yml")
        self.log_path = os.path.join(workdir, "alertmanager.log")
        with open(self.config, "w") as f:
            f.write(f"""global:
  resolve_timeout: 5m
route:
  receiver: houston
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: houston
    pagerduty_configs:
      - routing_key: {EVENTS_KEY}
        url: http://127.0.0.1:{houston_port}/v2/enqueue
        send_resolved: true
    webhook_configs:
      - url: http://127.0.0.1:{houston_port}/integrations/alertmanager/{AM_KEY}
        send_resolved: true
""")
    def argv(self, port):
        return [ALERTMANAGER, f"--config.file={self.config}",
                f"--storage.path={os.path.join(self.workdir, 'am-data')}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                "--log.level=debug"]

    def post_alerts(self, alerts):
        req = urllib.request.Request(f"{self.url}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            if r.status != 200:
                raise AssertionError(f"Alertmanager answered {r.status}")

    def amtool(self, *args):
        p = subprocess.run([AMTOOL, f"--alertmanager.url={self.url}", *args],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"amtool {' '.join(args)} failed: {p.stdout}{p.stderr}")
        return p.stdout


def rules_org(collector):
    """The test org with checkout at tier 1, a rule that makes a critical alert there a SEV2, an
    incident webhook to `collector` and a status page component for checkout."""
    return harness.test_org_yaml().replace(
        "    name: Checkout API\n", "    name: Checkout API\n    tier: 1\n", 1) + f"""
incident_rules:
  - {{id: tier1-critical, max_service_tier: 1, alert_severity: critical, severity: SEV2}}
webhooks:
  - {{id: chatops, url: "{collector.url('/incident-events')}"}}
status_page:
  title: Test Status
  components:
    - {{id: checkout, name: Checkout, services: [checkout]}}
"""


class AlertmanagerTest(harness.HoustonTestCase):

    def setUp(self):
        super().setUp()
        for binary in (ALERTMANAGER, AMTOOL):
            self.assertTrue(os.access(binary, os.X_OK),
                            f"{binary} is missing: install prometheus-alertmanager "
                            "(scripts/install-deps.sh does)")
        self.collector = WebhookCollector().start()
        self.addCleanup(self.collector.close)
        self.h = self.new_server(org_text=rules_org(self.collector),
                                 extra_args=["--allow-egress", "127.0.0.1/32"])
        self.am = Alertmanager(self.tmp, self.h.port)
        self.add_log("Alertmanager log", self.am.log_path)
        self.addCleanup(self.am.stop)
        self.am.start()

    def webhook_incident(self):
        """The incident opened through the webhook integration, with its alerts, or None."""
        incidents = self.h.api("/api/v1/incidents?limit=1000")["incidents"]
        mine = [i for i in incidents if ALERTNAME in i["group_key"]]
        if len(mine) != 1:
            return None
        return self.h.incident(mine[0]["id"])

    def pd_alerts(self):
        return [a for a in self.h.all_alerts()
                if re.fullmatch(r"[0-9a-f]{64}", a["dedup_key"])]

    def test_pagerduty_notifier_and_webhook(self):
        # Fire two alerts of one alertname with amtool.
        for instance in ("db1:9100", "db2:9100"):
            self.am.amtool("alert", "add", f"alertname={ALERTNAME}", f"instance={instance}",
                           "severity=critical", "job=node",
                           f"--annotation=summary=Disk full on {instance}",
                           "--generator-url=http://prometheus.example:9090/graph")
        out = self.am.amtool("alert", "query", f"alertname={ALERTNAME}")
        self.assertEqual(out.count(ALERTNAME), 2, out)

        def fired():
            inc = self.webhook_incident()
            pd = self.pd_alerts()
            if inc is None or len(inc["alerts"]) != 2 or len(pd) != 1:
                return None
            return inc, pd[0]

        inc, pd = wait_until(fired, 30, "houston to hold the webhook incident with 2 alerts "
                                        "and the PagerDuty-notifier alert")
        # Webhook: one incident for the group, one alert per fingerprint.
        incident = inc["incident"]
        self.assertEqual(incident["service"], "checkout")
        self.assertEqual(incident["status"], "triggered")
        self.assertEqual(incident["alert_count"], 2)
        self.assertIn(f'alertname="{ALERTNAME}"', incident["group_key"])
        by_source = {a["source"]: a for a in inc["alerts"]}
        self.assertEqual(set(by_source), {"db1:9100", "db2:9100"})
        for instance, a in by_source.items():
            self.assertEqual(a["summary"], f"Disk full on {instance}")
            self.assertEqual(a["severity"], "critical")
            self.assertEqual(a["status"], "triggered")
            self.assertEqual(a["client"], "Alertmanager")
            self.assertRegex(a["dedup_key"], r"^[0-9a-f]{16}$")  # the fingerprint
            self.assertEqual(a["custom_details"]["labels"]["instance"], instance)
        # PagerDuty notifier: dedup key = hex SHA-256 of the group key.
        self.assertEqual(pd["dedup_key"],
                         hashlib.sha256(incident["group_key"].encode()).hexdigest())
        self.assertEqual(pd["service"], "checkout")
        self.assertEqual(pd["status"], "triggered")
        self.assertIn(ALERTNAME, pd["summary"])
        self.assertNotEqual(pd["incident_id"], incident["id"])
        # Neither integration opened more than that.
        self.assertEqual(len(self.h.all_alerts()), 3)
        self.assertEqual(len(self.h.api("/api/v1/incidents?limit=1000")["incidents"]), 2)

        # Resolve both: post them again with endsAt in the past.
        now = datetime.datetime.now(datetime.timezone.utc)
        self.am.post_alerts([
            {"labels": {"alertname": ALERTNAME, "instance": instance, "severity": "critical",
                        "job": "node"},
             "annotations": {"summary": f"Disk full on {instance}"},
             "generatorURL": "http://prometheus.example:9090/graph",
             "startsAt": rfc3339(now - datetime.timedelta(minutes=5)),
             "endsAt": rfc3339(now - datetime.timedelta(seconds=1))}
            for instance in ("db1:9100", "db2:9100")])

        def resolved():
            inc = self.h.incident(incident["id"])
            pd_now = self.h.alert(pd["id"])
            return (inc["incident"]["status"] == "resolved"
                    and {a["status"] for a in inc["alerts"]} == {"resolved"}
                    and pd_now["status"] == "resolved") and (inc, pd_now)

        inc, pd_now = wait_until(resolved, 30, "houston to show the alerts resolved")
        self.assertEqual(len(inc["alerts"]), 2)
        self.assertIsNotNone(inc["incident"]["resolved_at"])
        self.assertIsNotNone(pd_now["resolved_at"])
        # Still nothing extra (a resolve must not open anything).
        self.assertEqual(len(self.h.all_alerts()), 3)
        self.assertEqual(len(self.h.api("/api/v1/incidents?limit=1000")["incidents"]), 2)

        # Alertmanager saw every notification succeed.
        log = self.am.log()
        for integration in ("pagerduty[0]", "webhook[0]"):
            ok = [ln for ln in log.splitlines()
                  if f"integration={integration}" in ln and "Notify success" in ln]
            self.assertGreaterEqual(len(ok), 2, f"{integration}: firing and resolved "
                                                f"notifications should have succeeded")
        for line in log.splitlines():
            self.assertNotRegex(line, r"level=error|Notify for alerts failed|notify retry|"
                                      r"unexpected status code", line)
        metrics = harness.parse_metrics(self.h.metrics())
        self.assertGreater(metrics.get('houston_events_total{integration="alertmanager",'
                                       'result="accepted"}', 0), 0)
        self.assertGreater(metrics.get('houston_events_total{integration="events_v2",'
                                       'result="accepted"}', 0), 0)

    def fire(self, alertname, ends_at=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        alert = {"labels": {"alertname": alertname, "instance": "web1:9100",
                            "severity": "critical", "job": "node"},
                 "annotations": {"summary": f"{alertname} on web1"},
                 "startsAt": rfc3339(now - datetime.timedelta(minutes=5))}
        if ends_at is not None:
            alert["endsAt"] = rfc3339(ends_at)
        self.am.post_alerts([alert])

    def incident_of(self, alertname):
        def found():
            incidents = self.h.api("/api/v1/incidents?limit=1000")["incidents"]
            mine = [i for i in incidents if alertname in i["group_key"]]
            return len(mine) == 1 and mine[0]["sev"] == "SEV2" and mine[0]
        return wait_until(found, 30, f"the {alertname} incident, made SEV2 by the rule")

    def resolve_at_source(self, alertname):
        self.fire(alertname, ends_at=datetime.datetime.now(datetime.timezone.utc)
                  - datetime.timedelta(seconds=1))

    def test_an_alert_resolved_at_the_source_resolves_its_rule_sev_incident(self):
        self.fire("CheckoutDown")
        inc = self.incident_of("CheckoutDown")
        self.assertEqual(inc["status"], "triggered")
        status = self.h.get("/status.json").json
        self.assertNotEqual(status["status"]["indicator"], "operational", status)
        self.resolve_at_source("CheckoutDown")
        wait_until(lambda: self.h.incident(inc["id"])["incident"]["status"] == "resolved", 30,
                   "the incident to resolve with its alert")
        timeline = self.h.api(f"/api/v1/incidents/{inc['id']}/timeline")["timeline"]
        resolved = [e for e in timeline if e["action"] == "incident.resolved"]
        self.assertEqual(len(resolved), 1, timeline)
        self.assertIn("no person had taken it over", json.dumps(resolved[0]))
        # Chat tools following the incident webhook hear that it is resolved ...
        self.collector.wait_for(
            lambda reqs: any((r.json or {}).get("event") == "incident.resolved"
                             and r.json["incident"]["id"] == inc["id"] for r in reqs),
            30, "incident.resolved on the incident webhook")
        # ... the status page no longer shows an outage, and no page waits to go out.
        status = self.h.get("/status.json").json
        self.assertEqual(status["status"]["indicator"], "operational", status)
        pending = self.h.api(f"/api/v1/notifications?incident={inc['id']}&state=pending")
        self.assertEqual(pending["notifications"], [], pending)

    def test_an_incident_a_person_acknowledged_stays_open_and_says_why(self):
        self.fire("PaymentsDown")
        inc = self.incident_of("PaymentsDown")
        p = self.h.client_cli("incident", "ack", str(inc["id"]))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.resolve_at_source("PaymentsDown")

        def said_why():
            timeline = self.h.api(f"/api/v1/incidents/{inc['id']}/timeline")["timeline"]
            return [e for e in timeline if e["action"] == "incident.alerts_resolved"]

        entry = wait_until(said_why, 30, "the timeline to say why the incident stays open")[0]
        self.assertIn("stays open because e2e-admin took it over", json.dumps(entry))
        self.assertEqual(self.h.incident(inc["id"])["incident"]["status"], "acknowledged")


if __name__ == "__main__":
    harness.main()
