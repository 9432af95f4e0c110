#!/usr/bin/python3
"""End-to-end: security promises of docs/security.md that need the real server.

- SecretsTest: a full run (debug log) with known secrets: webhook signing secrets, an SMTP
  password, a provider token, integration keys of every intake (in paths, headers, ?apiKey=
  and bodies), API tokens, a password and its session; events through every intake, pages by
  webhook, Slack and SMS provider, signed links followed, failed sign-ins and wrong keys. The
  server's log, every API answer and every outbound request body are then searched for each
  secret: none may appear (the one answer that hands out a new token's secret excepted).
- ActionLinkTest: the acknowledge/resolve links in a notification: GET only asks (a POST form,
  nothing changes), POST acts once (a second POST, or the same link after the incident is
  back in triggered, does nothing), changed incident, user or action is refused.
- XssTest: a script payload in incident titles, summaries, alert summaries, status updates,
  service and component names, postmortem text and notes: every server-rendered HTML page
  (status page, link pages) shows it escaped, and the pages carry a no-script CSP.
"""

import base64
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from paging_peers import WebhookCollector  # noqa: E402

# Known secrets, each unique enough that finding it anywhere is a leak.
S = {
    "webhook_secret": "whook-SECRET-7f3a9c1e",
    "webhook_whsec": "whsec_" + base64.b64encode(b"std-webhooks-SECRET-0a1b2c3d4e5f").decode(),
    "slack_path": "SLACKSECRET4d2e9b",
    "provider_token": "prov-TOKEN-91c0ffee",
    "provider_secret": "prov-SECRET-5e6f7a8b",
    "smtp_password": "smtp-PASSWORD-3c4d5e",
    "ev_key": "evkeySECRET00112233445566778899aa",
    "am_key": "amkey-SECRET-a1b2c3",
    "grafana_key": "grafkey-SECRET-d4e5f6",
    "generic_key": "genkey-SECRET-0718aa",
    "hb_key": "hbkey-SECRET-9a8b7c",
    "og_key": "ogkey-SECRET-6d5e4f3a",
    "prom_key": "promkey-SECRET-2b3c4d",
    "password": "correct horse battery SECRET staple",
}
# Shown to admins (only) in GET /api/v1/services and /api/v1/org, to configure senders with.
INTEGRATION_KEYS = {"ev_key", "am_key", "grafana_key", "generic_key", "hb_key", "og_key",
                    "prom_key"}
# Wrong credentials a client sent: not secrets of houston, but a typo of a real one often is.
WRONG = {
    "wrong_password": "wrong-PASSWORD-e1e2e3e4",
    "wrong_key": "wrongkey-SECRET-f0f1f2f3",
    "wrong_token": "hou_WRONGtokenSECRET0123456789abcdefghijklmn",
    "wrong_session": "WRONGsessionSECRET00000000000000000000000",
}


def secrets_org(c):
    u = c.url
    return f"""users:
  - id: ada
    name: Ada Admin
    email: ada@example.com
    role: admin
    contact_methods:
      - {{id: ada-hook, type: webhook, url: "{u('/hook/ada')}", secret: "{S['webhook_secret']}"}}
      - {{id: ada-std, type: webhook, url: "{u('/hook/ada-std')}", secret: "{S['webhook_whsec']}"}}
      - {{id: ada-slack, type: slack, url: "{u('/slack/T000/B000/' + S['slack_path'])}"}}
      - id: ada-sms
        type: sms_provider
        url: "{u('/sms/ada')}"
        address: "+15555550100"
        secret: "{S['provider_secret']}"
        headers: {{Authorization: "Bearer {S['provider_token']}"}}
      - {{id: ada-mail, type: email, address: ada@example.com}}
  - {{id: val, name: Val Viewer, role: viewer}}
escalation_policies:
  - id: ep
    steps:
      - {{delay_minutes: 0, targets: [{{user: ada}}]}}
services:
  - id: svc
    name: Service
    escalation_policy: ep
    integrations:
      - {{type: events_v2, key: "{S['ev_key']}"}}
      - {{type: alertmanager, key: "{S['am_key']}"}}
      - {{type: grafana, key: "{S['grafana_key']}"}}
      - {{type: generic, key: "{S['generic_key']}"}}
      - {{type: heartbeat, key: "{S['hb_key']}", interval_minutes: 5}}
      - {{type: opsgenie, key: "{S['og_key']}"}}
      - {{type: prometheus, key: "{S['prom_key']}"}}
status_page:
  title: Status
  components:
    - {{id: web, name: Website, services: [svc]}}
"""


