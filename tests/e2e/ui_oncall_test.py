#!/usr/bin/python3
"""Browser test of the on-call pages (tests/e2e/ui/oncall.test.mjs): who is on call now for every
schedule and escalation policy, the schedule calendar (week and month; layers, overrides and gaps
labelled; zones said), an override made in the calendar followed live on /oncall and by the API,
a cover request accepted, and both pages at phone width, against a real houston on the example
org."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class UiOnCallTest(ui_harness.UiTestCase):

    def test_oncall_and_schedule_calendar_in_a_browser(self):
        self.run_browser("oncall.test.mjs")


if __name__ == "__main__":
    harness.main()
