#!/usr/bin/python3
"""End-to-end: the limits of houston's HTTP/1.1 server, over raw sockets.

Header size and count, body size per route (intake vs. the API), request time (a slowloris
sending a header byte at a time, a slow body), a flood of slow clients against a small
--max-connections with /healthz still answering, one Content-Length / Transfer-Encoding
interpretation (two Content-Lengths, lists, obs-fold, bad chunk sizes, bare CR/LF: 400 and the
connection closed, the smuggled request never processed), and path normalisation (dot segments,
NUL, malformed and overlong escapes refused; an encoded slash is data, never a separator; an
encoded spelling of a route gets that route's role check). See README "HTTP facing hostile
clients"."""

import json
import os
import socket
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EVENTS_KEY, RawHttp, parse_metrics  # noqa: E402

HEADER_TIMEOUT = 1  # seconds, --header-timeout of the shared server
BODY_TIMEOUT = 1    # --body-timeout
API_BODY_KIB = 16   # --max-api-body-kib


def uniq(prefix="limits"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def trigger(dedup_key, pad=0):
    return json.dumps({"routing_key": EVENTS_KEY, "event_action": "trigger",
                       "dedup_key": dedup_key,
                       "payload": {"summary": "http-limits test", "source": "e2e",
                                   "severity": "warning",
                                   "custom_details": {"pad": "p" * pad}}}).encode()


def request(method, path, body=b"", headers=None):
    hdrs = {"Host": "127.0.0.1"}
    if body:
        hdrs["Content-Type"] = "application/json"
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in hdrs.items() if v is not None)
    return head.encode() + b"\r\n" + body


