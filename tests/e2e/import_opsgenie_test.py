"""houston import opsgenie, end to end: from the fixture backup (--dir) and from a fake Opsgenie
REST API on loopback (--api-key) serving the same objects, with paging and the GenieKey header as
Opsgenie documents them. Both must give the same org.yaml, which `houston apply --dry-run`
accepts. Bad input (a corrupt backup file, a refused API key) fails clearly and writes nothing.

Opsgenie itself cannot be reached from here; the fake follows the documented contract
(docs.opsgenie.com, opsgenie/opsgenie-oas): `Authorization: GenieKey <key>`, list answers
{"data": [...], "paging": {"next": URL}}, 401 {"message": ..., "took": ..., "requestId": ...}.
"""

import glob
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

FIXTURE = os.path.join(harness.SOURCE_DIR, "tests", "fixtures", "opsgenie")
BACKUP = os.path.join(FIXTURE, "OpsGenieBackups")
API_KEY = "5e6f7081-92a3-44b5-86c7-d8e9fa0b1c2d"


def load(pattern):
    out = []
    for path in sorted(glob.glob(os.path.join(BACKUP, pattern))):
        with open(path) as f:
            out.append(json.load(f))
    return out


class FakeOpsgenie:
    """The backup's objects served the way Opsgenie's REST API v2 serves them."""

    def __init__(self):
        self.users = load("users/*.json")
        self.teams = load("teams/*.json")
        self.schedules = load("schedules/*.json")
        for s in self.schedules:
            name = s["schedule"]["name"]
            s["scheduleOverrideList"] = (s.get("scheduleOverrideList") or []) + load(
                os.path.join("scheduleOverrides", glob.escape(name), "*.json"))
        self.escalations = load("escalations/*.json")
        self.integrations = load("integrations/*.json")
        self.heartbeats = load("heartbeats/*.json")
        self.requests = []  # (path, Authorization header)
        self.lock = threading.Lock()

    def answer(self, path, query, base):
        def page(items, size, route):
            offset = int(query.get("offset", ["0"])[0])
            body = {"data": items[offset:offset + size], "took": 0.01, "requestId": "r"}
            if offset + size < len(items):
                body["paging"] = {"next": f"{base}{route}offset={offset + size}",
                                  "first": f"{base}{route}offset=0"}
            return body

        def one(data):
            return {"data": data, "took": 0.01, "requestId": "r"}

        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["v2"]:
            return None
        parts = parts[1:]
        users = {u["user"]["id"]: u for u in self.users}
        if parts == ["users"]:
            metas = [{k: u["user"][k] for k in ("id", "username", "fullName")} for u in self.users]
            return page(metas, 3, "/v2/users?limit=100&")
        if len(parts) == 2 and parts[0] == "users" and parts[1] in users:
            return one(users[parts[1]]["user"])
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "notification-rules":
            rules = users[parts[1]]["notificationRuleList"]
            return one([{k: r[k] for k in ("id", "name", "actionType", "order", "enabled")}
                        for r in rules])
        if len(parts) == 4 and parts[0] == "users" and parts[2] == "notification-rules":
            for r in users[parts[1]]["notificationRuleList"]:
                if r["id"] == parts[3]:
                    return one(r)
            return None
        teams = {t["team"]["id"]: t for t in self.teams}
        if parts == ["teams"]:
            return one([{"id": t["team"]["id"], "name": t["team"]["name"]} for t in self.teams])
        if len(parts) == 2 and parts[0] == "teams" and parts[1] in teams:
            return one(teams[parts[1]]["team"])
        if len(parts) == 3 and parts[0] == "teams" and parts[2] == "routing-rules":
            return one(teams[parts[1]]["teamRoutingRules"])
        scheds = {s["schedule"]["id"]: s for s in self.schedules}
        if parts == ["schedules"]:
            if query.get("expand") != ["rotation"]:
                return None
            return page([s["schedule"] for s in self.schedules], 2, "/v2/schedules?expand=rotation&")
        if len(parts) == 3 and parts[0] == "schedules" and parts[2] == "overrides":
            # The list leaves out `rotations`; the single override has them.
            return one([{k: v for k, v in o.items() if k != "rotations"}
                        for o in scheds[parts[1]]["scheduleOverrideList"]])
        if len(parts) == 4 and parts[0] == "schedules" and parts[2] == "overrides":
            for o in scheds[parts[1]]["scheduleOverrideList"]:
                if o["alias"] == parts[3]:
                    return one(o)
            return None
        if parts == ["escalations"]:
            return one(self.escalations)
        integs = {i["integration"]["id"]: i["integration"] for i in self.integrations}
        if parts == ["integrations"]:
            return one([{"id": i["id"], "name": i["name"], "enabled": i["enabled"],
                         "type": i["type"], "teamId": i.get("ownerTeam", {}).get("id")}
                        for i in integs.values()])
        if len(parts) == 2 and parts[0] == "integrations" and parts[1] in integs:
            return one(integs[parts[1]])
        if parts == ["heartbeats"]:
            return one({"heartbeats": self.heartbeats})
        return None

    def start(self, key):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                auth = self.headers.get("Authorization", "")
                with fake.lock:
                    fake.requests.append((url.path, auth))
                if auth != f"GenieKey {key}":
                    self.send(401, {"message": "Could not authenticate", "took": 0.0,
                                    "requestId": "r401"})
                    return
                base = f"http://127.0.0.1:{self.server.server_port}"
                body = fake.answer(url.path, urllib.parse.parse_qs(url.query), base)
                if body is None:
                    self.send(404, {"message": f"no {url.path}", "took": 0.0, "requestId": "r"})
                else:
                    self.send(200, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def run(*args, timeout=60):
    return subprocess.run([harness.HOUSTON_BIN, *args], capture_output=True, text=True,
                          timeout=timeout)


def normalized(path):
    """The org.yaml without its header comment, with generated keys masked (they are random)."""
    with open(path) as f:
        text = f.read()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return re.sub(r"key: (\"?)[A-Za-z0-9]{24,64}\1", "key: GENERATED", text)


class ImportOpsgenieTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="houston-og-import-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_dir_and_api_give_the_same_valid_org(self):
        r = run("import", "opsgenie", "--dir", FIXTURE, "-o", self.path("dir.yaml"),
                "--report", self.path("dir-report.txt"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("dir-report.txt")) as f:
            report = f.read()
        for needle in ["Payments Schedule", "split into 3 houston schedules", "quiet-night",
                       "Payments_escalation", "repeat.waitInterval", "Batch jobs",
                       "backup folder 'forwardings'"]:
            self.assertIn(needle, report)
        self.assertEqual(os.stat(self.path("dir.yaml")).st_mode & 0o777, 0o600)

        fake = FakeOpsgenie()
        base = fake.start(API_KEY)
        try:
            # The fake listens on loopback, which the egress guard refuses unless allowed.
            r = run("import", "opsgenie", "--api-key", API_KEY, "--api-url", base + "/",
                    "--allow-egress", "127.0.0.1/32",
                    "-o", self.path("api.yaml"), "--report", self.path("api-report.txt"))
        finally:
            fake.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        # Every request carried the key, and paging was followed (users: 3 pages of 3).
        self.assertTrue(all(auth == f"GenieKey {API_KEY}" for _, auth in fake.requests))
        paths = [p for p, _ in fake.requests]
        self.assertEqual(paths.count("/v2/users"), 3)
        self.assertEqual(paths.count("/v2/schedules"), 2)
        self.assertIn("/v2/integrations/i-api", paths)
        self.assertIn("/v2/schedules/s-pay/overrides/erin-covers", paths)

        self.assertEqual(normalized(self.path("api.yaml")), normalized(self.path("dir.yaml")))
        # The real Opsgenie keys are kept, so senders keep working.
        with open(self.path("api.yaml")) as f:
            self.assertIn("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", f.read())

        r = run("apply", "--dry-run", "-f", self.path("api.yaml"), "--db",
                self.path("houston.db"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("schedule payments-schedule-weekdays", r.stdout + r.stderr)

    def test_corrupt_backup_file_writes_nothing(self):
        copy = self.path("backup")
        shutil.copytree(FIXTURE, copy)
        bad = os.path.join(copy, "OpsGenieBackups", "schedules", "Platform Oncall-s-plat.json")
        with open(bad, "w") as f:
            f.write('{"schedule": {"name": "Platform Oncall",')
        out = self.path("org.yaml")
        r = run("import", "opsgenie", "--dir", copy, "-o", out)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(bad, r.stderr)
        self.assertIn("not valid JSON", r.stderr)
        self.assertFalse(os.path.exists(out))

        shutil.rmtree(os.path.join(copy, "OpsGenieBackups", "users"))
        r = run("import", "opsgenie", "--dir", copy, "-o", out)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(os.path.join(copy, "OpsGenieBackups", "users") + ": no such folder",
                      r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_refused_api_key(self):
        fake = FakeOpsgenie()
        base = fake.start(API_KEY)
        out = self.path("org.yaml")
        try:
            r = run("import", "opsgenie", "--api-key", "wrong-key", "--api-url", base,
                    "--allow-egress", "127.0.0.1", "-o", out)
        finally:
            fake.stop()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("HTTP 401", r.stderr)
        self.assertIn("the API key was refused (Could not authenticate)", r.stderr)
        self.assertFalse(os.path.exists(out))

        r = run("import", "opsgenie", "-o", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("give either --dir", r.stderr)

    def test_private_addresses_are_refused_unless_allowed(self):
        fake = FakeOpsgenie()
        base = fake.start(API_KEY)
        port = base.rsplit(":", 1)[1]
        out = self.path("org.yaml")
        try:
            # Spellings of loopback (notify_loopback_test has them all): refused before any
            # connection, naming the flag.
            for host in ("localhost", "2130706433", "0177.0.0.1", "[::ffff:7f00:1]"):
                with self.subTest(host=host):
                    r = run("import", "opsgenie", "--api-key", API_KEY,
                            "--api-url", f"http://{host}:{port}", "-o", out)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertRegex(r.stderr,
                                     r"destination address not allowed: [^ ]*127\.0\.0\.1")
                    self.assertRegex(r.stderr,
                                     r"run the import with --allow-egress [^ ]*127\.0\.0\.1/")
                    self.assertFalse(os.path.exists(out))
            self.assertEqual(fake.requests, [])
            r = run("import", "opsgenie", "--api-key", API_KEY, "--api-url", base,
                    "--allow-egress", "not-a-cidr", "-o", out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("'not-a-cidr' is not an address", r.stderr)
            self.assertEqual(fake.requests, [])
        finally:
            fake.stop()


if __name__ == "__main__":
    unittest.main()