def set_password(h, user, password):
    p = subprocess.run([harness.HOUSTON_BIN, "user", "set-password", user, "--db", h.db],
                       input=password + "\n", capture_output=True, text=True, timeout=60,
                       cwd=h.workdir)
    if p.returncode != 0:
        raise AssertionError(f"set-password {user}: {p.stderr}")


def trigger(key, dedup, summary="something broke"):
    return {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": summary, "source": "e2e", "severity": "critical"}}


class SecretsTest(harness.HoustonTestCase):
    def setUp(self):
        super().setUp()
        self.answers = []  # (what, status, headers text, body text) of every answer

    def call(self, h, method, path, body=None, headers=None, token=None, admin_keys=False):
        """One request; its answer is searched afterwards. `admin_keys`: an admin's read of
        the services or the org, which shows integration keys by design (to configure senders)."""
        r = h.request(method, path, body=body, headers=headers, token=token)
        self.answers.append((f"{method} {path}", r.status, str(r.headers), r.text, admin_keys))
        return r

    def test_no_secret_in_logs_answers_or_payloads(self):
        with WebhookCollector() as c:
            c.set_secret("/hook/ada", S["webhook_secret"])
            c.set_secret("/hook/ada-std", S["webhook_whsec"])
            h = self.new_server(
                start=False, org_text=secrets_org(c),
                extra_args=["--allow-egress", "127.0.0.1/32", "--log-level", "debug",
                            "--smtp-url", "smtp://127.0.0.1:9", "--smtp-from", "h@example.com",
                            "--smtp-user", "houston"],
                env={"HOUSTON_SMTP_PASSWORD": S["smtp_password"]})
            h.start()
            set_password(h, "ada", S["password"])
            cli_token = h.token("admin")
            secrets = dict(S, cli_token=cli_token)

            # A token made over the API: its secret is answered once, there only.
            r = h.request("POST", "/api/v1/tokens", {"name": "rest", "role": "responder"},
                          token=cli_token)
            self.assertStatus(r, 201)
            secrets["rest_token"] = r.json["secret"]

            # People: a wrong password, an unknown user, then a real sign-in (its Set-Cookie is
            # the one place the session id may be).
            self.assertStatus(self.call(h, "POST", "/api/v1/session",
                                        {"user": "ada", "password": WRONG["wrong_password"]}), 401)
            self.call(h, "POST", "/api/v1/session",
                      {"user": "nobody", "password": WRONG["wrong_password"]})
            r = h.request("POST", "/api/v1/session", {"user": "ada", "password": S["password"]})
            self.assertStatus(r, 200)
            cookie = r.headers["Set-Cookie"].split(";", 1)[0]
            secrets["session"] = cookie.split("=", 1)[1]
            csrf = r.json["csrf_token"]
            self.assertStatus(self.call(h, "GET", "/api/v1/session", headers={"Cookie": cookie}),
                              200)
            self.assertStatus(self.call(h, "GET", "/api/v1/alerts",
                                        headers={"Cookie": "houston_session=" +
                                                 WRONG["wrong_session"]}), 401)
            self.assertStatus(self.call(h, "GET", "/api/v1/alerts", token=WRONG["wrong_token"]),
                              401)

            # Every intake, keys in bodies, paths, headers and query strings.
            self.assertStatus(self.call(h, "POST", "/v2/enqueue", trigger(S["ev_key"], "ev-1")),
                              202)
            self.call(h, "POST", "/v2/enqueue", trigger(WRONG["wrong_key"], "ev-2"))
            self.call(h, "POST", "/v2/change/enqueue",
                      {"routing_key": S["ev_key"], "payload": {"summary": "deploy", "source": "ci"}})
            am = {"version": "4", "groupKey": "g", "status": "firing", "receiver": "houston",
                  "alerts": [{"status": "firing", "labels": {"alertname": "AmDown"},
                              "annotations": {}, "startsAt": "2026-01-01T00:00:00Z",
                              "fingerprint": "f1"}]}
            self.assertStatus(self.call(h, "POST", f"/integrations/alertmanager/{S['am_key']}", am),
                              202)
            self.call(h, "POST", f"/integrations/alertmanager/{WRONG['wrong_key']}", am)
            self.call(h, "POST", f"/integrations/grafana/{S['grafana_key']}",
                      {"status": "firing", "alerts": []})
            self.call(h, "POST", f"/integrations/generic/{S['generic_key']}",
                      {"summary": "generic", "dedup_key": "g-1"})
            self.call(h, "GET", f"/integrations/heartbeat/{S['hb_key']}")
            self.call(h, "GET", f"/integrations/heartbeat/{WRONG['wrong_key']}")
            og = {"message": "og alert", "alias": "og-1"}
            self.call(h, "POST", "/v2/alerts", og,
                      headers={"Authorization": f"GenieKey {S['og_key']}"})
            self.call(h, "POST", "/v2/alerts", og,
                      headers={"Authorization": f"GenieKey {WRONG['wrong_key']}"})
            self.call(h, "GET", f"/v2/heartbeats/x/ping?apiKey={S['og_key']}")
            self.call(h, "GET", f"/v2/alerts?apiKey={WRONG['wrong_key']}")
            prom = [{"labels": {"alertname": "PromDown"}, "annotations": {"summary": "prom"}}]
            self.call(h, "POST", f"/integrations/prometheus/{S['prom_key']}/api/v2/alerts", prom)
            self.call(h, "POST", "/integrations/prometheus/api/v2/alerts", prom,
                      headers={"Authorization": f"Bearer {S['prom_key']}"})
            self.call(h, "POST", "/integrations/prometheus/api/v2/alerts", prom,
                      headers={"Authorization": f"Bearer {WRONG['wrong_key']}"})

            # Pages: webhook (both signature forms), Slack, SMS provider; email fails (no SMTP
            # server at port 9) and its error is recorded.
            for path in ("/hook/ada", "/hook/ada-std", "/sms/ada"):
                c.wait_for(lambda rs, p=path: [x for x in rs if x.path == p], 15, f"a page at {path}")
            c.wait_for(lambda rs: [x for x in rs if x.path.startswith("/slack/")], 15, "Slack")
            hook = c.requests("/hook/ada")[0]
            self.assertTrue(hook.signature_ok, hook.signature_problem)
            body = hook.json
            # Follow the signed links as a person would: view, ask, then act.
            for link in (body["incident"]["url"], body["ack_url"]):
                self.call(h, "GET", urllib.parse.urlsplit(link).path)
            self.call(h, "POST", urllib.parse.urlsplit(body["ack_url"]).path)
            self.call(h, "POST", urllib.parse.urlsplit(body["ack_url"]).path)
            harness.wait_until(
                lambda: [n for n in h.api("/api/v1/notifications")["notifications"]
                         if n["channel"] == "email" and n["state"] in ("pending", "failed",
                                                                        "dead", "unknown")
                         and n["last_error"]], 20, "the email's failure to be recorded")

            # What people and tools read: every list, as admin, as the signed-in person and as
            # a viewer.
            viewer = h.token("viewer")
            for path in ("/api/v1/org", "/api/v1/tokens", "/api/v1/audit?limit=1000",
                         "/api/v1/notifications", "/api/v1/users", "/api/v1/services",
                         "/api/v1/alerts", "/api/v1/incidents", "/api/v1/changes",
                         "/api/v1/escalation-policies", "/api/v1/oncall", "/api/v1", "/metrics",
                         "/status", "/status.json", "/readyz"):
                self.call(h, "GET", path, token=cli_token,
                          admin_keys=path in ("/api/v1/org", "/api/v1/services"))
                self.call(h, "GET", path, token=viewer)
            self.call(h, "GET", "/api/v1/org", headers={"Cookie": cookie}, admin_keys=True)
            inc = h.api("/api/v1/incidents")["incidents"][0]["id"]
            for path in (f"/api/v1/incidents/{inc}", f"/api/v1/incidents/{inc}/timeline"):
                self.call(h, "GET", path, token=cli_token)
            # A state change from the browser (cookie + CSRF token), and sign-out.
            self.call(h, "POST", f"/api/v1/incidents/{inc}/notes", {"text": "looking"},
                      headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                               "Origin": h.url})
            self.call(h, "DELETE", "/api/v1/session", headers={"Cookie": cookie,
                                                               "X-CSRF-Token": csrf,
                                                               "Origin": h.url})
            h.stop()
            log = h.log()
            payloads = [(f"{x.method} {x.path}", x.body.decode("utf-8", "replace"))
                        for x in c.requests()]

        self.assertIn("failed sign-in", log)  # the log did record the events searched
        leaks = []
        for name, value in {**secrets, **WRONG, "csrf": csrf}.items():
            if value in log:
                lines = [ln for ln in log.splitlines() if value in ln]
                leaks.append(f"{name} in the log: {lines[:3]}")
        for name, value in {**secrets, **WRONG}.items():
            for what, status, headers, text, admin_keys in self.answers:
                if admin_keys and name in INTEGRATION_KEYS:
                    continue
                for where in (text, headers):
                    at = where.find(value)
                    if at >= 0:
                        leaks.append(f"{name} in the answer to {what} ({status}): "
                                     f"...{where[max(0, at - 200):at + 60]}...")
            for what, text in payloads:
                at = text.find(value)
                if at >= 0:
                    leaks.append(f"{name} in the outbound {what}: ...{text[max(0, at - 200):at + 60]}")
        self.assertEqual(leaks, [], "\n".join(leaks))
        self.assertGreater(len(self.answers), 40)


