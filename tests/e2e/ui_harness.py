"""Shared set-up of the browser tests (tests/e2e/ui_*_test.py): one real houston per test class
on the example org (examples/org.yaml, as `make run` serves it), passwords set for its people,
then a Node script under tests/e2e/ui/ drives Debian's Chromium through playwright-core against
it (`node --test`). Screenshots are written when HOUSTON_UI_SCREENSHOTS names a folder
(`make ui-screenshots` writes docs/ui/)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PASSWORD = "correct horse battery staple"
E2E_DIR = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def example_org():
    with open(harness.EXAMPLE_ORG) as f:
        return f.read()


class UiTestCase(harness.HoustonTestCase):
    SHARED_SERVER = True
    SERVER_ARGS = ("--allow-egress", "127.0.0.1/32")
    USERS = ("alice", "bob", "carol", "dave", "erin")
    # Set: the example org's receivers (http://127.0.0.1:9000/...) move to a free port, passed
    # to the browser test as RECEIVER_PORT, where it listens itself to see the notifications.
    RECEIVER = False

    @classmethod
    def setUpClass(cls):
        cls.ORG_TEXT = example_org()
        cls.receiver_port = None
        if cls.RECEIVER:
            cls.receiver_port = harness.free_port()
            cls.ORG_TEXT = cls.ORG_TEXT.replace("127.0.0.1:9000", f"127.0.0.1:{cls.receiver_port}")
        super().setUpClass()
        for user in cls.USERS:
            p = subprocess.run([harness.HOUSTON_BIN, "user", "set-password", user, "--db", cls.h.db],
                               input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
                               cwd=cls.h.workdir)
            if p.returncode != 0:
                raise AssertionError(f"set-password {user}: {p.stderr}")

    def run_browser(self, script, timeout=180, env=None):
        """Runs tests/e2e/ui/<script> with `node --test` against this class's server; fails with
        its output (and the server's log) unless every test in it passes."""
        if not os.access(CHROMIUM, os.X_OK):
            self.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        full_env = dict(os.environ)
        full_env.update({
            "HOUSTON_URL": self.h.url,
            "HOUSTON_TOKEN": self.h.token("admin"),
            "UI_PASSWORD": PASSWORD,
            "CHROMIUM": CHROMIUM,
            "NODE_NO_WARNINGS": "1",
        })
        if self.receiver_port:
            full_env["RECEIVER_PORT"] = str(self.receiver_port)
        full_env.update(env or {})
        try:
            p = subprocess.run(["node", "--test", os.path.join(E2E_DIR, "ui", script)],
                               capture_output=True, text=True, timeout=timeout, env=full_env,
                               cwd=self.tmp)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
            self.fail(f"browser test {script} took longer than {timeout} s:\n{(out or '')[-20000:]}")
        sys.stderr.write(p.stdout[-20000:])
        if not self.h.alive():
            self.fail(f"houston exited ({self.h.proc.returncode}) during {script}:\n"
                      f"{p.stdout[-20000:]}")
        if p.returncode != 0:
            self.fail(f"browser test {script} failed (exit {p.returncode}):\n"
                      f"{p.stdout[-20000:]}\n{p.stderr[-5000:]}")
