#!/usr/bin/python3
"""End-to-end: secrets at rest. An org with known secret strings (webhook signing secrets, a
provider's secret and Authorization header, a Slack URL's tokens, an outbound webhook's secret, an
integration key) is applied and used; then the raw database (the SQLite file and its WAL, and a
pg_dump of PostgreSQL) is searched for each string byte for byte and none is found, while
`houston export` still writes them back. `houston secrets rotate` moves the database to a new
key: the server then still delivers webhooks signed with the right secret, and the old key alone
no longer opens the database (the refusal names the key id needed).
"""

import base64
import os
import re
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pg  # noqa: E402
from paging_peers import WebhookCollector  # noqa: E402

# Events arrive on it, so it is also in the event tables (alerts, incidents), sealed there.
USED_KEY = "sec-used-KEY-0123456789"
SECRETS = {
    "webhook secret": "whsec_" + base64.b64encode(b"e2e-at-rest-webhook-signing-key!").decode(),
    "sms secret": "SmS-secret-4f1c9e",
    "provider token": "prov-T0KEN-8d2a71",
    "slack token": "T0SECRETA/B0SECRETB/XoXsEcReTpAtH",
    "outbound webhook secret": "out-hook-S3CRET-77aa",
    "unused integration key": "sec-unused-KEY-5b0e93",
    "used integration key": USED_KEY,
}


def org(c):
    return f"""
users:
  - id: alice
    contact_methods:
      - {{id: hook, type: webhook, url: "{c.url('/hook/alice')}", secret: "{SECRETS['webhook secret']}"}}
      - {{id: slack, type: slack, url: "{c.url('/services/' + SECRETS['slack token'])}"}}
      - id: sms
        type: sms_provider
        url: "{c.url('/sms/alice')}"
        address: "+15555550100"
        secret: {SECRETS['sms secret']}
        headers: {{Authorization: "Bearer {SECRETS['provider token']}"}}
        template: '{{"to": "{{{{address}}}}"}}'
    notification_rules:
      - {{contact_method: hook, delay_minutes: 0}}
schedules:
  - id: primary
    timezone: UTC
    layers:
      - {{name: always, start: "2020-01-06T00:00:00", rotation: {{type: weekly, length: 1}}, users: [alice]}}
escalation_policies:
  - id: ep
    steps:
      - {{delay_minutes: 0, targets: [{{schedule: primary}}]}}
services:
  - id: web
    escalation_policy: ep
    integrations:
      - {{key: {USED_KEY}, type: events_v2}}
      - {{key: {SECRETS['unused integration key']}, type: events_v2}}
webhooks:
  - id: out
    url: "{c.url('/out')}"
    secret: {SECRETS['outbound webhook secret']}
    events: [incident.resolved]
"""