def links_org(c):
    return f"""users:
  - id: ada
    contact_methods:
      - {{id: ada-hook, type: webhook, url: "{c.url('/hook/ada')}"}}
  - id: bob
    contact_methods:
      - {{id: bob-hook, type: webhook, url: "{c.url('/hook/bob')}"}}
escalation_policies:
  - id: ep
    steps:
      - {{delay_minutes: 0, targets: [{{user: ada}}, {{user: bob}}]}}
services:
  - id: svc
    escalation_policy: ep
    integrations:
      - {{type: events_v2, key: "{S['ev_key']}"}}
"""


def status_of(h, inc):
    got = h.incident(inc)
    return got.get("incident", got)["status"]


class ActionLinkTest(harness.HoustonTestCase):
    def page_of(self, c, path, incident):
        hits = c.wait_for(lambda rs: [x for x in rs if x.path == path and
                                      x.json["incident"]["id"] == incident], 15,
                          f"a page to {path} about incident {incident}")
        return hits[0].json

    def incident_for(self, h, dedup):
        alerts = harness.wait_until(lambda: h.alerts_by_dedup().get(dedup), 5, dedup)
        return alerts[0]["incident_id"]

    def acks(self, h, inc):
        return [e for e in h.api(f"/api/v1/incidents/{inc}/timeline")["timeline"]
                if e["action"] == "incident.acknowledged"]

    def test_links_ask_on_get_act_once_on_post_and_bind_incident_and_user(self):
        with WebhookCollector() as c:
            h = self.new_server(org_text=links_org(c),
                                extra_args=["--allow-egress", "127.0.0.1/32"])
            self.assertStatus(h.enqueue(trigger(S["ev_key"], "link-1")), 202)
            inc = self.incident_for(h, "link-1")
            ada = self.page_of(c, "/hook/ada", inc)
            bob = self.page_of(c, "/hook/bob", inc)
            ack = urllib.parse.urlsplit(ada["ack_url"]).path
            resolve = urllib.parse.urlsplit(ada["resolve_url"]).path

            # Links are per recipient and per action.
            self.assertNotEqual(ack, urllib.parse.urlsplit(bob["ack_url"]).path)
            self.assertNotEqual(ack, resolve)

            # GET (a mail scanner, a preview) only asks: a POST form to the same link, on a
            # page that runs no script and cannot be framed.
            for _ in range(3):
                r = h.get(ack)
                self.assertStatus(r, 200)
            self.assertRegex(r.text, r'<form method="post"><button type="submit">Acknowledge')
            self.assertNotIn("<script", r.text)
            csp = r.headers["Content-Security-Policy"]
            self.assertIn("default-src 'none'", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertIn("form-action 'self'", csp)
            self.assertEqual(r.headers["Referrer-Policy"], "no-referrer")
            self.assertEqual(status_of(h, inc), "triggered")
            self.assertEqual(self.acks(h, inc), [])

            # Tampering: another incident, user or action in the token is refused.
            token = ack[len("/actions/"):]
            parts = token.split(".")
            forged = {
                "incident": ".".join(parts[:1] + [str(inc + 1)] + parts[2:]),
                "action": ".".join(parts[:2] + ["resolve"] + parts[3:]),
                "user": ".".join(parts[:4] + [base64.urlsafe_b64encode(b"bob").decode()
                                              .rstrip("=")] + parts[5:]),
                "expiry": ".".join(parts[:3] + [str(int(parts[3]) + 86400000)] + parts[4:]),
            }
            for what, t in forged.items():
                for method in ("GET", "POST"):
                    r = h.request(method, "/actions/" + t)
                    self.assertStatus(r, 403, f"({what} changed, {method})")
                    self.assertIn("invalid action link signature", r.text)
            self.assertEqual(status_of(h, inc), "triggered")

            # POST acts, once.
            r = h.post(ack)
            self.assertStatus(r, 200)
            self.assertIn("acknowledged", r.text)
            self.assertEqual(status_of(h, inc), "acknowledged")
            r = h.post(ack)
            self.assertStatus(r, 200)
            self.assertIn("Nothing to do", r.text)
            self.assertIn("this link has been used already", r.text)
            acks = self.acks(h, inc)
            self.assertEqual(len(acks), 1, acks)
            self.assertEqual((acks[0]["actor"], acks[0]["via"]), ("user:ada", "link"))

            # Bob's own link still works for what he may do (resolve), once.
            bob_resolve = urllib.parse.urlsplit(bob["resolve_url"]).path
            self.assertStatus(h.post(bob_resolve), 200)
            self.assertEqual(status_of(h, inc), "resolved")
            self.assertIn("used already", h.post(bob_resolve).text)
            # Across a restart: the record of used links is in the database.
            h.stop()
            h.start()
            self.assertIn("used already", h.post(bob_resolve).text)
            self.assertIn("used already", h.post(ack).text)


XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
XSS_MARKERS = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")


def yq(text):
    """`text` as a single-quoted YAML scalar."""
    return "'" + text.replace("'", "''") + "'"


def xss_org(c):
    return f"""users:
  - id: ada
    name: {yq("Ada " + XSS)}
    role: admin
    contact_methods:
      - {{id: ada-hook, type: webhook, url: "{c.url('/hook/ada')}"}}
escalation_policies:
  - id: ep
    steps:
      - {{delay_minutes: 0, targets: [{{user: ada}}]}}
services:
  - id: svc
    name: {yq("Svc " + XSS)}
    escalation_policy: ep
    integrations:
      - {{type: events_v2, key: "{S['ev_key']}"}}
status_page:
  title: {yq("Status " + XSS)}
  components:
    - {{id: web, name: {yq("Web " + XSS)}, services: [svc]}}
"""


class XssTest(harness.HoustonTestCase):
    def assertEscaped(self, r, what):
        ctype = r.headers.get("Content-Type", "")
        if "html" not in ctype:
            return
        for marker in XSS_MARKERS:
            self.assertNotIn(marker, r.text, f"unescaped payload in {what} ({ctype})")
        # Escaped, not dropped: the page does show the text.
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", r.text, what)

    def test_every_rendered_page_escapes(self):
        with WebhookCollector() as c:
            h = self.new_server(org_text=xss_org(c),
                                extra_args=["--allow-egress", "127.0.0.1/32"])
            admin = h.token("admin")
            self.assertStatus(h.enqueue(trigger(S["ev_key"], "xss-1", summary="Alert " + XSS)),
                              202)
            alerts = harness.wait_until(lambda: h.alerts_by_dedup().get("xss-1"), 5, "alert")
            inc = alerts[0]["incident_id"]
            r = h.request("PATCH", f"/api/v1/incidents/{inc}",
                          {"title": "Title " + XSS, "summary": "Summary " + XSS,
                           "public_title": "Public " + XSS}, token=admin)
            self.assertStatus(r, 200)
            self.assertStatus(h.post(f"/api/v1/incidents/{inc}/notes", {"text": "Note " + XSS},
                                     token=admin), 201)
            self.assertStatus(h.post(f"/api/v1/incidents/{inc}/updates",
                                     {"message": "Update " + XSS,
                                      "public_message": "Public update " + XSS}, token=admin),
                              201)
            # A declared incident is on the public status page, with its public update.
            r = h.post("/api/v1/incidents", {"title": "Declared " + XSS, "service": "svc", "sev": "SEV2",
                                             "public_title": "Declared public " + XSS},
                       token=admin)
            self.assertStatus(r, 201)
            declared = r.json.get("incident", r.json)["id"]
            self.assertStatus(h.post(f"/api/v1/incidents/{declared}/updates",
                                     {"public_message": "Declared update " + XSS}, token=admin),
                              201)
            page = c.wait_for(lambda rs: [x for x in rs if x.path == "/hook/ada"], 15, "a page")
            body = page[0].json
            view = urllib.parse.urlsplit(body["incident"]["url"]).path
            ack = urllib.parse.urlsplit(body["ack_url"]).path

            pages = {"status": "/status", "view link": view, "ack link": ack,
                     "web UI": f"/incidents/{inc}"}
            for what, path in pages.items():
                r = h.get(path)
                self.assertStatus(r, 200, what)
                if what != "web UI":  # the UI page is static; the SPA renders the data
                    self.assertEscaped(r, what)
                else:
                    for marker in XSS_MARKERS:
                        self.assertNotIn(marker, r.text)
            status_page = h.get("/status").text
            for text in ("Declared public &lt;script&gt;", "Declared update &lt;script&gt;"):
                self.assertIn(text, status_page)
            # The link page shows the incident's own text.
            view_page = h.get(view).text
            for text in ("Title &lt;script&gt;", "Svc &lt;script&gt;", "Note &lt;script&gt;",
                         "Summary &lt;script&gt;"):
                self.assertIn(text, view_page)
            # Acting through the link: the answer page shows the title escaped.
            r = h.post(ack)
            self.assertStatus(r, 200)
            self.assertEscaped(r, "the acknowledged page")
            # Postmortem text in its Markdown export is not served as HTML.
            self.assertStatus(h.post(f"/api/v1/incidents/{inc}/resolve", token=admin), 200)
            r = h.request("PUT", f"/api/v1/incidents/{inc}/postmortem",
                          {"sections": {"what_happened": "PM " + XSS}}, token=admin)
            self.assertIn(r.status, (200, 201), r)
            md = h.get(f"/api/v1/incidents/{inc}/postmortem.md", token=admin)
            self.assertStatus(md, 200)
            self.assertNotIn("html", md.headers.get("Content-Type", ""))
            self.assertEqual(md.headers.get("X-Content-Type-Options"), "nosniff", md.headers)
            # JSON answers are JSON (a browser never renders them as HTML).
            j = h.get(f"/api/v1/incidents/{inc}", token=admin)
            self.assertTrue(j.headers["Content-Type"].startswith("application/json"))


if __name__ == "__main__":
    harness.main()
