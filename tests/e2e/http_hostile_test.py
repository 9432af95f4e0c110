#!/usr/bin/python3
"""End-to-end: houston's HTTP/1.1 server facing hostile clients, over raw sockets.

Request smuggling through Transfer-Encoding, method strings as metrics labels, HEAD (headers
only, no heartbeat recorded), Host, absolute-form targets, 405's Allow, when 100 Continue is
sent, and a flood of idle connections against a server with few file descriptors."""

import json
import os
import resource
import socket
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EVENTS_KEY, HEARTBEAT_KEY, RawHttp, parse_metrics  # noqa: E402


def uniq(prefix="hostile"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def trigger(dedup_key):
    return json.dumps({"routing_key": EVENTS_KEY, "event_action": "trigger",
                       "dedup_key": dedup_key,
                       "payload": {"summary": "hostile-http test", "source": "e2e",
                                   "severity": "warning"}}).encode()


def request(method, path, body=b"", headers=None, version="HTTP/1.1"):
    """Raw request bytes; Host and Content-Length unless given (None leaves a header out)."""
    hdrs = {"Host": "127.0.0.1"}
    if body:
        hdrs["Content-Type"] = "application/json"
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = f"{method} {path} {version}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in hdrs.items() if v is not None)
    return head.encode() + b"\r\n" + body


def read_head(conn):
    """Reads a response's status line and headers only (the answer to HEAD): (status, headers)."""
    while b"\r\n\r\n" not in conn.buf:
        conn._fill()
    head, _, conn.buf = conn.buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split(" ")[1]), headers


