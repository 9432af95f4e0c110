#!/usr/bin/python3
"""End-to-end: the `postmortems:` and `action_items:` sections of org.yaml. The bundled example
(which writes both) runs; `houston apply` shows their changes field by field and writes them to
the database, where a running server picks them up; a bad value is refused with its line and
column, and nothing is applied."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EXAMPLE_ORG, wait_until  # noqa: E402


def example_text():
    with open(EXAMPLE_ORG) as f:
        return f.read()


def replaced(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


class OrgLearningPoliciesTest(harness.HoustonTestCase):

    def test_the_example_runs_and_apply_plans_and_applies_changes(self):
        srv = self.new_server(org_path=EXAMPLE_ORG)
        self.assertIn("org loaded from", srv.log())

        # The example is the database's org: applying it again changes nothing.
        p = srv.cli("apply", "-f", EXAMPLE_ORG, "--db", srv.db, "--dry-run", check=True)
        self.assertIn("0 to add, 0 to change, 0 to remove", p.stdout)

        changed = os.path.join(self.tmp, "changed.yaml")
        text = example_text()
        text = replaced(text, "  due_days: 5\n", "  due_days: 7\n")
        text = replaced(text, "required_severities: [SEV1, SEV2]", "required_severities: [SEV1]")
        text = replaced(text, 'working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", '
                        'end: "17:00"}', 'working_hours: {days: [mon, tue, wed, thu, fri], '
                        'start: "09:00", end: "18:30"}')
        with open(changed, "w") as f:
            f.write(text)
        p = srv.cli("apply", "-f", changed, "--db", srv.db, "--dry-run", check=True)
        self.assertIn('~ postmortems postmortems: required_severities ["SEV1","SEV2"] -> '
                      '["SEV1"]\n', p.stdout)
        self.assertIn("~ postmortems postmortems: due_days 5 -> 7\n", p.stdout)
        self.assertIn('~ action_items action_items: working_hours.end "17:00" -> "18:30"\n',
                      p.stdout)
        self.assertIn("0 to add, 2 to change, 0 to remove", p.stdout)

        # Applied, the running server parses and runs it by itself.
        mark = srv.log_size()
        srv.cli("apply", "-f", changed, "--db", srv.db, check=True)
        wait_until(lambda: "org reloaded: a new one was applied" in srv.log(mark), 15,
                   "the server to run the applied org")
        p = srv.cli("apply", "-f", changed, "--db", srv.db, "--dry-run", check=True)
        self.assertIn("0 to add, 0 to change, 0 to remove", p.stdout)

        # Removing the sections removes their objects: the defaults apply again.
        without = os.path.join(self.tmp, "without.yaml")
        text = example_text()
        with open(without, "w") as f:
            f.write(text[:text.index("\n# Postmortems:")] + "\n")
        p = srv.cli("apply", "-f", without, "--db", srv.db, "--dry-run", check=True)
        self.assertIn("- action_items action_items\n- postmortems postmortems\n", p.stdout)
        self.assertEqual(srv.stop(), 0)

    def test_bad_values_are_refused_with_line_and_column(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("postmortems:\n"
                    "  required_severities: [SEV1, sev2]\n"
                    "  due_days: 0\n"
                    "  sections: [{id: what_happened, title: A}, {id: what_happened, title: B}]\n"
                    "  contributing_factors: [Deploy]\n"
                    "action_items:\n"
                    "  team_grace_days: -1\n"
                    "  working_hours: {days: [mon], start: \"17:00\", end: \"17:00\"}\n")
        db = os.path.join(self.tmp, "h.db")
        p = harness.subprocess.run([harness.HOUSTON_BIN, "apply", "-f", bad, "--db", db],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        for line in (
                f"{bad}:2:31: postmortems.required_severities[1]: unknown SEV level 'sev2' (did "
                "you mean 'SEV2'?",
                f"{bad}:3:13: postmortems.due_days: must be between 1 and 90, got 0",
                f"{bad}:4:50: postmortems.sections[1].id: duplicate section id 'what_happened'",
                f"{bad}:5:26: postmortems.contributing_factors[0]: invalid factor 'Deploy'",
                f"{bad}:7:20: action_items.team_grace_days: must be between 0 and 90, got -1",
                f"{bad}:8:53: action_items.working_hours.end: start and end are equal"):
            self.assertIn(line, p.stderr)
        self.assertIn("6 problem(s)", p.stderr)


if __name__ == "__main__":
    harness.main()
