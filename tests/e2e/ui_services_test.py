#!/usr/bin/python3
"""Browser: services and notifications (tests/e2e/ui/services.test.mjs) in Debian's Chromium
against a real houston on the example org: the services list (team, tier, runbook, open incidents,
last event; integration keys for admins only) and the notifications page showing the failed
deliveries to the example org's webhooks (127.0.0.1:9000, where nothing listens) with their
error, per incident and per person; both at phone width."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class ServicesUiTest(ui_harness.UiTestCase):
    def test_browser(self):
        self.run_browser("services.test.mjs")


if __name__ == "__main__":
    harness.main()