class HostileHttpTest(harness.HoustonTestCase):
    SHARED_SERVER = True

    def exchange(self, data):
        """Sends `data` on a new connection; returns (first response, closed afterwards)."""
        conn = RawHttp(self.h.port)
        try:
            conn.send(data)
            r = conn.read_response()
            return r, conn.closed_by_peer(10)
        finally:
            conn.close()

    def assertNoAlert(self, dedup_key):
        self.assertNotIn(dedup_key, self.h.alerts_by_dedup())

    # ---- request smuggling (RFC 9112 section 6.3)

    def test_transfer_encoding_not_ending_in_chunked_is_refused(self):
        for te, status in (("xchunked", 400), ("chunked, identity", 400), ("gzip", 400),
                           ("identity", 400), ("gzip, chunked", 501)):
            with self.subTest(te=te):
                key = uniq("smuggled")
                smuggled = request("POST", "/v2/enqueue", trigger(key))
                r, closed = self.exchange(
                    request("POST", "/v2/enqueue", headers={"Transfer-Encoding": te}) + smuggled)
                self.assertStatus(r, status)
                self.assertEqual(r.headers.get("Connection", "").lower(), "close")
                self.assertTrue(closed, "the connection stayed open after a bad framing")
                self.assertNoAlert(key)
        # Transfer-Encoding with Content-Length: refused whatever the order.
        key = uniq("smuggled")
        smuggled = request("POST", "/v2/enqueue", trigger(key))
        for headers in ({"Transfer-Encoding": "gzip", "Content-Length": str(len(smuggled))},
                        {"Content-Length": str(len(smuggled)), "Transfer-Encoding": "chunked"}):
            with self.subTest(headers=headers):
                r, closed = self.exchange(request("POST", "/v2/enqueue", headers=headers)
                                          + smuggled)
                self.assertStatus(r, 400)
                self.assertTrue(closed)
        self.assertNoAlert(key)
        # HTTP/1.0 has no chunked: Transfer-Encoding there is faulty framing.
        r, closed = self.exchange(request("POST", "/v2/enqueue", version="HTTP/1.0",
                                          headers={"Transfer-Encoding": "chunked"})
                                  + b"0\r\n\r\n")
        self.assertStatus(r, 400)
        self.assertTrue(closed)

    # ---- metrics labels

    def test_unknown_methods_share_one_metrics_label(self):
        conn = RawHttp(self.h.port)
        methods = [f"X{uuid.uuid4().hex[:10].upper()}" for _ in range(40)]
        try:
            for m in methods:
                conn.send(request(m, "/healthz"))
                self.assertStatus(conn.read_response(), 405)
            conn.send(request("PROPFIND", "/no/such/path"))
            self.assertStatus(conn.read_response(), 404)
        finally:
            conn.close()
        text = self.h.metrics()
        for m in methods + ["PROPFIND"]:
            self.assertFalse(m in text, f"method {m} is a label in /metrics")
        series = parse_metrics(text)
        self.assertGreaterEqual(
            series['houston_http_requests_total{route="unmatched",method="other",code="405"}'], 40)

    # ---- HEAD

    def test_head_sends_headers_only(self):
        conn = RawHttp(self.h.port)
        try:
            conn.send(request("HEAD", "/healthz") + request("GET", "/healthz"))
            status, headers = read_head(conn)
            self.assertEqual(status, 200)
            get = conn.read_response()
            # The very next bytes are the GET answer's: no body came with the HEAD answer.
            self.assertEqual(get.version_line, "HTTP/1.1 200 OK")
            self.assertStatus(get, 200)
            self.assertEqual(get.json, {"status": "ok"})
            self.assertEqual(headers["content-length"], str(len(get.raw)))
        finally:
            conn.close()

    def test_head_on_a_heartbeat_url_records_no_beat(self):
        accepted = 'houston_events_total{integration="heartbeat",result="accepted"}'
        before = parse_metrics(self.h.metrics()).get(accepted, 0)
        conn = RawHttp(self.h.port)
        try:
            conn.send(request("HEAD", f"/integrations/heartbeat/{HEARTBEAT_KEY}"))
            status, _ = read_head(conn)
            self.assertEqual(status, 200)
        finally:
            conn.close()
        self.assertEqual(parse_metrics(self.h.metrics()).get(accepted, 0), before)
        self.assertStatus(self.h.get(f"/integrations/heartbeat/{HEARTBEAT_KEY}"), 200)
        self.assertEqual(parse_metrics(self.h.metrics()).get(accepted, 0), before + 1)

    # ---- Host, absolute form, 405

    def test_http11_needs_exactly_one_host(self):
        for data in (request("GET", "/healthz", headers={"Host": None}),
                     b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                     b"POST /v2/enqueue HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                     b"Content-Length: 2\r\n\r\n{}"):
            with self.subTest(data=data[:60]):
                r, closed = self.exchange(data)
                self.assertStatus(r, 400)
                self.assertTrue(closed)
        r, _ = self.exchange(b"GET /healthz HTTP/1.0\r\n\r\n")  # HTTP/1.0 may omit Host
        self.assertStatus(r, 200)

    def test_absolute_form_target_is_routed_by_its_path(self):
        conn = RawHttp(self.h.port)
        try:
            conn.send(request("GET", f"http://127.0.0.1:{self.h.port}/healthz"))
            r = conn.read_response()
            self.assertStatus(r, 200)
            self.assertEqual(r.json, {"status": "ok"})
            key = uniq("absolute")
            conn.send(request("POST", f"http://127.0.0.1:{self.h.port}/v2/enqueue", trigger(key)))
            self.assertStatus(conn.read_response(), 202)
        finally:
            conn.close()
        self.assertIn(key, self.h.alerts_by_dedup())

    def test_method_not_allowed_lists_allow(self):
        r = self.h.request("DELETE", "/healthz")
        self.assertStatus(r, 405)
        self.assertEqual(r.headers.get("Allow"), "GET, HEAD")
        r = self.h.get("/v2/enqueue")
        self.assertStatus(r, 405)
        self.assertEqual(r.headers.get("Allow"), "POST")
        self.assertIsInstance(r.json, dict, r.text)
        r = self.h.request("PUT", "/integrations/heartbeat/x")
        self.assertStatus(r, 405)
        self.assertEqual(r.headers.get("Allow"), "GET, HEAD, POST")

    # ---- 100 Continue

    def expect_continue(self, path, length=100, headers=None, version="HTTP/1.1"):
        hdrs = {"Content-Type": "application/json", "Content-Length": str(length),
                "Expect": "100-continue"}
        hdrs.update(headers or {})
        return request("POST", path, headers=hdrs, version=version)

    def test_100_continue_only_when_the_body_is_wanted(self):
        # HTTP/1.0 knows no 100 Continue: the first answer is the final one.
        key = uniq("continue10")
        body = trigger(key)
        r, _ = self.exchange(self.expect_continue("/v2/enqueue", len(body), version="HTTP/1.0")
                             + body)
        self.assertStatus(r, 202)
        # No route: 404 at once, without reading the body, then closed.
        r, closed = self.exchange(self.expect_continue("/no/such/path"))
        self.assertStatus(r, 404)
        self.assertTrue(closed)
        # Wrong method: 405.
        r, closed = self.exchange(request("PUT", "/v2/enqueue", headers={
            "Content-Length": "100", "Expect": "100-continue"}))
        self.assertStatus(r, 405)
        self.assertTrue(closed)
        # A route that needs a token: 401 without one, 403 with too small a role.
        r, closed = self.exchange(self.expect_continue("/api/v1/incidents"))
        self.assertStatus(r, 401)
        self.assertEqual(r.json["error"]["code"], "unauthenticated")
        self.assertTrue(closed)
        viewer = self.h.token("viewer")
        r, closed = self.exchange(self.expect_continue(
            "/api/v1/incidents", headers={"Authorization": f"Bearer {viewer}"}))
        self.assertStatus(r, 403)
        self.assertTrue(closed)
        # Without Expect too, an unauthenticated body is not read: answered, then closed.
        r, closed = self.exchange(request("POST", "/api/v1/incidents", b"x" * 1000))
        self.assertStatus(r, 401)
        self.assertTrue(closed)
        # With the role: 100 Continue, then the answer.
        body = json.dumps({"title": uniq("continue"), "sev": "SEV3", "service": "checkout",
                           "page": False}).encode()
        conn = RawHttp(self.h.port)
        try:
            conn.send(self.expect_continue("/api/v1/incidents", len(body), headers={
                "Authorization": f"Bearer {self.h.token('responder')}"}))
            interim = conn.read_response()
            self.assertEqual(interim.status, 100, interim.version_line)
            self.assertTrue(interim.version_line.startswith("HTTP/1.1 100"))
            conn.send(body)
            r = conn.read_response()
            self.assertIn(r.status, (200, 201), r)
        finally:
            conn.close()


class IdleFloodTest(harness.HoustonTestCase):
    """Few descriptors, many idle connections: real senders still get in, the log stays short."""

    FD_LIMIT = 128
    IDLE_CONNECTIONS = 400

    def test_idle_flood_with_few_descriptors(self):
        limit = self.FD_LIMIT

        def low_fd_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        h = self.new_server(preexec_fn=low_fd_limit)
        started = h.log_size()
        idle = []
        try:
            for _ in range(self.IDLE_CONNECTIONS):  # more connections than descriptors
                idle.append(socket.create_connection(("127.0.0.1", h.port), timeout=10))
            # Accepted after every idle one (the accept queue is in order): answered at once.
            key = uniq("after-flood")
            r = h.post("/v2/enqueue", json.loads(trigger(key)), timeout=10)
            self.assertStatus(r, 202)
            self.assertStatus(h.get("/healthz", timeout=10), 200)
            series = parse_metrics(h.metrics())
            self.assertGreater(series["houston_http_connections_shed_total"], 0)
            log = h.log(started)
            # A few lines (the bound at start-up, one per 10 s about shedding), not one per
            # connection or per failed accept.
            self.assertLess(len(log.splitlines()), 20, log[-3000:])
            self.assertLess(log.count("Too many open files"), 5, log[-3000:])
            self.assertIn("holding at most", h.log())
        finally:
            for s in idle:
                s.close()
        self.assertIn(key, h.alerts_by_dedup())
        self.assertEqual(h.stop(), 0)


if __name__ == "__main__":
    harness.main()
