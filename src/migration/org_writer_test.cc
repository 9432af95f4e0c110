#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "migration/migration.h"

namespace houston::migration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Source(const std::string& relative) {
  return std::string(HOUSTON_SOURCE_DIR) + "/" + relative;
}

// Writes `org`, reads the text back and expects the same canonical objects; returns the text.
std::string ExpectRoundTrip(const config::Org& org) {
  std::string yaml = WriteOrgYaml(org);
  Result<config::Org> again = config::ParseOrg(yaml, "written.yaml");
  EXPECT_TRUE(again.has_value()) << (again ? "" : again.error().ToString()) << "\n" << yaml;
  if (!again) return yaml;
  std::vector<config::OrgObject> before = config::Flatten(org);
  std::vector<config::OrgObject> after = config::Flatten(*again);
  EXPECT_EQ(after, before) << config::FormatDiff(config::Diff(before, after)) << "\n" << yaml;
  // Writing is stable: the written org writes the same text.
  EXPECT_EQ(WriteOrgYaml(*again), yaml);
  return yaml;
}

config::Org LoadOrDie(const std::string& path) {
  Result<config::Org> org = config::LoadOrgFile(path);
  EXPECT_TRUE(org.has_value()) << (org ? "" : org.error().ToString());
  return org.value_or(config::Org{});
}

TEST(WriteOrgYamlTest, ExampleOrgRoundTrips) {
  config::Org org = LoadOrDie(Source("examples/org.yaml"));
  ASSERT_FALSE(org.users.empty());
  std::string yaml = ExpectRoundTrip(org);
  // Defaults are left out.
  EXPECT_THAT(yaml, Not(HasSubstr("role: responder")));
  EXPECT_THAT(yaml, Not(HasSubstr("round_robin: false")));
  EXPECT_THAT(yaml, Not(HasSubstr("timezone: UTC")));
  // Short leaf objects are one line, as people write them.
  EXPECT_THAT(yaml, HasSubstr("- {id: alice-mail, type: email, address: alice@example.com}"));
  EXPECT_THAT(yaml, HasSubstr("rotation: {type: weekly, length: 1}"));
}

TEST(WriteOrgYamlTest, EveryFieldRoundTrips) {
  config::Org org = LoadOrDie(Source("tests/fixtures/migration/every_field.yaml"));
  ASSERT_EQ(org.users.size(), 5u);
  // The fixture really sets what it claims to (so that the round trip covers it).
  EXPECT_TRUE(org.postmortems.has_value());
  EXPECT_TRUE(org.action_items.has_value());
  EXPECT_TRUE(org.settings.has_value());
  EXPECT_TRUE(org.schedules[0].layers[1].end_local.has_value());
  EXPECT_EQ(org.schedules[0].layers[0].users[1], "");
  const config::Integration* routed = nullptr;
  for (const config::Integration& in : org.services[0].integrations) {
    if (in.key == "prom-routed") routed = &in;
  }
  ASSERT_NE(routed, nullptr);
  ASSERT_TRUE(routed->prometheus.has_value());
  ASSERT_EQ(routed->prometheus->routes.size(), 2u);
  EXPECT_EQ(routed->prometheus->routes[1].match[0].value, "Watch\"dog\\");
  EXPECT_TRUE(routed->prometheus->group_by.empty());
  std::string yaml = ExpectRoundTrip(org);
  // Ids YAML would read as something else are quoted.
  EXPECT_THAT(yaml, HasSubstr("id: \"yes\""));
  EXPECT_THAT(yaml, HasSubstr("\"1.0\""));
  EXPECT_THAT(yaml, HasSubstr("id: \"y\""));
  EXPECT_THAT(yaml, HasSubstr("id: \"007\""));
  EXPECT_THAT(yaml, HasSubstr("id: \"true\""));
  // Turns with nobody and a layer end.
  EXPECT_THAT(yaml, HasSubstr("users: [\"yes\", ~, bob, \"yes\"]"));
  EXPECT_THAT(yaml, HasSubstr("end: \"2026-06-01T12:30:15\""));
  // Overrides in UTC, a fraction only when there is one.
  EXPECT_THAT(yaml, HasSubstr("start: \"2026-03-07T14:00:00Z\""));
  EXPECT_THAT(yaml, HasSubstr("end: \"2026-03-08T13:00:00.250Z\""));
  // Prometheus matchers in Alertmanager's canonical spelling; defaults left out.
  EXPECT_THAT(yaml, HasSubstr(R"(match: ['service="db"', 'team=~"pay.*"', 'env!="prod"'])"));
  EXPECT_THAT(yaml, HasSubstr("{type: prometheus, key: prom-checkout}"));
  EXPECT_THAT(yaml, HasSubstr("group_by: [\"...\"]"));
}

TEST(WriteOrgYamlTest, EmptyOrgAndEmptySingletons) {
  ExpectRoundTrip(config::Org{});
  config::Org org;
  org.settings = config::Settings{};
  org.status_page = config::StatusPage{};
  org.action_items = config::ActionItemPolicy{};
  org.postmortems = config::DefaultPostmortemPolicy(config::SevLevels(org));
  std::string yaml = ExpectRoundTrip(org);
  EXPECT_THAT(yaml, HasSubstr("settings: {}"));
  EXPECT_THAT(yaml, HasSubstr("postmortems: {}"));
  // A postmortem policy requiring none is not the default and must be written.
  org.postmortems->required_severities.clear();
  yaml = ExpectRoundTrip(org);
  EXPECT_THAT(yaml, HasSubstr("required_severities: []"));
}

