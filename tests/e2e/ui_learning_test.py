#!/usr/bin/python3
"""Browser test of the learning pages (tests/e2e/ui/learning.test.mjs): postmortems (the list,
writing and saving a section, a save refused because someone saved in between), action items
(add, mark done) and analytics (SVG charts with accessible names), at desktop and phone width,
against a real houston on the example org."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import ui_harness  # noqa: E402


class UiLearningTest(ui_harness.UiTestCase):

    def test_postmortems_action_items_and_analytics_in_a_browser(self):
        self.run_browser("learning.test.mjs")


if __name__ == "__main__":
    harness.main()
