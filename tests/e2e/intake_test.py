#!/usr/bin/python3
"""End-to-end: every intake endpoint (PagerDuty Events API v2 semantics, change events,
Alertmanager, Grafana, generic, heartbeat), rate limits, REST auth and audit, and the CLI."""

import json
import os
import re
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (AM_KEY, AM_KEY_LIMITED, EVENTS_KEY, EVENTS_KEY_2,  # noqa: E402
                     EVENTS_KEY_LIMITED, GENERIC_KEY, GENERIC_KEY_PLAIN, GRAFANA_KEY,
                     HEARTBEAT_KEY, HOUSTON_BIN)


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def trigger(key, routing_key=EVENTS_KEY, summary="Disk 95% full on db1", **extra):
    ev = {"routing_key": routing_key, "event_action": "trigger",
          "payload": {"summary": summary, "source": "db1", "severity": "critical"}}
    if key is not None:
        ev["dedup_key"] = key
    ev.update(extra)
    return ev


def action(act, key, routing_key=EVENTS_KEY):
    return {"routing_key": routing_key, "event_action": act, "dedup_key": key}


def pd_success(key):
    return json.dumps({"status": "success", "message": "Event processed", "dedup_key": key},
                      separators=(",", ":")).encode()


def am_payload(group_key, alerts, status=None):
    """An Alertmanager webhook v4 body; `alerts` = [(fingerprint, instance, status)]."""
    items = []
    for fp, instance, st in alerts:
        items.append({
            "status": st,
            "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical",
                       "job": "node"},
            "annotations": {"summary": f"Disk full on {instance}"},
            "startsAt": "2026-02-06T13:08:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z" if st == "firing" else "2026-02-06T13:20:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
            "fingerprint": fp,
        })
    if status is None:
        status = "firing" if any(a[2] == "firing" for a in alerts) else "resolved"
    return {
        "receiver": "houston", "status": status, "alerts": items,
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
        "version": "4", "groupKey": group_key, "truncatedAlerts": 0,
    }