def new_key_file(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")


def key_id_in(text):
    m = re.search(r"key id ([0-9a-f]{12})", text)
    return m.group(1) if m else None


class SecretsAtRestTest(harness.HoustonTestCase):
    def setUp(self):
        super().setUp()
        self.c = WebhookCollector().start()
        self.addCleanup(self.c.close)
        self.c.set_secret("/hook/alice", SECRETS["webhook secret"])

    def page(self, h, dedup):
        r = h.enqueue({"routing_key": USED_KEY, "event_action": "trigger", "dedup_key": dedup,
                       "payload": {"summary": f"secrets {dedup}", "source": "e2e",
                                   "severity": "critical"}})
        self.assertStatus(r, 202)
        got = self.c.wait_for(lambda rs: [x for x in rs if x.path == "/hook/alice" and
                                          dedup.encode() in x.body], 15,
                              f"the page for {dedup} at /hook/alice")
        req = got[0]
        self.assertTrue(req.signature_ok, req.signature_problem)
        self.assertTrue(req.std_signature_ok, req.signature_problem)
        return req

    def assert_no_secret(self, blobs, where):
        for name, value in SECRETS.items():
            for part in value.split("/"):
                for blob_name, blob in blobs.items():
                    self.assertNotIn(part.encode(), blob,
                                     f"{name} ({part}) found in {blob_name} ({where})")

    def sqlite_files(self, db):
        out = {}
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                with open(db + suffix, "rb") as f:
                    out[os.path.basename(db + suffix)] = f.read()
            except FileNotFoundError:
                pass
        self.assertIn(os.path.basename(db), out)
        return out

    def test_sqlite_file_reveals_no_secret_and_rotation_keeps_signing(self):
        h = self.new_server(org_text=org(self.c), extra_args=["--allow-egress", "127.0.0.1/32"])
        key_file = h.db + ".key"
        self.assertTrue(os.path.exists(key_file), h.log())
        self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
        self.assertIn(f"generated the secrets key file {key_file}", h.log())
        old_id = key_id_in(h.log())
        self.assertIsNotNone(old_id, h.log())
        first = "first-" + uuid.uuid4().hex[:8]
        self.page(h, first)
        self.assertEqual(h.stop(), 0)

        files = self.sqlite_files(h.db)
        # The search sees the rows (the alert's summary is there), so finding nothing means
        # something.
        self.assertTrue(any(f"secrets {first}".encode() in b for b in files.values()))
        self.assert_no_secret(files, "after paging")
        # The database is opened by commands as well: export decrypts and writes them back.
        exported = h.cli("export", "-o", "-", "--db", h.db, check=True).stdout
        for name in ("webhook secret", "outbound webhook secret", "unused integration key"):
            self.assertIn(SECRETS[name], exported, name)

        # Rotation to a new key, twice (the rerun changes nothing).
        new_key = os.path.join(self.tmp, "new.key")
        new_key_file(new_key)
        r = h.cli("secrets", "rotate", "--db", h.db, "--new-key-file", new_key, check=True)
        new_id = re.search(r"rotated to secrets key ([0-9a-f]{12}): (\d+) re-encrypted",
                           r.stdout)
        self.assertIsNotNone(new_id, r.stdout + r.stderr)
        self.assertNotEqual(new_id.group(1), old_id)
        self.assertGreaterEqual(int(new_id.group(2)), 4, r.stdout)
        again = h.cli("secrets", "rotate", "--db", h.db, "--new-key-file", new_key,
                      "--old-key-file", key_file, check=True)
        self.assertIn(": 0 re-encrypted, 0 encrypted from clear", again.stdout)
        self.assert_no_secret(self.sqlite_files(h.db), "after rotation")

        # The old key alone (the default <db>.key) no longer opens the database.
        refused = subprocess.run(
            [harness.HOUSTON_BIN, "serve", "--config", h.org_path, "--db", h.db, "--listen",
             "127.0.0.1:0"], capture_output=True, text=True, timeout=30, cwd=self.tmp)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn(f"encrypted with secrets key {new_id.group(1)}", refused.stderr)
        refused = h.cli("export", "-o", "-", "--db", h.db)
        self.assertNotEqual(refused.returncode, 0)
        self.assertNotIn(SECRETS["webhook secret"], refused.stdout + refused.stderr)

        # With the new key the server runs and signs with the same secrets.
        h2 = self.new_server(org_text=org(self.c), db=h.db, name="rotated",
                             extra_args=["--allow-egress", "127.0.0.1/32",
                                         "--secrets-key-file", new_key])
        self.page(h2, "second-" + uuid.uuid4().hex[:8])
        self.assertEqual(h2.stop(), 0)
        self.assert_no_secret(self.sqlite_files(h.db), "after paging with the new key")

    def test_environment_key_and_no_key(self):
        env_key = base64.b64encode(os.urandom(32)).decode()
        h = self.new_server(org_text=org(self.c), start=False)
        db = os.path.join(self.tmp, "env.db")
        h.cli("apply", "-f", h.org_path, "--db", db, env={"HOUSTON_SECRETS_KEY": env_key},
              check=True)
        self.assert_no_secret(self.sqlite_files(db), "applied with HOUSTON_SECRETS_KEY")
        self.assertFalse(os.path.exists(db + ".key"), "an environment key needs no key file")
        # Without the key nothing opens, the refusal names no secret, and no key file is left.
        refused = h.cli("export", "-o", "-", "--db", db)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("encrypted with secrets key", refused.stderr)
        self.assertNotIn(env_key, refused.stderr)
        self.assertFalse(os.path.exists(db + ".key"))
        # A malformed key is refused by name, without echoing it.
        bad = h.cli("export", "-o", "-", "--db", db, env={"HOUSTON_SECRETS_KEY": "c2hvcnQ="})
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("HOUSTON_SECRETS_KEY", bad.stderr)
        self.assertNotIn("c2hvcnQ", bad.stderr)
        ok = h.cli("export", "-o", "-", "--db", db, env={"HOUSTON_SECRETS_KEY": env_key},
                   check=True)
        self.assertIn(SECRETS["provider token"], ok.stdout)


class SecretsAtRestPostgresTest(harness.HoustonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pg.check_installed()
        cls.pg = pg.PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.c = WebhookCollector().start()
        self.addCleanup(self.c.close)
        self.c.set_secret("/hook/alice", SECRETS["webhook secret"])
        self.add_log("PostgreSQL server log", self.pg.log_path)

    def dump(self, dbname):
        p = subprocess.run([pg._tool("pg_dump"), "--no-owner", self.pg.url(dbname)],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertIn(b"org_objects", p.stdout)
        return p.stdout

    def test_pg_dump_reveals_no_secret_and_plaintext_is_sealed_at_start(self):
        dbname = f"secrets_{os.getpid()}"
        url = self.pg.new_database(dbname)
        # No key: refused, saying how to make one; nothing is written.
        org_path = os.path.join(self.tmp, "pg-org.yaml")
        with open(org_path, "w") as f:
            f.write(org(self.c))
        no_key = subprocess.run(
            [harness.HOUSTON_BIN, "serve", "--config", org_path,
             "--db", url, "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30,
            cwd=self.tmp, env={k: v for k, v in os.environ.items()
                               if not k.startswith("HOUSTON_SECRETS")})
        self.assertNotEqual(no_key.returncode, 0)
        self.assertIn("needs a secrets key", no_key.stderr)
        self.assertIn("--secrets-key-file", no_key.stderr)
        # Asked for in so many words: stored in clear, with a warning.
        h = self.new_server(org_text=org(self.c), db=url,
                            extra_args=["--allow-egress", "127.0.0.1/32",
                                        "--allow-unencrypted-secrets"])
        self.assertIn("stored unencrypted", h.log())
        SecretsAtRestTest.page(self, h, "pg-clear-" + uuid.uuid4().hex[:8])
        self.assertEqual(h.stop(), 0)
        self.assertIn(SECRETS["webhook secret"].encode(), self.dump(dbname))

        # With a key: everything is sealed at start; paging goes on with the same secrets.
        key = os.path.join(self.tmp, "pg.key")
        new_key_file(key)
        h2 = self.new_server(org_text=org(self.c), db=url, name="keyed",
                             extra_args=["--allow-egress", "127.0.0.1/32",
                                         "--secrets-key-file", key])
        self.assertIn("sealed", h2.log())
        SecretsAtRestTest.page(self, h2, "pg-sealed-" + uuid.uuid4().hex[:8])
        self.assertEqual(h2.stop(), 0)
        dump = self.dump(dbname)
        SecretsAtRestTest.assert_no_secret(self, {"pg_dump": dump}, "PostgreSQL with a key")

        # And without the key the server refuses to start, naming the key, even when told that
        # secrets may be stored in clear.
        refused = subprocess.run(
            [harness.HOUSTON_BIN, "serve", "--config", h.org_path, "--db", url, "--listen",
             "127.0.0.1:0", "--allow-unencrypted-secrets"], capture_output=True, text=True,
            timeout=30, cwd=self.tmp)
        self.assertNotEqual(refused.returncode, 0)
        sealed_with = re.search(r"in clear under key ([0-9a-f]{12})", h2.log())
        self.assertIsNotNone(sealed_with, h2.log())
        self.assertIn("encrypted with secrets key " + sealed_with.group(1), refused.stderr)


if __name__ == "__main__":
    harness.main()
