#!/usr/bin/python3
"""End-to-end: where a running server's org comes from. The database holds it (one source of
truth for every server and for `houston apply`); `serve --config FILE` applies FILE while the
database's org came from FILE; `houston apply` of another file is picked up by running servers
by itself and is never undone by a SIGHUP or a restart with the old --config. A `serve` whose
--config is invalid leaves no database behind."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EVENTS_KEY, EVENTS_KEY_2, HOUSTON_BIN, wait_until  # noqa: E402

NEW_KEY = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"


def trigger(dedup_key, routing_key=EVENTS_KEY):
    return {"routing_key": routing_key, "event_action": "trigger", "dedup_key": dedup_key,
            "payload": {"summary": "org source test", "source": "e2e", "severity": "error"}}


def org_with_new_key():
    """The test org plus one events_v2 key on `payments`."""
    return harness.test_org_yaml().replace(
        '      - {type: events_v2, key: "%s"}\n' % EVENTS_KEY_2,
        '      - {type: events_v2, key: "%s"}\n      - {type: events_v2, key: "%s"}\n'
        % (EVENTS_KEY_2, NEW_KEY))


class OrgSourceTest(harness.HoustonTestCase):

    def accepts_new_key(self, srv, tag):
        return srv.enqueue(trigger(f"{tag}-{os.urandom(4).hex()}", routing_key=NEW_KEY)).status

    def test_apply_is_picked_up_and_never_undone_by_sighup_or_restart(self):
        srv = self.new_server()  # --config org.yaml (the test org, without NEW_KEY)
        self.assertEqual(self.accepts_new_key(srv, "before"), 400)
        applied = os.path.join(self.tmp, "applied.yaml")
        with open(applied, "w") as f:
            f.write(org_with_new_key())
        p = srv.cli("apply", "-f", applied, "--db", srv.db, check=True)
        self.assertIn("within 2 seconds", p.stdout)
        self.assertNotIn("SIGHUP", p.stdout)
        # The running server picks it up by itself: no signal, no restart.
        wait_until(lambda: self.accepts_new_key(srv, "applied") == 202, 15,
                   "the applied org to be running without a signal")
        self.assertIn("org reloaded: a new one was applied to the database", srv.log())
        # SIGHUP does not put --config org.yaml back: the database's org came from applied.yaml.
        mark = srv.log_size()
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "org reloaded (SIGHUP)" in srv.log(mark), 15, "the SIGHUP reload")
        self.assertIn("is not applied", srv.log(mark))
        self.assertEqual(self.accepts_new_key(srv, "after-hup"), 202)
        # Nor does a restart with the same --config.
        self.assertEqual(srv.stop(), 0)
        mark = srv.log_size()
        srv.start()
        log = srv.log(mark)
        self.assertIn(f"--config {srv.org_path} is not applied", log)
        self.assertIn(applied, log)
        self.assertEqual(self.accepts_new_key(srv, "after-restart"), 202)
        # Applying the --config file again makes it the source: SIGHUP re-reads it from then on.
        srv.cli("apply", "-f", srv.org_path, "--db", srv.db, check=True)
        wait_until(lambda: self.accepts_new_key(srv, "back") == 400, 15,
                   "the original org to be running again")
        with open(srv.org_path, "w") as f:
            f.write(org_with_new_key())
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.accepts_new_key(srv, "edited") == 202, 15,
                   "the edited --config file to be applied on SIGHUP")
        self.assertEqual(srv.stop(), 0)

    def test_an_invalid_config_creates_no_database(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write(harness.test_org_yaml().replace("escalation_policy: ops-ep\n",
                                                    "escalation_policy: nope\n", 1))
        db = os.path.join(self.tmp, "never.db")
        p = harness.subprocess.run(
            [HOUSTON_BIN, "serve", "--config", bad, "--db", db, "--listen", "127.0.0.1:0"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("nope", p.stderr)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("never.db")], [])


if __name__ == "__main__":
    harness.main()
