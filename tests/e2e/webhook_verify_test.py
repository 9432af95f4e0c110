#!/usr/bin/python3
"""End-to-end: houston's webhook signatures, checked by an independent implementation.

The webhook receiver is tests/e2e/webhook_verify.mjs, a Node `crypto` script written from the
wire format (src/notify/README.md), not from houston's code. houston pages two users whose
webhooks have a plain secret and a Standard Webhooks `whsec_` secret; the verifier must accept
both requests (X-Houston-Signature and webhook-signature). Then a captured request is replayed:
- to the same receiver: refused (its webhook-id was seen);
- to a receiver whose clock is 6 minutes later (the request arrives outside the 5-minute
  tolerance): refused for its timestamp;
- with one byte of its body changed, or with a forged timestamp: refused for its signature;
- unchanged to a fresh receiver with the right clock: accepted (the control).
"""

import base64
import json
import os
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

VERIFIER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webhook_verify.mjs")
SECRETS = {"/hook/plain": "plain-s3cret-for-node", "/hook/whsec": "whsec_" +
           base64.b64encode(b"standard-webhooks-key-0123456789").decode()}
KEY = "wv-0123456789abcdef"


class Verifier:
    """One webhook_verify.mjs process: its port and the JSON lines it printed."""

    def __init__(self, clock_offset_s=0, tolerance_s=300):
        cfg = {"secrets": SECRETS, "tolerance_s": tolerance_s, "clock_offset_s": clock_offset_s}
        self.proc = subprocess.Popen(["node", VERIFIER, json.dumps(cfg)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(json.loads(line))

    def seen(self):
        with self._lock:
            return list(self.lines)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def send(self, path, headers, body):
        """Replays a request; returns (status, the verifier's line about it)."""
        before = len(self.seen())
        hdrs = {k: v for k, v in headers.items()
                if k.lower() not in ("host", "content-length", "connection")}
        req = urllib.request.Request(self.url(path), data=body, headers=hdrs, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        line = harness.wait_until(lambda: self.seen()[before:] and self.seen()[before], 5,
                                  "the verifier's verdict")
        return status, line

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        self.proc.stdout.close()


def org(v):
    return f"""users:
  - id: pat
    contact_methods:
      - {{id: pat-hook, type: webhook, url: "{v.url('/hook/plain')}", secret: "{SECRETS['/hook/plain']}"}}
  - id: sam
    contact_methods:
      - {{id: sam-hook, type: webhook, url: "{v.url('/hook/whsec')}", secret: "{SECRETS['/hook/whsec']}"}}
escalation_policies:
  - id: ep
    steps:
      - {{delay_minutes: 0, targets: [{{user: pat}}, {{user: sam}}]}}
services:
  - id: svc
    escalation_policy: ep
    integrations:
      - {{type: events_v2, key: "{KEY}"}}
"""


class WebhookVerifyTest(harness.HoustonTestCase):
    def setUp(self):
        super().setUp()
        self.verifiers = []

    def tearDown(self):
        for v in self.verifiers:
            v.close()
        super().tearDown()

    def verifier(self, **kw):
        v = Verifier(**kw)
        self.verifiers.append(v)
        return v

    def test_signatures_verify_independently_and_replays_are_refused(self):
        v = self.verifier()
        h = self.new_server(org_text=org(v), extra_args=["--allow-egress", "127.0.0.1/32"])
        r = h.enqueue({"routing_key": KEY, "event_action": "trigger", "dedup_key": "wv-1",
                       "payload": {"summary": "disk full", "source": "e2e", "severity": "error"}})
        self.assertStatus(r, 202)
        lines = harness.wait_until(
            lambda: (len({x["path"] for x in v.seen()}) == 2) and v.seen(), 15,
            "both webhooks to reach the Node verifier")
        for line in lines:
            self.assertTrue(line["ok"], f"the Node verifier refused houston's request: {line}")
            self.assertTrue(line["headers"]["webhook-signature"].startswith("v1,"), line)
            self.assertTrue(line["headers"]["x-houston-signature"].startswith("v1="), line)
        # houston's notifications were answered 2xx: recorded as sent.
        harness.wait_until(
            lambda: sorted(n["state"] for n in h.api("/api/v1/notifications")["notifications"])
            == ["sent", "sent"], 10, "both notifications to be recorded as sent")

        captured = next(x for x in lines if x["path"] == "/hook/whsec")
        path, headers = captured["path"], captured["headers"]
        body = base64.b64decode(captured["body_b64"])

        # The same request again, inside the window: a replay of a seen webhook-id.
        status, line = v.send(path, headers, body)
        self.assertEqual((status, line["ok"]), (401, False), line)
        self.assertIn("replay", line["reason"])

        # Arriving 6 minutes later (outside the 5-minute tolerance).
        late = self.verifier(clock_offset_s=360)
        status, line = late.send(path, headers, body)
        self.assertEqual((status, line["ok"]), (401, False), line)
        self.assertIn("outside the 300 s tolerance", line["reason"])

        fresh = self.verifier()
        # A forged, current timestamp on the old request: its signature no longer matches.
        forged = dict(headers)
        forged["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 360)
        status, line = late.send(path, forged, body)
        self.assertEqual((status, line["ok"]), (401, False), line)
        self.assertIn("webhook-signature does not match", line["reason"])
        # One byte of the body changed: both signatures fail (the first one checked is named).
        tampered = bytearray(body)
        tampered[tampered.index(b"disk full")] ^= 0x20  # "disk full" -> "Disk full"
        status, line = fresh.send(path, headers, bytes(tampered))
        self.assertEqual((status, line["ok"]), (401, False), line)
        self.assertIn("X-Houston-Signature does not match the body", line["reason"])
        # The control: the untouched request to a fresh receiver with the right clock passes.
        status, line = fresh.send(path, headers, body)
        self.assertEqual((status, line["ok"]), (204, True), line)


if __name__ == "__main__":
    harness.main()
