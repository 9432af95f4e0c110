#!/usr/bin/python3
"""End-to-end with the official @pagerduty/pdjs npm client (pinned in tests/e2e/package.json)
against houston serving HTTPS with a self-signed certificate that node is told to trust
(NODE_EXTRA_CA_CERTS): TLS stays verified."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EVENTS_KEY, EVENTS_KEY_2  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "pdjs_send.mjs")
NODE = shutil.which("node") or "/usr/bin/node"


def trigger(key, summary="pdjs: disk 95% full on db1"):
    ev = {"routing_key": EVENTS_KEY, "event_action": "trigger",
          "payload": {"summary": summary, "source": "db1", "severity": "critical",
                      "component": "disk", "custom_details": {"free_gb": 3}},
          "client": "pdjs e2e", "client_url": "https://ci.example/run/1",
          "links": [{"href": "https://runbooks.example/disk", "text": "Runbook"}]}
    if key is not None:
        ev["dedup_key"] = key
    return ev


class PdjsTest(harness.HoustonTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = cls._class_tmp.name
        cls.cert = os.path.join(tmp, "cert.pem")
        cls.key = os.path.join(tmp, "key.pem")
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2", "-keyout", cls.key,
             "-out", cls.cert], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"openssl failed: {p.stderr}")

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(NODE, os.X_OK), "node is missing (scripts/install-deps.sh)")
        self.assertTrue(
            os.path.isdir(os.path.join(HERE, "node_modules", "@pagerduty", "pdjs")),
            "tests/e2e/node_modules/@pagerduty/pdjs is missing: run scripts/install-deps.sh "
            "(it runs npm ci in tests/e2e)")
        self.h = self.new_server(tls=(self.cert, self.key), extra_args=["--header-timeout", "2"])
        self.assertTrue(self.h.url.startswith("https://"))

    def pdjs(self, steps, trust=True):
        path = os.path.join(self.tmp, f"steps-{uuid.uuid4().hex[:8]}.json")
        with open(path, "w") as f:
            json.dump(steps, f)
        env = {k: v for k, v in os.environ.items()
               if k not in ("NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS",
                            "HTTPS_PROXY", "https_proxy", "NODE_OPTIONS")}
        if trust:
            env["NODE_EXTRA_CA_CERTS"] = self.cert
        p = subprocess.run([NODE, SCRIPT, f"127.0.0.1:{self.h.port}", path], capture_output=True,
                           text=True, timeout=60, env=env, cwd=HERE)
        self.assertEqual(p.returncode, 0, f"node failed: {p.stderr}")
        out = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        self.assertEqual(len(out), len(steps), p.stdout + p.stderr)
        return out

    def assertAccepted(self, res, key=None):
        self.assertNotIn("error", res, res)
        self.assertEqual(res["status"], 202, res)
        self.assertTrue(res["ok"])
        self.assertEqual(res["data"]["status"], "success", res)
        self.assertEqual(res["data"]["message"], "Event processed", res)
        if key is not None:
            self.assertEqual(res["data"]["dedup_key"], key, res)
        return res["data"]

    def alert_by_key(self, key):
        alerts = [a for a in self.h.all_alerts() if a["dedup_key"] == key]
        self.assertEqual(len(alerts), 1, alerts)
        return alerts[0]

    def test_trigger_repeat_acknowledge_resolve(self):
        key = f"pdjs/{uuid.uuid4().hex[:8]}"
        res = self.pdjs([{"call": "event", "data": trigger(key)},
                         {"call": "event", "data": trigger(key, "pdjs: disk 97% full on db1")}])
        for r in res:
            self.assertAccepted(r, key)
        a = self.alert_by_key(key)
        self.assertEqual((a["status"], a["event_count"]), ("triggered", 2))
        self.assertEqual(a["summary"], "pdjs: disk 97% full on db1")
        self.assertEqual((a["source"], a["severity"], a["component"]),
                         ("db1", "critical", "disk"))
        self.assertEqual(a["custom_details"], {"free_gb": 3})
        self.assertEqual(a["client"], "pdjs e2e")
        self.assertEqual(a["links"], [{"href": "https://runbooks.example/disk",
                                       "text": "Runbook"}])

        ack = {"routing_key": EVENTS_KEY, "event_action": "acknowledge", "dedup_key": key}
        self.assertAccepted(self.pdjs([{"call": "event", "data": ack}])[0], key)
        self.assertEqual(self.h.alert(a["id"])["status"], "acknowledged")

        res = self.pdjs([{"call": "event", "data": dict(ack, event_action="resolve")}])
        self.assertAccepted(res[0], key)
        got = self.h.alert(a["id"])
        self.assertEqual(got["status"], "resolved")
        self.assertEqual(self.h.incident(got["incident_id"])["incident"]["status"], "resolved")

        # pdjs's shorthand: a keyless trigger gets a generated key it can resolve with.
        res = self.pdjs([{"call": "event", "data": trigger(None)}])
        gen = self.assertAccepted(res[0])["dedup_key"]
        self.assertTrue(gen)
        self.assertEqual(self.alert_by_key(gen)["status"], "triggered")
        res = self.pdjs([{"call": "event", "data": {"routing_key": EVENTS_KEY,
                                                    "event_action": "resolve",
                                                    "dedup_key": gen}}])
        self.assertAccepted(res[0], gen)
        self.assertEqual(self.alert_by_key(gen)["status"], "resolved")

    def test_errors_reach_pdjs_as_pagerduty_bodies(self):
        bad = trigger("pdjs-bad")
        del bad["payload"]["source"]
        wrong_key = dict(trigger("pdjs-wrong-key"), routing_key="f" * 32)
        res = self.pdjs([{"call": "event", "data": bad},
                         {"call": "event", "data": wrong_key}])
        self.assertEqual(res[0]["status"], 400, res[0])
        self.assertFalse(res[0]["ok"])
        self.assertEqual(res[0]["data"]["status"], "invalid event")
        self.assertIn("'payload.source' is missing", res[0]["data"]["errors"])
        self.assertEqual(res[1]["status"], 400, res[1])
        self.assertIn("Invalid routing key", res[1]["data"]["errors"])
        self.assertEqual(self.h.all_alerts(), [])

    def test_change_event(self):
        summary = f"Deploy checkout {uuid.uuid4().hex[:8]}"
        res = self.pdjs([{"call": "change", "data": {
            "routing_key": EVENTS_KEY_2,
            "payload": {"summary": summary, "source": "ci", "timestamp":
                        "2026-03-01T10:00:00Z", "custom_details": {"revision": "abc123"}},
            "links": [{"href": "https://ci.example/deploy/7", "text": "Deploy 7"}]}}])
        self.assertEqual(res[0]["status"], 202, res[0])
        self.assertEqual(res[0]["data"], {"status": "success", "message": "Event processed"})
        changes = self.h.api("/api/v1/changes")["changes"]
        self.assertEqual(len(changes), 1, changes)
        c = changes[0]
        self.assertEqual((c["summary"], c["service"], c["source"]), (summary, "payments", "ci"))
        self.assertEqual(c["custom_details"], {"revision": "abc123"})
        self.assertEqual(self.h.all_alerts(), [], "a change event opened an alert")

    def test_tls_is_verified(self):
        """Without trusting houston's certificate, pdjs (node) refuses to send."""
        res = self.pdjs([{"call": "event", "data": trigger("pdjs-untrusted")}], trust=False)
        self.assertIn("error", res[0], res[0])
        self.assertRegex(res[0]["error"] + res[0]["code"], r"(?i)self.signed|certificate|CERT",
                         res[0])
        self.assertEqual(self.h.all_alerts(), [])
        # The CLI talks HTTPS with --cacert.
        self.pdjs([{"call": "event", "data": trigger("pdjs-cli")}])
        p = self.h.cli("alert", "list", "--json", "--server", self.h.url, "--cacert", self.cert,
                       "--token", self.h.token("viewer"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([a["dedup_key"] for a in json.loads(p.stdout)["alerts"]], ["pdjs-cli"])
        p = self.h.cli("alert", "list", "--server", self.h.url, "--token",
                       self.h.token("viewer"))
        self.assertNotEqual(p.returncode, 0, "the CLI accepted an untrusted certificate")
        # Plain HTTP on the TLS port gets nothing useful.
        s = socket.create_connection(("127.0.0.1", self.h.port), timeout=5)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, TimeoutError, OSError):
                pass
            self.assertNotIn(b'{"status":"ok"}', data)
        finally:
            s.close()

    def test_silent_tls_client_is_dropped(self):
        """A client that connects and never starts the TLS handshake is closed after
        --header-timeout (2 s here)."""
        s = socket.create_connection(("127.0.0.1", self.h.port), timeout=10)
        start = time.monotonic()
        try:
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            elapsed = time.monotonic() - start
            self.assertEqual(data, b"")
            self.assertGreater(elapsed, 1.0)
            self.assertLess(elapsed, 6.0, f"closed only after {elapsed:.1f} s")
        except socket.timeout:
            self.fail("a silent TLS client was kept open for 10 s")
        finally:
            s.close()
        self.assertStatus(self.h.get("/healthz"), 200)


if __name__ == "__main__":
    harness.main()
