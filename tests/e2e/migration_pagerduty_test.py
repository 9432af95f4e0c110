#!/usr/bin/python3
"""End-to-end: `houston import pagerduty` and `houston export`.

- export: the org a database holds comes out as org.yaml that applies as a no-op, after the
  example org and after a changed one; an empty database and a missing one are clear errors.
- import --dir: the fixture account (tests/fixtures/pagerduty, PagerDuty REST API v2 shapes)
  becomes an org.yaml that `houston apply --dry-run` accepts and a report naming what was not
  carried over; a server running it takes Events API v2 events on the PagerDuty routing key.
- import --api-key: the same account served by a fake PagerDuty API on loopback (PagerDuty
  itself cannot be reached from here; the fake follows its documented contract: token auth,
  the v2 Accept header, limit/offset/more paging with a server-side page cap) gives the same
  org; a rejected key (401) is a clear error and writes nothing.
- bad input: a missing or corrupt file is named, exit code 2, nothing written.
"""

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EXAMPLE_ORG, HOUSTON_BIN, SOURCE_DIR  # noqa: E402

FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures", "pagerduty")
API_KEY = "u+fakeReadOnlyKey123"
CHECKOUT_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.pop("PAGERDUTY_API_KEY", None)
    full_env.update(env or {})
    return subprocess.run([HOUSTON_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=full_env)


def body(path):
    """An org.yaml without its header comment (which names the time and the source)."""
    with open(path) as f:
        return "".join(line for line in f if not line.startswith("#"))


class FakePagerDuty:
    """Serves the fixture files as PagerDuty's REST API v2 would: GET /<name> answers
    <name>.json (pages merged), lists cut into pages of at most PAGE items whatever `limit`
    asks, with `more`; 401 unless the token is right. Records every request."""

    PAGE = 2

    def __init__(self, root, api_key):
        self.root = root
        self.api_key = api_key
        self.requests = []  # (path, query dict, headers dict)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                fake.requests.append((url.path, query, dict(self.headers)))
                status, answer = fake.answer(url.path, query, self.headers)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def load(self, name):
        """The saved answer of GET /name, with its further pages merged."""
        with open(os.path.join(self.root, name + ".json")) as f:
            doc = json.load(f)
        page = 2
        while doc.get("more"):
            with open(os.path.join(self.root, f"{name}.{page}.json")) as f:
                nxt = json.load(f)
            key = next(k for k, v in nxt.items() if isinstance(v, list))
            doc[key] += nxt[key]
            doc["more"] = nxt.get("more", False)
            page += 1
        return doc

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"Token token={self.api_key}":
            return 401, {"error": {"message": "Unauthorized", "code": 2006}}
        if headers.get("Accept") != "application/vnd.pagerduty+json;version=2":
            return 406, {"error": {"message": "Not Acceptable", "code": 2001}}
        name = path.strip("/")
        not_found = 404, {"error": {"message": "Not Found", "code": 2100}}
        if not re.fullmatch(r"[A-Za-z0-9_/]+", name):
            return not_found
        if not os.path.exists(os.path.join(self.root, name + ".json")):
            # GET /schedules/{id} of a schedule saved only in the list.
            match = re.fullmatch(r"schedules/([A-Za-z0-9]+)", name)
            entries = self.load("schedules")["schedules"] if match else []
            entry = next((s for s in entries if s["id"] == (match and match.group(1))), None)
            return (200, {"schedule": entry}) if entry else not_found
        doc = self.load(name)
        lists = [k for k, v in doc.items() if isinstance(v, list)]
        if not lists or "limit" not in query:
            return 200, doc
        key = lists[0]
        limit = min(int(query["limit"][0]), self.PAGE)
        offset = int(query.get("offset", ["0"])[0])
        items = doc[key]
        return 200, {key: items[offset:offset + limit], "limit": limit, "offset": offset,
                     "total": None, "more": offset + limit < len(items)}


class ExportTest(harness.HoustonTestCase):

    def dry_run(self, path, db):
        p = run("apply", "--dry-run", "-f", path, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_export_applies_as_a_no_op(self):
        db = os.path.join(self.tmp, "h.db")
        p = run("apply", "-f", EXAMPLE_ORG, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = os.path.join(self.tmp, "exported.yaml")
        p = run("export", "--db", db, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        with open(out) as f:
            text = f.read()
        self.assertIn("users:\n  - id: alice\n", text)
        self.assertIn("examples/org.yaml", text)  # the header names the applied file
        self.assertIn("No changes.", self.dry_run(out, db))
        p = run("apply", "-f", out, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("(0 objects changed)", p.stdout)

        # A changed org (a new user, a changed policy, a removed service) exports as changed.
        with open(EXAMPLE_ORG) as f:
            example = f.read()
        changed = example.replace("users:\n", "users:\n  - {id: zed, name: \"Zed: new\"}\n", 1)
        self.assertNotEqual(changed, example)
        modified = os.path.join(self.tmp, "modified.yaml")
        with open(modified, "w") as f:
            f.write(changed)
        p = run("apply", "-f", modified, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run("export", "--db", db, "-o", "-")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('  - {id: zed, name: "Zed: new"}\n', p.stdout)
        again = os.path.join(self.tmp, "again.yaml")
        with open(again, "w") as f:
            f.write(p.stdout)
        self.assertIn("No changes.", self.dry_run(again, db))
        # The exported file is a complete org: on a fresh database it adds what the first holds.
        fresh = os.path.join(self.tmp, "fresh.db")
        plan = self.dry_run(again, fresh)
        self.assertIn("+ user zed", plan)
        self.assertIn("0 to change, 0 to remove", plan)

        # --original: the applied text itself, comments and all.
        p = run("export", "--db", db, "-o", "-", "--original")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, changed)

    def test_export_errors(self):
        empty = os.path.join(self.tmp, "empty.db")
        p = run("migrate", "--db", empty)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = os.path.join(self.tmp, "out.yaml")
        p = run("export", "--db", empty, "-o", out)
        self.assertEqual(p.returncode, 1)
        self.assertIn("holds no org yet", p.stderr)
        self.assertFalse(os.path.exists(out))
        missing = os.path.join(self.tmp, "missing.db")
        p = run("export", "--db", missing, "-o", out)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no database at", p.stderr)
        self.assertFalse(os.path.exists(missing))
        self.assertFalse(os.path.exists(out))


class PagerDutyImportTest(harness.HoustonTestCase):

    def import_dir(self, directory, out):
        return run("import", "pagerduty", "--dir", directory, "-o", out)

    def test_import_dir_then_apply_then_page(self):
        out = os.path.join(self.tmp, "pd.yaml")
        report = os.path.join(self.tmp, "report.txt")
        report_json = os.path.join(self.tmp, "report.json")
        p = run("import", "pagerduty", "--dir", FIXTURES, "-o", out, "--report", report,
                "--report-json", report_json)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        with open(report) as f:
            text = f.read()
        for line in [
            "user 'Alice Admin' (PU1ALICE): contact method 'iPhone' "
            "(push_notification_contact_method): houston has no mobile app",
            "schedule 'Payments Primary' (PS1PAY) layer 'Old layer': the layer ended",
            "service 'Checkout API' (PSV1): integration 'Email' "
            "(generic_email_inbound_integration): houston has no e-mail intake",
            "escalation policy 'Payments EP' (PE1PAY): num_loops: the 2 loop(s)",
            "Imported: 2 escalation_policies, 4 integrations, 2 schedules, 4 services, "
            "2 teams, 5 users.",
        ]:
            self.assertIn(line, text)
        with open(report_json) as f:
            entries = json.load(f)["entries"]
        self.assertIn({"kind": "manual_step", "object": "user 'Dave Smith' (PU4DAVE)",
                       "field": "contact_methods",
                       "reason": "no contact method houston can use was imported: add a "
                                 "webhook, email, slack or sms_provider contact method, or "
                                 "this user is never notified"}, entries)

        db = os.path.join(self.tmp, "h.db")
        p = run("apply", "--dry-run", "-f", out, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("+ integration " + CHECKOUT_KEY, p.stdout)
        self.assertIn("+ schedule payments-primary", p.stdout)

        # A server running the imported org takes the Events API v2 sender's event on the same
        # routing key: the sender only changes its base URL.
        srv = self.new_server(org_path=out)
        resp = srv.enqueue({"routing_key": CHECKOUT_KEY, "event_action": "trigger",
                            "dedup_key": "pd-import-1",
                            "payload": {"summary": "Checkout down", "source": "web-1",
                                        "severity": "critical"}})
        self.assertStatus(resp, 202)
        self.assertEqual(resp.body["status"], "success")
        harness.wait_until(lambda: "pd-import-1" in srv.alerts_by_dedup(), 10,
                           "the alert to be stored")
        self.assertEqual(srv.alerts_by_dedup()["pd-import-1"][0]["service"], "checkout-api")

    def test_api_mode_reads_the_same_account(self):
        fake = FakePagerDuty(FIXTURES, API_KEY)
        self.addCleanup(fake.close)
        from_api = os.path.join(self.tmp, "api.yaml")
        # The key from the environment (--api-key -), kept off the command line.
        # The fake is on loopback, which the egress guard refuses unless allowed.
        p = run("import", "pagerduty", "--api-key", "-", "--api-url", fake.url + "/",
                "--allow-egress", "127.0.0.1/32",
                "-o", from_api, env={"PAGERDUTY_API_KEY": API_KEY})
        self.assertEqual(p.returncode, 0, p.stderr)
        from_dir = os.path.join(self.tmp, "dir.yaml")
        p2 = self.import_dir(FIXTURES, from_dir)
        self.assertEqual(p2.returncode, 0, p2.stderr)
        self.assertEqual(body(from_api), body(from_dir))
        self.assertEqual(p.stderr.split("wrote")[0], p2.stderr.split("wrote")[0])  # same report

        paths = [r[0] for r in fake.requests]
        # Paged: 5 users in pages of 2, following `more` with offsets 0, 2, 4.
        users = [r for r in fake.requests if r[0] == "/users"]
        self.assertEqual([r[1]["offset"] for r in users], [["0"], ["2"], ["4"]])
        self.assertEqual(users[0][1]["include[]"], ["contact_methods", "notification_rules"])
        services = [r for r in fake.requests if r[0] == "/services"]
        self.assertEqual(services[0][1]["include[]"], ["integrations"])
        # The schedule listed without layers is read in full; every schedule's overrides are read
        # from now on.
        self.assertIn("/schedules/PS1PAY", paths)
        self.assertNotIn("/schedules/PS2SUN", paths)
        overrides = [r for r in fake.requests if r[0] == "/schedules/PS1PAY/overrides"]
        self.assertTrue(overrides and "since" in overrides[0][1] and "until" in overrides[0][1])
        for path, _, headers in fake.requests:
            self.assertEqual(headers.get("Authorization"), f"Token token={API_KEY}", path)

    def test_bad_api_key(self):
        fake = FakePagerDuty(FIXTURES, API_KEY)
        self.addCleanup(fake.close)
        out = os.path.join(self.tmp, "api.yaml")
        p = run("import", "pagerduty", "--api-key", "wrong", "--api-url", fake.url,
                "--allow-egress", "127.0.0.1/32", "-o", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PagerDuty answered 401", p.stderr)
        self.assertIn("API key was not accepted", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_loopback_refused_unless_allowed(self):
        fake = FakePagerDuty(FIXTURES, API_KEY)
        self.addCleanup(fake.close)
        port = fake.url.rsplit(":", 1)[1]
        out = os.path.join(self.tmp, "api.yaml")
        for host in ("127.0.0.1", "2130706433", "0x7f.1", "[::ffff:7f00:1]"):
            with self.subTest(host=host):
                p = run("import", "pagerduty", "--api-key", API_KEY,
                        "--api-url", f"http://{host}:{port}", "-o", out)
                self.assertNotEqual(p.returncode, 0)
                self.assertRegex(p.stderr, r"destination address not allowed: [^ ]*127\.0\.0\.1")
                self.assertRegex(p.stderr,
                                 r"run the import with --allow-egress [^ ]*127\.0\.0\.1/")
                self.assertFalse(os.path.exists(out))
        self.assertEqual(fake.requests, [])

    def test_redirects_are_not_followed_and_answers_are_bounded(self):
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hits.append(self.path)
                if self.path.startswith("/users"):  # the first request of an import
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{port}/elsewhere/users")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                # /big/users: an endless answer (the importer stops reading it at 64 MiB).
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * (1 << 20)
                try:
                    for _ in range(80):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        out = os.path.join(self.tmp, "api.yaml")
        p = run("import", "pagerduty", "--api-key", API_KEY, "--api-url",
                f"http://127.0.0.1:{port}", "--allow-egress", "127.0.0.1/32", "-o", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PagerDuty answered 302", p.stderr)
        self.assertFalse(any(h.startswith("/elsewhere") for h in hits), hits)
        p = run("import", "pagerduty", "--api-key", API_KEY, "--api-url",
                f"http://127.0.0.1:{port}/big", "--allow-egress", "127.0.0.1/32", "-o", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("the answer is larger than 67108864 bytes", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_bad_directory(self):
        broken = os.path.join(self.tmp, "pd")
        shutil.copytree(FIXTURES, broken)
        out = os.path.join(self.tmp, "out.yaml")
        os.remove(os.path.join(broken, "services.json"))
        p = self.import_dir(broken, out)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(os.path.join(broken, "services.json") + "' is missing", p.stderr)
        self.assertIn("nothing was written", p.stderr)
        self.assertFalse(os.path.exists(out))

        shutil.copy(os.path.join(FIXTURES, "services.json"), broken)
        with open(os.path.join(broken, "schedules", "PS1PAY.json"), "w") as f:
            f.write('{"schedule": {"id": "PS1PAY", ')
        p = self.import_dir(broken, out)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(os.path.join(broken, "schedules", "PS1PAY.json") + " is not valid JSON",
                      p.stderr)
        self.assertFalse(os.path.exists(out))

        p = self.import_dir(os.path.join(self.tmp, "nowhere"), out)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is not a directory", p.stderr)
        p = run("import", "pagerduty", "-o", out)
        self.assertEqual(p.returncode, 2)
        self.assertIn("either --dir", p.stderr)
        p = run("import", "pagerduty", "--api-key", "-", "-o", out)
        self.assertEqual(p.returncode, 2)
        self.assertIn("$PAGERDUTY_API_KEY", p.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    harness.main()
