#!/usr/bin/python3
"""Browser: the admin pages (tests/e2e/ui/admin.test.mjs) in Debian's Chromium against a real
houston on the example org: an API token created, shown once, used, revoked; the org as applied
with each object's YAML and no secret; the audit log; a responder told in words that these pages
need the admin role; phone width."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class AdminUiTest(ui_harness.UiTestCase):
    def test_browser(self):
        self.run_browser("admin.test.mjs")


if __name__ == "__main__":
    harness.main()
