#!/usr/bin/python3
"""End-to-end: the live change feed, GET /api/v1/live, against the real houston binary.

A WebSocket client written here with the standard library (socket, base64, hashlib) opens
streams; plain HTTP long-polls the same route. One SQLite server (with a 256 KiB buffer per
stream, so that a client that never reads is cut off soon, and every object named in its own
message however many change at once: --live-max-ids 1000000) runs:
- replay with ?since=N, then live changes, one JSON message per change in sequence order;
- {"type":"resync"} for a since further back than the feed replays, or ahead of it;
- long polls that page through a backlog 1,000 changes at a time, that answer at once, when a change is committed, or empty with `next` after the
  wait; 400 naming a bad parameter; 401 without a token;
- a WebSocket from a foreign Origin is refused (403), the server's own Origin is accepted;
- a client that never reads is disconnected while intake keeps answering 202 at once and an
  attentive client receives every change.
A server with the default --live-max-ids (50): a storm of 300 alerts reaches a stream as a few
messages that count them, and a stream that names a since before it is replayed every change.
Then two servers on one PostgreSQL database: a change made through A reaches a stream open on
B within one second.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pg  # noqa: E402
from harness import AM_KEY, EVENTS_KEY, wait_until  # noqa: E402

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsError(AssertionError):
    pass


class WsClient:
    """A minimal RFC 6455 client: handshake, unmasked server frames in, masked frames out."""

    def __init__(self, port, path, token=None, origin=None, rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if origin:
            lines.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1").split("\r\n")
        self.status = int(head[0].split()[1])
        self.headers = {k.strip().lower(): v.strip()
                        for k, v in (h.split(":", 1) for h in head[1:] if ":" in h)}
        self.body = b""
        if self.status == 101:
            expect = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != expect:
                raise WsError(f"bad Sec-WebSocket-Accept in {self.headers}")
        else:
            length = int(self.headers.get("content-length", "0"))
            while len(self.buf) < length:
                self._fill()
            self.body = self.buf[:length]

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise WsError("connection closed")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload=b""):
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv(self):
        """The next data message as (opcode, bytes); answers pings; ('close', code) at close."""
        while True:
            b0, b1 = self._take(2)
            opcode = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            if b1 & 0x80:
                raise WsError("the server masked a frame")
            payload = self._take(n)
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return ("close", code)
            if not b0 & 0x80:
                raise WsError("fragmented messages are not expected")
            return (opcode, payload)

    def recv_json(self):
        opcode, payload = self.recv()
        if opcode != 0x1:
            raise WsError(f"expected a text message, got {opcode!r} {payload!r}")
        return json.loads(payload)

    def close(self):
        try:
            self._send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def trigger(key):
    return {"routing_key": EVENTS_KEY, "event_action": "trigger", "dedup_key": key,
            "payload": {"summary": f"live {key}", "source": "e2e", "severity": "error"}}


def am_batch(group, n):
    """An Alertmanager webhook with `n` firing alerts of one group."""
    alerts = [{"status": "firing",
               "labels": {"alertname": "Live", "instance": f"{group}-{i}", "severity": "warning"},
               "annotations": {"summary": f"live {group} {i}"},
               "startsAt": "2026-02-06T13:08:45.828Z", "endsAt": "0001-01-01T00:00:00Z",
               "fingerprint": f"{group}-{i}"} for i in range(n)]
    return {"receiver": "houston", "status": "firing", "alerts": alerts,
            "groupLabels": {"alertname": "Live"}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am.example", "version": "4", "groupKey": group,
            "truncatedAlerts": 0}


# Paging starts only after a day: nothing but the test writes (no pages, no notifications), so
# the feed holds exactly what each test does.
ORG = f"""users:
  - id: alice
    name: Alice Example
escalation_policies:
  - id: later
    steps:
      - {{delay_minutes: 1440, targets: [{{user: alice}}]}}
services:
  - id: checkout
    name: Checkout API
    escalation_policy: later
    integrations:
      - {{type: events_v2, key: "{EVENTS_KEY}"}}
      - {{type: alertmanager, key: "{AM_KEY}"}}
