#!/usr/bin/python3
"""End-to-end for houston's Opsgenie-compatible Alert and Heartbeat API (docs/opsgenie-api.md):

- the official npm `opsgenie-sdk` 0.5.1 (pinned in tests/e2e/package.json), with only its host
  set to houston: create, acknowledge, add note, close, unacknowledge, get, polling the request
  status until success, and a heartbeat ping;
- replayed wire shapes of Grafana's Opsgenie contact point (posts to the full create URL, closes
  with {apiUrl}/{alias}/close?identifierType=alias) and of Zabbix's Opsgenie media type (creates,
  then polls requests/{id} for data.success and data.alertId; acts by alias);
- heartbeat pings by name (GET, POST, PUT, PATCH; any prefix), and unknown names;
- bad input: no key or an unknown key (401), malformed JSON (400), fields over their limits and
  unknown identifierType (422 naming them), bodies over the limits (413), unknown paths and
  methods (404, 405), the rate limit (429); Basic and ?apiKey= authentication."""

import json
import os
import re
import shutil
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from opsgenie_peers import (EVENTS_KEY, HB_NIGHTLY, HB_PAYMENTS_NIGHTLY, HB_SEARCH_ONLY,  # noqa
                            OG_KEY, OG_KEY_LIMITED, OG_KEY_PAYMENTS, basic, genie, opsgenie_org)