// Strings that a naive writer gets wrong, as a user's name, a service description and a silence
// matcher value (the latter may be empty).
TEST(WriteOrgYamlTest, QuotesEveryTrickyString) {
  const std::vector<std::string> tricky = {"yes",
                                           "No",
                                           "ON",
                                           "off",
                                           "y",
                                           "n",
                                           "true",
                                           "False",
                                           "null",
                                           "Null",
                                           "~",
                                           "1.0",
                                           "007",
                                           "0x1F",
                                           "1e3",
                                           "-1",
                                           "+1",
                                           ".5",
                                           ".inf",
                                           "-.inf",
                                           ".nan",
                                           "2026-01-05",
                                           "12:30",
                                           "1:20:30",
                                           "*alias",
                                           "&anchor",
                                           "!tag",
                                           "!!str",
                                           "%TAG",
                                           "@at",
                                           "`tick",
                                           "|literal",
                                           ">folded",
                                           "- dash",
                                           "-",
                                           "?",
                                           "? question",
                                           ": colon",
                                           "a: b",
                                           "a:b",
                                           "a #b",
                                           "it's",
                                           "'",
                                           "\"",
                                           "\\",
                                           "a\"b'c\\d",
                                           " \"x\" ",
                                           "#comment",
                                           "a#b",
                                           "{brace}",
                                           "[bracket]",
                                           "a, b",
                                           "a,b",
                                           "comma,",
                                           "quote\"inside",
                                           "'single'",
                                           "back\\slash",
                                           " leading",
                                           "trailing ",
                                           "  ",
                                           "tab\tinside",
                                           "new\nline",
                                           "two\n\nblank",
                                           "ends\n",
                                           "ends twice\n\n",
                                           "a\n\tb\n",
                                           "a\n  \nb",
                                           "a  \nb  \n",
                                           "\nstarts with newline",
                                           "cr\r\nlf",
                                           "bell\x07",
                                           "del\x7f",
                                           "é ü 東京",
                                           "<<",
                                           "=",
                                           "a=b",
                                           "x y z",
                                           "---",
                                           "...",
                                           "a: |",
                                           "key:",
                                           "http://example.com/?a=1&b=2#f"};
  config::Org org;
  config::User u;
  u.id = "u";
  org.users.push_back(u);
  config::EscalationPolicy p;
  p.id = "p";
  p.name = "p";
  p.steps.push_back({0, {{config::TargetType::kUser, "u"}}, false});
  org.escalation_policies.push_back(p);
  for (size_t i = 0; i < tricky.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(tricky[i]));
    config::Org o = org;
    o.users[0].name = tricky[i];
    config::Service s;
    s.id = "svc";
    s.name = "svc";
    s.escalation_policy = "p";
    s.description = tricky[i];
    o.services.push_back(s);
    config::Silence silence;
    silence.id = "s";
    silence.matchers.push_back({"summary", config::MatchOp::kEqual, tricky[i]});
    silence.matchers.push_back({"details.x", config::MatchOp::kNotEqual, ""});
    silence.expires_at = TimePoint{} + std::chrono::hours(24 * 365 * 57);
    o.silences.push_back(silence);
    ExpectRoundTrip(o);
  }
}

TEST(WriteOrgYamlTest, PlainWhereSafe) {
  config::Org org;
  config::User u;
  u.id = "alice.b-c_d";
  u.name = "Alice Example";
  u.email = "alice@example.com";
  org.users.push_back(u);
  std::string yaml = ExpectRoundTrip(org);
  EXPECT_EQ(yaml,
            "users:\n"
            "  - {id: alice.b-c_d, name: Alice Example, email: alice@example.com}\n");
}

TEST(WriteOrgYamlTest, MultiLineTextIsALiteralBlock) {
  config::Org org;
  config::Audience a;
  a.id = "executives";
  a.name = "executives";
  a.body_template = "{{incident.title}}\n\n  Impact: {{update.impact}}\n";
  org.audiences.push_back(a);
  std::string yaml = ExpectRoundTrip(org);
  EXPECT_THAT(yaml, HasSubstr("    template: |\n"
                              "      {{incident.title}}\n"
                              "\n"
                              "        Impact: {{update.impact}}\n"));
}

TEST(FormatReportTest, GroupsByKindThenCounts) {
  ImportResult result;
  result.report = {
      {ReportEntry::Kind::kManualStep, "user 'bob'", "contact_methods[1]", "set up SMS"},
      {ReportEntry::Kind::kDropped, "user 'bob'", "push", "houston has no push"},
      {ReportEntry::Kind::kChanged, "schedule 'ops'", "", "rounded"},
      {ReportEntry::Kind::kDropped, "service 'web'", "", "disabled"},
  };
  result.counts = {{"users", 2}, {"schedules", 1}};
  std::string text = FormatReport(result);
  EXPECT_EQ(text,
            "Not imported (2):\n"
            "  user 'bob': push: houston has no push\n"
            "  service 'web': disabled\n"
            "\n"
            "Imported with a different meaning (1):\n"
            "  schedule 'ops': rounded\n"
            "\n"
            "Manual steps (1):\n"
            "  user 'bob': contact_methods[1]: set up SMS\n"
            "\n"
            "Imported: 1 schedules, 2 users.\n"
            "Report: 2 not imported, 1 changed, 1 manual step(s).\n");
  std::string json = FormatReportJson(result);
  EXPECT_THAT(json, HasSubstr("{\"kind\":\"manual_step\",\"object\":\"user 'bob'\",\"field\":"
                              "\"contact_methods[1]\",\"reason\":\"set up SMS\"}"));
  EXPECT_THAT(json, HasSubstr("\"counts\":{\"schedules\":1,\"users\":2}"));
}

TEST(FormatReportTest, EmptyReport) {
  ImportResult result;
  EXPECT_THAT(FormatReport(result), HasSubstr("Everything was carried over exactly."));
}

}  // namespace
}  // namespace houston::migration
