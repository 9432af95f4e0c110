#!/usr/bin/python3
"""Browser: a responder runs an incident from the web UI (tests/e2e/ui/incidents.test.mjs) in
Debian's Chromium against a real houston: sign in and out, live list, acknowledge seen by a
second person, bulk actions on a held list, declare/roles/notes/status update to /status, the
notification-link landing, the polling fallback, phone size and dark mode."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class IncidentsUiTest(ui_harness.UiTestCase):
    RECEIVER = True

    def test_browser(self):
        self.run_browser("incidents.test.mjs")


if __name__ == "__main__":
    harness.main()