from paging_peers import WebhookCollector  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_SCRIPT = os.path.join(HERE, "opsgenie_sdk_send.js")
NODE = shutil.which("node") or "/usr/bin/node"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class OpsgenieApiTest(harness.HoustonTestCase):

    def setUp(self):
        super().setUp()
        self.collector = WebhookCollector().start()
        self.addCleanup(self.collector.close)
        self.h = self.new_server(org_text=opsgenie_org(self.collector.url("/hook/alice")),
                                 extra_args=["--allow-egress", "127.0.0.1/32"])

    # ---- helpers

    def og(self, method, path, body=None, headers=None, key=OG_KEY):
        hdrs = dict(genie(key) if key else {})
        hdrs.update(headers or {})
        return self.h.request(method, path, body=body, headers=hdrs)

    def assertAccepted(self, r, result="Request will be processed"):
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["result"], result, r)
        self.assertIsInstance(r.json["took"], (int, float))
        self.assertRegex(r.json["requestId"], UUID_RE)
        self.assertEqual(r.headers["X-Request-ID"], r.json["requestId"])
        return r.json["requestId"]

    def assertOgError(self, r, status, *needles):
        self.assertEqual(r.status, status, r)
        self.assertIsNotNone(r.json, r)
        self.assertEqual(set(r.json) - {"errors"}, {"message", "code", "took", "requestId"}, r)
        self.assertEqual(r.json["code"], status, r)
        self.assertRegex(r.json["requestId"], UUID_RE)
        for n in needles:
            self.assertIn(n, r.json["message"] + json.dumps(r.json.get("errors", {})), r)
        return r.json

    def status_of(self, request_id, key=OG_KEY):
        r = self.og("GET", f"/v2/alerts/requests/{request_id}", key=key)
        self.assertEqual(r.status, 200, r)
        return r.json["data"]

    def sdk(self, steps):
        path = os.path.join(self.tmp, f"steps-{uuid.uuid4().hex[:8]}.json")
        with open(path, "w") as f:
            json.dump(steps, f)
        env = {k: v for k, v in os.environ.items()
               if k not in ("HTTP_PROXY", "http_proxy", "NODE_OPTIONS")}
        p = subprocess.run([NODE, SDK_SCRIPT, self.h.url, OG_KEY, path], capture_output=True,
                           text=True, timeout=30, env=env, cwd=HERE)
        self.assertEqual(p.returncode, 0, f"node failed: {p.stderr}")
        out = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        self.assertEqual(len(out), len(steps), p.stdout + p.stderr)
        for step, res in zip(steps, out):
            self.assertTrue(res["ok"], f"{step} -> {res}")
        return out

    def timeline(self, incident_id):
        return self.h.api(f"/api/v1/incidents/{incident_id}/timeline")["timeline"]

    def last_beats(self):
        out = {}
        for s in self.h.api("/api/v1/services")["services"]:
            for i in s["integrations"]:
                if i["type"] == "heartbeat":
                    out[i["key"]] = i["last_beat_at"]
        return out

    # ---- the npm SDK

    def test_opsgenie_sdk(self):
        self.assertTrue(os.access(NODE, os.X_OK), "node is missing (scripts/install-deps.sh)")
        self.assertTrue(os.path.isdir(os.path.join(HERE, "node_modules", "opsgenie-sdk")),
                        "tests/e2e/node_modules/opsgenie-sdk is missing: run npm ci in tests/e2e "
                        "(scripts/install-deps.sh does)")
        alias = {"identifier": "sdk-disk", "identifierType": "alias"}
        created, pong = self.sdk([
            {"op": "create", "data": {
                "message": "sdk: disk 95% full on db1", "alias": "sdk-disk",
                "description": "db1 /var is almost full", "priority": "P2",
                "tags": ["disk", "db1"], "details": {"free_gb": "3", "host": "db1"},
                "entity": "db1", "source": "opsgenie-sdk e2e", "user": "ci",
                "note": "created by the e2e test",
                "responders": [{"name": "ops", "type": "team"}]}},
            {"op": "ping", "name": "nightly-backup"}])
        self.assertEqual(created["result"]["result"], "Request will be processed")
        self.assertRegex(created["result"]["requestId"], UUID_RE)
        self.assertEqual(pong["result"]["result"], "PONG - Heartbeat received")

        (status,) = self.sdk([{"op": "pollRequestStatus",
                               "requestId": created["result"]["requestId"]}])
        data = status["result"]["data"]
        self.assertEqual(status["tries"], 1)  # durable before the 202: known at once
        self.assertTrue(data["success"])
        self.assertTrue(data["isSuccess"])
        self.assertEqual(data["action"], "Create")
        self.assertEqual(data["status"], "Created alert")
        self.assertEqual(data["alias"], "sdk-disk")
        self.assertEqual(data["integrationId"], "Opsgenie senders")
        alert_id = data["alertId"]
        alert = self.h.alert(int(alert_id))
        self.assertEqual(alert["dedup_key"], "sdk-disk")
        self.assertEqual(alert["severity"], "critical")  # P2 -> critical in this org
        self.assertEqual(alert["summary"], "sdk: disk 95% full on db1")
        self.assertEqual(alert["source"], "opsgenie-sdk e2e")
        self.assertEqual(alert["custom_details"]["details"], {"free_gb": "3", "host": "db1"})
        incident_id = alert["incident_id"]
        self.collector.wait_for(lambda reqs: [r for r in reqs if r.path == "/hook/alice"], 15,
                                "Alice to be paged")
        self.assertIsNotNone(self.last_beats()[HB_NIGHTLY])

        ack, note, got = self.sdk([
            {"op": "acknowledge", "identifier": alias, "data": {"user": "alice", "note": "on it"}},
            {"op": "addNote", "identifier": alias, "data": {"note": "freed 20 GB", "user": "alice"}},
            {"op": "get", "identifier": {"identifier": alert_id, "identifierType": "id"}}])
        statuses = self.sdk([
            {"op": "pollRequestStatus", "requestId": ack["result"]["requestId"]},
            {"op": "pollRequestStatus", "requestId": note["result"]["requestId"]}])
        self.assertEqual([(s["result"]["data"]["action"], s["result"]["data"]["status"])
                          for s in statuses],
                         [("Acknowledge", "Acknowledged alert"), ("AddNote", "Added note")])
        g = got["result"]["data"]
        self.assertEqual((g["id"], g["tinyId"], g["alias"]), (alert_id, alert_id, "sdk-disk"))
        self.assertEqual((g["status"], g["priority"], g["tags"]), ("open", "P2", ["disk", "db1"]))
        self.assertEqual(g["message"], "sdk: disk 95% full on db1")
        self.assertEqual(g["entity"], "db1")
        self.assertEqual(g["description"], "db1 /var is almost full")
        self.assertEqual(g["responders"], [{"name": "ops", "type": "team"}])
        self.assertEqual(self.h.alert(int(alert_id))["status"], "acknowledged")
        self.assertEqual(self.h.incident(incident_id)["incident"]["status"], "acknowledged")

        (close,) = self.sdk([{"op": "close", "identifier": alias,
                              "data": {"user": "alice", "note": "fixed"}}])
        (closed, got) = self.sdk([
            {"op": "pollRequestStatus", "requestId": close["result"]["requestId"]},
            {"op": "get", "identifier": {"identifier": alert_id, "identifierType": "tiny"}}])
        self.assertEqual(closed["result"]["data"]["status"], "Closed alert")
        self.assertEqual(got["result"]["data"]["status"], "closed")
        self.assertEqual(self.h.incident(incident_id)["incident"]["status"], "resolved")
        texts = [e["details"].get("text") for e in self.timeline(incident_id)
                 if e["action"] == "incident.note"]
        self.assertEqual(texts, ["created by the e2e test", "on it", "freed 20 GB", "fixed"])

        # Unacknowledge: the alert and its incident go back to triggered and page again.
        (c2,) = self.sdk([{"op": "create", "data": {"message": "sdk: second", "alias": "sdk-2"}}])
        a2 = self.h.alert(int(self.status_of(c2["result"]["requestId"])["alertId"]))
        sdk2 = {"identifier": "sdk-2", "identifierType": "alias"}
        self.sdk([{"op": "acknowledge", "identifier": sdk2},
                  {"op": "unacknowledge", "identifier": sdk2, "data": {"user": "alice"}}])
        self.assertEqual(self.h.alert(a2["id"])["status"], "triggered")
        inc2 = self.h.incident(a2["incident_id"])["incident"]
        self.assertEqual(inc2["status"], "triggered")
        actions = [e["action"] for e in self.timeline(a2["incident_id"])]
        self.assertIn("incident.acknowledged", actions)
        self.assertIn("incident.retriggered", actions)

    # ---- Grafana's and Zabbix's wire shapes

    def test_grafana_contact_point_shape(self):
        # Grafana's apiUrl is the full create URL; here under a prefix, with Grafana's body.
        api_url = "/grafana-og/v2/alerts"
        alias = "3d1fe3e6c85bd6d6b4f2c4b2a9e6c3f5d1b2a4c6e8f0a2b4c6d8e0f2a4b6c8d0"
        body = {"alias": alias, "message": "[FIRING:1] HighLatency checkout",
                "description": "HighLatency\nhttp://grafana.example/alerting/list\n",
                "tags": ["alertname:HighLatency", "severity:page", "team:ops"],
                "source": "Grafana",
                "details": {"url": "http://grafana.example/alerting/list"},
                "priority": "P1",
                "responders": [{"type": "team", "name": "ops"}]}
        rid = self.assertAccepted(self.og("POST", api_url, body))
        st = self.status_of(rid)
        self.assertEqual((st["success"], st["action"], st["alias"]), (True, "Create", alias))
        alert = self.h.alert(int(st["alertId"]))
        self.assertEqual(alert["severity"], "critical")
        self.assertEqual(alert["custom_details"]["tags"], body["tags"])
        # The re-send of a firing group counts up.
        self.assertAccepted(self.og("POST", api_url, body))
        self.assertEqual(self.h.alert(alert["id"])["event_count"], 2)
        # Resolve: {apiUrl}/{alias}/close?identifierType=alias with {"source":"Grafana"}.
        rid = self.assertAccepted(self.og(
            "POST", f"{api_url}/{alias}/close?identifierType=alias", {"source": "Grafana"}))
        self.assertEqual(self.status_of(rid)["status"], "Closed alert")
        self.assertEqual(self.h.alert(alert["id"])["status"], "resolved")
        # Firing again after the close opens a new alert under the same alias.
        rid = self.assertAccepted(self.og("POST", api_url, body))
        self.assertNotEqual(self.status_of(rid)["alertId"], str(alert["id"]))

    def test_zabbix_media_type_shape(self):
        api = "/zbx/v2/alerts"
        event = {"message": "Zabbix: High CPU on web01", "alias": "12345",
                 "description": "Problem started at 10:00:00 on 2026.12.05",
                 "priority": "P4", "entity": "web01", "source": "Zabbix",
                 "tags": ["Host:web01", "Severity:Average"],
                 "details": {"Trigger URL": "http://zabbix.example/tr?eventid=12345"},
                 "user": "Admin"}
        rid = self.assertAccepted(self.og("POST", api + "/", event))  # Zabbix posts <api>/
        st = self.status_of(rid)  # Zabbix polls requests/<id> for these two
        self.assertTrue(st["success"])
        self.assertRegex(st["alertId"], r"^[0-9]+$")
        alert = self.h.alert(int(st["alertId"]))
        self.assertEqual(alert["severity"], "info")  # P4 -> info (the default mapping)
        for action, body, status in (
                ("acknowledge", {"user": "Admin", "note": "Ack from Zabbix"}, "Acknowledged alert"),
                ("notes", {"user": "Admin", "note": "Update from Zabbix"}, "Added note"),
                ("close", {"user": "Admin", "note": "Resolved in Zabbix"}, "Closed alert")):
            rid = self.assertAccepted(
                self.og("POST", f"{api}/12345/{action}?identifierType=alias", body))
            got = self.status_of(rid)
            self.assertEqual((got["success"], got["status"]), (True, status), got)
        self.assertEqual(self.h.alert(alert["id"])["status"], "resolved")
        # A close of an alias with no open alert: 202, then a failed request status.
        rid = self.assertAccepted(self.og("POST", f"{api}/12345/close?identifierType=alias",
                                          {"user": "Admin"}))
        got = self.status_of(rid)
        self.assertEqual((got["success"], got["isSuccess"], got["action"], got["status"]),
                         (False, False, "Close", "Alert does not exist"))
        self.assertEqual(got["alertId"], "")

    # ---- heartbeats

    def test_heartbeat_pings(self):
        self.assertIsNone(self.last_beats()[HB_NIGHTLY])
        for method in ("GET", "POST", "PUT", "PATCH"):
            self.assertAccepted(self.og(method, "/v2/heartbeats/nightly-backup/ping"),
                                "PONG - Heartbeat received")
        beats = self.last_beats()
        # The name on the key's own service wins; payments' heartbeat of that name is untouched.
        self.assertIsNotNone(beats[HB_NIGHTLY])
        self.assertIsNone(beats[HB_PAYMENTS_NIGHTLY])
        self.assertAccepted(self.og("GET", "/v2/heartbeats/nightly-backup/ping",
                                    key=OG_KEY_PAYMENTS), "PONG - Heartbeat received")
        self.assertIsNotNone(self.last_beats()[HB_PAYMENTS_NIGHTLY])
        # A name only one service has, under a prefix, with ?apiKey= and a trailing slash.
        r = self.h.request("GET", f"/og/v2/heartbeats/reindex/ping/?apiKey={OG_KEY}")
        self.assertAccepted(r, "PONG - Heartbeat received")
        self.assertIsNotNone(self.last_beats()[HB_SEARCH_ONLY])
        # Unknown names: PONG as Opsgenie says, counted and logged.
        self.assertAccepted(self.og("GET", "/v2/heartbeats/no-such-job/ping"),
                            "PONG - Heartbeat received")
        metrics = harness.parse_metrics(self.h.metrics())
        self.assertEqual(metrics.get('houston_events_total{integration="opsgenie_heartbeat",'
                                     'result="unknown_heartbeat"}'), 1)
        self.assertEqual(metrics.get('houston_events_total{integration="opsgenie_heartbeat",'
                                     'result="accepted"}'), 6)
        wait_until(lambda: "no-such-job" in self.h.log(), 5, "a warning naming the heartbeat")
        self.assertOgError(self.og("GET", "/v2/heartbeats/nightly-backup/ping", key="bogus-key1"),
                           401)

    # ---- bad input and the error shapes

    def test_bad_input(self):
        create = {"message": "m", "alias": "bad-1"}
        # Authentication: none, unknown key, another type's key -> 401 in Opsgenie's shape.
        self.assertOgError(self.og("POST", "/v2/alerts", create, key=None), 401, "GenieKey")
        self.assertOgError(self.og("POST", "/v2/alerts", create, key="not-a-real-key"), 401,
                           "no opsgenie integration has this key")
        self.assertOgError(self.og("POST", "/v2/alerts", create, key=EVENTS_KEY), 401)
        # Basic with the key as password (empty or any user) and ?apiKey= work.
        self.assertAccepted(self.h.request("POST", "/v2/alerts", create,
                                           headers=basic(OG_KEY)))
        self.assertAccepted(self.h.request("POST", "/v2/alerts/", create,
                                           headers=basic(OG_KEY, "anyone")))
        self.assertAccepted(self.h.request("POST", f"/v2/alerts?apiKey={OG_KEY}", create))
        self.assertEqual(self.h.alerts_by_dedup()["bad-1"][0]["event_count"], 3)

        # Malformed JSON: 400.
        self.assertOgError(self.og("POST", "/v2/alerts", '{"message": '), 400, "not valid JSON")
        self.assertOgError(self.og("POST", "/v2/alerts", "[1,2]"), 400, "JSON object")
        # Semantic errors: 422 naming each field.
        e = self.assertOgError(self.og("POST", "/v2/alerts", {"alias": "x"}), 422, "'message'")
        self.assertEqual(e["errors"], {"message": "is missing"})
        e = self.assertOgError(self.og("POST", "/v2/alerts", {
            "message": "m", "description": "d" * 15001, "tags": ["t"] * 21,
            "details": {"k": "v" * 8000}, "priority": "P9", "user": "u" * 101}), 422)
        self.assertEqual(set(e["errors"]), {"description", "tags", "details", "priority", "user"})
        self.assertIn("longer than 15000", e["errors"]["description"])
        self.assertIn("at most 20", e["errors"]["tags"])
        self.assertOgError(self.og("POST", "/v2/alerts/bad-1/notes?identifierType=alias", {}), 422,
                           "'note' is missing")
        # A long message is truncated to 130 characters, as Opsgenie does; the whole text kept.
        rid = self.assertAccepted(self.og("POST", "/v2/alerts", {"message": "x" * 200,
                                                                 "alias": "long"}))
        long_alert = self.h.alert(int(self.status_of(rid)["alertId"]))
        self.assertEqual(long_alert["summary"], "x" * 130)
        self.assertEqual(long_alert["custom_details"]["message"], "x" * 200)
        # Unknown identifierType: 422 naming the parameter.
        e = self.assertOgError(self.og("POST", "/v2/alerts/bad-1/close?identifierType=name", {}),
                               422, "identifierType")
        self.assertIn("identifierType", e["errors"])
        self.assertOgError(self.og("GET", "/v2/alerts/bad-1?identifierType=name"), 422)
        # GET of unknown alerts and requests: 404.
        self.assertOgError(self.og("GET", "/v2/alerts/nope?identifierType=alias"), 404,
                           "Alert does not exist")
        self.assertOgError(self.og("GET", "/v2/alerts/999999"), 404)
        self.assertOgError(self.og("GET", f"/v2/alerts/requests/{uuid.uuid4()}"), 404)
        # Another key's request statuses and alerts are not found.
        rid = self.assertAccepted(self.og("POST", "/v2/alerts", {"message": "p", "alias": "p1"},
                                          key=OG_KEY_PAYMENTS))
        self.assertOgError(self.og("GET", f"/v2/alerts/requests/{rid}"), 404)
        pay_id = self.status_of(rid, key=OG_KEY_PAYMENTS)["alertId"]
        self.assertOgError(self.og("GET", f"/v2/alerts/{pay_id}"), 404)
        rid = self.assertAccepted(self.og("POST", f"/v2/alerts/{pay_id}/close", {}))
        self.assertEqual(self.status_of(rid)["status"], "Alert does not exist")
        # Lists: limit 1..100, supported queries only.
        self.assertOgError(self.og("GET", "/v2/alerts?limit=101"), 422, "limit")
        self.assertOgError(self.og("GET", "/v2/alerts?query=tag:disk"), 422, "tag:disk")
        listed = self.og("GET", "/v2/alerts?query=status%3Aopen&limit=1")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(len(listed.json["data"]), 1)
        self.assertEqual(listed.json["data"][0]["alias"], "long")  # newest first
        self.assertIn("offset=1", listed.json["paging"]["next"])
        closed = self.og("GET", "/v2/alerts?query=status:closed")
        self.assertEqual(closed.json["data"], [])

        # Bodies over the limits: the handler's (512 KiB) and the server's (1 MiB) -> 413.
        big = {"message": "m", "details": {"pad": "y" * (600 * 1024)}}
        self.assertOgError(self.og("POST", "/v2/alerts", big), 413, "larger than")
        huge = {"message": "m", "details": {"pad": "y" * (1100 * 1024)}}
        self.assertOgError(self.og("POST", "/prefix/v2/alerts", huge), 413, "larger than")
        # Unknown paths and methods under the API: 404 and 405 in Opsgenie's shape.
        self.assertOgError(self.og("POST", "/p/v2/alerts/bad-1/snooze", {}), 404)
        r = self.og("DELETE", "/v2/alerts/bad-1")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(set(r.json) - {"errors"}, {"message", "code", "took", "requestId"})
        self.assertIn("GET", r.headers["Allow"])
        # The PagerDuty Events API beside it keeps its own shape.
        pd = self.h.request("POST", "/v2/enqueue", "{")
        self.assertEqual(pd.status, 400, pd)
        self.assertEqual(pd.json["status"], "invalid event")

        # The integration's rate limit (1/s): 429 with Retry-After, nothing stored.
        codes = [self.og("POST", "/v2/alerts", {"message": "r", "alias": "rl"},
                         key=OG_KEY_LIMITED).status for _ in range(3)]
        self.assertEqual(codes[0], 202)
        self.assertIn(429, codes)
        r = self.og("POST", "/v2/alerts", {"message": "r", "alias": "rl"}, key=OG_KEY_LIMITED)
        if r.status == 429:
            self.assertOgError(r, 429, "Rate limit")
            self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)

        metrics = harness.parse_metrics(self.h.metrics())
        self.assertGreaterEqual(metrics.get('houston_events_total{integration="opsgenie",'
                                            'result="unknown_key"}', 0), 3)
        self.assertGreaterEqual(metrics.get('houston_events_total{integration="opsgenie",'
                                            'result="rejected"}', 0), 6)
        self.assertGreaterEqual(metrics.get('houston_events_total{integration="opsgenie",'
                                            'result="rate_limited"}', 0), 1)
        self.assertFalse(re.search(r"\[error\]", self.h.log()), self.h.log()[-3000:])


if __name__ == "__main__":
    harness.main()
