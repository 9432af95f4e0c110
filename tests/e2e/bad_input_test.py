#!/usr/bin/python3
"""End-to-end: malformed, oversized, hostile and slow input, and HTTP/1.1 mechanics
(pipelining, keep-alive, Expect: 100-continue, chunked bodies). At the end the stored alerts
must be exactly those of the valid events, and /metrics must have counted the rejections."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AM_KEY, EVENTS_KEY, GENERIC_KEY_PLAIN, RawHttp, parse_metrics  # noqa: E402

KIB = 1024


def uniq(prefix="bad"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def trigger(key, **payload_extra):
    payload = {"summary": "bad-input test", "source": "e2e", "severity": "warning"}
    payload.update(payload_extra)
    return {"routing_key": EVENTS_KEY, "event_action": "trigger", "dedup_key": key,
            "payload": payload}


def raw_request(method, path, body=b"", headers=None, version="HTTP/1.1"):
    hdrs = {"Host": "127.0.0.1"}
    if body or method == "POST":
        hdrs["Content-Type"] = "application/json"
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    return head.encode() + b"\r\n" + body


def json_depth(v):
    if isinstance(v, list):
        return 1 + max((json_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((json_depth(x) for x in v.values()), default=0)
    return 0


class BadInputTest(harness.HoustonTestCase):
    SHARED_SERVER = True
    SERVER_ARGS = ("--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "3")

    # dedup_key -> number of valid trigger events sent with it (all must be stored, nothing else)
    valid = {}

    # ---- helpers

    def send_valid(self, key=None, **payload_extra):
        key = key or uniq("valid")
        r = self.h.enqueue(trigger(key, **payload_extra))
        self.assertStatus(r, 202)
        self.note_valid(key)
        return key

    def note_valid(self, key):
        type(self).valid[key] = type(self).valid.get(key, 0) + 1

    def assertPdError(self, r, status=400):
        self.assertStatus(r, status)
        self.assertIn("application/json", r.headers.get("Content-Type", ""))
        self.assertIsInstance(r.json, dict, r.text)
        self.assertIsInstance(r.json.get("status"), str, r.json)
        self.assertIsInstance(r.json.get("message"), str, r.json)
        self.assertIsInstance(r.json.get("errors"), list, r.json)
        self.assertTrue(r.json["errors"], r.json)
        return r.json

    def assertApiError(self, r, status):
        self.assertStatus(r, status)
        self.assertIn("application/json", r.headers.get("Content-Type", ""))
        self.assertIsInstance(r.json, dict, r.text)
        self.assertIsInstance(r.json.get("error"), dict, r.json)
        self.assertIsInstance(r.json["error"].get("code"), str, r.json)
        self.assertTrue(r.json["error"].get("message"), r.json)
        return r.json

    def post_raw(self, path, body, headers=None):
        return self.h.post(path, body, headers=dict({"Content-Type": "application/json"},
                                                    **(headers or {})))

    def assertHealthy(self):
        self.assertTrue(self.h.alive(), "houston died")
        r = self.h.get("/healthz")
        self.assertStatus(r, 200)

    def send_big(self, path, body, headers=None):
        """Sends a large request on a raw socket while reading the answer concurrently (the
        server may answer before the body is complete). Returns (response, send_error)."""
        conn = RawHttp(self.h.port, timeout=15)
        data = raw_request("POST", path, body, headers)
        err = []

        def writer():
            try:
                conn.sock.sendall(data)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            resp = conn.read_response()
        finally:
            conn.close()
            t.join(15)
        return resp, (err[0] if err else None)

    # ---- malformed and wrongly typed JSON

    def test_malformed_json(self):
        bodies = [b"", b"{", b'{"routing_key":', b"nul", b"{'a': 1}", b'{"a":1,}',
                  b'{"routing_key":"x"} trailing', b"NaN", b'{"a":NaN}', b"\x00\x01\x02",
                  b'{"routing_key":"' + EVENTS_KEY.encode() + b'","event_action":"trigger"',
                  b"\xef\xbb\xbf{}", b"[" * 100, b'"just a string"', b"12", b"null", b"true"]
        for body in bodies:
            with self.subTest(body=body[:40]):
                for path in ("/v2/enqueue", "/v2/change/enqueue"):
                    self.assertPdError(self.post_raw(path, body))
                for path in (f"/integrations/alertmanager/{AM_KEY}",
                             f"/integrations/generic/{GENERIC_KEY_PLAIN}"):
                    self.assertApiError(self.post_raw(path, body), 400)
        self.assertHealthy()

    def test_wrong_types(self):
        k = uniq()
        cases = [
            ({"routing_key": 123, "event_action": "trigger", "dedup_key": k,
              "payload": {"summary": "s", "source": "s", "severity": "info"}}, "'routing_key'"),
            ({"routing_key": EVENTS_KEY, "event_action": ["trigger"], "dedup_key": k},
             "'event_action'"),
            ({"routing_key": EVENTS_KEY, "event_action": "trigger", "dedup_key": k,
              "payload": "summary"}, "'payload'"),
            (trigger(k, severity=5), "'payload.severity'"),
            (trigger(k, severity="CRITICAL "), "'payload.severity'"),
            (trigger(k, summary={"text": "x"}), "'payload.summary'"),
            (trigger(k, source=None), "'payload.source'"),
            (trigger(k, summary=""), "'payload.summary'"),
            (trigger(k, timestamp=1700000000), "'payload.timestamp'"),
            (trigger(k, component=["db"]), "'payload.component'"),
            (dict(trigger(k), dedup_key={"k": 1}), "'dedup_key'"),
            (dict(trigger(k), links={"href": "x"}), "'links'"),
            (dict(trigger(k), images=[{"src": 5}]), "images[0].src"),
            (dict(trigger(k), client_url=False), "'client_url'"),
        ]
        for event, field in cases:
            with self.subTest(field=field, event=event):
                body = self.assertPdError(self.h.enqueue(event))
                self.assertTrue(any(field in e for e in body["errors"]),
                                f"no error names {field}: {body}")
        am_cases = [
            {"version": 4, "groupKey": "g", "alerts": []},
            {"version": "4", "groupKey": 5, "alerts": []},
            {"version": "4", "groupKey": "g", "status": "burning", "alerts": []},
            {"version": "4", "groupKey": "g", "alerts": [
                {"status": "firing", "labels": {"alertname": 1}}]},
            {"version": "4", "groupKey": "g", "alerts": [
                {"status": "firing", "labels": {"alertname": "a"}, "startsAt": "not a time"}]},
            {"version": "4", "groupKey": "g", "alerts": [
                {"status": "firing", "labels": ["alertname"]}]},
            {"version": "4", "groupKey": "g", "alerts": [5]},
        ]
        for body in am_cases:
            with self.subTest(body=body):
                self.assertApiError(self.h.post(f"/integrations/alertmanager/{AM_KEY}", body),
                                    400)
        for body in ({"summary": {"a": 1}}, {"summary": "x", "severity": 3},
                     {"summary": "x", "action": "explode", "dedup_key": "d"},
                     {"summary": "x", "dedup_key": {"a": 1}}, {"summary": ""}):
            with self.subTest(body=body):
                self.assertApiError(
                    self.h.post(f"/integrations/generic/{GENERIC_KEY_PLAIN}", body), 400)
        self.assertHealthy()

    def test_unknown_keys(self):
        body = self.assertPdError(self.h.enqueue(dict(trigger(uniq()), severity="critical")))
        self.assertTrue(any("'severity'" in e for e in body["errors"]), body)
        body = self.assertPdError(self.h.enqueue(trigger(uniq(), hostname="db1")))
        self.assertTrue(any("payload.hostname" in e for e in body["errors"]), body)
        body = self.assertPdError(self.h.post("/v2/change/enqueue", {
            "routing_key": EVENTS_KEY, "event_action": "trigger",
            "payload": {"summary": "deploy", "revision": "abc"}}))
        text = json.dumps(body["errors"])
        self.assertIn("event_action", text)
        self.assertIn("payload.revision", text)
        # Alertmanager and generic webhooks ignore keys they do not use (newer senders).
        fp = uuid.uuid4().hex[:16]
        am = {"version": "4", "groupKey": uniq("g"), "status": "firing", "receiver": "r",
              "notification_reason": "new", "routeLabels": {"a": "b"}, "futureField": [1, 2],
              "alerts": [{"status": "firing", "labels": {"alertname": "X", "severity": "info"},
                          "annotations": {}, "fingerprint": fp, "startsAt":
                              "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                          "somethingNew": {"x": 1}}]}
        r = self.h.post(f"/integrations/alertmanager/{AM_KEY}", am)
        self.assertStatus(r, 202)
        self.note_valid(fp)

    # ---- size limits

    def test_oversized_bodies(self):
        # Just under PagerDuty's limit: accepted.
        key = uniq("big-ok")
        ev = trigger(key)
        ev["payload"]["custom_details"] = {"pad": ""}
        base = len(json.dumps(ev).encode())
        ev["payload"]["custom_details"]["pad"] = "x" * (512 * KIB - base)
        body = json.dumps(ev).encode()
        self.assertEqual(len(body), 512 * KIB)
        r = self.post_raw("/v2/enqueue", body)
        self.assertStatus(r, 202)
        self.note_valid(key)
        stored = [a for a in self.h.all_alerts() if a["dedup_key"] == key]
        self.assertEqual(len(stored), 1)
        self.assertEqual(len(stored[0]["custom_details"]["pad"]), 512 * KIB - base)

        # One byte over: 400 in PagerDuty's shape, nothing stored.
        key = uniq("big-no")
        ev["dedup_key"] = key
        ev["payload"]["custom_details"]["pad"] = "x" * (512 * KIB - base + 1)
        body = json.dumps(ev).encode()
        self.assertEqual(len(body), 512 * KIB + 1)
        err = self.assertPdError(self.post_raw("/v2/enqueue", body))
        self.assertIn("invalid event", err["status"])
        self.assertTrue(any("limit" in e or "larger" in e for e in err["errors"]), err)
        err = self.assertPdError(self.post_raw("/v2/change/enqueue", json.dumps(
            {"routing_key": EVENTS_KEY, "payload": {"summary": "x", "custom_details": {
                "pad": "x" * (600 * KIB)}}}).encode()))

        # Webhooks: exactly 512 KiB is accepted, one byte more is 413 with a JSON error.
        key = uniq("generic-big")
        doc = {"summary": "big generic", "dedup_key": key, "pad": ""}
        doc["pad"] = "g" * (512 * KIB - len(json.dumps(doc).encode()))
        self.assertEqual(len(json.dumps(doc).encode()), 512 * KIB)
        r = self.h.post(f"/integrations/generic/{GENERIC_KEY_PLAIN}", doc)
        self.assertStatus(r, 202)
        self.note_valid(key)
        doc["pad"] += "g"
        doc["dedup_key"] = uniq("generic-too-big")
        self.assertApiError(self.h.post(f"/integrations/generic/{GENERIC_KEY_PLAIN}", doc), 413)
        am = {"version": "4", "groupKey": "g", "alerts": [], "pad": "x" * (600 * KIB)}
        self.assertApiError(self.h.post(f"/integrations/alertmanager/{AM_KEY}", am), 413)
        self.assertApiError(self.h.post(f"/integrations/generic/{GENERIC_KEY_PLAIN}",
                                        {"summary": "x", "pad": "y" * (600 * KIB)}), 413)

        self.assertHealthy()

    def huge_event(self):
        huge = trigger(uniq("huge"))
        huge["payload"]["custom_details"] = {"pad": "z" * (2 * KIB * KIB)}
        return json.dumps(huge).encode()

    @staticmethod
    def chunked(body, size=65536):
        return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                        for i in range(0, len(body), size)) + b"0\r\n\r\n"

    def test_body_over_server_limit_with_content_length(self):
        """Over the server's 1 MiB body limit, refused from the headers alone: still 400 in
        PagerDuty's shape on /v2/*, 413 JSON elsewhere."""
        for path in ("/v2/enqueue", "/v2/change/enqueue"):
            resp, _ = self.send_big(path, self.huge_event())
            with self.subTest(path=path):
                self.assertPdError(resp)
        resp, _ = self.send_big(f"/integrations/alertmanager/{AM_KEY}",
                                json.dumps({"version": "4", "pad": "z" * (2 * KIB * KIB)})
                                .encode())
        self.assertApiError(resp, 413)
        self.assertHealthy()

    def test_body_over_server_limit_chunked(self):
        """The same with Transfer-Encoding: chunked (the limit is hit while reading the body)."""
        hdrs = {"Transfer-Encoding": "chunked", "Content-Length": None}
        resp, _ = self.send_big("/v2/enqueue", self.chunked(self.huge_event()), hdrs)
        self.assertPdError(resp)
        resp, _ = self.send_big(f"/integrations/generic/{GENERIC_KEY_PLAIN}", self.chunked(
            json.dumps({"summary": "x", "pad": "z" * (2 * KIB * KIB)}).encode()), hdrs)
        self.assertApiError(resp, 413)
        self.assertHealthy()

    def test_deep_nesting(self):
        for depth in (10000, 100000):
            deep = b"[" * depth
            self.assertPdError(self.post_raw("/v2/enqueue", deep))
            self.assertApiError(self.post_raw(f"/integrations/alertmanager/{AM_KEY}", deep), 400)
            obj = b'{"a":' * depth
            self.assertPdError(self.post_raw("/v2/enqueue", obj))
            self.assertApiError(self.post_raw(f"/integrations/generic/{GENERIC_KEY_PLAIN}", obj),
                                400)
            # Balanced, inside an otherwise valid event.
            inner = "[" * depth + "]" * depth
            body = json.dumps(trigger(uniq("deep"))).replace('"warning"}',
                                                             '"warning","custom_details":'
                                                             + inner + "}")
            self.assertPdError(self.post_raw("/v2/enqueue", body.encode()))
            self.assertHealthy()

        # The documented limit: nested at most 64 levels deep (the top level counts as 1).
        def event_with_depth(total, key):
            ev = trigger(key)
            ev["payload"]["custom_details"] = {}
            # event(1) > payload(2) > custom_details(3) > ...
            inner = {}
            node = inner
            for _ in range(total - 3):
                node["n"] = {}
                node = node["n"]
            ev["payload"]["custom_details"] = inner
            self.assertEqual(json_depth(ev), total)
            return ev

        key = uniq("depth64")
        r = self.h.enqueue(event_with_depth(64, key))
        self.assertStatus(r, 202, "an event nested 64 levels deep")
        self.note_valid(key)
        r = self.h.enqueue(event_with_depth(65, uniq("depth65")))
        self.assertPdError(r)

    def test_utf8(self):
        # Invalid UTF-8 in strings, keys, and outside strings: 400, nothing stored.
        bad = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"abc\x80",
               b"\xe2\x82"]
        for seq in bad:
            with self.subTest(seq=seq):
                body = json.dumps(trigger(uniq("utf8"), summary="@@")).encode().replace(
                    b"@@", seq)
                self.assertPdError(self.post_raw("/v2/enqueue", body))
                body = json.dumps(trigger(uniq("utf8"))).encode().replace(
                    b'"utf8-', b'"' + seq + b'utf8-')
                self.assertIn(seq, body)
                self.assertPdError(self.post_raw("/v2/enqueue", body))
                body = json.dumps(trigger(uniq("utf8"))).encode().replace(
                    b'"source"', b'"sou' + seq + b'rce"')
                self.assertIn(seq, body)
                self.assertPdError(self.post_raw("/v2/enqueue", body))
                body = b'{"summary":"x","dedup_key":"' + seq + b'"}'
                self.assertApiError(
                    self.post_raw(f"/integrations/generic/{GENERIC_KEY_PLAIN}", body), 400)
                body = json.dumps({"version": "4", "groupKey": "g", "alerts": [
                    {"status": "firing", "labels": {"alertname": "@@"}}]}).encode().replace(
                    b"@@", seq)
                self.assertApiError(
                    self.post_raw(f"/integrations/alertmanager/{AM_KEY}", body), 400)
        # Valid non-ASCII text round-trips exactly.
        text = "Plattenplatz fast voll ✓ 日本語 🚨 \u00e9\u0301 \"quoted\" back\\slash \t tab"
        key = uniq("ünïcødé-🔑")
        self.send_valid(key, summary=text)
        stored = [a for a in self.h.all_alerts() if a["dedup_key"] == key]
        self.assertEqual(len(stored), 1)
        self.assertEqual(stored[0]["summary"], text)
        # Escapes that are valid JSON but awkward: NUL, a lone surrogate. Either refused
        # (400) or stored exactly / as valid UTF-8; never a crash or a corrupt answer.
        for summary_json, expect in (('"a\\u0000b"', "a\x00b"), ('"x\\ud800y"', None)):
            key = uniq("escape")
            body = json.dumps(trigger(key, summary="@@")).replace('"@@"', summary_json)
            r = self.post_raw("/v2/enqueue", body.encode())
            if r.status == 400:
                self.assertPdError(r)
                continue
            self.assertStatus(r, 202)
            self.note_valid(key)
            listing = self.h.get("/api/v1/alerts?limit=1000", token=self.h.token())
            self.assertStatus(listing, 200)
            listing.raw.decode("utf-8")  # strict: the API must answer valid UTF-8
            stored = [a for a in json.loads(listing.raw)["alerts"] if a["dedup_key"] == key]
            self.assertEqual(len(stored), 1)
            if expect is not None:
                self.assertEqual(stored[0]["summary"], expect)
        self.assertHealthy()

    # ---- HTTP-level abuse

    def test_headers_over_8k(self):
        for headers in ({"X-Big": "a" * (9 * KIB)},
                        {f"X-H{i}": "b" * 100 for i in range(100)}):
            conn = RawHttp(self.h.port)
            try:
                conn.send(raw_request("POST", "/v2/enqueue", json.dumps(trigger(uniq())).encode(),
                                      headers))
                r = conn.read_response()
                self.assertStatus(r, 431)
                self.assertIsInstance(r.json, dict, r.text)
                self.assertIn("error", r.json)
                self.assertTrue(conn.closed_by_peer(5), "connection not closed after 431")
            finally:
                conn.close()
        # A big URL counts too.
        r = self.h.get("/healthz?" + "q" * (9 * KIB))
        self.assertStatus(r, 431)
        # Headers well under the limit are fine.
        r = self.h.get("/healthz", headers={"X-Medium": "m" * (6 * KIB)})
        self.assertStatus(r, 200)

    def test_slow_headers_are_cut_off(self):
        """--header-timeout 1: a client sending its headers one byte a second is dropped."""
        conn = RawHttp(self.h.port)
        data = raw_request("GET", "/healthz")
        closed = threading.Event()
        sent = []

        def dribble():
            for b in data:
                if closed.is_set():
                    return
                try:
                    conn.sock.send(bytes([b]))
                    sent.append(b)
                except OSError:
                    return
                time.sleep(1)

        t = threading.Thread(target=dribble, daemon=True)
        start = time.monotonic()
        t.start()
        try:
            got_close = conn.closed_by_peer(8)
            elapsed = time.monotonic() - start
            closed.set()
            self.assertTrue(got_close, "houston kept a slowloris connection open for 8 s")
            self.assertLess(elapsed, 4.5, f"closed only after {elapsed:.1f} s")
            self.assertLess(len(sent), len(data), "the whole request got through")
            self.assertNotIn(b"200 OK", conn.buf)
        finally:
            conn.close()
            t.join(3)
        self.assertHealthy()

    def test_stalled_body_is_cut_off(self):
        """--body-timeout 1: half a body then silence: closed, and the event is not stored."""
        key = uniq("stalled")
        body = json.dumps(trigger(key)).encode()
        conn = RawHttp(self.h.port)
        try:
            full = raw_request("POST", "/v2/enqueue", body)
            conn.send(full[: len(full) - len(body) // 2])
            start = time.monotonic()
            self.assertTrue(conn.closed_by_peer(8), "a stalled body kept the connection open")
            elapsed = time.monotonic() - start
            self.assertLess(elapsed, 4.5, f"closed only after {elapsed:.1f} s")
            self.assertNotIn(b"202", conn.buf)
        finally:
            conn.close()
        self.assertEqual([a for a in self.h.all_alerts() if a["dedup_key"] == key], [])
        self.assertHealthy()

    def test_trickled_body_is_cut_off(self):
        """--body-timeout bounds the whole body: one byte every 0.2 s is not enough."""
        key = uniq("trickle")
        body = json.dumps(trigger(key)).encode()
        conn = RawHttp(self.h.port)
        stop = threading.Event()
        full = raw_request("POST", "/v2/enqueue", body)
        head = full[: len(full) - len(body)]

        def dribble():
            for b in body:
                if stop.is_set():
                    return
                try:
                    conn.sock.send(bytes([b]))
                except OSError:
                    return
                time.sleep(0.2)

        t = threading.Thread(target=dribble, daemon=True)
        try:
            conn.send(head)
            start = time.monotonic()
            t.start()
            closed = conn.closed_by_peer(10)
            elapsed = time.monotonic() - start
            stop.set()
            self.assertTrue(closed, "a trickled body kept the connection open for 10 s")
            self.assertLess(elapsed, 4.5, f"closed only after {elapsed:.1f} s")
            self.assertNotIn(b"202", conn.buf)
        finally:
            stop.set()
            conn.close()
            t.join(3)
        self.assertEqual([a for a in self.h.all_alerts() if a["dedup_key"] == key], [])

    def test_idle_keep_alive_connection_is_closed(self):
        conn = RawHttp(self.h.port)
        try:
            conn.send(raw_request("GET", "/healthz"))
            self.assertStatus(conn.read_response(), 200)
            start = time.monotonic()
            self.assertTrue(conn.closed_by_peer(10), "an idle connection stayed open 10 s")
            self.assertLess(time.monotonic() - start, 7)  # --idle-timeout 3
        finally:
            conn.close()

    def test_malformed_http(self):
        for data in (b"GARBAGE\r\n\r\n",
                     b"POST /v2/enqueue HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                     b"POST /v2/enqueue HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                     b"GET /healthz HTTP/9.9\r\n\r\n",
                     b"POST /v2/enqueue HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
                     b"\r\n{}",
                     b"GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
                     b"POST /v2/enqueue HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            with self.subTest(data=data[:60]):
                conn = RawHttp(self.h.port)
                try:
                    conn.send(data)
                    try:
                        r = conn.read_response()
                    except ConnectionError:
                        r = None  # closing without an answer is acceptable
                    if r is not None:
                        self.assertGreaterEqual(r.status, 400, r)
                        self.assertLess(r.status, 500, r)
                        self.assertIsInstance(r.json, dict, r.text)
                finally:
                    conn.close()
        # Routing errors are JSON too.
        r = self.h.get("/v2/enqueue")
        self.assertStatus(r, 405)
        self.assertIsInstance(r.json, dict, r.text)
        r = self.h.get("/no/such/path")
        self.assertApiError(r, 404)
        r = self.h.request("DELETE", "/api/v1/alerts")
        self.assertStatus(r, 405)
        self.assertHealthy()

    # ---- HTTP/1.1 mechanics

    def test_pipelining(self):
        k1, k2, k3 = uniq("pipe1"), uniq("pipe2"), uniq("pipe3")
        conn = RawHttp(self.h.port)
        try:
            data = (raw_request("POST", "/v2/enqueue", json.dumps(trigger(k1)).encode())
                    + raw_request("POST", "/v2/enqueue", json.dumps(trigger(k2)).encode()))
            conn.send(data)  # two requests in one write
            r1, r2 = conn.read_response(), conn.read_response()
            self.assertStatus(r1, 202)
            self.assertStatus(r2, 202)
            self.assertEqual(r1.json["dedup_key"], k1)
            self.assertEqual(r2.json["dedup_key"], k2)
            self.note_valid(k1)
            self.note_valid(k2)
            # Valid, invalid, GET, valid: four answers in order on the same connection.
            data = (raw_request("POST", "/v2/enqueue", json.dumps(trigger(k3)).encode())
                    + raw_request("POST", "/v2/enqueue", b'{"nope":')
                    + raw_request("GET", "/healthz")
                    + raw_request("POST", "/v2/enqueue", json.dumps(trigger(k3)).encode()))
            conn.send(data)
            rs = [conn.read_response() for _ in range(4)]
            self.assertEqual([r.status for r in rs], [202, 400, 200, 202], rs)
            self.assertEqual(rs[0].json["dedup_key"], k3)
            self.assertEqual(rs[2].json, {"status": "ok"})
            self.assertEqual(rs[3].json["dedup_key"], k3)
            self.note_valid(k3)
            self.note_valid(k3)
        finally:
            conn.close()
        stored = {a["dedup_key"]: a for a in self.h.all_alerts()}
        self.assertEqual(stored[k3]["event_count"], 2)

    def test_keep_alive_reuse(self):
        conn = self.h.connection()
        try:
            port = None
            for i in range(20):
                key = uniq(f"ka{i}")
                conn.request("POST", "/v2/enqueue", body=json.dumps(trigger(key)),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
                self.assertEqual(resp.status, 202, body)
                self.assertNotEqual(resp.getheader("Connection", "").lower(), "close")
                self.note_valid(key)
                local = conn.sock.getsockname()[1]
                if port is None:
                    port = local
                self.assertEqual(local, port, "houston closed a keep-alive connection")
        finally:
            conn.close()
        # HTTP/1.0 without keep-alive: answered, then closed.
        c = RawHttp(self.h.port)
        try:
            c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertTrue(c.closed_by_peer(5))
        finally:
            c.close()
        # Connection: close is honoured.
        c = RawHttp(self.h.port)
        try:
            c.send(raw_request("GET", "/healthz", headers={"Connection": "close"}))
            self.assertStatus(c.read_response(), 200)
            self.assertTrue(c.closed_by_peer(5))
        finally:
            c.close()

    def test_expect_100_continue(self):
        key = uniq("expect")
        body = json.dumps(trigger(key)).encode()
        conn = RawHttp(self.h.port)
        try:
            req = raw_request("POST", "/v2/enqueue", body, {"Expect": "100-continue"})
            conn.send(req[: len(req) - len(body)])
            interim = conn.read_response()
            self.assertEqual(interim.status, 100, interim.version_line)
            conn.send(body)
            r = conn.read_response()
            self.assertStatus(r, 202)
            self.assertEqual(r.json["dedup_key"], key)
            self.note_valid(key)
        finally:
            conn.close()
        # Too large: refused at once, no 100 Continue, and no body needed.
        conn = RawHttp(self.h.port)
        try:
            conn.send(f"POST /integrations/alertmanager/{AM_KEY} HTTP/1.1\r\nHost: x\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {4 * KIB * KIB}\r\n"
                      "Expect: 100-continue\r\n\r\n".encode())
            r = conn.read_response()
            self.assertApiError(r, 413)
        finally:
            conn.close()
        # curl uses Expect: 100-continue for large bodies (> 1 MiB in recent versions,
        # > 1 KiB in old ones); a 200 KiB event must go through.
        key = uniq("curl-expect")
        ev = trigger(key)
        ev["payload"]["custom_details"] = {"pad": "p" * (200 * KIB)}
        path = os.path.join(self.tmp, "ev.json")
        with open(path, "w") as f:
            json.dump(ev, f)
        p = subprocess.run(["curl", "-sS", "-H", "Expect: 100-continue", "-H",
                            "Content-Type: application/json", "--data-binary", f"@{path}",
                            "-w", "\n%{http_code}", f"{self.h.url}/v2/enqueue"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.endswith("\n202"), p.stdout)
        self.note_valid(key)

    def test_chunked_body(self):
        key = uniq("chunked")
        body = json.dumps(trigger(key)).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 10]), body[i:i + 10])
                          for i in range(0, len(body), 10)) + b"0\r\n\r\n"
        conn = RawHttp(self.h.port)
        try:
            conn.send(b"POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
            r = conn.read_response()
            self.assertStatus(r, 202)
            self.assertEqual(r.json["dedup_key"], key)
            self.note_valid(key)
        finally:
            conn.close()

    def test_many_connections_at_once(self):
        socks = []
        try:
            for _ in range(200):
                socks.append(socket.create_connection(("127.0.0.1", self.h.port), timeout=10))
            self.assertHealthy()
        finally:
            for s in socks:
                s.close()
        self.assertHealthy()

    # ---- after all of it (runs last: unittest orders tests by name)

    def test_zz_stored_alerts_are_exactly_the_valid_events(self):
        alerts = self.h.all_alerts()
        by_key = {}
        for a in alerts:
            by_key.setdefault(a["dedup_key"], []).append(a)
        expected = type(self).valid
        self.assertEqual(set(by_key), set(expected),
                         f"unexpected: {sorted(set(by_key) - set(expected))[:10]}, "
                         f"missing: {sorted(set(expected) - set(by_key))[:10]}")
        for key, n in expected.items():
            self.assertEqual(len(by_key[key]), 1, by_key[key])
            self.assertEqual(by_key[key][0]["event_count"], n, key)
        metrics = parse_metrics(self.h.metrics())
        rejected = metrics.get('houston_events_total{integration="events_v2",result="rejected"}',
                               0)
        self.assertGreater(rejected, 0, "no rejected events_v2 counted")
        self.assertGreater(metrics.get('houston_events_total{integration="alertmanager",'
                                       'result="rejected"}', 0), 0)
        self.assertGreater(metrics.get('houston_events_total{integration="events_v2",'
                                       'result="accepted"}', 0), 0)
        self.assertGreater(metrics.get('houston_http_requests_total{route="/v2/enqueue",'
                                       'method="POST",code="400"}', 0), 0)
        self.assertGreater(metrics.get('houston_http_requests_total{route="/v2/enqueue",'
                                       'method="POST",code="202"}', 0), 0)
        hist = [k for k in metrics if k.startswith("houston_http_request_duration_seconds_bucket{"
                                                    'route="/v2/enqueue"')]
        self.assertTrue(hist, "no request latency histogram for /v2/enqueue")
        self.assertTrue(any('le="+Inf"' in k for k in hist), hist)
        self.assertGreater(metrics.get('houston_http_request_duration_seconds_count'
                                       '{route="/v2/enqueue"}', 0), 0)
        self.assertIn("houston_store_queue_depth", metrics)
        # Nothing else is in flight: no API request waits for a worker or runs on one.
        self.assertEqual(metrics.get("houston_api_requests_pending"), 0)
        self.assertTrue(any(k.startswith("houston_store_commit_duration_seconds_bucket")
                            for k in metrics))
        text = self.h.metrics()
        self.assertIn("# TYPE houston_http_request_duration_seconds histogram", text)
        self.assertIn("# TYPE houston_events_total counter", text)
        self.assertHealthy()
        log = self.h.log()
        for bad in ("threw", "terminate called", "Assertion", "CHECK failed", "Sanitizer"):
            self.assertNotIn(bad, log)


if __name__ == "__main__":
    harness.main()
