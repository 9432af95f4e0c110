"""Loopback peers for houston's paging end-to-end tests (Python 3 standard library only).

- WebhookCollector: an HTTP server on 127.0.0.1 (port 0, in a thread) that records every
  request (method, path, headers, raw body) and checks houston's signatures itself, with
  hmac/hashlib, against the secret configured for the request's path:
    X-Houston-Signature: v1=<hex HMAC-SHA256(secret, raw body)>
    webhook-signature:   v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>
  Each path can be told which status to answer (also a sequence of statuses, one per request),
  or to hold its requests until released (to kill houston while a send is in flight).
- SmtpSink: Debian's aiosmtpd (`/usr/bin/python3 -m aiosmtpd ... -c aiosmtpd.handlers.Mailbox
  <maildir>`) as a real SMTP server, read back with the stdlib `mailbox.Maildir`.
- BlackHole: a listening socket that never accepts and whose backlog is full, so that a
  client's connect() hangs (SYNs are dropped): a send that never gets its request out.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import mailbox
import os
import socket
import subprocess
import threading
import time

AIOSMTPD_PYTHON = "/usr/bin/python3"


class Received:
    """One request as the collector saw it."""

    def __init__(self, method, path, headers, body, at):
        self.method = method
        self.path = path
        self.headers = headers  # email.message.Message: case-insensitive get()
        self.body = body        # raw bytes
        self.at = at            # time.monotonic()
        self.secret = None
        self.signature_ok = None      # X-Houston-Signature checked (None: no secret for path)
        self.std_signature_ok = None  # Standard Webhooks webhook-signature checked
        self.signature_problem = ""

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return f"<{self.method} {self.path} {self.body[:300]!r}>"


def houston_signature(secret, body):
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_webhook_signature(secret, msg_id, timestamp, body):
    key = secret.encode()
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class WebhookCollector:
    """Records every request; answers per path. Use as a context manager or start()/close()."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._secrets = {}    # path -> secret
        self._statuses = {}   # path -> list of statuses (the last one repeats)
        self._headers = {}    # path -> extra response headers
        self._holds = {}      # path -> threading.Event (set = release)
        self._server = None
        self._thread = None
        self.port = None

    # ---- configuration

    def set_secret(self, path, secret):
        with self._lock:
            self._secrets[path] = secret

    def set_status(self, path, *statuses, headers=None):
        """Answers `path` with these statuses in order (the last one repeats)."""
        with self._lock:
            self._statuses[path] = list(statuses)
            if headers:
                self._headers[path] = dict(headers)

    def hold(self, path):
        """Requests to `path` are recorded at once but answered only after release(path)."""
        with self._lock:
            self._holds[path] = threading.Event()

    def release(self, path=None):
        with self._lock:
            events = [self._holds.pop(path)] if path in self._holds else (
                list(self._holds.values()) if path is None else [])
            if path is None:
                self._holds.clear()
        for e in events:
            e.set()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    # ---- reading

    def requests(self, path=None, prefix=None):
        with self._lock:
            out = list(self._requests)
        if path is not None:
            out = [r for r in out if r.path == path]
        if prefix is not None:
            out = [r for r in out if r.path.startswith(prefix)]
        return out

    def wait_for(self, predicate, timeout, message):
        """Waits until predicate(requests) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(list(self._requests))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{r.method} {r.path}" for r in self._requests]
                    raise AssertionError(
                        f"timed out after {timeout} s waiting for: {message}; the collector has "
                        f"seen {len(seen)} request(s): {seen[-20:]}")
                self._cond.wait(min(left, 0.05))

    # ---- server

    def _record(self, handler, body):
        path = handler.path
        rec = Received(handler.command, path, handler.headers, body, time.monotonic())
        with self._lock:
            secret = self._secrets.get(path)
            statuses = self._statuses.get(path)
            status = 200
            if statuses:
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            extra = dict(self._headers.get(path, {}))
            hold = self._holds.get(path)
        if secret is not None:
            rec.secret = secret
            got = handler.headers.get("X-Houston-Signature")
            want = houston_signature(secret, body)
            rec.signature_ok = got is not None and hmac.compare_digest(got, want)
            if not rec.signature_ok:
                rec.signature_problem = f"X-Houston-Signature {got!r}, computed {want!r}"
            wid = handler.headers.get("webhook-id")
            wts = handler.headers.get("webhook-timestamp")
            wsig = handler.headers.get("webhook-signature")
            if wid and wts and wsig:
                want_std = standard_webhook_signature(secret, wid, wts, body)
                # The header may carry several space-separated signatures.
                rec.std_signature_ok = want_std in wsig.split(" ")
                if not rec.std_signature_ok:
                    rec.signature_problem += f" webhook-signature {wsig!r}, computed {want_std!r}"
            else:
                rec.std_signature_ok = False
                rec.signature_problem += " Standard Webhooks headers missing"
        with self._cond:
            self._requests.append(rec)
            self._cond.notify_all()
        return status, extra, hold

    def start(self):
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                status, extra, hold = collector._record(self, body)
                if hold is not None:
                    hold.wait(60)
                payload = b'{"ok":true}' if 200 <= status < 300 else b'{"error":"test"}'
                try:
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client went away (e.g. houston was killed)

            do_POST = _handle
            do_PUT = _handle
            do_GET = _handle

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self):
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class SmtpSink:
    """aiosmtpd with the Mailbox handler on 127.0.0.1:<free port>, writing to a Maildir."""

    def __init__(self, workdir):
        self.maildir = os.path.join(workdir, "maildir")
        self.log_path = os.path.join(workdir, "aiosmtpd.log")
        self.port = None
        self.proc = None
        self._log = None

    def start(self, timeout=15):
        if not os.path.exists(AIOSMTPD_PYTHON):
            raise RuntimeError(f"{AIOSMTPD_PYTHON} is missing")
        probe = subprocess.run([AIOSMTPD_PYTHON, "-c", "import aiosmtpd"], capture_output=True)
        if probe.returncode != 0:
            raise RuntimeError("python3-aiosmtpd is not installed for /usr/bin/python3 "
                               "(scripts/install-deps.sh installs it): "
                               + probe.stderr.decode(errors="replace"))
        for _attempt in range(5):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [AIOSMTPD_PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                 "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                        c.settimeout(2)
                        banner = c.recv(512)
                        if banner.startswith(b"220"):
                            c.sendall(b"QUIT\r\n")
                            self.port = port
                            return self
                except OSError:
                    time.sleep(0.05)
            self.close()  # port taken by someone else, or too slow: try another port
        raise RuntimeError(f"aiosmtpd did not start; log {self.log_path}")

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        """Every delivered message, parsed with the modern email API (oldest first)."""
        if not os.path.isdir(os.path.join(self.maildir, "new")):
            return []
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        out = []
        for key in sorted(box.keys()):  # keys start with the delivery time
            try:
                raw = box.get_bytes(key)
            except KeyError:
                continue
            out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def wait_for(self, predicate, timeout, message):
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            value = predicate(msgs)
            if value:
                return value
            if time.monotonic() >= deadline:
                subjects = [m.get("Subject") for m in msgs]
                raise AssertionError(f"timed out after {timeout} s waiting for: {message}; "
                                     f"the Maildir holds {len(msgs)} message(s): {subjects}")
            time.sleep(0.05)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None


def mail_parts(msg):
    """(text/plain content, text/html content) of a multipart/alternative message."""
    text = html = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            text = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
    return text, html


class BlackHole:
    """A TCP port whose accept queue is full and never drained: connecting to it hangs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self._fillers = []
        # Linux queues backlog + 1 connections; a few more are harmless (their SYNs are dropped).
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except (BlockingIOError, OSError):
                pass
            self._fillers.append(c)
        time.sleep(0.1)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        for c in self._fillers:
            c.close()
        self.sock.close()
