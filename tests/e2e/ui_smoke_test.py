#!/usr/bin/python3
"""Browser smoke test that needs no Playwright: Debian's Chromium, headless, prints the DOM of
the sign-in page after its scripts ran (`chromium --headless --dump-dom`). If a Playwright
release stops driving a newer Chromium, this still tells whether the UI itself renders."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class UiSmokeTest(harness.HoustonTestCase):
    SHARED_SERVER = True

    def dump_dom(self, path):
        with tempfile.TemporaryDirectory(prefix="houston-chromium-") as profile:
            args = [ui_harness.CHROMIUM, "--headless", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                    "--dump-dom", self.h.url + path]
            if os.geteuid() == 0:
                args.insert(1, "--no-sandbox")
            p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        return p.stdout

    def test_the_sign_in_page_renders_from_its_scripts(self):
        if not os.access(ui_harness.CHROMIUM, os.X_OK):
            self.fail(f"{ui_harness.CHROMIUM} is missing: `make test` installs Debian's chromium")
        dom = self.dump_dom("/signin?next=/incidents")
        # Rendered by app.js (the HTML as served holds only "Loading houston…").
        self.assertIn("Sign in to houston", dom)
        self.assertIn('autocomplete="current-password"', dom)
        self.assertNotIn("Loading houston", dom)
        # A signed-out page asks for sign-in, naming where to come back to.
        dom = self.dump_dom("/oncall")
        self.assertIn("Sign in to houston", dom)


if __name__ == "__main__":
    harness.main()
