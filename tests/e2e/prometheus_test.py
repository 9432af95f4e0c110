#!/usr/bin/python3
"""End-to-end with the real Prometheus (Debian's 2.42) pushing straight to houston, with no
Alertmanager in between: its alerting.alertmanagers points at houston twice, once with the key in
path_prefix and once with the key as its bearer credential (authorization). A rule fires on a
gauge of a tiny scrape target this test serves, labelled by service: one prometheus integration
routes service="billing" to the billing service (Bob's pager) and the rest to platform (Alice's).

Fire -> the alert opens and pages, re-sends fold into it; the gauge drops -> Prometheus sends the
resolve and the incident resolves; Prometheus killed while an alert fires -> the alert resolves
by itself when its endsAt passes (the expiry, on the incident's timeline). Plus the answers to
bad bodies, keys and credentials."""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import free_port, wait_until  # noqa: E402
from paging_peers import WebhookCollector  # noqa: E402

PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
KEY = "prom-e2e-key"
BEARER_ONLY_KEY = "prom-bearer-only"
ALERTNAME = "HighErrorRate"


class Target:
    """A scrape target: /metrics with one gauge per service, settable from the test."""

    def __init__(self):
        self._lock = threading.Lock()
        self.values = {"billing": 0, "platform": 0}
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with target._lock:
                    lines = ["# TYPE app_errors gauge"] + [
                        f'app_errors{{service="{s}"}} {v}' for s, v in target.values.items()]
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, service, value):
        with self._lock:
            self.values[service] = value

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    def __init__(self, workdir, houston_port, target_port):
        self.workdir = workdir
        self.config = os.path.join(workdir, "prometheus.yml")
        self.rules = os.path.join(workdir, "rules.yml")
        self.log_path = os.path.join(workdir, "prometheus.log")
        with open(self.rules, "w") as f:
            f.write(f"""groups:
  - name: e2e
    rules:
      - alert: {ALERTNAME}
        expr: app_errors > 0
        for: 0s
        labels: {{severity: critical}}
        annotations: {{summary: "errors on {{{{ $labels.service }}}}"}}
""")
        with open(self.config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [{self.rules}]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ["127.0.0.1:{houston_port}"]}}]
      path_prefix: /integrations/prometheus/{KEY}
      timeout: 5s
    - static_configs: [{{targets: ["127.0.0.1:{houston_port}"]}}]
      path_prefix: /integrations/prometheus
      authorization: {{credentials: {KEY}}}
      timeout: 5s
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ["127.0.0.1:{target_port}"]}}]
""")
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        for _attempt in range(5):  # the free port can be taken in between; try another
            self.port = free_port()
            log = open(self.log_path, "ab")
            # resend-delay 1s: a firing alert is re-sent every evaluation, with endsAt 4 s
            # ahead (4 x max(evaluation interval, resend delay)), so the expiry shows quickly.
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={self.config}",
                 f"--storage.tsdb.path={os.path.join(self.workdir, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--rules.alert.resend-delay=1s", "--log.level=debug"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()

            def ready():
                if self.proc.poll() is not None:
                    return "exited"
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    return "ready" if r.status == 200 else None

            if wait_until(ready, 30, "Prometheus /-/ready") == "ready":
                return self
        raise AssertionError(f"Prometheus did not start:\n{self.log()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def notification_counts(self):
        """{alertmanager url: [sent, errors]} from Prometheus's own metrics."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            metrics = harness.parse_metrics(r.read().decode())
        out = {}
        for key, value in metrics.items():
            m = re.fullmatch(
                r'prometheus_notifications_(sent|errors)_total\{alertmanager="([^"]*)"\}', key)
            if m:
                out.setdefault(m.group(2), [0, 0])[m.group(1) == "errors"] = value
        return out


def org(collector):
    u = collector.url
    return f"""# houston prometheus e2e org (generated by tests/e2e/prometheus_test.py)
users:
  - id: alice
    name: Alice Example
    email: alice@example.com
    contact_methods:
      - {{id: alice-hook, type: webhook, url: "{u('/hook/alice')}"}}
    notification_rules:
      - {{contact_method: alice-hook, delay_minutes: 0}}
  - id: bob
    name: Bob Example
    email: bob@example.com
    contact_methods:
      - {{id: bob-hook, type: webhook, url: "{u('/hook/bob')}"}}
    notification_rules:
      - {{contact_method: bob-hook, delay_minutes: 0}}
escalation_policies:
  - id: platform-ep
    steps: [{{delay_minutes: 0, targets: [{{user: alice}}]}}]
  - id: billing-ep
    steps: [{{delay_minutes: 0, targets: [{{user: bob}}]}}]
services:
  - id: platform
    escalation_policy: platform-ep
    integrations:
      - type: prometheus
        key: {KEY}
        routes:
          - {{match: ['service="billing"'], service: billing}}
        group_by: [alertname]
  - id: billing
    escalation_policy: billing-ep
    integrations:
      - {{type: prometheus, key: {BEARER_ONLY_KEY}, require_bearer: true}}
"""