def drip_until_closed(port, first, drip, interval, limit):
    """Sends `first`, then one byte of `drip` every `interval` s until the server closes the
    connection (or `limit` s pass). Returns (seconds until closed or None, bytes received)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    start = time.monotonic()
    got = b""
    try:
        sock.sendall(first)
        sock.settimeout(interval)
        i = 0
        while time.monotonic() - start < limit:
            try:
                data = sock.recv(65536)
                if not data:
                    return time.monotonic() - start, got
                got += data
                continue
            except socket.timeout:
                pass
            except ConnectionResetError:
                return time.monotonic() - start, got
            try:
                sock.send(drip[i % len(drip):i % len(drip) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, got
            i += 1
        return None, got
    finally:
        sock.close()


class HttpLimitsTest(harness.HoustonTestCase):
    SHARED_SERVER = True
    SERVER_ARGS = ("--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT),
                   "--max-api-body-kib", str(API_BODY_KIB))

    def exchange(self, data, closed_within=10):
        """Sends `data` on a new connection; (first response, closed afterwards)."""
        conn = RawHttp(self.h.port)
        try:
            conn.send(data)
            r = conn.read_response()
            return r, conn.closed_by_peer(closed_within)
        finally:
            conn.close()

    def assertRefusedAndClosed(self, data, status=400, msg=""):
        r, closed = self.exchange(data)
        self.assertStatus(r, status, msg)
        self.assertIsInstance(r.json, dict, r.text)
        self.assertEqual(r.headers.get("Connection", "").lower(), "close", msg)
        self.assertTrue(closed, f"the connection stayed open: {msg}")
        return r

    # ---- header size and count

    def test_header_size_and_count(self):
        self.assertRefusedAndClosed(request("GET", "/healthz", headers={"X-Big": "y" * 9000}),
                                    431)
        many = {f"X-H{i}": "v" for i in range(101)}
        r = self.assertRefusedAndClosed(request("GET", "/healthz", headers=many), 431)
        self.assertIn("header fields", r.json["error"]["message"])
        fine = {f"X-H{i}": "v" for i in range(98)}  # + Host = 99
        r, _ = self.exchange(request("GET", "/healthz", headers=fine), closed_within=0.2)
        self.assertStatus(r, 200)

    # ---- body size per route

    def test_body_limit_depends_on_the_route(self):
        # Intake takes events far larger than an API call (100 KiB here).
        key = uniq("big-event")
        r, _ = self.exchange(request("POST", "/v2/enqueue", trigger(key, pad=100 * 1024)),
                             closed_within=0.2)
        self.assertStatus(r, 202)
        # The API refuses a body over --max-api-body-kib from its Content-Length, before reading
        # it (even with a valid token), and so does sign-in.
        big = json.dumps({"title": "x" * (API_BODY_KIB * 1024), "sev": "SEV3"}).encode()
        token = self.h.token("responder")
        for path, headers in (("/api/v1/incidents", {"Authorization": f"Bearer {token}"}),
                              ("/api/v1/session", {})):
            with self.subTest(path=path):
                conn = RawHttp(self.h.port)
                try:
                    conn.send(request("POST", path, headers={
                        "Content-Type": "application/json", "Content-Length": str(len(big)),
                        **headers}))
                    r = conn.read_response()
                    self.assertStatus(r, 413)
                    self.assertIn(f"limit of {API_BODY_KIB * 1024} bytes",
                                  r.json["error"]["message"])
                    self.assertTrue(conn.closed_by_peer(10))
                finally:
                    conn.close()
        self.assertIn(key, self.h.alerts_by_dedup())

    # ---- request time

    def test_slowloris_header_is_cut_off(self):
        # A header byte every 0.3 s never finishes the head: closed at the header timeout.
        elapsed, got = drip_until_closed(self.h.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n",
                                         b"X-Slow: abcdefghijklmnopqrstuvwxyz\r\n", 0.3,
                                         HEADER_TIMEOUT + 8)
        self.assertIsNotNone(elapsed, "a slowloris held its connection")
        self.assertLess(elapsed, HEADER_TIMEOUT + 3)
        self.assertGreater(elapsed, HEADER_TIMEOUT * 0.8)
        self.assertNotIn(b"200 OK", got)

    def test_slow_body_is_cut_off(self):
        key = uniq("slow-body")
        body = trigger(key)
        head = request("POST", "/v2/enqueue", headers={
            "Content-Type": "application/json", "Content-Length": str(len(body))})
        elapsed, got = drip_until_closed(self.h.port, head, body, 0.3, BODY_TIMEOUT + 8)
        self.assertIsNotNone(elapsed, "a slow body held its connection")
        self.assertLess(elapsed, BODY_TIMEOUT + 3)
        self.assertNotIn(b"202", got)
        self.assertNotIn(key, self.h.alerts_by_dedup())

    # ---- one framing interpretation

    def test_smuggling_attempts_get_400_and_close(self):
        cases = {
            "two equal Content-Lengths":
                b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n",
            "Content-Length list": b"Content-Length: %d, %d\r\n\r\n",
            "Transfer-Encoding folded (obs-fold)":
                b"Transfer-Encoding:\r\n chunked\r\nX-N: %d%d\r\n\r\n0\r\n\r\n",
            "folded other header": b"X-A: a\r\n\tb%d%d\r\nContent-Length: 0\r\n\r\n",
            "space before colon": b"Transfer-Encoding : chunked\r\nX-N: %d%d\r\n\r\n0\r\n\r\n",
            "bare LF in the head": b"X-A: b\nX-N: %d%d\r\nContent-Length: 0\r\n\r\n",
            "bare CR in the head": b"X-A: b\rX-N: %d%d\r\nContent-Length: 0\r\n\r\n",
            "chunk size not hex": b"Transfer-Encoding: chunked\r\nX-N: %d%d\r\n\r\nzz\r\n",
            "chunk size overflows": b"Transfer-Encoding: chunked\r\nX-N: %d%d\r\n\r\n"
                                    b"fffffffffffffffff1\r\n",
            "negative chunk size": b"Transfer-Encoding: chunked\r\nX-N: %d%d\r\n\r\n-5\r\n",
            "0x chunk size": b"Transfer-Encoding: chunked\r\nX-N: %d%d\r\n\r\n0x5\r\n",
            "chunk data too long": b"Transfer-Encoding: chunked\r\nX-N: %d%d\r\n\r\n"
                                   b"2\r\n{}XX\r\n0\r\n\r\n",
        }
        for name, tail in cases.items():
            with self.subTest(case=name):
                key = uniq("smuggled")
                smuggled = request("POST", "/v2/enqueue", trigger(key))
                n = len(smuggled)
                data = (b"POST /v2/enqueue HTTP/1.1\r\nHost: a\r\n" + tail % (n, n) + smuggled)
                self.assertRefusedAndClosed(data, msg=name)
                self.assertNotIn(key, self.h.alerts_by_dedup(), name)

    def test_bare_lf_in_chunked_body_is_never_a_request(self):
        # Chunk lines must end in CRLF: with bare LFs the body never completes, and the
        # connection is cut at the body timeout; nothing in it is processed.
        key = uniq("lf-chunks")
        body = trigger(key)
        data = (b"POST /v2/enqueue HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\n" % len(body) + body + b"\n0\n\n")
        conn = RawHttp(self.h.port)
        try:
            conn.send(data)
            self.assertTrue(conn.closed_by_peer(BODY_TIMEOUT + 3))
            self.assertNotIn(b"HTTP/1.1 2", conn.buf)
        finally:
            conn.close()
        self.assertNotIn(key, self.h.alerts_by_dedup())

    # ---- path normalisation

    def test_paths_with_more_than_one_spelling_are_refused(self):
        for path in ("/api/v1/../../healthz", "/x/../healthz", "/./healthz", "/%2e%2e/healthz",
                     "/api/v1/incidents/%2E", "/healthz%00", "/healthz%0d%0aX:%20y",
                     "/health\\z",
                     "/api/v1/incidents/%c0%ae%c0%ae", "/api/v1/incidents/%e0%80%ae",
                     "/api/v1/incidents/%ff", "/healthz%zz", "/healthz%", "healthz", "*"):
            with self.subTest(path=path):
                self.assertRefusedAndClosed(request("GET", path), msg=path)
        # An encoded slash is data inside its segment, never a separator: no such route.
        for path in ("/api%2fv1/incidents", "/api%2Fv1%2Fincidents", "/api%5cv1/incidents"):
            with self.subTest(path=path):
                r, _ = self.exchange(request("GET", path), closed_within=0.2)
                self.assertStatus(r, 404)

    def test_encoded_spellings_get_the_same_role_check(self):
        viewer = self.h.token("viewer")
        responder = self.h.token("responder")
        # Decoded once, the same route: /healthz for everyone ...
        r, _ = self.exchange(request("GET", "/%68ealthz"), closed_within=0.2)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"status": "ok"})
        # ... and the incidents list with its role check, however it is spelt.
        for path in ("/api/v1/%69ncidents", "/api//v1/incidents/", "/%61pi/v1/incidents"):
            with self.subTest(path=path):
                self.assertStatus(self.h.get(path), 401)
                self.assertStatus(self.h.get(path, token=viewer), 200)
                self.assertStatus(self.h.post(path, {"title": "t", "sev": "SEV3"},
                                              token=viewer), 403)
        # An admin-only route stays admin-only.
        for path in ("/api/v1/audit", "/api/v1/%61udit", "/api/v1/aud%69t/"):
            with self.subTest(path=path):
                self.assertStatus(self.h.get(path, token=responder), 403)
        # Double encoding is decoded once: %252e%252e is the text "%2e%2e", an unknown id.
        r = self.h.get("/api/v1/incidents/%252e%252e", token=viewer)
        self.assertIn(r.status, (400, 404), r)


class SlowClientFloodTest(harness.HoustonTestCase):
    """More slow clients than --max-connections: the one waiting longest on its client is closed
    for each new connection, so /healthz and intake still answer."""

    MAX_CONNECTIONS = 16

    def test_healthz_answers_under_a_slow_client_flood(self):
        h = self.new_server(extra_args=["--max-connections", str(self.MAX_CONNECTIONS),
                                        "--header-timeout", "60", "--body-timeout", "60"])
        slow = []
        try:
            for i in range(3 * self.MAX_CONNECTIONS):
                s = socket.create_connection(("127.0.0.1", h.port), timeout=10)
                if i % 2:  # half send an unfinished head, half an unfinished body
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ")
                else:
                    s.sendall(request("POST", "/v2/enqueue", headers={
                        "Content-Type": "application/json", "Content-Length": "5000"}) + b"{")
                slow.append(s)
            for _ in range(3):
                start = time.monotonic()
                r = h.get("/healthz", timeout=5)
                self.assertStatus(r, 200)
                self.assertLess(time.monotonic() - start, 2)
            key = uniq("after-slow-flood")
            self.assertStatus(h.post("/v2/enqueue", json.loads(trigger(key)), timeout=5), 202)
            series = parse_metrics(h.metrics())
            self.assertGreaterEqual(series["houston_http_connections_shed_total"],
                                    2 * self.MAX_CONNECTIONS)
        finally:
            for s in slow:
                s.close()
        self.assertIn(key, h.alerts_by_dedup())
        self.assertEqual(h.stop(), 0)


if __name__ == "__main__":
    harness.main()