class IntakeTest(harness.HoustonTestCase):
    SHARED_SERVER = True

    # ---- helpers

    def one_alert(self, dedup_key, routing_query=""):
        alerts = self.h.alerts_by_dedup(routing_query).get(dedup_key, [])
        self.assertEqual(len(alerts), 1, f"alerts with dedup_key {dedup_key}: {alerts}")
        return alerts[0]

    def send(self, event, expect=202):
        r = self.h.enqueue(event)
        self.assertStatus(r, expect, f"for {event}")
        return r

    # ---- PagerDuty Events API v2

    def test_trigger_body_exact_and_repeat_folds(self):
        key = uniq("db1/disk")
        # The README's curl example, with the real curl.
        p = subprocess.run(
            ["curl", "-sS", "-i", "-X", "POST", f"{self.h.url}/v2/enqueue",
             "-H", "Content-Type: application/json", "-d", json.dumps(trigger(key))],
            capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        head, _, body = p.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 202"), head)
        self.assertRegex(head.decode().lower(), r"content-type: application/json")
        self.assertEqual(body, pd_success(key))

        r = self.send(trigger(key, summary="Disk 97% full on db1"))
        self.assertEqual(r.raw, pd_success(key))
        a = self.one_alert(key)
        got = self.h.alert(a["id"])
        self.assertEqual(got["event_count"], 2, got)
        self.assertEqual(got["status"], "triggered")
        self.assertEqual(got["summary"], "Disk 97% full on db1", "the latest payload is kept")
        self.assertEqual(got["service"], "checkout")
        self.assertEqual(got["severity"], "critical")
        inc = self.h.incident(got["incident_id"])
        self.assertEqual(inc["incident"]["status"], "triggered")
        self.assertEqual([x["id"] for x in inc["alerts"]], [got["id"]])

    def test_ack_and_resolve_of_unknown_key_are_accepted_and_dropped(self):
        before = len(self.h.all_alerts())
        for act in ("acknowledge", "resolve"):
            key = uniq(f"never-triggered-{act}")
            r = self.send(action(act, key))
            self.assertEqual(r.raw, pd_success(key))
            self.assertNotIn(key, self.h.alerts_by_dedup())
        self.assertEqual(len(self.h.all_alerts()), before, "ack/resolve created an alert")

    def test_lifecycle_and_trigger_after_resolve_opens_new_alert(self):
        key = uniq("lifecycle")
        self.send(trigger(key))
        first = self.one_alert(key)
        self.send(action("acknowledge", key))
        a = self.h.alert(first["id"])
        self.assertEqual(a["status"], "acknowledged")
        self.assertIsNotNone(a["acknowledged_at"])
        self.assertEqual(self.h.incident(a["incident_id"])["incident"]["status"], "acknowledged")
        # A trigger on an acknowledged alert folds into it and does not re-open it.
        self.send(trigger(key))
        a = self.h.alert(first["id"])
        self.assertEqual((a["status"], a["event_count"]), ("acknowledged", 2))
        self.send(action("resolve", key))
        a = self.h.alert(first["id"])
        self.assertEqual(a["status"], "resolved")
        self.assertIsNotNone(a["resolved_at"])
        self.assertEqual(self.h.incident(a["incident_id"])["incident"]["status"], "resolved")
        # ack/resolve after the resolve: dropped, nothing changes.
        self.send(action("acknowledge", key))
        self.send(action("resolve", key))
        self.assertEqual(self.h.alert(first["id"])["status"], "resolved")
        self.assertEqual(len(self.h.alerts_by_dedup()[key]), 1)
        # A new trigger: a new alert with a new id, in a new incident.
        r = self.send(trigger(key))
        self.assertEqual(r.raw, pd_success(key))
        alerts = self.h.alerts_by_dedup()[key]
        self.assertEqual(len(alerts), 2, alerts)
        new = [x for x in alerts if x["id"] != first["id"]][0]
        self.assertGreater(new["id"], first["id"])
        self.assertEqual((new["status"], new["event_count"]), ("triggered", 1))
        self.assertNotEqual(new["incident_id"], first["incident_id"])
        self.assertEqual(self.h.alert(first["id"])["status"], "resolved")

    def test_keyless_trigger_gets_a_usable_generated_key(self):
        keys = []
        for ev in (trigger(None), trigger("")):
            r = self.send(ev)
            body = r.json
            self.assertEqual(set(body), {"status", "message", "dedup_key"}, body)
            self.assertEqual((body["status"], body["message"]), ("success", "Event processed"))
            key = body["dedup_key"]
            self.assertIsInstance(key, str)
            self.assertTrue(0 < len(key) <= 255, key)
            self.assertEqual(r.raw, pd_success(key))
            keys.append(key)
        self.assertNotEqual(keys[0], keys[1], "two keyless triggers got the same key")
        for key in keys:
            a = self.one_alert(key)
            self.assertEqual(a["status"], "triggered")
            self.send(action("resolve", key))
            self.assertEqual(self.h.alert(a["id"])["status"], "resolved")

    def test_dedup_is_scoped_per_routing_key(self):
        key = uniq("shared-key")
        self.send(trigger(key, routing_key=EVENTS_KEY))
        self.send(trigger(key, routing_key=EVENTS_KEY_2))
        alerts = self.h.alerts_by_dedup()[key]
        self.assertEqual(len(alerts), 2, alerts)
        by_service = {a["service"]: a for a in alerts}
        self.assertEqual(set(by_service), {"checkout", "payments"})
        self.assertNotEqual(by_service["checkout"]["incident_id"],
                            by_service["payments"]["incident_id"])
        for a in alerts:
            self.assertEqual(a["event_count"], 1)
        # A resolve through the second key touches only the second key's alert.
        self.send(action("resolve", key, routing_key=EVENTS_KEY_2))
        self.assertEqual(self.h.alert(by_service["payments"]["id"])["status"], "resolved")
        self.assertEqual(self.h.alert(by_service["checkout"]["id"])["status"], "triggered")
        self.send(action("acknowledge", key, routing_key=EVENTS_KEY_2))  # dropped
        self.assertEqual(self.h.alert(by_service["checkout"]["id"])["status"], "triggered")

    def test_concurrent_identical_triggers_make_one_alert(self):
        """The same new dedup key sent by 16 clients at once: one alert, one incident."""
        import threading
        key = uniq("race")
        barrier = threading.Barrier(16)
        results = []

        def send():
            conn = self.h.connection()
            try:
                conn.connect()
                barrier.wait(10)
                conn.request("POST", "/v2/enqueue", body=json.dumps(trigger(key)),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                results.append((resp.status, resp.read()))
            finally:
                conn.close()

        threads = [threading.Thread(target=send) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(results, [(202, pd_success(key))] * 16)
        alerts = self.h.alerts_by_dedup()[key]
        self.assertEqual(len(alerts), 1, alerts)
        self.assertEqual(alerts[0]["event_count"], 16)
        incidents = self.h.api("/api/v1/incidents?limit=1000")["incidents"]
        self.assertEqual(len([i for i in incidents if i["id"] == alerts[0]["incident_id"]]), 1)
        self.assertEqual(self.h.incident(alerts[0]["incident_id"])["incident"]["alert_count"], 1)

    def test_readme_curl_without_content_type(self):
        """The README's resolve example uses `curl -d` (form content type): still an event."""
        key = uniq("readme")
        self.send(trigger(key))
        p = subprocess.run(
            ["curl", "-sS", "-X", "POST", f"{self.h.url}/v2/enqueue", "-w", "\n%{http_code}",
             "-d", json.dumps(action("resolve", key))], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, pd_success(key) + b"\n202")
        self.assertEqual(self.one_alert(key)["status"], "resolved")

    def test_list_filters(self):
        key = uniq("filters")
        self.send(trigger(key, routing_key=EVENTS_KEY_2))
        a = self.one_alert(key)
        listed = self.h.api("/api/v1/alerts?service=payments&status=triggered&limit=1000")
        self.assertIn(a["id"], [x["id"] for x in listed["alerts"]])
        self.assertTrue(all(x["service"] == "payments" and x["status"] == "triggered"
                            for x in listed["alerts"]), listed)
        self.assertEqual(self.h.api("/api/v1/alerts?since=2999-01-01T00:00:00Z")["alerts"], [])
        old = self.h.api("/api/v1/alerts?since=2000-01-01T00:00:00Z&limit=1000")["alerts"]
        self.assertIn(a["id"], [x["id"] for x in old])
        incs = self.h.api("/api/v1/incidents?service=payments&status=triggered&limit=1000")
        self.assertIn(a["incident_id"], [i["id"] for i in incs["incidents"]])
        for bad in ("status=open", "since=yesterday", "limit=-1", "cursor=0"):
            r = self.h.get(f"/api/v1/alerts?{bad}", token=self.h.token("viewer"))
            self.assertStatus(r, 400, bad)
            self.assertEqual(r.json["error"]["code"], "invalid_argument", r.json)
        r = self.h.get("/api/v1/incidents/999999999", token=self.h.token("viewer"))
        self.assertStatus(r, 404)

    def test_request_id_and_head(self):
        r = self.h.get("/healthz", headers={"X-Request-Id": "e2e-req-42"})
        self.assertEqual(r.headers.get("X-Request-Id"), "e2e-req-42")
        r = self.h.get("/healthz")
        self.assertTrue(r.headers.get("X-Request-Id"), dict(r.headers))
        r = self.h.request("HEAD", "/healthz")
        self.assertStatus(r, 200)
        self.assertEqual(r.raw, b"")

    def assertInvalidEvent(self, event_or_body, expected_fragments):
        """400 in PagerDuty's shape, with one error per fragment (each naming a problem)."""
        before = len(self.h.all_alerts())
        body = event_or_body if isinstance(event_or_body, (bytes, str)) else json.dumps(
            event_or_body)
        r = self.h.post("/v2/enqueue", body, headers={"Content-Type": "application/json"})
        self.assertStatus(r, 400, f"for {str(body)[:300]}")
        self.assertIsInstance(r.json, dict, r.text)
        self.assertEqual(r.json.get("status"), "invalid event", r.json)
        self.assertIsInstance(r.json.get("message"), str)
        errors = r.json.get("errors")
        self.assertIsInstance(errors, list, r.json)
        for frag in expected_fragments:
            self.assertTrue(any(frag in e for e in errors),
                            f"no error mentions {frag!r}: {errors}")
        self.assertGreaterEqual(len(errors), len(expected_fragments), errors)
        self.assertEqual(len(self.h.all_alerts()), before, "an invalid event was stored")
        return r.json

    def test_invalid_events_name_every_problem(self):
        # The README's example, byte for byte.
        body = self.assertInvalidEvent(
            {"routing_key": EVENTS_KEY, "event_action": "trigger",
             "payload": {"summary": "x", "severity": "urgent"}}, [])
        self.assertEqual(body, {
            "status": "invalid event", "message": "Event object is invalid",
            "errors": ["'payload.source' is missing",
                       "'payload.severity' must be one of critical, error, warning, info"]})
        # Many problems at once: each one is named.
        self.assertInvalidEvent(
            {"event_action": "explode", "dedup_key": 7, "client": 5,
             "payload": {"summary": 12, "source": "db1", "severity": "critical",
                         "timestamp": "yesterday", "colour": "red"},
             "links": [{"text": "no href"}], "images": "nope", "bogus": True},
            ["'routing_key'", "'event_action'", "'dedup_key'", "'client'", "'payload.summary'",
             "'payload.timestamp'", "payload.colour", "links[0].href", "'images'", "bogus"])
        self.assertInvalidEvent({"routing_key": EVENTS_KEY, "event_action": "trigger"},
                                ["'payload' is missing"])
        self.assertInvalidEvent({"routing_key": EVENTS_KEY, "event_action": "trigger",
                                 "payload": {}},
                                ["'payload.summary'", "'payload.source'", "'payload.severity'"])
        for act in ("acknowledge", "resolve"):
            self.assertInvalidEvent({"routing_key": EVENTS_KEY, "event_action": act},
                                    ["'dedup_key'"])
        self.assertInvalidEvent(trigger("k" * 256), ["'dedup_key' is longer than 255"])
        self.assertInvalidEvent(trigger(uniq("long"), summary="s" * 1025),
                                ["'payload.summary' is longer than 1024"])
        # v1 field names get a hint.
        self.assertInvalidEvent({"service_key": EVENTS_KEY, "event_type": "trigger",
                                 "incident_key": "x", "description": "old"},
                                ["'routing_key'", "'event_action'", "service_key",
                                 "event_type", "incident_key", "description"])
        # Not JSON / not an object.
        self.assertInvalidEvent(b"{not json", ["JSON"])
        self.assertInvalidEvent(b"[1,2,3]", ["object"])

    def test_exact_limits_are_accepted(self):
        key = "k" * 255
        self.send(trigger(key, summary="s" * 1024))
        a = self.one_alert(key)
        self.assertEqual(len(a["summary"]), 1024)
        self.send(action("resolve", key))
        self.assertEqual(self.h.alert(a["id"])["status"], "resolved")

    def test_payload_timestamps(self):
        cases = {"2015-07-17T08:42:58.315+0000": "2015-07-17T08:42:58.315Z",  # PD's example
                 "2015-07-17T08:42:58.315+02:00": "2015-07-17T06:42:58.315Z",
                 "2015-07-17T08:42:58Z": "2015-07-17T08:42:58"}
        for ts, want in cases.items():
            key = uniq("ts")
            ev = trigger(key)
            ev["payload"]["timestamp"] = ts
            self.send(ev)
            self.assertTrue(self.one_alert(key)["event_timestamp"].startswith(want),
                            (ts, self.one_alert(key)))

    def test_unknown_routing_key(self):
        for rk in ("ffffffffffffffffffffffffffffffff", AM_KEY, HEARTBEAT_KEY):
            before = len(self.h.all_alerts())
            r = self.h.enqueue(trigger(uniq("unknown-rk"), routing_key=rk))
            self.assertStatus(r, 400)
            self.assertEqual(r.json.get("status"), "invalid event", r.json)
            self.assertIn("Invalid routing key", r.json.get("errors", []), r.json)
            self.assertEqual(len(self.h.all_alerts()), before)
        r = self.h.post("/v2/change/enqueue", {"routing_key": "ffffffffffffffffffffffffffffffff",
                                               "payload": {"summary": "deploy"}})
        self.assertStatus(r, 400)
        self.assertIn("Invalid routing key", r.json.get("errors", []), r.json)

    def test_change_events(self):
        alerts_before = len(self.h.all_alerts())
        summary = uniq("Build Success: Increase snapshot create timeout")
        ev = {"routing_key": EVENTS_KEY,
              "payload": {"summary": summary, "timestamp": "2026-07-17T08:42:58.315+0000",
                          "source": "acme-build-pipeline",
                          "custom_details": {"build_state": "passed", "build_number": "2"}},
              "links": [{"href": "https://acme.example/build/2", "text": "View build"}]}
        r = self.h.post("/v2/change/enqueue", ev)
        self.assertStatus(r, 202)
        self.assertEqual(r.json, {"status": "success", "message": "Event processed"})
        r2 = self.h.post("/v2/change/enqueue", ev)  # no dedup for change events
        self.assertStatus(r2, 202)
        changes = self.h.api("/api/v1/changes?service=checkout&limit=1000")["changes"]
        mine = [c for c in changes if c["summary"] == summary]
        self.assertEqual(len(mine), 2, changes[:5])
        c = mine[0]
        self.assertEqual(c["service"], "checkout")
        self.assertEqual(c["source"], "acme-build-pipeline")
        self.assertEqual(c["custom_details"], {"build_state": "passed", "build_number": "2"})
        self.assertEqual(c["links"], [{"href": "https://acme.example/build/2",
                                       "text": "View build"}])
        self.assertTrue(c["timestamp"].startswith("2026-07-17T08:42:58"), c)
        other = self.h.api("/api/v1/changes?service=payments&limit=1000")["changes"]
        self.assertEqual([x for x in other if x["summary"] == summary], [],
                         "?service=payments listed a change of checkout")
        self.assertEqual(len(self.h.all_alerts()), alerts_before, "a change event made an alert")
        r = self.h.post("/v2/change/enqueue", {"routing_key": EVENTS_KEY, "payload": {}})
        self.assertStatus(r, 400)
        self.assertTrue(any("payload.summary" in e for e in r.json["errors"]), r.json)

    # ---- Alertmanager, Grafana, generic, heartbeat

    def test_alertmanager_group_lifecycle(self):
        gk = '{}:{alertname="DiskFull-%s"}' % uuid.uuid4().hex[:8]
        fp1, fp2 = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
        path = f"/integrations/alertmanager/{AM_KEY}"
        firing = am_payload(gk, [(fp1, "db1:9100", "firing"), (fp2, "db2:9100", "firing")])
        r = self.h.post(path, firing)
        self.assertStatus(r, 202)
        out = r.json["alerts"]
        self.assertEqual([x["dedup_key"] for x in out], [fp1, fp2], r.json)
        self.assertEqual([x["result"] for x in out], ["created", "created"], r.json)
        incident_id = out[0]["incident_id"]
        self.assertEqual(out[1]["incident_id"], incident_id, "one incident per alert group")
        inc = self.h.incident(incident_id)
        self.assertEqual(inc["incident"]["alert_count"], 2, inc)
        self.assertEqual(inc["incident"]["status"], "triggered")
        self.assertEqual(inc["incident"]["group_key"], gk)
        self.assertEqual(sorted(a["dedup_key"] for a in inc["alerts"]), sorted([fp1, fp2]))
        by_fp = {a["dedup_key"]: a for a in inc["alerts"]}
        self.assertEqual(by_fp[fp1]["source"], "db1:9100")
        self.assertEqual(by_fp[fp1]["summary"], "Disk full on db1:9100")
        self.assertEqual(by_fp[fp1]["severity"], "critical")

        # Alertmanager re-sends the group: folded, no new incident.
        r = self.h.post(path, firing)
        self.assertStatus(r, 202)
        self.assertEqual({x["incident_id"] for x in r.json["alerts"]}, {incident_id})
        incidents = [i for i in self.h.api("/api/v1/incidents?limit=1000")["incidents"]
                     if i["group_key"] == gk]
        self.assertEqual(len(incidents), 1, incidents)
        inc = self.h.incident(incident_id)
        self.assertEqual(len(inc["alerts"]), 2)
        self.assertEqual({a["event_count"] for a in inc["alerts"]}, {2})

        # One alert resolves: the incident stays open.
        r = self.h.post(path, am_payload(gk, [(fp1, "db1:9100", "resolved"),
                                              (fp2, "db2:9100", "firing")]))
        self.assertStatus(r, 202)
        inc = self.h.incident(incident_id)
        st = {a["dedup_key"]: a["status"] for a in inc["alerts"]}
        self.assertEqual(st, {fp1: "resolved", fp2: "triggered"})
        self.assertEqual(inc["incident"]["status"], "triggered")

        # A resolved alert nobody has seen: accepted and dropped.
        ghost = uuid.uuid4().hex[:16]
        r = self.h.post(path, am_payload(gk, [(ghost, "db9:9100", "resolved")]))
        self.assertStatus(r, 202)
        self.assertEqual([(x["dedup_key"], x["result"]) for x in r.json["alerts"]],
                         [(ghost, "dropped")], r.json)
        self.assertNotIn(ghost, self.h.alerts_by_dedup())
        self.assertEqual(self.h.incident(incident_id)["incident"]["alert_count"], 2)

        # Both resolve: the incident is resolved.
        r = self.h.post(path, am_payload(gk, [(fp1, "db1:9100", "resolved"),
                                              (fp2, "db2:9100", "resolved")]))
        self.assertStatus(r, 202)
        inc = self.h.incident(incident_id)
        self.assertEqual({a["status"] for a in inc["alerts"]}, {"resolved"})
        self.assertEqual(inc["incident"]["status"], "resolved")
        self.assertIsNotNone(inc["incident"]["resolved_at"])

    def test_alertmanager_ha_pair_sending_at_once(self):
        """Two (here eight) Alertmanagers of an HA set send the same new group at the same
        moment: one incident, one alert per fingerprint."""
        import threading
        gk = '{}:{alertname="HA-%s"}' % uuid.uuid4().hex[:8]
        fps = [uuid.uuid4().hex[:16] for _ in range(2)]
        body = json.dumps(am_payload(gk, [(fps[0], "a:1", "firing"), (fps[1], "b:1", "firing")]))
        barrier = threading.Barrier(8)
        statuses = []

        def send():
            conn = self.h.connection()
            try:
                conn.connect()
                barrier.wait(10)
                conn.request("POST", f"/integrations/alertmanager/{AM_KEY}", body=body,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                statuses.append(resp.status)
            finally:
                conn.close()

        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(statuses, [202] * 8)
        incidents = [i for i in self.h.api("/api/v1/incidents?limit=1000")["incidents"]
                     if i["group_key"] == gk]
        self.assertEqual(len(incidents), 1, incidents)
        inc = self.h.incident(incidents[0]["id"])
        self.assertEqual(sorted(a["dedup_key"] for a in inc["alerts"]), sorted(fps))
        self.assertEqual([a["event_count"] for a in inc["alerts"]], [8, 8])

    def test_alertmanager_rejects_bad_payloads_as_json(self):
        path = f"/integrations/alertmanager/{AM_KEY}"
        before = len(self.h.all_alerts())
        for body in ({"version": "3", "groupKey": "g", "alerts": []},
                     {"version": "4", "groupKey": "g", "alerts": [{"status": "firing"}]},
                     {"version": "4", "alerts": "nope"}):
            r = self.h.post(path, body)
            self.assertStatus(r, 400)
            self.assertIsInstance(r.json.get("error"), dict, r.text)
            self.assertEqual(r.json["error"]["code"], "invalid_argument", r.json)
            self.assertTrue(r.json["error"]["message"], r.json)
        r = self.h.post("/integrations/alertmanager/no-such-key", am_payload("g", []))
        self.assertStatus(r, 404)
        self.assertEqual(r.json["error"]["code"], "not_found", r.json)
        self.assertEqual(len(self.h.all_alerts()), before)

    def test_grafana_webhook(self):
        fp = uuid.uuid4().hex[:16]
        gk = '{}/{__grafana_autogenerated__="true"}:{alertname="HighLatency-%s"}' % fp
        alert = {"status": "firing",
                 "labels": {"alertname": "HighLatency", "grafana_folder": "shop",
                            "severity": "warning"},
                 "annotations": {"summary": "p99 latency above 2 s"},
                 "startsAt": "2026-02-06T13:08:45Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://grafana.example/alerting/grafana/abc/view",
                 "fingerprint": fp, "silenceURL": "http://grafana.example/silence",
                 "dashboardURL": "http://grafana.example/d/abc", "panelURL":
                     "http://grafana.example/d/abc?viewPanel=2",
                 "values": {"B": 2.4, "C": 1}, "valueString": "[ var='B' value=2.4 ]"}
        body = {"receiver": "houston", "status": "firing", "orgId": 1, "alerts": [alert],
                "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "http://grafana.example/",
                "version": "1", "groupKey": gk, "truncatedAlerts": 0,
                "title": "[FIRING:1] HighLatency", "state": "alerting", "message": "m"}
        path = f"/integrations/grafana/{GRAFANA_KEY}"
        r = self.h.post(path, body)
        self.assertStatus(r, 202)
        a = self.one_alert(fp)
        self.assertEqual((a["status"], a["severity"], a["service"]),
                         ("triggered", "warning", "checkout"))
        self.assertEqual(a["summary"], "p99 latency above 2 s")
        self.assertEqual(a["client"], "Grafana")
        hrefs = {lk.get("text"): lk.get("href") for lk in a["links"]}
        self.assertEqual(hrefs.get("Dashboard"), "http://grafana.example/d/abc", a["links"])
        # An Alertmanager payload is not a Grafana payload.
        r = self.h.post(path, am_payload("g", [(uuid.uuid4().hex[:16], "x", "firing")]))
        self.assertStatus(r, 400)
        # Resolved.
        alert = dict(alert, status="resolved", endsAt="2026-02-06T13:30:00Z")
        r = self.h.post(path, dict(body, status="resolved", state="ok", alerts=[alert]))
        self.assertStatus(r, 202)
        self.assertEqual(self.h.alert(a["id"])["status"], "resolved")

    def test_generic_webhook(self):
        cid = uniq("chk")
        path = f"/integrations/generic/{GENERIC_KEY}"
        check = {"check": {"id": cid, "title": "Checkout flow fails", "level": "P1",
                           "state": "failing", "location": "eu-west-1", "attempts": 3}}
        r = self.h.post(path, check)
        self.assertStatus(r, 202)
        self.assertEqual(r.json["alerts"][0]["dedup_key"], cid, r.json)
        a = self.one_alert(cid)
        self.assertEqual((a["summary"], a["severity"], a["source"], a["status"]),
                         ("Checkout flow fails", "critical", "eu-west-1", "triggered"))
        self.assertEqual(a["custom_details"].get("attempts"), 3, a["custom_details"])
        check["check"]["state"] = "passing"
        r = self.h.post(path, check)
        self.assertStatus(r, 202)
        self.assertEqual(self.h.alert(a["id"])["status"], "resolved")
        # Default field names on an unmapped generic integration; a numeric dedup key.
        plain = f"/integrations/generic/{GENERIC_KEY_PLAIN}"
        num = int(uuid.uuid4().int % 10**12)
        r = self.h.post(plain, {"summary": "Queue backlog", "severity": "warning",
                                "dedup_key": num})
        self.assertStatus(r, 202)
        a = self.one_alert(str(num))
        self.assertEqual((a["summary"], a["severity"]), ("Queue backlog", "warning"))
        r = self.h.post(plain, {"dedup_key": num, "action": "acknowledge", "summary": "x"})
        self.assertStatus(r, 202)
        self.assertEqual(self.h.alert(a["id"])["status"], "acknowledged")
        # Errors: JSON, naming the mapped path.
        before = len(self.h.all_alerts())
        r = self.h.post(path, {"check": {"level": "P1"}})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["error"]["code"], "invalid_argument", r.json)
        self.assertIn("check.title", json.dumps(r.json))
        r = self.h.post(plain, {"summary": "x", "action": "resolve"})  # no dedup key
        self.assertStatus(r, 400)
        self.assertEqual(len(self.h.all_alerts()), before)

    def test_heartbeat_get_and_post(self):
        for method in ("GET", "POST"):
            r = self.h.request(method, f"/integrations/heartbeat/{HEARTBEAT_KEY}")
            self.assertStatus(r, 200, method)
            self.assertEqual(r.json.get("status"), "ok", r.json)
            self.assertRegex(r.json.get("next_beat_due_by", ""), r"^\d{4}-\d\d-\d\dT")
        r = self.h.get("/integrations/heartbeat/no-such-heartbeat")
        self.assertStatus(r, 404)
        self.assertEqual(r.json["error"]["code"], "not_found", r.json)
        r = self.h.get(f"/integrations/heartbeat/{AM_KEY}")  # a key of another type
        self.assertStatus(r, 404)

    # ---- rate limit

    def test_rate_limit_per_integration(self):
        keys_accepted, limited = [], None
        for i in range(6):
            key = uniq(f"rl{i}")
            r = self.h.enqueue(trigger(key, routing_key=EVENTS_KEY_LIMITED))
            if r.status == 202:
                keys_accepted.append(key)
            elif r.status == 429:
                limited = (key, r)
                break
            else:
                self.fail(f"unexpected answer {r}")
        self.assertIsNotNone(limited, "6 events in a row on a 1/s key were never answered 429")
        self.assertGreaterEqual(len(keys_accepted), 1, "the first event was refused")
        key, r = limited
        retry_after = r.headers.get("Retry-After")
        self.assertIsNotNone(retry_after, "429 without Retry-After")
        self.assertTrue(retry_after.isdigit() and int(retry_after) >= 1, retry_after)
        self.assertIn("json", r.headers.get("Content-Type", ""))
        self.assertIsInstance(r.json, dict, r.text)
        self.assertIsInstance(r.json.get("status"), str, r.json)
        self.assertIsInstance(r.json.get("message"), str, r.json)
        self.assertIsInstance(r.json.get("errors"), list, r.json)
        stored = {a["dedup_key"] for a in self.h.all_alerts("service=limited")}
        for k in keys_accepted:
            self.assertIn(k, stored)
        self.assertNotIn(key, stored, "a 429-answered event was stored")
        metrics = harness.parse_metrics(self.h.metrics())
        self.assertGreater(metrics.get(
            'houston_events_total{integration="events_v2",result="rate_limited"}', 0), 0)
        # Other keys are not limited.
        self.send(trigger(uniq("not-limited")))
        # Webhooks: 429 with the API's JSON error shape.
        path = f"/integrations/alertmanager/{AM_KEY_LIMITED}"
        statuses = []
        for i in range(6):
            r = self.h.post(path, am_payload(uniq("g"), [(uuid.uuid4().hex[:16], "h", "firing")]))
            statuses.append(r.status)
            if r.status == 429:
                break
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertTrue(r.headers.get("Retry-After", "").isdigit(), dict(r.headers))
        self.assertIn("error", r.json or {}, r.text)
        self.assertTrue(r.json["error"]["message"])

    # ---- REST auth, audit

    def test_rest_auth_roles_and_audit(self):
        key = uniq("auth")
        self.send(trigger(key))
        alert_id = self.one_alert(key)["id"]

        r = self.h.get("/api/v1/alerts")
        self.assertStatus(r, 401)
        self.assertEqual(r.json["error"]["code"], "unauthenticated", r.json)
        self.assertTrue(r.json["error"]["message"])
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        for hdr in ({"Authorization": "Bearer hou_not_a_real_token"},
                    {"Authorization": f"Token {self.h.token('admin')}"}):
            r = self.h.get("/api/v1/alerts", headers=hdr)
            self.assertStatus(r, 401, hdr)
            self.assertEqual(r.json["error"]["code"], "unauthenticated", r.json)
        r = self.h.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        self.assertStatus(r, 401)

        viewer = self.h.token("viewer")
        self.assertStatus(self.h.get("/api/v1/alerts", token=viewer), 200)
        self.assertStatus(self.h.get(f"/api/v1/alerts/{alert_id}", token=viewer), 200)
        self.assertStatus(self.h.get("/api/v1/services", token=viewer), 200)
        r = self.h.post(f"/api/v1/alerts/{alert_id}/acknowledge", token=viewer)
        self.assertStatus(r, 403)
        self.assertEqual(r.json["error"]["code"], "permission_denied", r.json)
        self.assertEqual(self.h.alert(alert_id)["status"], "triggered")
        self.assertStatus(self.h.get("/api/v1/audit", token=viewer), 403)

        responder = self.h.token("responder", name="e2e-responder")
        self.assertStatus(self.h.get("/api/v1/audit", token=responder), 403)
        r = self.h.post(f"/api/v1/alerts/{alert_id}/acknowledge", token=responder)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["alert"]["id"], alert_id)
        self.assertEqual(r.json["alert"]["status"], "acknowledged")
        self.assertEqual(self.h.alert(alert_id)["status"], "acknowledged")

        r = self.h.get("/api/v1/alerts/999999999", token=viewer)
        self.assertStatus(r, 404)
        self.assertEqual(r.json["error"]["code"], "not_found", r.json)
        r = self.h.get("/api/v1/alerts/abc", token=viewer)
        self.assertStatus(r, 400)
        self.assertEqual(r.json["error"]["code"], "invalid_argument", r.json)

        audit = self.h.api(f"/api/v1/audit?resource_type=alert&resource_id={alert_id}")["audit"]
        acks = [x for x in audit if x["action"] == "alert.acknowledged"]
        self.assertEqual(len(acks), 1, audit)
        self.assertEqual(acks[0]["method"], "api", acks[0])
        self.assertEqual(acks[0]["actor"], {"type": "token", "id": "e2e-responder"}, acks[0])
        triggered = [x for x in audit if x["action"] == "alert.triggered"]
        self.assertEqual(len(triggered), 1, audit)
        self.assertEqual(triggered[0]["method"], "integration")

        r = self.h.post(f"/api/v1/alerts/{alert_id}/resolve", token=responder)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["alert"]["status"], "resolved")
        r = self.h.post(f"/api/v1/alerts/{alert_id}/resolve", token=responder)
        self.assertStatus(r, 409)
        self.assertEqual(r.json["error"]["code"], "failed_precondition", r.json)
        r = self.h.post(f"/api/v1/alerts/{alert_id}/acknowledge", token=responder)
        self.assertStatus(r, 409)
        self.assertEqual(self.h.alert(alert_id)["status"], "resolved")
        r = self.h.post("/api/v1/alerts/999999999/acknowledge", token=responder)
        self.assertStatus(r, 404)
        log = self.h.log()
        for tok in (viewer, responder, self.h.token("admin")):
            self.assertNotIn(tok, log, "an API token was written to the server log")

    def test_bearer_scheme_is_case_insensitive(self):
        """RFC 7235 section 2.1 / RFC 6750: the auth-scheme is case-insensitive."""
        tok = self.h.token("viewer")
        for scheme in ("Bearer", "bearer", "BEARER"):
            r = self.h.get("/api/v1/alerts?limit=1", headers={"Authorization": f"{scheme} {tok}"})
            self.assertStatus(r, 200, f"with 'Authorization: {scheme} <token>'")

    def test_services_endpoint(self):
        services = {s["id"]: s for s in self.h.api("/api/v1/services", role="viewer")["services"]}
        self.assertEqual(set(services), {"checkout", "payments", "limited"})
        text = json.dumps(services)
        for secret in (EVENTS_KEY, AM_KEY, GENERIC_KEY, HEARTBEAT_KEY):
            self.assertNotIn(secret, text, "an integration key was listed")

    # ---- CLI

    def test_cli_alert_and_incident_commands(self):
        key = uniq("cli")
        self.send(trigger(key, summary="CLI test alert"))
        alert = self.one_alert(key)
        p = self.h.client_cli("alert", "list", "--limit", "1000", check=True)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^ID\s+STATUS\s+SEVERITY\s+SERVICE")
        self.assertTrue(any(re.match(rf"^{alert['id']}\s+triggered\s+critical\s+checkout", ln)
                            for ln in lines), p.stdout)
        p = self.h.client_cli("alert", "list", "--json", "--status", "triggered", check=True)
        data = json.loads(p.stdout)
        self.assertIn(alert["id"], [a["id"] for a in data["alerts"]])
        self.assertTrue(all(a["status"] == "triggered" for a in data["alerts"]))

        p = self.h.client_cli("alert", "ack", str(alert["id"]), role="responder", check=True)
        self.assertIn(f"alert {alert['id']} is acknowledged", p.stdout)
        self.assertEqual(self.h.alert(alert["id"])["status"], "acknowledged")
        audit = self.h.api(f"/api/v1/audit?resource_type=alert&resource_id={alert['id']}")
        acks = [x for x in audit["audit"] if x["action"] == "alert.acknowledged"]
        self.assertEqual([x["method"] for x in acks], ["cli"], audit)

        p = self.h.client_cli("alert", "resolve", str(alert["id"]), "--json", check=True)
        self.assertEqual(json.loads(p.stdout)["alert"]["status"], "resolved")

        p = self.h.client_cli("incident", "list", check=True)
        self.assertRegex(p.stdout.splitlines()[0],
                         r"^ID\s+SEV\s+STATUS\s+SEVERITY\s+SERVICE\s+COMMANDER")
        self.assertIn(str(alert["incident_id"]), p.stdout)
        p = self.h.client_cli("incident", "list", "--json", "--limit", "1000", check=True)
        incs = {i["id"]: i for i in json.loads(p.stdout)["incidents"]}
        self.assertEqual(incs[alert["incident_id"]]["status"], "resolved")

        # Failures: exit non-zero with a message on stderr.
        p = self.h.client_cli("alert", "ack", "999999999")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("999999999", p.stderr)
        p = self.h.client_cli("alert", "ack", str(alert["id"]), role="viewer")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("403", p.stderr)
        p = self.h.cli("alert", "list", "--server", self.h.url)  # no token
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("token", p.stderr)
        # The environment variables work too.
        p = self.h.cli("incident", "list", "--json",
                       env={"HOUSTON_URL": self.h.url, "HOUSTON_TOKEN": self.h.token("viewer")})
        self.assertEqual(p.returncode, 0, p.stderr)
        json.loads(p.stdout)

    def test_apply_dry_run_changes_nothing(self):
        db = os.path.join(self.tmp, "apply.db")
        org = os.path.join(self.tmp, "org.yaml")
        with open(org, "w") as f:
            f.write(harness.test_org_yaml())
        p = self.h.cli("apply", "-f", org, "--db", db, check=True)
        self.assertIn("applied", p.stdout)
        p = self.h.cli("apply", "-f", org, "--db", db, "--dry-run", check=True)
        self.assertIn("0 to add, 0 to change, 0 to remove", p.stdout)

        changed = os.path.join(self.tmp, "changed.yaml")
        with open(changed, "w") as f:
            f.write(harness.test_org_yaml().replace(
                "      - {type: events_v2, key: \"%s\"}\n" % EVENTS_KEY_2,
                "      - {type: events_v2, key: \"%s\"}\n"
                "      - {type: alertmanager, key: \"am-new-one\", rate_limit_per_second: 5}\n"
                % EVENTS_KEY_2).replace("name: Payments API", "name: Payments API v2"))
        with open(changed) as f:
            self.assertNotEqual(f.read(), harness.test_org_yaml(), "the edit did not apply")
        outs = []
        for _ in range(2):
            p = self.h.cli("apply", "-f", changed, "--db", db, "--dry-run", check=True)
            outs.append(p.stdout)
            self.assertIn("+ integration am-new-one", p.stdout)
            self.assertRegex(p.stdout, r"(?m)^~ service payments: .*name")
            self.assertIn("1 to add, 1 to change, 0 to remove", p.stdout)
            self.assertIn("dry run", p.stdout)
        self.assertEqual(outs[0], outs[1], "the first dry run changed something")
        p = self.h.cli("apply", "-f", changed, "--db", db, check=True)
        p = self.h.cli("apply", "-f", changed, "--db", db, "--dry-run", check=True)
        self.assertIn("0 to add, 0 to change, 0 to remove", p.stdout)
        # An invalid org is refused with exit 2 and changes nothing.
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write(harness.test_org_yaml().replace("escalation_policy: ops-ep\n",
                                                    "escalation_policy: nope\n", 1))
        p = self.h.cli("apply", "-f", bad, "--db", db)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("nope", p.stderr)
        p = self.h.cli("apply", "-f", changed, "--db", db, "--dry-run", check=True)
        self.assertIn("0 to add, 0 to change, 0 to remove", p.stdout)

    def test_sighup_reloads_the_org(self):
        srv = self.new_server()
        new_key = "abababababababababababababababab"
        r = srv.enqueue(trigger(uniq("hup"), routing_key=new_key))
        self.assertStatus(r, 400)
        with open(srv.org_path, "w") as f:
            f.write(harness.test_org_yaml().replace(
                '      - {type: events_v2, key: "%s"}\n' % EVENTS_KEY_2,
                '      - {type: events_v2, key: "%s"}\n      - {type: events_v2, key: "%s"}\n'
                % (EVENTS_KEY_2, new_key)))
        srv.proc.send_signal(__import__("signal").SIGHUP)
        key = uniq("hup")
        harness.wait_until(lambda: srv.enqueue(trigger(key, routing_key=new_key)).status == 202,
                           15, "the key added to org.yaml to be accepted after SIGHUP")
        self.assertEqual(srv.alerts_by_dedup()[key][0]["service"], "payments")
        # A broken org on SIGHUP keeps the current one.
        with open(srv.org_path, "w") as f:
            f.write("services: [this is not an org\n")
        srv.proc.send_signal(__import__("signal").SIGHUP)
        harness.wait_until(lambda: "reload failed" in srv.log(), 15, "'reload failed' logged")
        self.assertTrue(srv.alive())
        self.send_to(srv, trigger(uniq("hup2"), routing_key=new_key))
        self.send_to(srv, trigger(uniq("hup3")))
        self.assertEqual(srv.stop(), 0)

    def send_to(self, srv, event):
        r = srv.enqueue(event)
        self.assertStatus(r, 202, f"for {event}")

    def test_help_on_every_command(self):
        commands = [[], ["serve"], ["apply"], ["migrate"], ["token"], ["token", "create"],
                    ["alert"], ["alert", "list"], ["alert", "ack"], ["alert", "resolve"],
                    ["incident"], ["incident", "list"]]
        for cmd in commands:
            p = subprocess.run([HOUSTON_BIN, *cmd, "--help"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, f"houston {' '.join(cmd)} --help: {p.stderr}")
            out = p.stdout + p.stderr
            self.assertIn("Usage", out, cmd)
            self.assertIn("--help", out, cmd)
        p = subprocess.run([HOUSTON_BIN, "serve", "--help"], capture_output=True, text=True)
        for flag in ("--config", "--db", "--listen", "--tls-cert", "--tls-key", "--port-file",
                     "--sync", "--threads"):
            self.assertIn(flag, p.stdout)
        p = subprocess.run([HOUSTON_BIN, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("houston", p.stdout)
        p = subprocess.run([HOUSTON_BIN, "no-such-command"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)

    def test_admin_commands(self):
        p = self.h.cli("migrate", "--db", self.h.db, "--status", check=True)
        self.assertIn("up to date", p.stdout)
        p = self.h.cli("migrate", "--db", self.h.db, check=True)
        self.assertIn("up to date", p.stdout)
        p = self.h.cli("token", "create", "--db", self.h.db, "--role", "superuser", "--name", "x")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("superuser", p.stderr)
        self.assertEqual(p.stdout, "")
        p = self.h.cli("token", "create", "--db", self.h.db, "--role", "viewer", "--name", "a",
                       check=True)
        tok = p.stdout.strip()
        self.assertTrue(tok.startswith("hou_"), tok)
        self.assertStatus(self.h.get("/api/v1/alerts", token=tok), 200)
        self.assertNotEqual(tok, self.h.cli("token", "create", "--db", self.h.db, "--role",
                                            "viewer", "--name", "a", check=True).stdout.strip())


if __name__ == "__main__":
    harness.main()