class PrometheusTest(harness.HoustonTestCase):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(PROMETHEUS, os.X_OK),
                        f"{PROMETHEUS} is missing: install prometheus "
                        "(scripts/install-deps.sh does)")
        self.collector = WebhookCollector().start()
        self.addCleanup(self.collector.close)
        self.h = self.new_server(org_text=org(self.collector),
                                 extra_args=["--allow-egress", "127.0.0.1/32"])

    def post(self, path, body, headers=None):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.h.post(path, data, headers={"Content-Type": "application/json",
                                                **(headers or {})})

    def prometheus_alerts(self, service):
        return [a for a in self.h.all_alerts(f"service={service}") if a["client"] == "Prometheus"]

    def pages(self, user, requests=None):
        """The pages `user`'s webhook got (from `requests`, as wait_for hands them, or all)."""
        if requests is None:
            requests = self.collector.requests()
        return [r.json for r in requests
                if r.path == f"/hook/{user}" and r.json.get("event") == "incident.triggered"]

    def timeline_actions(self, incident_id):
        tl = self.h.api(f"/api/v1/incidents/{incident_id}/timeline")["timeline"]
        return [(e["action"], e["actor"]) for e in tl]

    def test_fires_pages_routes_and_resolves(self):
        target = Target()
        self.addCleanup(target.close)
        prom = Prometheus(self.tmp, self.h.port, target.port)
        self.add_log("Prometheus log", prom.log_path)
        self.addCleanup(prom.kill)
        prom.start()

        # billing fires: routed by its service label to billing, which pages Bob.
        target.set("billing", 1)
        billing = wait_until(lambda: (a := self.prometheus_alerts("billing")) and
                             a[0]["event_count"] >= 3 and a, 30,
                             "the billing alert, re-sent at least twice")
        self.assertEqual(len(billing), 1, billing)  # re-sends (from both paths) fold into it
        a = billing[0]
        self.assertEqual(a["status"], "triggered")
        self.assertEqual(a["summary"], "errors on billing")
        self.assertEqual(a["severity"], "critical")
        self.assertRegex(a["dedup_key"], r"^[0-9a-f]{16}$")  # Alertmanager's fingerprint
        self.assertEqual(a["custom_details"]["labels"],
                         {"alertname": ALERTNAME, "instance": f"127.0.0.1:{target.port}",
                          "job": "app", "service": "billing", "severity": "critical"})
        # Prometheus's own URL (its external URL: this host's name and its port).
        self.assertRegex(a["client_url"], rf"^http://[^/]+:{prom.port}$")
        self.assertEqual(a["group_key"], f'billing:{{alertname="{ALERTNAME}"}}')
        page = self.collector.wait_for(lambda rs: self.pages("bob", rs), 15, "Bob's page")[0]
        self.assertEqual(page["incident"]["service"], "billing")
        self.assertEqual(page["incident"]["id"], a["incident_id"])
        self.assertEqual(self.pages("alice"), [])

        # platform fires too: no route matches, so the integration's own service pages Alice.
        target.set("platform", 3)
        platform = wait_until(lambda: self.prometheus_alerts("platform"), 30,
                              "the platform alert")
        self.assertEqual(len(platform), 1)
        self.assertEqual(platform[0]["group_key"], f'platform:{{alertname="{ALERTNAME}"}}')
        self.assertNotEqual(platform[0]["incident_id"], a["incident_id"])
        self.collector.wait_for(lambda rs: self.pages("alice", rs), 15, "Alice's page")
        self.assertEqual(len(self.pages("bob")), 1, "Bob is paged once")

        # Both ways of presenting the key worked for Prometheus, with no error.
        counts = wait_until(lambda: (c := prom.notification_counts()) and len(c) == 2 and
                            all(sent > 0 for sent, _ in c.values()) and c, 10,
                            "Prometheus to have sent to both alertmanager entries")
        for am, (sent, errors) in counts.items():
            self.assertEqual(errors, 0, f"{am}: {counts}")

        # billing stops firing: Prometheus sends the resolve (endsAt = now), the incident
        # resolves through it, not through the expiry.
        target.set("billing", 0)
        resolved = wait_until(
            lambda: (x := self.h.alert(a["id"]))["status"] == "resolved" and x, 20,
            "the billing alert to resolve")
        incident = self.h.incident(a["incident_id"])["incident"]
        self.assertEqual(incident["status"], "resolved")
        actions = self.timeline_actions(a["incident_id"])
        self.assertIn(("alert.resolved", "integration:prometheus:billing"), actions)
        self.assertNotIn("system:alert-expiry", [actor for _, actor in actions])
        self.assertIsNotNone(resolved["resolved_at"])
        # platform keeps firing.
        self.assertEqual(self.h.alert(platform[0]["id"])["status"], "triggered")

        # Prometheus dies while platform fires: nothing renews the alert, so it resolves when
        # its endsAt (4 s after the last send) passes.
        prom.kill()
        wait_until(lambda: self.h.alert(platform[0]["id"])["status"] == "resolved", 15,
                   "the platform alert to expire")
        pinc = platform[0]["incident_id"]
        self.assertEqual(self.h.incident(pinc)["incident"]["status"], "resolved")
        self.assertIn(("alert.resolved", "system:alert-expiry"), self.timeline_actions(pinc))
        metrics = harness.parse_metrics(self.h.metrics())
        self.assertEqual(metrics.get("houston_alerts_expired_total"), 1)

    def test_answers_like_alertmanager(self):
        v2 = f"/integrations/prometheus/{KEY}/api/v2/alerts"
        alert = {"labels": {"alertname": "Manual", "service": "billing"},
                 "annotations": {"summary": "by hand"}}
        # OK: 200 with an empty body, on the path and with the key as bearer credential; v1 too.
        r = self.post(v2, [alert])
        self.assertStatus(r, 200)
        self.assertEqual(r.raw, b"")
        r = self.post("/integrations/prometheus/api/v2/alerts", [alert],
                      headers={"Authorization": f"Bearer {KEY}"})
        self.assertStatus(r, 200)
        self.assertEqual(r.raw, b"")
        r = self.post(f"/integrations/prometheus/{KEY}/api/v1/alerts", [alert])
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"status": "success"})
        alerts = self.prometheus_alerts("billing")
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["event_count"], 3)

        # A body it cannot read: 400 {"code":400,"message":...}, nothing stored.
        for body in (b"nope", b'{"labels":{}}', b"[", b'[{"labels":{"a":"b"}}] x'):
            r = self.post(v2, body)
            self.assertStatus(r, 400, body)
            self.assertEqual(r.json["code"], 400, r.text)
            self.assertTrue(r.json["message"], r.text)
        r = self.post(f"/integrations/prometheus/{KEY}/api/v1/alerts", b"{}")
        self.assertStatus(r, 400)
        self.assertEqual(r.json["status"], "error")
        self.assertEqual(r.json["errorType"], "bad_data")

        # Invalid alerts are named (index and field) in a JSON string; valid ones are kept.
        r = self.post(v2, [{"labels": {"alertname": "Kept"}},
                           {"annotations": {"summary": "no labels"}},
                           {"labels": {"alertname": "X"}, "startsAt": "2026-01-02T00:00:00Z",
                            "endsAt": "2026-01-01T00:00:00Z"}])
        self.assertStatus(r, 400)
        self.assertEqual(
            r.json, "alerts[1].labels is missing; alerts[2].endsAt (2026-01-01T00:00:00Z) is "
                    "before its startsAt (2026-01-02T00:00:00Z)")
        kept = [x for x in self.prometheus_alerts("platform") if x["summary"] == "Kept"]
        self.assertEqual(len(kept), 1)

        # An alert posted with endsAt in the past resolves its open alert.
        r = self.post(v2, [{**alert, "endsAt": "2020-01-01T00:00:00Z"}])
        self.assertStatus(r, 200)
        self.assertEqual(self.h.alert(alerts[0]["id"])["status"], "resolved")

        # Keys and credentials.
        r = self.post("/integrations/prometheus/no-such-key/api/v2/alerts", [alert])
        self.assertStatus(r, 404)
        r = self.post("/integrations/prometheus/api/v2/alerts", [alert])
        self.assertStatus(r, 401)
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        r = self.post("/integrations/prometheus/api/v2/alerts", [alert],
                      headers={"Authorization": "Bearer wrong-key-123"})
        self.assertStatus(r, 401)
        r = self.post(v2, [alert], headers={"Authorization": "Bearer wrong-key-123"})
        self.assertStatus(r, 401)
        self.assertIn("not this integration's key", r.json["error"]["message"])
        # require_bearer: the key in the URL is refused, as the bearer credential it works.
        r = self.post(f"/integrations/prometheus/{BEARER_ONLY_KEY}/api/v2/alerts", [alert])
        self.assertStatus(r, 401)
        self.assertIn("require_bearer", r.json["error"]["message"])
        r = self.post("/integrations/prometheus/api/v2/alerts", [alert],
                      headers={"Authorization": f"Bearer {BEARER_ONLY_KEY}"})
        self.assertStatus(r, 200)
        metrics = harness.parse_metrics(self.h.metrics())
        self.assertGreaterEqual(
            metrics.get('houston_events_total{integration="prometheus",result="rejected"}'), 7)


if __name__ == "__main__":
    harness.main()