"""


class LiveMixin:
    def head(self, h):
        r = h.get("/api/v1/live", token=h.token("viewer"))
        self.assertStatus(r, 200)
        self.assertEqual(r.json["changes"], [])
        return r.json["next"]

    def stream(self, h, since=None, **kw):
        path = "/api/v1/live" + (f"?since={since}" if since is not None else "")
        ws = WsClient(h.port, path, token=h.token("viewer"), **kw)
        self.addCleanup(ws.close)
        return ws

    def send(self, h, key):
        r = h.enqueue(trigger(key))
        self.assertStatus(r, 202, key)
        return r


class LiveTest(LiveMixin, harness.HoustonTestCase):
    SHARED_SERVER = True
    SERVER_ARGS = ("--live-buffer-kib", "256", "--live-max-ids", "1000000")
    ORG_TEXT = ORG

    def test_websocket_replays_since_then_streams_live(self):
        h = self.h
        start = self.head(h)
        self.send(h, "replay-1")
        self.send(h, "replay-2")
        ws = self.stream(h, since=start)
        self.assertEqual(ws.status, 101, ws.body)
        got = [ws.recv_json() for _ in range(4)]
        self.assertEqual([m["seq"] for m in got], list(range(start + 1, start + 5)), got)
        self.assertEqual([m["type"] for m in got],
                         ["incident.created", "alert.created"] * 2, got)
        alerts = h.alerts_by_dedup()
        self.assertEqual(got[1]["id"], str(alerts["replay-1"][0]["id"]))
        self.assertEqual(got[0]["id"], str(alerts["replay-1"][0]["incident_id"]))
        for m in got:
            self.assertRegex(m["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
            self.assertEqual(set(m), {"seq", "type", "id", "at"})
        # Then what happens next, as it happens.
        iid = got[0]["id"]
        r = h.post(f"/api/v1/incidents/{iid}/acknowledge", token=h.token("responder"))
        self.assertStatus(r, 200)
        live = [ws.recv_json() for _ in range(2)]
        self.assertEqual([m["seq"] for m in live], [start + 5, start + 6], live)
        self.assertEqual({(m["type"], m["id"]) for m in live},
                         {("alert.updated", got[1]["id"]), ("incident.updated", iid)})

    def test_resync_when_since_is_too_old_or_unknown(self):
        h = self.h
        ahead = self.stream(h, since=self.head(h) + 1000)
        self.assertEqual(ahead.recv_json(), {"type": "resync"})
        # More than the feed replays (5,000 changes) behind: reload instead.
        start = self.head(h)
        for i in range(11):
            r = h.post(f"/integrations/alertmanager/{AM_KEY}", am_batch(f"resync-{i}", 500))
            self.assertStatus(r, 202)
        self.assertGreater(self.head(h) - start, 5000)
        old = self.stream(h, since=start)
        self.assertEqual(old.recv_json(), {"type": "resync"})
        # After the resync the stream goes on live.
        self.send(h, "after-resync")
        m = old.recv_json()
        self.assertEqual(m["type"], "incident.created")
        # A long poll pages through the same backlog instead (it has no buffer to overflow).
        r = h.get(f"/api/v1/live?since={start}", token=h.token("viewer"))
        self.assertNotIn("resync", r.json)
        self.assertEqual(len(r.json["changes"]), 1000)
        self.assertEqual(r.json["next"], start + 1000)

    def test_long_poll(self):
        h = self.h
        tok = h.token("viewer")
        start = self.head(h)
        # Changes already there: at once.
        self.send(h, "poll-1")
        r = h.get(f"/api/v1/live?since={start}&wait=30", token=tok)
        self.assertStatus(r, 200)
        self.assertEqual([c["type"] for c in r.json["changes"]],
                         ["incident.created", "alert.created"])
        self.assertEqual(r.json["next"], start + 2)
        # Nothing yet: answered when a change is committed.
        result = {}

        def poll():
            t0 = time.monotonic()
            result["r"] = h.get(f"/api/v1/live?since={start + 2}&wait=30", token=tok, timeout=40)
            result["took"] = time.monotonic() - t0
        t = threading.Thread(target=poll)
        t.start()
        self.send(h, "poll-2")
        t.join(40)
        self.assertStatus(result["r"], 200)
        self.assertLess(result["took"], 10)
        self.assertEqual(result["r"].json["changes"][0]["seq"], start + 3)
        self.assertEqual(result["r"].json["next"], start + 4)
        # Nothing at all: empty after the wait, with where to go on from.
        t0 = time.monotonic()
        r = h.get(f"/api/v1/live?since={start + 4}&wait=1", token=tok)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(r.json, {"changes": [], "next": start + 4})
        # Bad parameters are named; a token is needed.
        r = h.get("/api/v1/live?since=0&wait=61", token=tok)
        self.assertStatus(r, 400)
        self.assertIn("'wait'", r.json["error"]["message"])
        r = h.get("/api/v1/live?since=x", token=tok)
        self.assertStatus(r, 400)
        self.assertIn("'since'", r.json["error"]["message"])
        self.assertStatus(h.get("/api/v1/live"), 401)

    def test_origin_and_token_are_checked_on_upgrade(self):
        h = self.h
        foreign = WsClient(h.port, "/api/v1/live", token=h.token("viewer"),
                           origin="https://evil.example")
        self.addCleanup(foreign.close)
        self.assertEqual(foreign.status, 403)
        self.assertIn(b"evil.example", foreign.body)
        anonymous = WsClient(h.port, "/api/v1/live")
        self.addCleanup(anonymous.close)
        self.assertEqual(anonymous.status, 401)
        own = self.stream(h, origin=f"http://127.0.0.1:{h.port}")
        self.assertEqual(own.status, 101)
        self.send(h, "origin-own")
        self.assertEqual(own.recv_json()["type"], "incident.created")

    def test_a_client_that_never_reads_is_cut_off_and_intake_goes_on(self):
        h = self.h
        start = self.head(h)
        slow = self.stream(h, since=start, rcvbuf=4096)
        fast = self.stream(h, since=start)
        self.assertEqual((slow.status, fast.status), (101, 101))
        received = []
        def read():
            try:
                while True:
                    received.append(fast.recv_json())
            except (WsError, OSError, ValueError):
                pass  # closed at the end of the test
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # Far more than the slow client's buffers hold; each batch is answered at once.
        for i in range(20):
            t0 = time.monotonic()
            r = h.post(f"/integrations/alertmanager/{AM_KEY}", am_batch(f"slow-{i}", 300))
            self.assertStatus(r, 202)
            self.assertLess(time.monotonic() - t0, 5)
        end = self.head(h)
        self.assertGreater(end - start, 6000)
        wait_until(lambda: harness.parse_metrics(h.metrics()).get(
            "houston_websocket_slow_clients_total", 0) >= 1, 20, "the slow client to be cut off")
        wait_until(lambda: received and received[-1]["seq"] == end, 20,
                   "the attentive client to receive every change")
        self.assertEqual([m["seq"] for m in received], list(range(start + 1, end + 1)))
        # The slow client finds its connection closed once it reads.
        slow.sock.settimeout(10)

        def drained():
            try:
                while True:
                    if slow.recv()[0] == "close":
                        return True
            except (WsError, OSError):
                return True
        self.assertTrue(drained())


_PG = None


def tearDownModule():  # noqa: N802
    global _PG
    if _PG is not None:
        _PG.cleanup()
        _PG = None


class LiveStormTest(LiveMixin, harness.HoustonTestCase):
    SHARED_SERVER = True
    ORG_TEXT = ORG

    def test_a_storm_is_counted_on_streams_and_replayed_in_full(self):
        h = self.h
        ws = self.stream(h)
        self.assertEqual(ws.status, 101, ws.body)
        # Live once it gets a change made after it opened (not a replay).
        self.send(h, "storm-ready")
        self.assertEqual(ws.recv_json()["type"], "incident.created")
        ws.recv_json()
        start = self.head(h)
        r = h.post(f"/integrations/alertmanager/{AM_KEY}", am_batch("storm", 300))
        self.assertStatus(r, 202)
        end = self.head(h)
        self.assertGreaterEqual(end - start, 301)
        # Every alert is accounted for: named, or counted by a message without an id.
        got, created = [], 0
        while created < 300:
            m = ws.recv_json()
            got.append(m)
            if m["type"] == "alert.created":
                created += m.get("count", 1)
        self.assertEqual(created, 300, got)
        counted = [m for m in got if "count" in m]
        self.assertTrue(counted, got)
        for m in counted:
            self.assertEqual(set(m), {"seq", "type", "count", "at"}, m)
        self.assertLess(len(got), 20, got)
        self.assertEqual([m["seq"] for m in got], sorted({m["seq"] for m in got}), got)
        # A stream that names a seq before the storm gets each change, one message each.
        late = self.stream(h, since=start)
        replayed = [late.recv_json() for _ in range(end - start)]
        self.assertEqual([m["seq"] for m in replayed], list(range(start + 1, end + 1)))
        self.assertEqual(sum(m["type"] == "alert.created" for m in replayed), 300)


class LiveReplicasTest(LiveMixin, harness.HoustonTestCase):
    def test_a_change_through_a_reaches_a_stream_on_b_within_a_second(self):
        global _PG
        if _PG is None:
            _PG = pg.PgServer().start()
        self.add_log("PostgreSQL server log", _PG.log_path)
        url = _PG.new_database(f"live_{os.getpid()}")
        a = self.new_server(db=url, name="a", org_text=ORG)
        b = self.new_server(db=url, name="b", org_text=ORG)
        b._tokens = a._tokens  # one database: a token made through A works on B
        ws = self.stream(b, since=self.head(b))
        self.assertEqual(ws.status, 101)
        for i in range(5):
            t0 = time.monotonic()
            r = self.send(a, f"replica-{i}")
            dedup = f"replica-{i}"
            while True:
                m = ws.recv_json()
                if m["type"] == "alert.created":
                    break
            took = time.monotonic() - t0
            self.assertLess(took, 1.0, f"{dedup} reached B after {took:.3f} s")
            self.assertEqual(m["id"], str(a.alerts_by_dedup()[dedup][0]["id"]), r)


if __name__ == "__main__":
    harness.main()
