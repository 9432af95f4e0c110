#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/time_util.h"
#include "testing/status_matchers.h"

namespace houston::config {
namespace {

using ::houston::testing::StatusIs;

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// The org.yaml example from DESIGN.md, verbatim.
constexpr std::string_view kDesignExample = R"yaml(users:
  - id: alice
    name: Alice Example
    email: alice@example.com
    timezone: Europe/Berlin
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9000/alice", secret: s3cret}
      - {id: alice-mail, type: email, address: alice@example.com}
      - {id: alice-slack, type: slack, url: "https://hooks.slack.com/services/T/B/X"}
    notification_rules:            # when, after an incident reaches her, each method fires
      - {contact_method: alice-hook, delay_minutes: 0}
      - {contact_method: alice-mail, delay_minutes: 5}
teams:
  - {id: payments, name: Payments, members: [alice, bob, carol]}
schedules:
  - id: payments-primary
    timezone: America/New_York     # handoffs happen at local wall-clock time, across DST
    layers:                        # a later layer wins over an earlier one where it has someone
      - name: weekly
        start: "2026-01-05T09:00:00"          # local time in the schedule's zone
        rotation: {type: weekly, length: 1}   # hourly | daily | weekly, length = how many
        users: [alice, bob, carol]
        restrictions:                          # optional: the layer only covers these windows
          - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
    overrides:                     # on top of every layer
      - {user: dave, start: "2026-03-07T09:00:00-05:00", end: "2026-03-08T09:00:00-04:00"}
escalation_policies:
  - id: payments-ep
    repeat: 2                      # times the whole policy runs again if nobody acknowledges
    steps:
      - {delay_minutes: 0, targets: [{schedule: payments-primary}]}
      - {delay_minutes: 15, targets: [{user: bob}, {team: payments}]}
services:
  - id: checkout
    name: Checkout API
    team: payments
    tier: 1
    runbook_url: "https://wiki.example.com/checkout"
    escalation_policy: payments-ep
    depends_on: [payments-db]
    integrations:
      - {type: events_v2, key: "0123456789abcdef0123456789abcdef"}
      - {type: alertmanager, key: "am-checkout"}
      - {type: heartbeat, key: "hb-checkout", interval_minutes: 5}
status_page:
  title: Example Status
  components:
    - {id: web, name: Website, services: [checkout]}
)yaml";

// What the DESIGN.md example references but does not define (it is an excerpt).
constexpr std::string_view kDesignExampleUsers = R"yaml(  - {id: bob, email: bob@example.com}
  - {id: carol}
  - {id: dave}
)yaml";
constexpr std::string_view kDesignExampleServices =
    R"yaml(  - {id: payments-db, escalation_policy: payments-ep}
)yaml";

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// The problem lines of an invalid org; empty if it is valid.
std::vector<std::string> ProblemsOf(std::string_view yaml) {
  Result<Org> org = ParseOrg(yaml, "org.yaml");
  if (org.has_value()) return {};
  EXPECT_THAT(org, StatusIs(StatusCode::kInvalidArgument));
  return org.error().details();
}

Org ParseValid(std::string_view yaml) {
  Result<Org> org = ParseOrg(yaml, "org.yaml");
  EXPECT_TRUE(org.has_value()) << (org ? "" : Join(org.error().details()));
  return org.value_or(Org{});
}

std::string InsertBefore(std::string text, std::string_view marker, std::string_view insert) {
  size_t pos = text.find(marker);
  EXPECT_NE(pos, std::string::npos) << marker;
  if (pos != std::string::npos) text.insert(pos, insert);
  return text;
}

std::string CompletedDesignExample() {
  std::string text = InsertBefore(std::string(kDesignExample), "teams:\n", kDesignExampleUsers);
  return InsertBefore(text, "status_page:\n", kDesignExampleServices);
}

const OrgObject* FindObject(const std::vector<OrgObject>& objects, std::string_view kind,
                            std::string_view id) {
  for (const OrgObject& o : objects) {
    if (o.kind == kind && o.id == id) return &o;
  }
  return nullptr;
}

// ---- the shape ------------------------------------------------------------------------------

TEST(ParseOrgTest, DesignExampleOnlyLacksTheObjectsItElides) {
  // Everything in the excerpt parses; what is left are references to objects it does not show.
  EXPECT_THAT(
      ProblemsOf(kDesignExample),
      ElementsAre(
          "org.yaml:14:53: teams[0].members[1]: unknown user 'bob' (defined: alice)",
          "org.yaml:14:58: teams[0].members[2]: unknown user 'carol' (defined: alice)",
          "org.yaml:22:24: schedules[0].layers[0].users[1]: unknown user 'bob' (defined: alice)",
          "org.yaml:22:29: schedules[0].layers[0].users[2]: unknown user 'carol' (defined: "
          "alice)",
          "org.yaml:26:16: schedules[0].overrides[0].user: unknown user 'dave' (defined: alice)",
          "org.yaml:32:46: escalation_policies[0].steps[1].targets[0].user: unknown user 'bob' "
          "(defined: alice)",
          "org.yaml:40:18: services[0].depends_on[0]: unknown service 'payments-db' (defined: "
          "checkout)"));
}

TEST(ParseOrgTest, DesignExampleParses) {
  Org org = ParseValid(CompletedDesignExample());
  ASSERT_THAT(org.users, SizeIs(4));
  const User& alice = org.users[0];
  EXPECT_EQ(alice.id, "alice");
  EXPECT_EQ(alice.name, "Alice Example");
  EXPECT_EQ(alice.email, "alice@example.com");
  EXPECT_EQ(alice.timezone, "Europe/Berlin");
  ASSERT_THAT(alice.contact_methods, SizeIs(3));
  EXPECT_EQ(alice.contact_methods[0].type, ContactMethodType::kWebhook);
  EXPECT_EQ(alice.contact_methods[0].url, "http://127.0.0.1:9000/alice");
  EXPECT_EQ(alice.contact_methods[0].secret, "s3cret");
  EXPECT_EQ(alice.contact_methods[1].type, ContactMethodType::kEmail);
  EXPECT_EQ(alice.contact_methods[1].address, "alice@example.com");
  EXPECT_EQ(alice.contact_methods[2].type, ContactMethodType::kSlack);
  ASSERT_THAT(alice.notification_rules, SizeIs(2));
  EXPECT_EQ(alice.notification_rules[1].contact_method, "alice-mail");
  EXPECT_EQ(alice.notification_rules[1].delay_minutes, 5);
  EXPECT_EQ(org.users[1].name, "bob");  // defaults to the id
  EXPECT_EQ(org.users[1].timezone, "UTC");

  ASSERT_THAT(org.teams, SizeIs(1));
  EXPECT_THAT(org.teams[0].members, ElementsAre("alice", "bob", "carol"));

  ASSERT_THAT(org.schedules, SizeIs(1));
  const Schedule& s = org.schedules[0];
  EXPECT_EQ(s.timezone, "America/New_York");
  ASSERT_THAT(s.layers, SizeIs(1));
  EXPECT_EQ(s.layers[0].name, "weekly");
  EXPECT_EQ(s.layers[0].start, "2026-01-05T09:00:00");
  EXPECT_EQ(s.layers[0].start_local,
            date::local_days(date::year(2026) / 1 / 5) + std::chrono::hours(9));
  EXPECT_EQ(s.layers[0].rotation.type, RotationType::kWeekly);
  EXPECT_EQ(s.layers[0].rotation.length, 1);
  ASSERT_THAT(s.layers[0].restrictions, SizeIs(1));
  EXPECT_THAT(
      s.layers[0].restrictions[0].days,
      ElementsAre(date::Monday, date::Tuesday, date::Wednesday, date::Thursday, date::Friday));
  EXPECT_EQ(s.layers[0].restrictions[0].start_minute, 9 * 60);
  EXPECT_EQ(s.layers[0].restrictions[0].end_minute, 17 * 60);
  ASSERT_THAT(s.overrides, SizeIs(1));
  EXPECT_EQ(s.overrides[0].user, "dave");
  EXPECT_EQ(FormatRfc3339(s.overrides[0].start), "2026-03-07T14:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(s.overrides[0].end), "2026-03-08T13:00:00.000Z");

  ASSERT_THAT(org.escalation_policies, SizeIs(1));
  const EscalationPolicy& p = org.escalation_policies[0];
  EXPECT_EQ(p.repeat, 2);
  EXPECT_FALSE(p.ack_timeout_minutes.has_value());
  ASSERT_THAT(p.steps, SizeIs(2));
  EXPECT_EQ(p.steps[1].delay_minutes, 15);
  ASSERT_THAT(p.steps[1].targets, SizeIs(2));
  EXPECT_EQ(p.steps[1].targets[0].type, TargetType::kUser);
  EXPECT_EQ(p.steps[1].targets[0].id, "bob");
  EXPECT_EQ(p.steps[1].targets[1].type, TargetType::kTeam);
  EXPECT_EQ(p.steps[0].targets[0].type, TargetType::kSchedule);

  const Service* checkout = FindService(org, "checkout");
  ASSERT_NE(checkout, nullptr);
  EXPECT_EQ(checkout->name, "Checkout API");
  EXPECT_EQ(checkout->tier, 1);
  EXPECT_EQ(checkout->runbook_url, "https://wiki.example.com/checkout");
  EXPECT_THAT(checkout->depends_on, ElementsAre("payments-db"));
  ASSERT_THAT(checkout->integrations, SizeIs(3));
  EXPECT_EQ(checkout->integrations[0].type, core::IntegrationType::kEventsV2);
  EXPECT_EQ(checkout->integrations[0].key, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(checkout->integrations[0].name, "events_v2");
  EXPECT_EQ(checkout->integrations[0].service_id, "checkout");
  EXPECT_EQ(checkout->integrations[2].type, core::IntegrationType::kHeartbeat);
  EXPECT_EQ(checkout->integrations[2].interval_minutes, 5);

  ASSERT_TRUE(org.status_page.has_value());
  EXPECT_EQ(org.status_page->title, "Example Status");
  ASSERT_THAT(org.status_page->components, SizeIs(1));
  EXPECT_THAT(org.status_page->components[0].services, ElementsAre("checkout"));

  EXPECT_EQ(FindServiceByIntegrationKey(org, "am-checkout"), checkout);
  EXPECT_EQ(FindServiceByIntegrationKey(org, "nope"), nullptr);
  IntegrationIndex index = IndexIntegrations(org);
  EXPECT_THAT(index, SizeIs(3));
  auto it = index.find(std::string_view("hb-checkout"));
  ASSERT_NE(it, index.end());
  EXPECT_EQ(it->second.service_id, "checkout");
  EXPECT_EQ(FindUser(org, "carol"), &org.users[2]);
  EXPECT_EQ(FindTeam(org, "payments"), &org.teams[0]);
  EXPECT_EQ(FindSchedule(org, "payments-primary"), &org.schedules[0]);
  EXPECT_EQ(FindEscalationPolicy(org, "payments-ep"), &org.escalation_policies[0]);
  EXPECT_EQ(FindUser(org, "zoe"), nullptr);
}

TEST(ParseOrgTest, BundledExampleIsValid) {
  Result<Org> org = LoadOrgFile(std::string(HOUSTON_SOURCE_DIR) + "/examples/org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().ToString() << "\n" << Join(org.error().details());
  IntegrationIndex index = IndexIntegrations(*org);
  const std::vector<std::pair<std::string, core::IntegrationType>> expected = {
      {"0123456789abcdef0123456789abcdef", core::IntegrationType::kEventsV2},
      {"am-checkout", core::IntegrationType::kAlertmanager},
      {"grafana-checkout", core::IntegrationType::kGrafana},
      {"generic-checkout", core::IntegrationType::kGeneric},
      {"hb-checkout", core::IntegrationType::kHeartbeat},
  };
  for (const auto& [key, type] : expected) {
    auto it = index.find(key);
    ASSERT_NE(it, index.end()) << key;
    EXPECT_EQ(it->second.service_id, "checkout") << key;
    EXPECT_EQ(it->second.type, type) << key;
  }
  EXPECT_EQ(index.at("hb-checkout").interval_minutes, 5);
  EXPECT_GE(org->users.size(), 4u);
  EXPECT_EQ(org->teams.size(), 2u);
  EXPECT_EQ(org->schedules.size(), 2u);
  EXPECT_EQ(org->escalation_policies.size(), 2u);
  EXPECT_GE(org->services.size(), 3u);
  EXPECT_TRUE(org->status_page.has_value());
  EXPECT_EQ(org->maintenance_windows.size(), 1u);

  ASSERT_NE(FindSeverity(*org, "SEV1"), nullptr);
  EXPECT_EQ(FindSeverity(*org, "SEV1")->update_every_minutes, 30);
  EXPECT_EQ(FindSeverity(*org, "SEV2")->update_every_minutes, 60);
  EXPECT_EQ(FindSeverity(*org, "SEV3")->update_every_minutes, 120);
  EXPECT_EQ(SettingsOf(*org).suspect_lookback_hours, 24);
  ASSERT_NE(FindService(*org, "checkout"), nullptr);
  ASSERT_TRUE(FindService(*org, "checkout")->grouping.has_value());
  EXPECT_EQ(FindService(*org, "checkout")->grouping->window_minutes, 10);
  EXPECT_NE(FindIncidentRole(AllIncidentRoles(*org), "security_lead"), nullptr);
  EXPECT_EQ(org->incident_rules.size(), 2u);
  for (std::string_view audience : core::kWellKnownAudiences) {
    EXPECT_NE(FindAudience(*org, audience), nullptr) << audience;
  }
  ASSERT_THAT(org->webhooks, SizeIs(1));
  EXPECT_EQ(org->webhooks[0].id, "chatops");
  EXPECT_EQ(org->webhooks[0].url, "http://127.0.0.1:9000/incident-events");
  EXPECT_FALSE(org->webhooks[0].secret.empty());
  ASSERT_TRUE(org->postmortems.has_value());
  EXPECT_THAT(org->postmortems->required_severities, ElementsAre("SEV1", "SEV2"));
  EXPECT_EQ(org->postmortems->due_days, 5);
  EXPECT_THAT(org->postmortems->sections, SizeIs(5));  // the built-in template
  ASSERT_TRUE(org->action_items.has_value());
  EXPECT_EQ(org->action_items->team_grace_days, 3);
  EXPECT_THAT(org->action_items->working_hours.days, SizeIs(5));
}

TEST(ParseOrgTest, BundledExampleCommentedPostmortemTemplateIsValid) {
  // The example shows `sections` and `contributing_factors` commented out; uncommented, they
  // must still be valid.
  std::ifstream in(std::string(HOUSTON_SOURCE_DIR) + "/examples/org.yaml");
  ASSERT_TRUE(in.good());
  std::string text;
  int uncommented = 0;
  for (std::string line; std::getline(in, line);) {
    for (std::string_view prefix :
         {"  # sections:", "  #   - {id: ", "  # contributing_factors:"}) {
      if (line.starts_with(prefix)) {
        line.erase(2, 2);
        ++uncommented;
        break;
      }
    }
    text += line + "\n";
  }
  EXPECT_EQ(uncommented, 4);
  Org org = ParseValid(text);
  ASSERT_TRUE(org.postmortems.has_value());
  EXPECT_THAT(org.postmortems->sections, SizeIs(2));
  EXPECT_THAT(org.postmortems->contributing_factors, Contains("third_party"));
}

TEST(ParseOrgTest, EmptyOrCommentOnlyFileIsAnEmptyOrg) {
  for (std::string_view text :
       {"", "\n\n", "# nothing here yet\n  # indented comment\n", "---\n"}) {
    Result<Org> org = ParseOrg(text, "org.yaml");
    ASSERT_TRUE(org.has_value()) << text;
    EXPECT_TRUE(org->users.empty());
    EXPECT_TRUE(org->services.empty());
    EXPECT_FALSE(org->status_page.has_value());
    EXPECT_THAT(Flatten(*org), IsEmpty());
  }
}

TEST(ParseOrgTest, YamlSyntaxErrorHasPosition) {
  Result<Org> org = ParseOrg("users:\n  - id: alice\n    name: [Alice\n", "org.yaml");
  ASSERT_FALSE(org.has_value());
  EXPECT_EQ(org.error().message(), "org.yaml is invalid: 1 problem(s)");
  ASSERT_THAT(org.error().details(), SizeIs(1));
  EXPECT_THAT(org.error().details()[0],
              AllOf(HasSubstr("org.yaml:4:1: YAML syntax error: "), HasSubstr("flow")));
}

TEST(ParseOrgTest, OnlyOneDocument) {
  EXPECT_THAT(ProblemsOf("users: []\n---\nteams: []\n"),
              ElementsAre(HasSubstr("org.yaml:3:1: only one YAML document is allowed")));
}

// fuzz/regressions/org_yaml/timeout-leading-comma: yaml-cpp's LoadAll never returned on these
// (endless empty documents at the ','), holding the thread and filling memory.
TEST(ParseOrgTest, AStrayFlowIndicatorIsASyntaxErrorNotAHang) {
  EXPECT_THAT(ProblemsOf(","),
              ElementsAre(HasSubstr("org.yaml:1:1: YAML syntax error: cannot read past")));
  EXPECT_THAT(ProblemsOf(", end: \"2026-03\n  - {user: bob}\n"),
              ElementsAre(HasSubstr("org.yaml:1:1: YAML syntax error")));
  EXPECT_THAT(ProblemsOf("users: []\n---\n,\n"),
              ElementsAre(HasSubstr("org.yaml:3:1: only one YAML document is allowed")));
}

TEST(ParseOrgTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(ProblemsOf("- users\n"),
              ElementsAre(HasSubstr("org.yaml:1:1: the top level must be a mapping")));
}

TEST(ParseOrgTest, OddInputIsReportedNotThrown) {
  const std::vector<std::string> inputs = {
      "{",
      "\t- x\n",
      std::string(5000, '[') + std::string(5000, ']'),
      "? [a, b]\n: c\n",
      "users: !!binary aGVsbG8=\n",
      "users: [{id: a, contact_methods: [{id: h, type: webhook, url: \"http://a\", headers: "
      "[1]}]}]\n",
      "users: [{id: a, timezone: [UTC]}]\nservices: [{id: s, escalation_policy: {a: b}}]\n",
      "users:\n  - &u {id: a}\n  - *u\n",
      "users:\n  - <<: {id: a}\n",
      "escalation_policies: [{id: p, repeat: 99999999999999999999, steps: [{targets: [{user: "
      "a}]}]}]\n",
      std::string("users: [{id: \"a\\0b\"}]\n"),
      "services: [{id: s, escalation_policy: p, depends_on: [[s]]}]\n",
  };
  for (const std::string& input : inputs) {
    Result<Org> org = ParseOrg(input, "org.yaml");
    ASSERT_FALSE(org.has_value()) << input;
    EXPECT_THAT(org, StatusIs(StatusCode::kInvalidArgument)) << input;
    EXPECT_THAT(org.error().details(), Not(IsEmpty())) << input;
    EXPECT_THAT(org.error().details()[0], HasSubstr("org.yaml:")) << input;
  }
}

// ---- keys and types ------------------------------------------------------------------------

TEST(ValidationTest, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(ProblemsOf("users:\n"
                         "  - id: alice\n"
                         "    emial: alice@example.com\n"),
              ElementsAre("org.yaml:3:5: users[0].emial: unknown key 'emial' (did you mean "
                          "'email'?)"));
  EXPECT_THAT(
      ProblemsOf("escalation_policies:\n"
                 "  - {id: ep, steps: [{targets: [{user: a}]}]}\n"
                 "users: [{id: a}]\n"
                 "services:\n"
                 "  - id: web\n"
                 "    escalation_polcy: ep\n"),
      ElementsAre("org.yaml:5:5: services[0]: missing required key 'escalation_policy'",
                  "org.yaml:6:5: services[0].escalation_polcy: unknown key 'escalation_polcy' "
                  "(did you mean 'escalation_policy'?)"));
}

TEST(ValidationTest, UnknownKeyWithoutCloseMatchListsAllowedKeys) {
  EXPECT_THAT(ProblemsOf("teams:\n  - {id: t, owner: bob}\n"),
              ElementsAre("org.yaml:2:13: teams[0].owner: unknown key 'owner' (allowed: id, name, "
                          "members)"));
  EXPECT_THAT(ProblemsOf("servces: []\n"),
              ElementsAre("org.yaml:1:1: servces: unknown key 'servces' (did you mean "
                          "'services'?)"));
}

TEST(ValidationTest, DuplicateYamlKey) {
  EXPECT_THAT(ProblemsOf("users:\n"
                         "  - id: alice\n"
                         "    name: A\n"
                         "    name: B\n"),
              ElementsAre("org.yaml:4:5: users[0].name: duplicate key 'name' (first at line 3); "
                          "keep only one"));
}

TEST(ValidationTest, ListWhereMappingExpectedAndViceVersa) {
  EXPECT_THAT(ProblemsOf("users:\n  id: alice\n"),
              ElementsAre("org.yaml:2:3: users: expected a list, got a mapping"));
  EXPECT_THAT(ProblemsOf("users:\n  - [alice]\n"),
              ElementsAre("org.yaml:2:5: users[0]: expected a mapping, got a list"));
  EXPECT_THAT(ProblemsOf("teams:\n  - {id: t, members: alice}\n"),
              ElementsAre("org.yaml:2:22: teams[0].members: expected a list, got 'alice'"));
}

TEST(ValidationTest, StringWhereNumberExpected) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "escalation_policies:\n"
                 "  - id: ep\n"
                 "    repeat: twice\n"
                 "    steps:\n"
                 "      - {delay_minutes: \"5\", targets: [{user: a}]}\n"),
      ElementsAre(
          "org.yaml:4:13: escalation_policies[0].repeat: expected a whole number at least 0, got "
          "'twice'",
          "org.yaml:6:25: escalation_policies[0].steps[0].delay_minutes: expected a number, got "
          "the quoted string \"5\" (remove the quotes)"));
}

TEST(ValidationTest, MappingWhereStringExpectedAndBadBoolean) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a, name: {first: A}}]\n"
                 "escalation_policies:\n"
                 "  - {id: ep, steps: [{round_robin: yes, targets: [{user: a}]}]}\n"),
      ElementsAre("org.yaml:1:23: users[0].name: expected a string, got a mapping",
                  "org.yaml:3:36: escalation_policies[0].steps[0].round_robin: expected true or "
                  "false, got 'yes'"));
}

TEST(ValidationTest, MissingRequiredFields) {
  EXPECT_THAT(ProblemsOf("users:\n  - name: Alice\n  - id:\n"),
              ElementsAre("org.yaml:2:5: users[0]: missing required key 'id'",
                          "org.yaml:3:5: users[1].id: is empty; give it a value"));
  EXPECT_THAT(ProblemsOf("users:\n  - {id: \"\"}\n"),
              ElementsAre("org.yaml:2:10: users[0].id: must not be empty"));
}

TEST(ValidationTest, InvalidId) {
  EXPECT_THAT(ProblemsOf("users:\n  - id: Alice Smith\n"),
              ElementsAre("org.yaml:2:9: users[0].id: invalid id 'Alice Smith': use 1 to 64 "
                          "letters, digits, '_', '-' or '.', starting with a letter or digit"));
}

// ---- uniqueness ----------------------------------------------------------------------------

TEST(ValidationTest, DuplicateIdsWithinAKind) {
  EXPECT_THAT(ProblemsOf("users:\n"
                         "  - id: alice\n"
                         "  - id: bob\n"
                         "  - id: alice\n"
                         "teams:\n"
                         "  - id: alice\n"),  // another kind may reuse the id
              ElementsAre("org.yaml:4:9: users[2].id: duplicate user id 'alice' (first defined at "
                          "line 2); ids must be unique"));
}

TEST(ValidationTest, DuplicateIntegrationKeysAcrossServices) {
  EXPECT_THAT(ProblemsOf("users: [{id: a}]\n"
                         "escalation_policies: [{id: ep, steps: [{targets: [{user: a}]}]}]\n"
                         "services:\n"
                         "  - id: one\n"
                         "    escalation_policy: ep\n"
                         "    integrations: [{type: alertmanager, key: shared-key}]\n"
                         "  - id: two\n"
                         "    escalation_policy: ep\n"
                         "    integrations:\n"
                         "      - {type: grafana, key: shared-key}\n"),
              ElementsAre("org.yaml:10:30: services[1].integrations[0].key: duplicate integration "
                          "key 'shared-key' (first used at line 6); keys must be unique across the "
                          "whole org"));
}

TEST(ValidationTest, DuplicateContactMethodIdsWithinAUser) {
  EXPECT_THAT(
      ProblemsOf("users:\n"
                 "  - id: alice\n"
                 "    contact_methods:\n"
                 "      - {id: mail, type: email, address: a@example.com}\n"
                 "      - {id: mail, type: email, address: a2@example.com}\n"
                 "  - id: bob\n"
                 "    contact_methods:\n"
                 "      - {id: mail, type: email, address: b@example.com}\n"),
      ElementsAre("org.yaml:5:14: users[0].contact_methods[1].id: duplicate contact method id "
                  "'mail' (first defined at line 4)"));
}

// ---- references ----------------------------------------------------------------------------

constexpr std::string_view kRefsBase = R"yaml(users:
  - id: alice
    contact_methods: [{id: alice-mail, type: email, address: alice@example.com}]
teams:
  - {id: payments, members: [alice]}
schedules:
  - id: primary
    layers: [{start: "2026-01-05T09:00:00", rotation: {type: daily}, users: [alice]}]
escalation_policies:
  - id: payments-ep
    steps: [{targets: [{schedule: primary}]}]
services:
  - {id: checkout, escalation_policy: payments-ep}
)yaml";

TEST(ValidationTest, ReferenceBaseIsValid) { ParseValid(kRefsBase); }

TEST(ValidationTest, DanglingServiceEscalationPolicy) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: payments-api\n"
                     "    escalation_policy: payments-epx\n";
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre("org.yaml:15:24: services[1].escalation_policy: unknown escalation "
                          "policy 'payments-epx' (defined: payments-ep)"));
}

TEST(ValidationTest, DanglingReferencesOfEveryKind) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: api\n"                          // 14
                     "    team: paymnts\n"                    // 15
                     "    escalation_policy: payments-ep\n"   // 16
                     "    depends_on: [checkout, ledger]\n";  // 17
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre("org.yaml:15:11: services[1].team: unknown team 'paymnts' (defined: "
                          "payments)",
                          "org.yaml:17:28: services[1].depends_on[1]: unknown service 'ledger' "
                          "(defined: api, checkout)"));

  EXPECT_THAT(
      ProblemsOf("users:\n"
                 "  - id: alice\n"
                 "    contact_methods: [{id: alice-mail, type: email, address: a@example.com}]\n"
                 "    notification_rules: [{contact_method: alice-sms}]\n"
                 "teams: [{id: t, members: [alice, bob]}]\n"
                 "schedules:\n"
                 "  - id: s\n"
                 "    layers: [{start: \"2026-01-05T09:00:00\", rotation: {type: daily}, users: "
                 "[carol]}]\n"
                 "    overrides: [{user: dave, start: \"2026-01-01T00:00:00Z\", end: "
                 "\"2026-01-02T00:00:00Z\"}]\n"
                 "escalation_policies:\n"
                 "  - id: ep\n"
                 "    steps: [{targets: [{user: erin}, {schedule: nights}, {team: sre}]}]\n"),
      ElementsAre(
          "org.yaml:4:43: users[0].notification_rules[0].contact_method: unknown contact method "
          "'alice-sms' of user 'alice' (defined: alice-mail)",
          "org.yaml:5:34: teams[0].members[1]: unknown user 'bob' (defined: alice)",
          "org.yaml:8:78: schedules[0].layers[0].users[0]: unknown user 'carol' (defined: alice)",
          "org.yaml:9:24: schedules[0].overrides[0].user: unknown user 'dave' (defined: alice)",
          "org.yaml:12:31: escalation_policies[0].steps[0].targets[0].user: unknown user 'erin' "
          "(defined: alice)",
          "org.yaml:12:49: escalation_policies[0].steps[0].targets[1].schedule: unknown schedule "
          "'nights' (defined: s)",
          "org.yaml:12:65: escalation_policies[0].steps[0].targets[2].team: unknown team 'sre' "
          "(defined: t)"));
}

TEST(ValidationTest, DanglingMaintenanceWindowAndStatusPageServices) {
  std::string yaml = std::string(kRefsBase) +
                     "maintenance_windows:\n"                      // 14
                     "  - id: mw\n"                                // 15
                     "    services: [checkout, billing]\n"         // 16
                     "    start: \"2026-06-14T01:00:00Z\"\n"       // 17
                     "    end: \"2026-06-14T03:00:00Z\"\n"         // 18
                     "status_page:\n"                              // 19
                     "  components:\n"                             // 20
                     "    - {id: web, services: [storefront]}\n";  // 21
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre("org.yaml:16:26: maintenance_windows[0].services[1]: unknown service "
                          "'billing' (defined: checkout)",
                          "org.yaml:21:28: status_page.components[0].services[0]: unknown service "
                          "'storefront' (defined: checkout)"));
}

TEST(ValidationTest, NoReferencedKindDefinedAtAll) {
  EXPECT_THAT(ProblemsOf("teams: [{id: t, members: [alice]}]\n"),
              ElementsAre("org.yaml:1:27: teams[0].members[0]: unknown user 'alice' (none "
                          "defined; add it under users:)"));
}

TEST(ValidationTest, SelfDependency) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: api\n"
                     "    escalation_policy: payments-ep\n"
                     "    depends_on: [api]\n";
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre("org.yaml:16:18: services[1].depends_on[0]: a service cannot depend on "
                          "itself; remove this entry"));
}

TEST(ValidationTest, DependencyCycleIsReportedWithItsPath) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "escalation_policies: [{id: ep, steps: [{targets: [{user: a}]}]}]\n"
                 "services:\n"
                 "  - {id: web, escalation_policy: ep, depends_on: [api]}\n"
                 "  - {id: api, escalation_policy: ep, depends_on: [db]}\n"
                 "  - {id: db, escalation_policy: ep, depends_on: [web]}\n"
                 "  - {id: cache, escalation_policy: ep, depends_on: [db]}\n"),
      ElementsAre("org.yaml:6:50: services[2].depends_on[0]: dependency cycle web -> api -> db "
                  "-> web (remove one of these depends_on entries)"));
}

// ---- values --------------------------------------------------------------------------------

TEST(ValidationTest, UnknownTimeZone) {
  EXPECT_THAT(ProblemsOf("users:\n  - {id: a, timezone: Europe/Berln}\n"),
              ElementsAre("org.yaml:2:23: users[0].timezone: unknown time zone 'Europe/Berln' "
                          "(did you mean 'Europe/Berlin'?)"));
  EXPECT_THAT(ProblemsOf("schedules:\n"
                         "  - id: s\n"
                         "    timezone: Mars/Olympus_Mons\n"
                         "    layers: [{start: \"2026-01-05T09:00:00\", rotation: {type: daily}, "
                         "users: [a]}]\n"
                         "users: [{id: a}]\n"),
              ElementsAre("org.yaml:3:15: schedules[0].timezone: unknown time zone "
                          "'Mars/Olympus_Mons' (use a tz database name such as "
                          "America/New_York)"));
}

TEST(ParseOrgTest, UserRolesDefaultToResponder) {
  Org org = ParseValid(
      "users:\n  - {id: a, role: admin}\n  - {id: b, role: viewer}\n  - {id: c}\n"
      "  - {id: d, role: responder}\n");
  ASSERT_THAT(org.users, SizeIs(4));
  EXPECT_EQ(org.users[0].role, core::Role::kAdmin);
  EXPECT_EQ(org.users[1].role, core::Role::kViewer);
  EXPECT_EQ(org.users[2].role, core::Role::kResponder);
  EXPECT_EQ(org.users[3].role, core::Role::kResponder);
  // The default is not written out, so an org from before roles flattens as it did; a role
  // change is a change to the user.
  auto spec = [](const Org& o, std::string_view id) {
    for (const auto& obj : Flatten(o)) {
      if (obj.kind == "user" && obj.id == id) return obj.spec_json;
    }
    return std::string();
  };
  EXPECT_NE(spec(org, "a").find("\"role\":\"admin\""), std::string::npos);
  EXPECT_EQ(spec(org, "c").find("role"), std::string::npos);
  EXPECT_EQ(spec(org, "d"), spec(ParseValid("users: [{id: d}]\n"), "d"));
}

TEST(ValidationTest, UnknownUserRole) {
  EXPECT_THAT(ProblemsOf("users:\n  - {id: a, role: superuser}\n"),
              ElementsAre("org.yaml:2:19: users[0].role: unknown role 'superuser': use admin, "
                          "responder or viewer (the default is responder)"));
  EXPECT_THAT(ProblemsOf("users:\n  - {id: a, role: [admin]}\n"), SizeIs(1));
}

TEST(ValidationTest, EmailAndUrls) {
  EXPECT_THAT(
      ProblemsOf("users:\n"
                 "  - id: a\n"
                 "    email: alice.example.com\n"
                 "    contact_methods:\n"
                 "      - {id: m, type: email, address: alice@localhost}\n"
                 "      - {id: h, type: webhook, url: \"ftp://example.com/hook\"}\n"
                 "      - {id: s, type: slack, url: \"https://\"}\n"),
      ElementsAre("org.yaml:3:12: users[0].email: invalid email address 'alice.example.com': "
                  "expected name@example.com",
                  "org.yaml:5:39: users[0].contact_methods[0].address: invalid email address "
                  "'alice@localhost': expected name@example.com",
                  "org.yaml:6:37: users[0].contact_methods[1].url: invalid URL "
                  "'ftp://example.com/hook': it must start with http:// or https:// and contain "
                  "no spaces",
                  "org.yaml:7:35: users[0].contact_methods[2].url: invalid URL 'https://': it "
                  "must start with http:// or https:// and contain no spaces"));
}

TEST(ValidationTest, ContactMethodTypeRules) {
  EXPECT_THAT(
      ProblemsOf("users:\n"
                 "  - id: a\n"
                 "    contact_methods:\n"
                 "      - {id: p, type: pager}\n"
                 "      - {id: h, type: webhook}\n"
                 "      - {id: h2, type: webhook, url: \"http://127.0.0.1/\", address: x}\n"
                 "      - {id: m, type: email, address: a@example.com, secret: x}\n"
                 "      - id: sms\n"
                 "        type: sms_provider\n"
                 "        url: \"https://sms.example.com/send\"\n"
                 "        address: \"+15555550100\"\n"
                 "        template: '{\"text\": \"{{incident.title}}\"}'\n"
                 "        headers: {Authorization: Bearer x, \"Bad Header\": y}\n"),
      ElementsAre(
          "org.yaml:4:23: users[0].contact_methods[0].type: unknown contact method type 'pager' "
          "(use webhook, email, slack or sms_provider)",
          "org.yaml:5:9: users[0].contact_methods[1]: missing required key 'url'",
          "org.yaml:6:68: users[0].contact_methods[2].address: 'address' is not used by contact "
          "methods of type webhook; remove it",
          "org.yaml:7:62: users[0].contact_methods[3].secret: 'secret' is not used by contact "
          "methods of type email; remove it",
          "org.yaml:13:44: users[0].contact_methods[4].headers.Bad Header: invalid header name: "
          "use letters, digits and - (e.g. X-Api-Key)"));
}

TEST(ValidationTest, SmsProviderContactMethod) {
  Org org = ParseValid(
      "users:\n"
      "  - id: a\n"
      "    contact_methods:\n"
      "      - id: sms\n"
      "        type: sms_provider\n"
      "        url: \"https://sms.example.com/send\"\n"
      "        address: \"+15555550100\"\n"
      "        secret: k\n"
      "        template: '{\"text\": \"{{incident.title}}\"}'\n"
      "        headers: {Authorization: Bearer x}\n");
  const ContactMethod& c = org.users[0].contact_methods[0];
  EXPECT_EQ(c.type, ContactMethodType::kSmsProvider);
  EXPECT_EQ(c.address, "+15555550100");
  EXPECT_EQ(c.body_template, "{\"text\": \"{{incident.title}}\"}");
  EXPECT_EQ(c.headers.at("Authorization"), "Bearer x");
}

TEST(ValidationTest, NotificationRulesDefaultToEveryMethodAtOnce) {
  Org org = ParseValid(
      "users:\n"
      "  - id: a\n"
      "    contact_methods:\n"
      "      - {id: m, type: email, address: a@example.com}\n"
      "      - {id: h, type: webhook, url: \"http://127.0.0.1:9000/a\"}\n");
  ASSERT_THAT(org.users[0].notification_rules, SizeIs(2));
  EXPECT_EQ(org.users[0].notification_rules[0].contact_method, "m");
  EXPECT_EQ(org.users[0].notification_rules[1].contact_method, "h");
  EXPECT_EQ(org.users[0].notification_rules[1].delay_minutes, 0);
}

TEST(ValidationTest, DaysAndTimesOfDay) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "schedules:\n"
                 "  - id: s\n"
                 "    layers:\n"
                 "      - start: \"2026-01-05T09:00:00\"\n"
                 "        rotation: {type: daily}\n"
                 "        users: [a]\n"
                 "        restrictions:\n"
                 "          - {days: [mon, funday, mon], start: \"25:00\", end: \"9am\"}\n"
                 "          - {days: [sat], start: \"10:00\", end: \"10:00\"}\n"),
      ElementsAre("org.yaml:9:26: schedules[0].layers[0].restrictions[0].days[1]: unknown day "
                  "'funday' (use mon, tue, wed, thu, fri, sat or sun)",
                  "org.yaml:9:34: schedules[0].layers[0].restrictions[0].days[2]: 'mon' is listed "
                  "twice",
                  "org.yaml:9:47: schedules[0].layers[0].restrictions[0].start: invalid time of "
                  "day '25:00': use HH:MM between 00:00 and 24:00",
                  "org.yaml:9:61: schedules[0].layers[0].restrictions[0].end: invalid time of day "
                  "'9am': use HH:MM between 00:00 and 24:00",
                  "org.yaml:10:48: schedules[0].layers[0].restrictions[1].end: start and end are "
                  "equal; use start 00:00 and end 24:00 for the whole day"));
}

TEST(ValidationTest, OvernightRestrictionAndEndOfDay) {
  Org org = ParseValid(
      "users: [{id: a}]\n"
      "schedules:\n"
      "  - id: s\n"
      "    layers:\n"
      "      - start: \"2026-01-05T09:00\"\n"
      "        rotation: {type: hourly, length: 8}\n"
      "        users: [a, a]\n"
      "        restrictions:\n"
      "          - {days: [sun, fri], start: \"18:00\", end: \"08:00\"}\n"
      "          - {days: [sat], start: \"00:00\", end: \"24:00\"}\n"
      "          - {days: [wed], start: \"12:00\", end: \"00:00\"}\n");
  const ScheduleLayer& l = org.schedules[0].layers[0];
  EXPECT_EQ(l.name, "layer-1");
  EXPECT_EQ(l.rotation.type, RotationType::kHourly);
  EXPECT_EQ(l.rotation.length, 8);
  EXPECT_THAT(l.restrictions[0].days, ElementsAre(date::Friday, date::Sunday));
  EXPECT_EQ(l.restrictions[0].start_minute, 18 * 60);
  EXPECT_EQ(l.restrictions[0].end_minute, 8 * 60);
  EXPECT_EQ(l.restrictions[1].end_minute, 24 * 60);
  EXPECT_EQ(l.restrictions[2].end_minute, 24 * 60);  // 00:00 as an end is midnight
}

TEST(ValidationTest, LayerStartIsLocalTime) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "schedules:\n"
                 "  - id: s\n"
                 "    layers:\n"
                 "      - {start: \"2026-01-05T09:00:00Z\", rotation: {type: daily}, users: [a]}\n"
                 "      - {start: \"2026-02-30T09:00:00\", rotation: {type: daily}, users: [a]}\n"),
      ElementsAre(
          "org.yaml:5:17: schedules[0].layers[0].start: '2026-01-05T09:00:00Z' has a zone; a "
          "layer start is local time in the schedule's timezone: write it as "
          "YYYY-MM-DDTHH:MM:SS without Z or offset",
          "org.yaml:6:17: schedules[0].layers[1].start: invalid start '2026-02-30T09:00:00': use "
          "local time YYYY-MM-DDTHH:MM:SS, e.g. 2026-01-05T09:00:00"));
}

TEST(ValidationTest, RotationAndLayerRules) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "schedules:\n"
                 "  - id: s\n"
                 "    layers:\n"
                 "      - {start: \"2026-01-05T09:00:00\", rotation: {type: monthly, length: 0}, "
                 "users: []}\n"
                 "      - {start: \"2026-01-05T09:00:00\", users: [a]}\n"
                 "  - {id: t, layers: []}\n"),
      ElementsAre(
          "org.yaml:5:57: schedules[0].layers[0].rotation.type: unknown rotation type 'monthly' "
          "(use hourly, daily or weekly)",
          "org.yaml:5:74: schedules[0].layers[0].rotation.length: must be at least 1, got 0",
          "org.yaml:5:85: schedules[0].layers[0].users: must list at least one user",
          "org.yaml:6:9: schedules[0].layers[1]: missing required key 'rotation'",
          "org.yaml:7:21: schedules[1].layers: must have at least one layer"));
}

TEST(ValidationTest, LayerEndAndEmptyTurns) {
  Result<Org> org = ParseOrg(
      "users: [{id: a}, {id: b}]\n"
      "schedules:\n"
      "  - id: s\n"
      "    layers:\n"
      "      - {start: \"2026-01-05T09:00:00\", end: \"2026-02-02T09:00:00\", rotation: "
      "{type: weekly}, users: [a, ~, b]}\n",
      "org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().ToString();
  const ScheduleLayer& layer = org->schedules[0].layers[0];
  EXPECT_THAT(layer.users, ElementsAre("a", "", "b"));
  ASSERT_TRUE(layer.end_local.has_value());
  EXPECT_EQ(date::format("%FT%T", *layer.end_local), "2026-02-02T09:00:00");

  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "schedules:\n"
                 "  - id: s\n"
                 "    layers:\n"
                 "      - {start: \"2026-01-05T09:00:00\", end: \"2026-01-05T09:00:00\", "
                 "rotation: {type: daily}, users: [~, ~]}\n"
                 "      - {start: \"2026-01-05T09:00:00\", end: soon, rotation: {type: daily}, "
                 "users: [a, '']}\n"),
      ElementsAre("org.yaml:5:45: schedules[0].layers[0].end: end '2026-01-05T09:00:00' is not "
                  "after the layer's start '2026-01-05T09:00:00'",
                  "org.yaml:5:100: schedules[0].layers[0].users: must list at least one user",
                  "org.yaml:6:45: schedules[0].layers[1].end: invalid end 'soon': use local time "
                  "YYYY-MM-DDTHH:MM:SS in the schedule's timezone, e.g. 2026-06-01T09:00:00",
                  "org.yaml:6:87: schedules[0].layers[1].users[1]: empty user id (write ~ for a "
                  "turn with nobody on call)"));
}

TEST(ValidationTest, OverrideAndWindowStartMustBeBeforeEnd) {
  std::string yaml = std::string(kRefsBase) +
                     "maintenance_windows:\n"                     // 14
                     "  - id: mw\n"                               // 15
                     "    services: [checkout]\n"                 // 16
                     "    start: \"2026-06-14T03:00:00Z\"\n"      // 17
                     "    end: \"2026-06-14T04:00:00+02:00\"\n";  // 18
  EXPECT_THAT(ProblemsOf(yaml), ElementsAre("org.yaml:18:10: maintenance_windows[0].end: end "
                                            "(2026-06-14T02:00:00.000Z) must be after start "
                                            "(2026-06-14T03:00:00.000Z)"));
  EXPECT_THAT(
      ProblemsOf(
          "users: [{id: a}]\n"
          "schedules:\n"
          "  - id: s\n"
          "    layers: [{start: \"2026-01-05T09:00:00\", rotation: {type: daily}, users: "
          "[a]}]\n"
          "    overrides:\n"
          "      - {user: a, start: \"2026-03-08T09:00:00Z\", end: \"2026-03-08T09:00:00Z\"}\n"
          "      - {user: a, start: \"yesterday\", end: \"2026-03-08T09:00:00Z\"}\n"),
      ElementsAre("org.yaml:6:55: schedules[0].overrides[0].end: end (2026-03-08T09:00:00.000Z) "
                  "must be after start (2026-03-08T09:00:00.000Z)",
                  HasSubstr("org.yaml:7:26: schedules[0].overrides[1].start: invalid timestamp "
                            "\"yesterday\"")));
}

TEST(ValidationTest, NegativeDelaysAndRepeat) {
  EXPECT_THAT(
      ProblemsOf("users:\n"
                 "  - id: a\n"
                 "    contact_methods: [{id: m, type: email, address: a@example.com}]\n"
                 "    notification_rules: [{contact_method: m, delay_minutes: -1}]\n"
                 "escalation_policies:\n"
                 "  - id: ep\n"
                 "    repeat: -1\n"
                 "    ack_timeout_minutes: 0\n"
                 "    steps: [{delay_minutes: -5, targets: [{user: a}]}]\n"
                 "  - {id: ep2, steps: []}\n"
                 "  - {id: ep3, repeat: 1000000, steps: [{targets: []}]}\n"),
      ElementsAre(
          "org.yaml:4:61: users[0].notification_rules[0].delay_minutes: must be between 0 and "
          "525600, got -1",
          "org.yaml:7:13: escalation_policies[0].repeat: must be at least 0, got -1",
          "org.yaml:8:26: escalation_policies[0].ack_timeout_minutes: must be between 1 and "
          "525600, got 0",
          "org.yaml:9:29: escalation_policies[0].steps[0].delay_minutes: must be between 0 and "
          "525600, got -5",
          "org.yaml:10:22: escalation_policies[1].steps: must have at least one step",
          "org.yaml:11:50: escalation_policies[2].steps[0].targets: must list at least one "
          "target "
          "({user: ID}, {schedule: ID} or {team: ID})"));
}

TEST(ValidationTest, EscalationTargetNamesExactlyOneKind) {
  EXPECT_THAT(
      ProblemsOf("users: [{id: a}]\n"
                 "teams: [{id: t}]\n"
                 "escalation_policies:\n"
                 "  - id: ep\n"
                 "    steps:\n"
                 "      - targets:\n"
                 "          - {user: a, team: t}\n"
                 "          - {}\n"
                 "          - a\n"),
      ElementsAre("org.yaml:7:13: escalation_policies[0].steps[0].targets[0]: a target names "
                  "exactly one of user, schedule or team, got user and team; write one target per "
                  "entry",
                  "org.yaml:8:13: escalation_policies[0].steps[0].targets[1]: a target needs one "
                  "of user, schedule or team, e.g. {schedule: primary}",
                  "org.yaml:9:13: escalation_policies[0].steps[0].targets[2]: expected a mapping, "
                  "got 'a'"));
}

TEST(ValidationTest, IntegrationRules) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: api\n"                                                           // 14
                     "    escalation_policy: payments-ep\n"                                    // 15
                     "    tier: 9\n"                                                           // 16
                     "    runbook_url: wiki/api\n"                                             // 17
                     "    integrations:\n"                                                     // 18
                     "      - {type: events_v2, key: short}\n"                                 // 19
                     "      - {type: alertmanager, key: \"has space in it\"}\n"                // 20
                     "      - {type: heartbeat, key: hb-api-123}\n"                            // 21
                     "      - {type: grafana, key: grafana-api, interval_minutes: 5}\n"        // 22
                     "      - {type: events_v2, key: ev-api-123, mapping: {}}\n"               // 23
                     "      - {type: nagios, key: nagios-api}\n"                               // 24
                     "      - {type: generic, key: gen-api-123, rate_limit_per_second: 0}\n";  // 25
  EXPECT_THAT(
      ProblemsOf(yaml),
      ElementsAre(
          "org.yaml:16:11: services[1].tier: must be between 1 and 5, got 9",
          "org.yaml:17:18: services[1].runbook_url: invalid URL 'wiki/api': it must start with "
          "http:// or https:// and contain no spaces",
          "org.yaml:19:32: services[1].integrations[0].key: invalid integration key 'short': use "
          "8 to 128 letters, digits, '_', '-' or '.'",
          "org.yaml:20:35: services[1].integrations[1].key: invalid integration key 'has space "
          "in "
          "it': use 8 to 128 letters, digits, '_', '-' or '.'",
          "org.yaml:21:9: services[1].integrations[2]: missing required key 'interval_minutes'",
          "org.yaml:22:61: services[1].integrations[3].interval_minutes: only heartbeat "
          "integrations take interval_minutes; remove it",
          "org.yaml:23:53: services[1].integrations[4].mapping: only generic integrations take a "
          "mapping; remove it",
          "org.yaml:24:16: services[1].integrations[5].type: unknown integration type 'nagios' "
          "(use events_v2, alertmanager, grafana, generic, heartbeat, opsgenie or prometheus)",
          "org.yaml:25:66: services[1].integrations[6].rate_limit_per_second: must be greater "
          "than 0, got 0"));
}

TEST(ValidationTest, GenericMapping) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: api\n"
                     "    escalation_policy: payments-ep\n"
                     "    integrations:\n"
                     "      - type: generic\n"
                     "        key: generic-one\n"
                     "        rate_limit_per_second: 2.5\n"
                     "        mapping:\n"
                     "          summary: alert.title\n"
                     "          severity: alert.level\n"
                     "          action_values: {firing: trigger, ok: resolve}\n"
                     "          severity_values: {P1: critical, \"5\": info}\n"
                     "      - {type: generic, key: generic-two}\n";
  Org org = ParseValid(yaml);
  ASSERT_THAT(org.services, SizeIs(2));
  ASSERT_THAT(org.services[1].integrations, SizeIs(2));
  const Integration& one = org.services[1].integrations[0];
  EXPECT_EQ(one.rate_limit_per_second, 2.5);
  ASSERT_TRUE(one.mapping.has_value());
  EXPECT_EQ(one.mapping->summary, "alert.title");
  EXPECT_EQ(one.mapping->severity, "alert.level");
  EXPECT_EQ(one.mapping->dedup_key, "dedup_key");  // default
  EXPECT_EQ(one.mapping->action_values.at("ok"), core::EventAction::kResolve);
  EXPECT_EQ(one.mapping->severity_values.at("5"), core::Severity::kInfo);
  const Integration& two = org.services[1].integrations[1];
  ASSERT_TRUE(two.mapping.has_value());  // defaults
  EXPECT_EQ(two.mapping->summary, "summary");
  EXPECT_FALSE(two.rate_limit_per_second.has_value());

  std::string bad = std::string(kRefsBase) +
                    "  - id: api\n"                              // 14
                    "    escalation_policy: payments-ep\n"       // 15
                    "    integrations:\n"                        // 16
                    "      - type: generic\n"                    // 17
                    "        key: generic-one\n"                 // 18
                    "        mapping:\n"                         // 19
                    "          summary: alert..title\n"          // 20
                    "          sevrity: level\n"                 // 21
                    "          action_values: {firing: fire}\n"  // 22
                    "          severity_values: {P1: sev1}\n";   // 23
  EXPECT_THAT(
      ProblemsOf(bad),
      ElementsAre("org.yaml:20:20: services[1].integrations[0].mapping.summary: invalid field "
                  "path 'alert..title': use dot-separated names, e.g. alert.labels.severity",
                  "org.yaml:21:11: services[1].integrations[0].mapping.sevrity: unknown key "
                  "'sevrity' (did you mean 'severity'?)",
                  "org.yaml:22:35: services[1].integrations[0].mapping.action_values.firing: "
                  "unknown action 'fire' (use trigger, acknowledge or resolve)",
                  "org.yaml:23:33: services[1].integrations[0].mapping.severity_values.P1: "
                  "unknown severity 'sev1' (use critical, error, warning or info)"));
}

TEST(ValidationTest, OpsgeniePriorities) {
  std::string yaml = std::string(kRefsBase) +
                     "  - id: api\n"
                     "    escalation_policy: payments-ep\n"
                     "    integrations:\n"
                     "      - {type: opsgenie, key: 8f6d2a6e-2c6b-4a53-9d1e-0d2f6c1b7a11}\n"
                     "      - type: opsgenie\n"
                     "        key: og-api-two\n"
                     "        priorities: {P3: critical, P5: warning}\n";
  Org org = ParseValid(yaml);
  ASSERT_THAT(org.services[1].integrations, SizeIs(2));
  const Integration& one = org.services[1].integrations[0];
  ASSERT_TRUE(one.priorities.has_value());
  EXPECT_EQ(*one.priorities, kDefaultOpsgeniePriorities);
  const Integration& two = org.services[1].integrations[1];
  ASSERT_TRUE(two.priorities.has_value());
  EXPECT_EQ((*two.priorities)[0], core::Severity::kCritical);  // default kept
  EXPECT_EQ((*two.priorities)[2], core::Severity::kCritical);
  EXPECT_EQ((*two.priorities)[3], core::Severity::kInfo);
  EXPECT_EQ((*two.priorities)[4], core::Severity::kWarning);

  std::string bad = std::string(kRefsBase) +
                    "  - id: api\n"                                                         // 14
                    "    escalation_policy: payments-ep\n"                                  // 15
                    "    integrations:\n"                                                   // 16
                    "      - type: opsgenie\n"                                              // 17
                    "        key: og-api-one\n"                                             // 18
                    "        priorities: {P0: critical, P2: sev1}\n"                        // 19
                    "      - {type: grafana, key: grafana-api, priorities: {P1: info}}\n";  // 20
  EXPECT_THAT(
      ProblemsOf(bad),
      ElementsAre("org.yaml:19:22: services[1].integrations[0].priorities.P0: unknown Opsgenie "
                  "priority 'P0' (use P1, P2, P3, P4 or P5)",
                  "org.yaml:19:40: services[1].integrations[0].priorities.P2: unknown severity "
                  "'sev1' for P2 (use critical, error, warning or info)",
                  "org.yaml:20:55: services[1].integrations[1].priorities: only opsgenie "
                  "integrations take priorities; remove it"));
}

TEST(ValidationTest, MaintenanceWindows) {
  std::string yaml = std::string(kRefsBase) +
                     "maintenance_windows:\n"
                     "  - id: nightly\n"
                     "    services: [checkout]\n"
                     "    recurring: {days: [sun], start: \"02:00\", end: \"04:00\", timezone: "
                     "Europe/Berlin}\n"
                     "  - id: once\n"
                     "    services: [checkout]\n"
                     "    start: 2026-06-14T01:00:00Z\n"
                     "    end: 2026-06-14T03:00:00Z\n";
  Org org = ParseValid(yaml);
  ASSERT_THAT(org.maintenance_windows, SizeIs(2));
  ASSERT_TRUE(org.maintenance_windows[0].recurring.has_value());
  EXPECT_EQ(org.maintenance_windows[0].recurring->timezone, "Europe/Berlin");
  EXPECT_EQ(org.maintenance_windows[0].recurring->window.start_minute, 120);
  EXPECT_FALSE(org.maintenance_windows[0].start.has_value());
  ASSERT_TRUE(org.maintenance_windows[1].end.has_value());
  EXPECT_EQ(FormatRfc3339(*org.maintenance_windows[1].end), "2026-06-14T03:00:00.000Z");

  std::string bad = std::string(kRefsBase) +
                    "maintenance_windows:\n"                                            // 14
                    "  - id: both\n"                                                    // 15
                    "    services: [checkout]\n"                                        // 16
                    "    start: 2026-06-14T01:00:00Z\n"                                 // 17
                    "    recurring: {days: [sun], start: \"02:00\", end: \"04:00\"}\n"  // 18
                    "  - id: neither\n"                                                 // 19
                    "    services: []\n"                                                // 20
                    "  - id: half\n"                                                    // 21
                    "    services: [checkout]\n"                                        // 22
                    "    start: 2026-06-14T01:00:00Z\n";                                // 23
  EXPECT_THAT(ProblemsOf(bad),
              ElementsAre("org.yaml:18:16: maintenance_windows[0].recurring: use either start and "
                          "end (a one-off window) or recurring, not both",
                          "org.yaml:19:5: maintenance_windows[1]: a maintenance window needs start "
                          "and end (RFC 3339), or recurring",
                          "org.yaml:20:15: maintenance_windows[1].services: must list at least one "
                          "service",
                          "org.yaml:21:5: maintenance_windows[2]: missing required key 'end'"));
}

TEST(ValidationTest, Silences) {
  Org org = ParseValid(
      "silences:\n"
      "  - id: flaky-disk\n"
      "    matchers:\n"
      "      - {field: service, value: checkout}\n"
      "      - {field: details.labels.alertname, op: \"=~\", value: \"Disk.*\"}\n"
      "    expires_at: \"2026-02-01T00:00:00Z\"\n"
      "    comment: known issue\n"
      "    created_by: alice\n");
  ASSERT_THAT(org.silences, SizeIs(1));
  EXPECT_EQ(org.silences[0].matchers[0].op, MatchOp::kEqual);
  EXPECT_EQ(org.silences[0].matchers[1].op, MatchOp::kRegexMatch);
  EXPECT_EQ(FormatRfc3339(org.silences[0].expires_at), "2026-02-01T00:00:00.000Z");

  EXPECT_THAT(ProblemsOf("silences:\n"
                         "  - id: s\n"
                         "    matchers:\n"
                         "      - {field: colour, value: red}\n"
                         "      - {field: summary, op: \"~=\", value: x}\n"
                         "      - {field: summary, op: \"!~\", value: \"(unclosed\"}\n"
                         "      - {field: summary, op: \"!=\"}\n"
                         "  - id: s\n"
                         "    matchers: []\n"),
              ElementsAre(HasSubstr("org.yaml:2:5: silences[0]: missing required key "
                                    "'expires_at'"),
                          HasSubstr("org.yaml:4:17: silences[0].matchers[0].field: unknown field "
                                    "'colour' (use service, integration,"),
                          "org.yaml:5:30: silences[0].matchers[1].op: unknown operator '~=' (use "
                          "=, !=, =~ or !~)",
                          HasSubstr("org.yaml:6:43: silences[0].matchers[2].value: invalid regular "
                                    "expression '(unclosed': "),
                          "org.yaml:7:9: silences[0].matchers[3]: missing required key 'value'",
                          "org.yaml:8:5: silences[1]: missing required key 'expires_at'",
                          "org.yaml:8:9: silences[1].id: duplicate silence id 's' (first defined "
                          "at line 2)",
                          "org.yaml:9:15: silences[1].matchers: must list at least one matcher"));
}

TEST(ValidationTest, StatusPageSeveritiesAndSettings) {
  Org org = ParseValid(std::string(kRefsBase) +
                       "status_page:\n"
                       "  components: [{id: web, services: [checkout]}]\n"
                       "severities:\n"
                       "  - {id: SEV1, description: Critical}\n"
                       "  - {id: SEV2}\n"
                       "settings: {base_url: \"https://houston.example.com\"}\n");
  ASSERT_TRUE(org.status_page.has_value());
  EXPECT_EQ(org.status_page->title, "Status");
  EXPECT_EQ(org.status_page->components[0].name, "web");
  ASSERT_THAT(org.severities, SizeIs(2));
  EXPECT_EQ(org.severities[0].description, "Critical");
  ASSERT_TRUE(org.settings.has_value());
  EXPECT_EQ(org.settings->base_url, "https://houston.example.com");

  EXPECT_THAT(ProblemsOf("severities: [{id: SEV1}, {id: SEV1}]\n"
                         "settings: {base_url: localhost, port: 80}\n"),
              ElementsAre("org.yaml:1:31: severities[1].id: duplicate severity id 'SEV1' (first "
                          "defined at line 1)",
                          "org.yaml:2:22: settings.base_url: invalid URL 'localhost': it must "
                          "start with http:// or https:// and contain no spaces",
                          "org.yaml:2:33: settings.port: unknown key 'port' (allowed: base_url, "
                          "suspect_lookback_hours)"));
}

// ---- incidents: severities, grouping, roles, rules, audiences, webhooks ----------------------

// kRefsBase plus every incident section; it continues kRefsBase's services list.
constexpr std::string_view kIncidentSections = R"yaml(  - id: payments-db
    tier: 1
    escalation_policy: payments-ep
    grouping: {window_minutes: 10, by: [component, class, details.labels.alertname]}
severities:
  - {id: SEV1, description: Critical, update_every_minutes: 30, component_state: major_outage}
  - {id: SEV2, update_every_minutes: 60}
  - {id: SEV3}
settings: {suspect_lookback_hours: 48}
incident_roles:
  - {id: security_lead, name: Security lead, description: Owns the security response}
  - {id: liaison}
incident_rules:
  - {id: tier1-critical, max_service_tier: 1, alert_severity: critical, severity: SEV2}
  - {id: storm, services: [checkout], alert_count: 5, window_minutes: 10, severity: SEV1}
audiences:
  - id: public
    subject: "{{title}}"
    template: |
      {{title}}: {{update.phase_label}}
      {{#update.eta}}We expect to resolve it {{update.eta}}.{{/update.eta}}
  - id: executives
    min_severity: SEV2
    subscribers:
      - {type: email, address: execs@example.com}
      - id: exec-hook
        type: webhook
        url: "https://hooks.example.com/execs"
        secret: exec-s3cret
        headers: {X-Token: exec-token}
  - id: engineering
    name: Engineers
    subscribers:
      - {type: slack, url: "http://127.0.0.1:9000/slack/engineering"}
webhooks:
  - id: chatops
    url: "http://127.0.0.1:9000/incident-events"
    secret: hook-s3cret
    headers: {Authorization: Bearer chat-token}
    events: [incident.triggered, status_update_published]
    services: [checkout]
  - {id: tickets, url: "https://tickets.example.com/hook"}
)yaml";

std::string IncidentOrgText() { return std::string(kRefsBase) + std::string(kIncidentSections); }

TEST(IncidentConfigTest, EverySectionParses) {
  Org org = ParseValid(IncidentOrgText());

  ASSERT_THAT(org.services, SizeIs(2));
  EXPECT_FALSE(org.services[0].grouping.has_value());
  ASSERT_TRUE(org.services[1].grouping.has_value());
  EXPECT_EQ(org.services[1].grouping->window_minutes, 10);
  EXPECT_THAT(org.services[1].grouping->by,
              ElementsAre("component", "class", "details.labels.alertname"));

  ASSERT_THAT(org.severities, SizeIs(3));
  EXPECT_EQ(org.severities[0].update_every_minutes, 30);
  EXPECT_EQ(org.severities[0].component_state, core::ComponentState::kMajorOutage);
  EXPECT_EQ(org.severities[1].update_every_minutes, 60);
  EXPECT_FALSE(org.severities[1].component_state.has_value());
  EXPECT_FALSE(org.severities[2].update_every_minutes.has_value());
  EXPECT_THAT(SevLevels(org), ElementsAre("SEV1", "SEV2", "SEV3"));
  EXPECT_EQ(FindSeverity(org, "SEV2"), &org.severities[1]);
  EXPECT_EQ(FindSeverity(org, "SEV4"), nullptr);
  EXPECT_EQ(SettingsOf(org).suspect_lookback_hours, 48);

  ASSERT_THAT(org.incident_roles, SizeIs(2));
  EXPECT_EQ(org.incident_roles[0].name, "Security lead");
  EXPECT_EQ(org.incident_roles[0].description, "Owns the security response");
  EXPECT_EQ(org.incident_roles[1].name, "liaison");
  std::vector<IncidentRole> roles = AllIncidentRoles(org);
  std::vector<std::string> role_ids;
  for (const IncidentRole& r : roles) role_ids.push_back(r.id);
  EXPECT_THAT(role_ids, ElementsAre("commander", "communications_lead", "scribe", "security_lead",
                                    "liaison"));
  ASSERT_NE(FindIncidentRole(roles, "security_lead"), nullptr);
  EXPECT_EQ(FindIncidentRole(roles, "security_lead")->name, "Security lead");
  EXPECT_EQ(FindIncidentRole(BuiltinIncidentRoles(), "security_lead"), nullptr);

  ASSERT_THAT(org.incident_rules, SizeIs(2));
  const IncidentRule& tier1 = org.incident_rules[0];
  EXPECT_EQ(tier1.id, "tier1-critical");
  EXPECT_THAT(tier1.services, IsEmpty());
  EXPECT_EQ(tier1.max_service_tier, 1);
  EXPECT_EQ(tier1.alert_severity, core::Severity::kCritical);
  EXPECT_FALSE(tier1.alert_count.has_value());
  EXPECT_EQ(tier1.severity, "SEV2");
  const IncidentRule& storm = org.incident_rules[1];
  EXPECT_THAT(storm.services, ElementsAre("checkout"));
  EXPECT_FALSE(storm.max_service_tier.has_value());
  EXPECT_FALSE(storm.alert_severity.has_value());
  EXPECT_EQ(storm.alert_count, 5);
  EXPECT_EQ(storm.window_minutes, 10);
  EXPECT_EQ(storm.severity, "SEV1");

  ASSERT_THAT(org.audiences, SizeIs(3));
  const Audience* pub = FindAudience(org, "public");
  ASSERT_EQ(pub, &org.audiences[0]);
  EXPECT_EQ(pub->name, "public");
  EXPECT_EQ(pub->subject_template, "{{title}}");
  EXPECT_EQ(pub->body_template,
            "{{title}}: {{update.phase_label}}\n"
            "{{#update.eta}}We expect to resolve it {{update.eta}}.{{/update.eta}}\n");
  EXPECT_EQ(pub->min_severity, "");
  EXPECT_THAT(pub->subscribers, IsEmpty());
  const Audience& execs = org.audiences[1];
  EXPECT_EQ(execs.min_severity, "SEV2");
  EXPECT_TRUE(execs.subject_template.empty());  // the built-in one
  ASSERT_THAT(execs.subscribers, SizeIs(2));
  EXPECT_EQ(execs.subscribers[0].id, "email-1");  // defaults to <type>-<position>
  EXPECT_EQ(execs.subscribers[0].type, ContactMethodType::kEmail);
  EXPECT_EQ(execs.subscribers[0].address, "execs@example.com");
  EXPECT_EQ(execs.subscribers[1].id, "exec-hook");
  EXPECT_EQ(execs.subscribers[1].secret, "exec-s3cret");
  EXPECT_EQ(execs.subscribers[1].headers.at("X-Token"), "exec-token");
  EXPECT_EQ(org.audiences[2].name, "Engineers");
  ASSERT_THAT(org.audiences[2].subscribers, SizeIs(1));
  EXPECT_EQ(org.audiences[2].subscribers[0].id, "slack-1");
  EXPECT_EQ(org.audiences[2].subscribers[0].url, "http://127.0.0.1:9000/slack/engineering");
  EXPECT_EQ(FindAudience(org, "support"), nullptr);

  ASSERT_THAT(org.webhooks, SizeIs(2));
  const OutboundWebhook& chatops = org.webhooks[0];
  EXPECT_EQ(chatops.id, "chatops");
  EXPECT_EQ(chatops.url, "http://127.0.0.1:9000/incident-events");
  EXPECT_EQ(chatops.secret, "hook-s3cret");
  EXPECT_EQ(chatops.headers.at("Authorization"), "Bearer chat-token");
  EXPECT_THAT(chatops.events, ElementsAre("incident.triggered", "status_update_published"));
  EXPECT_THAT(chatops.services, ElementsAre("checkout"));
  EXPECT_THAT(org.webhooks[1].events, IsEmpty());  // every event
  EXPECT_THAT(org.webhooks[1].services, IsEmpty());
}

TEST(IncidentConfigTest, DefaultsWithoutTheSections) {
  Org org = ParseValid(kRefsBase);
  EXPECT_THAT(SevLevels(org), ElementsAre("SEV1", "SEV2", "SEV3", "SEV4", "SEV5"));
  EXPECT_EQ(FindSeverity(org, "SEV1"), nullptr);  // built-in levels have no settings
  EXPECT_FALSE(org.settings.has_value());
  EXPECT_EQ(SettingsOf(org).suspect_lookback_hours, 24);
  EXPECT_EQ(SettingsOf(org).base_url, "");
  EXPECT_EQ(ParseValid("settings: {base_url: \"https://h.example.com\"}\n")
                .settings->suspect_lookback_hours,
            24);
  EXPECT_THAT(AllIncidentRoles(org), SizeIs(3));
  const std::vector<IncidentRole>& builtin = BuiltinIncidentRoles();
  ASSERT_THAT(builtin, SizeIs(3));
  EXPECT_EQ(builtin[0].id, "commander");
  EXPECT_EQ(builtin[0].name, "Commander");
  EXPECT_EQ(builtin[0].description, "Leads the response and makes the decisions");
  EXPECT_EQ(builtin[1].id, "communications_lead");
  EXPECT_EQ(builtin[1].name, "Communications lead");
  EXPECT_EQ(builtin[1].description, "Writes the status updates for every audience");
  EXPECT_EQ(builtin[2].id, "scribe");
  EXPECT_EQ(builtin[2].name, "Scribe");
  EXPECT_EQ(builtin[2].description, "Keeps the timeline and notes");
  EXPECT_THAT(WebhookEventNames(),
              ElementsAre("incident.triggered", "incident.acknowledged", "incident.mitigated",
                          "incident.resolved", "incident.reopened", "incident.updated",
                          "status_update_published"));
}

TEST(IncidentConfigTest, SeverityCadenceComponentStateAndLookback) {
  EXPECT_THAT(
      ProblemsOf("severities:\n"
                 "  - {id: SEV1, update_every_minutes: 0}\n"
                 "  - {id: SEV2, update_every_minutes: 1441, component_state: under_maintenance}\n"
                 "  - {id: SEV3, component_state: down}\n"
                 "settings: {suspect_lookback_hours: 721}\n"),
      ElementsAre("org.yaml:2:38: severities[0].update_every_minutes: must be between 1 and 1440, "
                  "got 0",
                  "org.yaml:3:38: severities[1].update_every_minutes: must be between 1 and 1440, "
                  "got 1441",
                  "org.yaml:3:61: severities[1].component_state: under_maintenance comes from "
                  "maintenance windows, not from incidents (use operational, "
                  "degraded_performance, partial_outage or major_outage)",
                  "org.yaml:4:33: severities[2].component_state: unknown component state 'down' "
                  "(use operational, degraded_performance, partial_outage or major_outage)",
                  "org.yaml:5:36: settings.suspect_lookback_hours: must be between 1 and 720, got "
                  "721"));
}

TEST(IncidentConfigTest, Grouping) {
  EXPECT_THAT(ProblemsOf(std::string(kRefsBase) +
                         "  - id: a\n"
                         "    escalation_policy: payments-ep\n"
                         "    grouping: {by: [component, colour, component, \"details.\"]}\n"
                         "  - id: b\n"
                         "    escalation_policy: payments-ep\n"
                         "    grouping: {window_minutes: 1441, by: dedup_key}\n"
                         "  - id: c\n"
                         "    escalation_policy: payments-ep\n"
                         "    grouping: 10\n"),
              ElementsAre("org.yaml:16:15: services[1].grouping: missing required key "
                          "'window_minutes'",
                          "org.yaml:16:32: services[1].grouping.by[1]: unknown field 'colour' (use "
                          "service, integration, severity, summary, source, component, group, "
                          "class, dedup_key or details.<path>)",
                          "org.yaml:16:40: services[1].grouping.by[2]: 'component' is listed twice",
                          "org.yaml:16:51: services[1].grouping.by[3]: unknown field 'details.' "
                          "(use service, integration, severity, summary, source, component, "
                          "group, class, dedup_key or details.<path>)",
                          "org.yaml:19:32: services[2].grouping.window_minutes: must be between 1 "
                          "and 1440, got 1441",
                          "org.yaml:19:42: services[2].grouping.by: expected a list, got "
                          "'dedup_key'",
                          "org.yaml:22:15: services[3].grouping: expected a mapping, got '10'"));
}

TEST(IncidentConfigTest, IncidentRoles) {
  EXPECT_THAT(ProblemsOf("incident_roles:\n"
                         "  - {id: commander, name: Boss}\n"
                         "  - {id: security_lead}\n"
                         "  - {id: security_lead}\n"
                         "  - {id: \"tech lead\"}\n"
                         "  - {name: Nameless}\n"),
              ElementsAre("org.yaml:2:10: incident_roles[0].id: 'commander' is a built-in "
                          "incident role and always exists; choose another id (built-in: "
                          "commander, communications_lead, scribe)",
                          "org.yaml:4:10: incident_roles[2].id: duplicate incident role id "
                          "'security_lead' (first defined at line 3)",
                          "org.yaml:5:10: incident_roles[3].id: invalid id 'tech lead': use 1 to "
                          "64 letters, digits, '_', '-' or '.', starting with a letter or digit",
                          "org.yaml:6:5: incident_roles[4]: missing required key 'id'"));
}

TEST(IncidentConfigTest, IncidentRules) {
  EXPECT_THAT(
      ProblemsOf(std::string(kRefsBase) +
                 "incident_rules:\n"
                 "  - {id: r1, severity: SEV2}\n"
                 "  - {id: r1, services: [checkout, nope], severity: sev2}\n"
                 "  - {id: r3, max_service_tier: 6, alert_severity: fatal, severity: SEV9}\n"
                 "  - {id: r4, alert_count: 0, window_minutes: 10081, severity: SEV1}\n"
                 "  - {id: r5, alert_severity: critical, window_minutes: 10}\n"
                 "  - {id: r6, services: [], severity: SEV1}\n"),
      ElementsAre(
          "org.yaml:15:5: incident_rules[0]: a rule needs at least one condition (services, "
          "max_service_tier, alert_severity or alert_count)",
          "org.yaml:16:10: incident_rules[1].id: duplicate incident rule id 'r1' (first defined "
          "at line 15)",
          "org.yaml:16:35: incident_rules[1].services[1]: unknown service 'nope' (defined: "
          "checkout)",
          "org.yaml:16:52: incident_rules[1].severity: unknown SEV level 'sev2' (did you mean "
          "'SEV2'? levels are case-sensitive; use one of SEV1, SEV2, SEV3, SEV4, SEV5)",
          "org.yaml:17:32: incident_rules[2].max_service_tier: must be between 1 and 5, got 6",
          "org.yaml:17:51: incident_rules[2].alert_severity: unknown alert severity 'fatal' (use "
          "critical, error, warning or info)",
          "org.yaml:17:68: incident_rules[2].severity: unknown SEV level 'SEV9' (use one of SEV1, "
          "SEV2, SEV3, SEV4, SEV5)",
          "org.yaml:18:27: incident_rules[3].alert_count: must be at least 1, got 0",
          "org.yaml:18:46: incident_rules[3].window_minutes: must be between 1 and 10080, got "
          "10081",
          "org.yaml:19:5: incident_rules[4]: missing required key 'severity'",
          "org.yaml:19:56: incident_rules[4].window_minutes: window_minutes is the window of "
          "alert_count; add alert_count or remove it",
          "org.yaml:20:5: incident_rules[5]: a rule needs at least one condition (services, "
          "max_service_tier, alert_severity or alert_count)"));
}

TEST(IncidentConfigTest, WrongShapesAreReportedOnce) {
  EXPECT_THAT(ProblemsOf("incident_rules: {id: r}\n"),
              ElementsAre("org.yaml:1:17: incident_rules: expected a list, got a mapping"));
  EXPECT_THAT(ProblemsOf(std::string(kRefsBase) +
                         "incident_rules: [{id: r, services: checkout, severity: SEV1}]\n"),
              ElementsAre("org.yaml:14:36: incident_rules[0].services: expected a list, got "
                          "'checkout'"));
  EXPECT_THAT(ProblemsOf("audiences: [{id: a, template: [x], subscribers: {type: email}}]\n"),
              ElementsAre("org.yaml:1:31: audiences[0].template: expected a string, got a list",
                          "org.yaml:1:49: audiences[0].subscribers: expected a list, got a "
                          "mapping"));
  EXPECT_THAT(ProblemsOf("webhooks: [{id: w, url: \"http://a\", events: incident.triggered}]\n"),
              ElementsAre("org.yaml:1:45: webhooks[0].events: expected a list, got "
                          "'incident.triggered'"));
}

TEST(IncidentConfigTest, SevLevelsAreTheOrgsOwnWhenDefined) {
  std::string yaml = std::string(kRefsBase) +
                     "severities: [{id: P1}, {id: P2}]\n"
                     "incident_rules:\n"
                     "  - {id: r, alert_severity: critical, severity: SEV1}\n"
                     "audiences:\n"
                     "  - {id: executives, min_severity: p1}\n";
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre("org.yaml:16:49: incident_rules[0].severity: unknown SEV level 'SEV1' "
                          "(use one of P1, P2)",
                          "org.yaml:18:36: audiences[0].min_severity: unknown SEV level 'p1' (did "
                          "you mean 'P1'? levels are case-sensitive; use one of P1, P2)"));
}

TEST(IncidentConfigTest, AudienceTemplatesAreCheckedWithLineAndColumn) {
  EXPECT_THAT(
      ProblemsOf("audiences:\n"
                 "  - id: engineering\n"
                 "    template: |\n"
                 "      Incident {{incident.title}}\n"
                 "      {{#update.eta}}\n"
                 "      ETA {{update.eta}}\n"
                 "  - id: public\n"
                 "    subject: \"Status: {{title\"\n"
                 "    template: \"{{/update.eta}}\"\n"),
      ElementsAre(
          "org.yaml:3:15: audiences[0].template: invalid template: Unclosed section "
          "\"update.eta\" at line 2, column 1",
          "org.yaml:8:14: audiences[1].subject: invalid template: Unclosed tag at line 1, column 9",
          "org.yaml:9:15: audiences[1].template: invalid template: Unopened section "
          "\"update.eta\" at line 1, column 1"));
}

TEST(IncidentConfigTest, AudienceSubscribers) {
  EXPECT_THAT(
      ProblemsOf("audiences:\n"
                 "  - id: support\n"
                 "    subscribers:\n"
                 "      - {type: email}\n"
                 "      - {id: x, type: pager}\n"
                 "      - {type: slack, url: \"http://127.0.0.1:9000/slack\", secret: s}\n"
                 "      - {id: email-1, type: email, address: a@example.com}\n"
                 "      - {id: \"bad id\", type: webhook, url: \"http://127.0.0.1/\"}\n"
                 "  - id: support\n"
                 "  - id: \"Status page\"\n"),
      ElementsAre(
          "org.yaml:4:9: audiences[0].subscribers[0]: missing required key 'address'",
          "org.yaml:5:23: audiences[0].subscribers[1].type: unknown contact method type 'pager' "
          "(use webhook, email, slack or sms_provider)",
          "org.yaml:6:67: audiences[0].subscribers[2].secret: 'secret' is not used by contact "
          "methods of type slack; remove it",
          "org.yaml:7:14: audiences[0].subscribers[3].id: duplicate subscriber id 'email-1' "
          "(first defined at line 4)",
          "org.yaml:8:14: audiences[0].subscribers[4].id: invalid id 'bad id': use 1 to 64 "
          "letters, digits, '_', '-' or '.', starting with a letter or digit",
          "org.yaml:9:9: audiences[1].id: duplicate audience id 'support' (first defined at line "
          "2)",
          "org.yaml:10:9: audiences[2].id: invalid id 'Status page': use 1 to 64 letters, digits, "
          "'_', '-' or '.', starting with a letter or digit"));
}

TEST(IncidentConfigTest, Webhooks) {
  EXPECT_THAT(
      ProblemsOf(std::string(kRefsBase) +
                 "webhooks:\n"
                 "  - {id: w, events: [incident.created, incident.resolved, incident.resolved]}\n"
                 "  - id: w\n"
                 "    url: \"ftp://example.com/hook\"\n"
                 "    services: [nope]\n"
                 "    headers: {\"Bad Header\": x}\n"),
      ElementsAre("org.yaml:15:5: webhooks[0]: missing required key 'url'",
                  "org.yaml:15:22: webhooks[0].events[0]: unknown event 'incident.created' (use "
                  "incident.triggered, incident.acknowledged, incident.mitigated, "
                  "incident.resolved, incident.reopened, incident.updated, "
                  "status_update_published)",
                  "org.yaml:15:59: webhooks[0].events[2]: 'incident.resolved' is listed twice",
                  "org.yaml:16:9: webhooks[1].id: duplicate webhook id 'w' (first defined at "
                  "line 15)",
                  "org.yaml:17:10: webhooks[1].url: invalid URL 'ftp://example.com/hook': it "
                  "must start with http:// or https:// and contain no spaces",
                  "org.yaml:18:16: webhooks[1].services[0]: unknown service 'nope' (defined: "
                  "checkout)",
                  "org.yaml:19:15: webhooks[1].headers.Bad Header: invalid header name: use "
                  "letters, digits and - (e.g. X-Api-Key)"));
}

TEST(ValidationTest, ManyProblemsAreReportedTogetherInFileOrder) {
  Result<Org> org = ParseOrg(
      "services:\n"
      "  - {id: web, escalation_policy: missing}\n"
      "users:\n"
      "  - {id: a, timezone: Nowhere/Town}\n"
      "  - {id: a, emial: x}\n",
      "teams/org.yaml");
  ASSERT_FALSE(org.has_value());
  EXPECT_THAT(org, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(org.error().message(), "teams/org.yaml is invalid: 4 problem(s)");
  EXPECT_THAT(
      org.error().details(),
      ElementsAre(
          "teams/org.yaml:2:34: services[0].escalation_policy: unknown escalation policy "
          "'missing' (none defined; add it under escalation_policies:)",
          HasSubstr("teams/org.yaml:4:23: users[0].timezone: unknown time zone 'Nowhere/Town'"),
          "teams/org.yaml:5:10: users[1].id: duplicate user id 'a' (first defined at line 4); "
          "ids "
          "must be unique",
          "teams/org.yaml:5:13: users[1].emial: unknown key 'emial' (did you mean 'email'?)"));
}

TEST(ValidationTest, ReportsAreCapped) {
  std::string yaml = "users:\n";
  for (int i = 0; i < 250; ++i) yaml += "  - {id: \"bad id\"}\n";
  Result<Org> org = ParseOrg(yaml, "org.yaml");
  ASSERT_FALSE(org.has_value());
  EXPECT_EQ(org.error().message(), "org.yaml is invalid: 250 problem(s)");
  ASSERT_THAT(org.error().details(), SizeIs(201));
  EXPECT_EQ(org.error().details().back(), "... and 50 more problem(s)");
}

// ---- files ---------------------------------------------------------------------------------

TEST(LoadOrgFileTest, MissingFileIsNotFound) {
  Result<Org> org = LoadOrgFile("/nonexistent/houston/org.yaml");
  ASSERT_FALSE(org.has_value());
  EXPECT_THAT(org, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(org.error().message(), HasSubstr("/nonexistent/houston/org.yaml"));
}

TEST(LoadOrgFileTest, DirectoryIsInvalidArgument) {
  Result<Org> org = LoadOrgFile(std::string(HOUSTON_SOURCE_DIR) + "/examples");
  ASSERT_FALSE(org.has_value());
  EXPECT_THAT(org, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(org.error().message(), HasSubstr("is a directory"));
}

TEST(LoadOrgFileTest, MessagesNameThePath) {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("houston_config_test_" + std::to_string(::getpid()) + ".yaml");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("users:\n  - {id: a, timezone: Nowhere}\n", f);
    std::fclose(f);
  }
  Result<Org> org = LoadOrgFile(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(org.has_value());
  EXPECT_THAT(org.error().details(), ElementsAre(HasSubstr(path.string() + ":2:23: ")));
}

// ---- flatten, diff --------------------------------------------------------------------------

TEST(FlattenTest, IsCanonicalAndSorted) {
  std::string text = CompletedDesignExample();
  std::vector<OrgObject> a = Flatten(ParseValid(text));
  std::vector<OrgObject> b = Flatten(ParseValid(text));
  EXPECT_EQ(a, b);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const OrgObject& o : a) keys.emplace_back(o.kind, o.id);
  EXPECT_THAT(keys,
              ElementsAre(std::pair<std::string, std::string>{"escalation_policy", "payments-ep"},
                          std::pair<std::string, std::string>{"integration",
                                                              "0123456789abcdef0123456789abcdef"},
                          std::pair<std::string, std::string>{"integration", "am-checkout"},
                          std::pair<std::string, std::string>{"integration", "hb-checkout"},
                          std::pair<std::string, std::string>{"schedule", "payments-primary"},
                          std::pair<std::string, std::string>{"service", "checkout"},
                          std::pair<std::string, std::string>{"service", "payments-db"},
                          std::pair<std::string, std::string>{"status_page", "status_page"},
                          std::pair<std::string, std::string>{"team", "payments"},
                          std::pair<std::string, std::string>{"user", "alice"},
                          std::pair<std::string, std::string>{"user", "bob"},
                          std::pair<std::string, std::string>{"user", "carol"},
                          std::pair<std::string, std::string>{"user", "dave"}));
  EXPECT_EQ(FindObject(a, "integration", "hb-checkout")->spec_json,
            R"({"key":"hb-checkout","service":"checkout","type":"heartbeat","name":"heartbeat",)"
            R"("rate_limit_per_second":null,"interval_minutes":5,"grace_minutes":null,)"
            R"("mapping":null})");
  EXPECT_EQ(FindObject(a, "service", "checkout")->spec_json,
            R"({"id":"checkout","name":"Checkout API","description":"","team":"payments",)"
            R"("tier":1,"runbook_url":"https://wiki.example.com/checkout",)"
            R"("escalation_policy":"payments-ep","depends_on":["payments-db"],"grouping":null})");
  EXPECT_EQ(FindObject(a, "schedule", "payments-primary")->spec_json,
            R"({"id":"payments-primary","name":"payments-primary","timezone":"America/New_York",)"
            R"("layers":[{"name":"weekly","start":"2026-01-05T09:00:00",)"
            R"("rotation":{"type":"weekly","length":1},"users":["alice","bob","carol"],)"
            R"("restrictions":[{"days":["mon","tue","wed","thu","fri"],"start":"09:00",)"
            R"("end":"17:00"}]}],"overrides":[{"user":"dave","start":"2026-03-07T14:00:00.000Z",)"
            R"("end":"2026-03-08T13:00:00.000Z"}]})");
  EXPECT_EQ(FindObject(a, "escalation_policy", "payments-ep")->spec_json,
            R"({"id":"payments-ep","name":"payments-ep","repeat":2,"ack_timeout_minutes":null,)"
            R"("steps":[{"delay_minutes":0,"round_robin":false,)"
            R"("targets":[{"type":"schedule","id":"payments-primary"}]},)"
            R"({"delay_minutes":15,"round_robin":false,"targets":[{"type":"user","id":"bob"},)"
            R"({"type":"team","id":"payments"}]}]})");
}

TEST(FlattenTest, EquivalentSpellingsFlattenEqually) {
  // Flow vs block style, 5 vs 5.0, a different offset for the same instant, day order.
  std::string a = std::string(kRefsBase) +
                  "  - id: api\n"
                  "    escalation_policy: payments-ep\n"
                  "    integrations: [{type: alertmanager, key: am-checkout, "
                  "rate_limit_per_second: 5}]\n"
                  "maintenance_windows:\n"
                  "  - {id: w, services: [checkout], recurring: {days: [mon, sun], start: "
                  "\"9:00\", end: \"00:00\"}}\n";
  std::string b = std::string(kRefsBase) +
                  "  - id: api\n"
                  "    escalation_policy: payments-ep\n"
                  "    integrations:\n"
                  "      - type: alertmanager\n"
                  "        key: am-checkout\n"
                  "        rate_limit_per_second: 5.0\n"
                  "maintenance_windows:\n"
                  "  - id: w\n"
                  "    services: [checkout]\n"
                  "    recurring: {days: [sun, mon], start: \"09:00\", end: \"24:00\", timezone: "
                  "UTC}\n";
  EXPECT_EQ(Flatten(ParseValid(a)), Flatten(ParseValid(b)));
}

TEST(FlattenTest, SecretsAreIncludedUnlessRedacted) {
  Org org = ParseValid(CompletedDesignExample());
  std::vector<OrgObject> objects = Flatten(org);
  const OrgObject* alice = FindObject(objects, "user", "alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_THAT(alice->spec_json, HasSubstr(R"("secret":"s3cret")"));

  org.users[0].contact_methods[0].headers["Authorization"] = "Bearer t0ken";
  std::vector<OrgObject> redacted = Flatten(org, /*redacted=*/true);
  const OrgObject* r = FindObject(redacted, "user", "alice");
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(r->spec_json, Not(HasSubstr("s3cret")));
  EXPECT_THAT(r->spec_json, Not(HasSubstr("t0ken")));
  EXPECT_THAT(r->spec_json, HasSubstr(R"("secret":"***")"));
  EXPECT_THAT(r->spec_json, HasSubstr(R"("headers":{"Authorization":"***"})"));
  // Methods without a secret stay visibly unsigned.
  EXPECT_THAT(r->spec_json, HasSubstr(R"("id":"alice-mail","type":"email","url":"",)"
                                      R"("address":"alice@example.com","secret":"")"));
}

TEST(DiffTest, AddChangeRemove) {
  std::vector<OrgObject> current = {
      {"user", "bob", R"({"id":"bob"})"},
      {"integration", "am-checkout", R"({"key":"am-checkout","rate_limit_per_second":5})"},
      {"team", "payments", R"({"id":"payments","members":["alice"]})"},
  };
  std::vector<OrgObject> desired = {
      {"team", "payments", R"({"id":"payments","members":["alice"]})"},
      {"service", "checkout", R"({"id":"checkout"})"},
      {"integration", "am-checkout", R"({"key":"am-checkout","rate_limit_per_second":10})"},
      {"integration", "zz-new", R"({"key":"zz-new"})"},
  };
  OrgDiff diff = Diff(current, desired);
  ASSERT_FALSE(diff.empty());
  ASSERT_THAT(diff.added, SizeIs(2));
  EXPECT_EQ(diff.added[0].id, "zz-new");
  EXPECT_EQ(diff.added[1].id, "checkout");
  ASSERT_THAT(diff.changed, SizeIs(1));
  EXPECT_EQ(diff.changed[0].first.spec_json, current[1].spec_json);
  EXPECT_EQ(diff.changed[0].second.spec_json, desired[2].spec_json);
  ASSERT_THAT(diff.removed, SizeIs(1));
  EXPECT_EQ(diff.removed[0].id, "bob");
  EXPECT_EQ(FormatDiff(diff),
            "+ integration zz-new\n"
            "+ service checkout\n"
            "~ integration am-checkout: rate_limit_per_second 5 -> 10\n"
            "- user bob\n"
            "2 to add, 1 to change, 1 to remove\n");

  EXPECT_TRUE(Diff(desired, desired).empty());
  EXPECT_EQ(FormatDiff(Diff(desired, desired)),
            "No changes.\n0 to add, 0 to change, 0 to remove\n");
}

TEST(DiffTest, FieldLevelChangesOfParsedOrgs) {
  std::string before_text = CompletedDesignExample();
  std::string after_text = before_text;
  auto replace = [&](std::string_view from, std::string_view to) {
    size_t pos = after_text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    after_text.replace(pos, from.size(), to);
  };
  replace("secret: s3cret", "secret: n3w-s3cret");
  replace("{contact_method: alice-mail, delay_minutes: 5}",
          "{contact_method: alice-mail, delay_minutes: 10}");
  replace("members: [alice, bob, carol]", "members: [alice, bob]");
  replace("{type: alertmanager, key: \"am-checkout\"}",
          "{type: alertmanager, key: \"am-checkout\", rate_limit_per_second: 0.5}");
  replace("  - {id: dave}\n", "");
  replace("{user: dave,", "{user: carol,");
  replace("tier: 1", "tier: 2");
  replace("    integrations:\n",
          "    integrations:\n      - {type: grafana, key: \"grafana-checkout\"}\n");

  OrgDiff diff = Diff(Flatten(ParseValid(before_text)), Flatten(ParseValid(after_text)));
  std::string plan = FormatDiff(diff);
  EXPECT_EQ(plan,
            "+ integration grafana-checkout\n"
            "~ integration am-checkout: rate_limit_per_second (none) -> 0.5\n"
            "~ schedule payments-primary: overrides[0].user \"dave\" -> \"carol\"\n"
            "~ service checkout: tier 1 -> 2\n"
            "~ team payments: members [\"alice\",\"bob\",\"carol\"] -> [\"alice\",\"bob\"]\n"
            "~ user alice: contact_methods[0].secret (secret changed)\n"
            "~ user alice: notification_rules[1].delay_minutes 5 -> 10\n"
            "- user dave\n"
            "1 to add, 5 to change, 1 to remove\n");
  EXPECT_THAT(plan, Not(HasSubstr("s3cret")));
}

TEST(DiffTest, AddedContactMethodsAndHeadersAreMasked) {
  Org before = ParseValid(CompletedDesignExample());
  Org after = before;
  ContactMethod sms;
  sms.id = "alice-sms";
  sms.type = ContactMethodType::kSmsProvider;
  sms.url = "https://sms.example.com/send";
  sms.secret = "provider-secret";
  sms.headers["Authorization"] = "Bearer provider-token";
  after.users[0].contact_methods.push_back(sms);
  after.users[0].contact_methods[0].headers["X-Token"] = "hook-token";
  std::string plan = FormatDiff(Diff(Flatten(before), Flatten(after)));
  EXPECT_THAT(plan, Not(HasSubstr("provider-secret")));
  EXPECT_THAT(plan, Not(HasSubstr("provider-token")));
  EXPECT_THAT(plan, Not(HasSubstr("hook-token")));
  EXPECT_THAT(plan,
              HasSubstr("~ user alice: contact_methods[0].headers.X-Token (secret changed)\n"));
  EXPECT_THAT(plan, HasSubstr("~ user alice: contact_methods[3] (none) -> {\"id\":\"alice-sms\","
                              "\"type\":\"sms_provider\",\"url\":\"https://sms.example.com/send\","
                              "\"address\":\"\",\"secret\":\"***\",\"template\":\"\","
                              "\"headers\":{\"Authorization\":\"***\"}}\n"));
  EXPECT_THAT(plan, HasSubstr("0 to add, 1 to change, 0 to remove\n"));
}

TEST(FlattenTest, IncidentSections) {
  std::vector<OrgObject> objects = Flatten(ParseValid(IncidentOrgText()));
  std::vector<std::pair<std::string, std::string>> keys;
  for (const OrgObject& o : objects) {
    if (o.kind == "audience" || o.kind.starts_with("incident_") || o.kind == "webhook") {
      keys.emplace_back(o.kind, o.id);
    }
  }
  using Key = std::pair<std::string, std::string>;
  EXPECT_THAT(keys,
              ElementsAre(Key{"audience", "engineering"}, Key{"audience", "executives"},
                          Key{"audience", "public"}, Key{"incident_role", "liaison"},
                          Key{"incident_role", "security_lead"}, Key{"incident_rule", "storm"},
                          Key{"incident_rule", "tier1-critical"}, Key{"webhook", "chatops"},
                          Key{"webhook", "tickets"}));
  auto spec = [&](std::string_view kind, std::string_view id) {
    const OrgObject* o = FindObject(objects, kind, id);
    return o == nullptr ? std::string("(missing)") : o->spec_json;
  };
  EXPECT_EQ(spec("severity", "SEV1"),
            R"({"id":"SEV1","description":"Critical","rank":1,"update_every_minutes":30,)"
            R"("component_state":"major_outage"})");
  EXPECT_EQ(spec("severity", "SEV3"),
            R"({"id":"SEV3","description":"","rank":3,"update_every_minutes":null,)"
            R"("component_state":null})");
  EXPECT_EQ(spec("settings", "settings"), R"({"base_url":"","suspect_lookback_hours":48})");
  EXPECT_EQ(spec("service", "payments-db"),
            R"({"id":"payments-db","name":"payments-db","description":"","team":"","tier":1,)"
            R"("runbook_url":"","escalation_policy":"payments-ep","depends_on":[],)"
            R"("grouping":{"window_minutes":10,"by":["component","class",)"
            R"("details.labels.alertname"]}})");
  EXPECT_EQ(spec("incident_role", "security_lead"),
            R"({"id":"security_lead","name":"Security lead",)"
            R"("description":"Owns the security response"})");
  EXPECT_EQ(spec("incident_rule", "tier1-critical"),
            R"({"id":"tier1-critical","services":[],"max_service_tier":1,)"
            R"("alert_severity":"critical","alert_count":null,"window_minutes":null,)"
            R"("severity":"SEV2"})");
  EXPECT_EQ(spec("incident_rule", "storm"),
            R"({"id":"storm","services":["checkout"],"max_service_tier":null,)"
            R"("alert_severity":null,"alert_count":5,"window_minutes":10,"severity":"SEV1"})");
  EXPECT_EQ(spec("audience", "executives"),
            R"({"id":"executives","name":"executives","subject":"","template":"",)"
            R"("min_severity":"SEV2","subscribers":[{"id":"email-1","type":"email","url":"",)"
            R"("address":"execs@example.com","secret":"","template":"","headers":{}},)"
            R"({"id":"exec-hook","type":"webhook","url":"https://hooks.example.com/execs",)"
            R"("address":"","secret":"exec-s3cret","template":"",)"
            R"("headers":{"X-Token":"exec-token"}}]})");
  EXPECT_EQ(spec("webhook", "chatops"),
            R"({"id":"chatops","url":"http://127.0.0.1:9000/incident-events",)"
            R"("secret":"hook-s3cret","headers":{"Authorization":"Bearer chat-token"},)"
            R"("events":["incident.triggered","status_update_published"],)"
            R"("services":["checkout"]})");
  EXPECT_EQ(spec("webhook", "tickets"),
            R"({"id":"tickets","url":"https://tickets.example.com/hook","secret":"",)"
            R"("headers":{},"events":[],"services":[]})");
}

TEST(FlattenTest, SubscriberAndWebhookSecretsAreRedacted) {
  std::vector<OrgObject> objects = Flatten(ParseValid(IncidentOrgText()), /*redacted=*/true);
  const OrgObject* execs = FindObject(objects, "audience", "executives");
  const OrgObject* chatops = FindObject(objects, "webhook", "chatops");
  const OrgObject* tickets = FindObject(objects, "webhook", "tickets");
  ASSERT_NE(execs, nullptr);
  ASSERT_NE(chatops, nullptr);
  ASSERT_NE(tickets, nullptr);
  for (const OrgObject& o : objects) {
    for (std::string_view secret : {"exec-s3cret", "exec-token", "hook-s3cret", "chat-token"}) {
      EXPECT_THAT(o.spec_json, Not(HasSubstr(secret))) << o.kind << " " << o.id;
    }
  }
  EXPECT_THAT(execs->spec_json, HasSubstr(R"("secret":"***","template":"",)"
                                          R"("headers":{"X-Token":"***"})"));
  EXPECT_THAT(execs->spec_json, HasSubstr(R"("address":"execs@example.com","secret":"")"));
  EXPECT_THAT(chatops->spec_json, HasSubstr(R"("secret":"***","headers":{"Authorization":"***"})"));
  EXPECT_THAT(tickets->spec_json, HasSubstr(R"("secret":"","headers":{})"));
}

TEST(DiffTest, IncidentSectionChangesNeverShowSecrets) {
  std::string before_text = IncidentOrgText();
  std::string after_text = before_text;
  auto replace = [&](std::string_view from, std::string_view to) {
    size_t pos = after_text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    after_text.replace(pos, from.size(), to);
  };
  replace("secret: hook-s3cret", "secret: new-hook-s3cret");
  replace("headers: {Authorization: Bearer chat-token}",
          "headers: {Authorization: Bearer new-chat-token, X-Extra: extra-token}");
  replace("secret: exec-s3cret", "secret: new-exec-s3cret");
  replace("      - {type: slack, url: \"http://127.0.0.1:9000/slack/engineering\"}\n",
          "      - {type: slack, url: \"http://127.0.0.1:9000/slack/engineering\"}\n"
          "      - {id: pager, type: webhook, url: \"http://127.0.0.1:9000/p\", secret: p-s3cret, "
          "headers: {X-Key: p-token}}\n");
  replace("alert_count: 5,", "alert_count: 3,");
  replace("{id: SEV2, update_every_minutes: 60}", "{id: SEV2, update_every_minutes: 45}");
  replace("{window_minutes: 10, by: [component, class, details.labels.alertname]}",
          "{window_minutes: 5, by: [component]}");
  replace("  - {id: liaison}\n", "");
  replace("  - {id: tickets, url: \"https://tickets.example.com/hook\"}\n",
          "  - {id: tickets, url: \"https://tickets.example.com/hook\", secret: t-s3cret}\n");

  std::string plan =
      FormatDiff(Diff(Flatten(ParseValid(before_text)), Flatten(ParseValid(after_text))));
  EXPECT_EQ(plan,
            "~ audience engineering: subscribers[1] (none) -> {\"id\":\"pager\",\"type\":"
            "\"webhook\",\"url\":\"http://127.0.0.1:9000/p\",\"address\":\"\",\"secret\":\"***\","
            "\"template\":\"\",\"headers\":{\"X-Key\":\"***\"}}\n"
            "~ audience executives: subscribers[1].secret (secret changed)\n"
            "~ incident_rule storm: alert_count 5 -> 3\n"
            "~ service payments-db: grouping.window_minutes 10 -> 5\n"
            "~ service payments-db: grouping.by [\"component\",\"class\","
            "\"details.labels.alertname\"] -> [\"component\"]\n"
            "~ severity SEV2: update_every_minutes 60 -> 45\n"
            "~ webhook chatops: secret (secret changed)\n"
            "~ webhook chatops: headers.Authorization (secret changed)\n"
            "~ webhook chatops: headers.X-Extra (secret changed)\n"
            "~ webhook tickets: secret (secret changed)\n"
            "- incident_role liaison\n"
            "0 to add, 7 to change, 1 to remove\n");
  for (std::string_view secret : {"s3cret", "token"}) {
    EXPECT_THAT(plan, Not(HasSubstr(secret)));
  }
}

TEST(DiffTest, SecretsAddedWhereTheStoredSpecHasNoneAreMasked) {
  // A spec stored before `headers` and `secret` existed on the object.
  OrgDiff diff =
      Diff({{"webhook", "w", R"({"id":"w"})"}},
           {{"webhook", "w",
             R"({"id":"w","secret":"s3cret","headers":{"Authorization":"Bearer t0ken"}})"}});
  std::string plan = FormatDiff(diff);
  EXPECT_EQ(plan,
            "~ webhook w: secret (secret changed)\n"
            "~ webhook w: headers (none) -> {\"Authorization\":\"***\"}\n"
            "0 to add, 1 to change, 0 to remove\n");
}

TEST(DiffTest, UnparseableSpecStillShowsAChange) {
  OrgDiff diff = Diff({{"user", "a", "not json"}}, {{"user", "a", R"({"id":"a"})"}});
  EXPECT_EQ(FormatDiff(diff), "~ user a: spec changed\n0 to add, 1 to change, 0 to remove\n");
}

// ---- learning: postmortems and action items -------------------------------------------------

constexpr std::string_view kLearningSections = R"yaml(severities:
  - {id: SEV1}
  - {id: SEV2}
  - {id: SEV3}
postmortems:
  required_severities: [SEV1, SEV3]
  due_days: 7
  remind_every_days: 2
  team_after_days: 3
  sections:
    - {id: what_happened, title: "What happened", prompt: "The story in plain words."}
    - {id: timeline_notes, title: Timeline notes}
  contributing_factors: [deploy, config_change, capacity]
action_items:
  remind_every_days: 2
  team_grace_days: 0
  working_hours: {days: [fri, mon], start: "08:30", end: "18:00"}
)yaml";

std::string LearningOrgText() { return std::string(kRefsBase) + std::string(kLearningSections); }

TEST(LearningConfigTest, EveryKeyParses) {
  Org org = ParseValid(LearningOrgText());
  ASSERT_TRUE(org.postmortems.has_value());
  const PostmortemPolicy& p = *org.postmortems;
  EXPECT_THAT(p.required_severities, ElementsAre("SEV1", "SEV3"));
  EXPECT_EQ(p.due_days, 7);
  EXPECT_EQ(p.remind_every_days, 2);
  EXPECT_EQ(p.team_after_days, 3);
  ASSERT_THAT(p.sections, SizeIs(2));
  EXPECT_EQ(p.sections[0].id, "what_happened");
  EXPECT_EQ(p.sections[0].title, "What happened");
  EXPECT_EQ(p.sections[0].prompt, "The story in plain words.");
  EXPECT_EQ(p.sections[1].id, "timeline_notes");
  EXPECT_EQ(p.sections[1].title, "Timeline notes");
  EXPECT_EQ(p.sections[1].prompt, "");
  EXPECT_THAT(p.contributing_factors, ElementsAre("deploy", "config_change", "capacity"));
  EXPECT_THAT(PostmortemPolicyOf(org).required_severities, ElementsAre("SEV1", "SEV3"));

  ASSERT_TRUE(org.action_items.has_value());
  const ActionItemPolicy& a = *org.action_items;
  EXPECT_EQ(a.remind_every_days, 2);
  EXPECT_EQ(a.team_grace_days, 0);
  EXPECT_THAT(a.working_hours.days, ElementsAre(date::Monday, date::Friday));  // week order
  EXPECT_EQ(a.working_hours.start_minute, 8 * 60 + 30);
  EXPECT_EQ(a.working_hours.end_minute, 18 * 60);
  EXPECT_EQ(ActionItemPolicyOf(org).team_grace_days, 0);
}

TEST(LearningConfigTest, DefaultsWhenAbsent) {
  Org org = ParseValid(kRefsBase);
  EXPECT_FALSE(org.postmortems.has_value());
  EXPECT_FALSE(org.action_items.has_value());
  PostmortemPolicy p = PostmortemPolicyOf(org);
  EXPECT_THAT(p.required_severities, ElementsAre("SEV1", "SEV2"));
  EXPECT_EQ(p.due_days, 5);
  EXPECT_EQ(p.remind_every_days, 1);
  EXPECT_EQ(p.team_after_days, 2);
  std::vector<std::string> section_ids;
  for (const PostmortemSection& s : p.sections) section_ids.push_back(s.id);
  EXPECT_THAT(section_ids, ElementsAre("what_happened", "contributing_factors", "what_went_well",
                                       "where_we_got_lucky", "what_we_will_change"));
  for (const PostmortemSection& s : p.sections) {
    EXPECT_FALSE(s.title.empty()) << s.id;
    EXPECT_FALSE(s.prompt.empty()) << s.id;
  }
  EXPECT_THAT(p.contributing_factors, SizeIs(12));
  EXPECT_THAT(p.contributing_factors, Contains("config_change"));
  ActionItemPolicy a = ActionItemPolicyOf(org);
  EXPECT_EQ(a.remind_every_days, 1);
  EXPECT_EQ(a.team_grace_days, 3);
  EXPECT_THAT(a.working_hours.days, ElementsAre(date::Monday, date::Tuesday, date::Wednesday,
                                                date::Thursday, date::Friday));
  EXPECT_EQ(a.working_hours.start_minute, 9 * 60);
  EXPECT_EQ(a.working_hours.end_minute, 17 * 60);

  // The org's own levels: the two most severe.
  Org own = ParseValid("severities: [{id: P1}, {id: P2}, {id: P3}]\n");
  EXPECT_THAT(PostmortemPolicyOf(own).required_severities, ElementsAre("P1", "P2"));

  // A key that is written overrides its default only; the others keep theirs.
  Org partial = ParseValid(
      "severities: [{id: P1}, {id: P2}, {id: P3}]\n"
      "postmortems: {due_days: 10}\n"
      "action_items: {team_grace_days: 5}\n");
  ASSERT_TRUE(partial.postmortems.has_value());
  EXPECT_THAT(partial.postmortems->required_severities, ElementsAre("P1", "P2"));
  EXPECT_EQ(partial.postmortems->due_days, 10);
  EXPECT_EQ(partial.postmortems->remind_every_days, 1);
  EXPECT_EQ(partial.postmortems->team_after_days, 2);
  EXPECT_THAT(partial.postmortems->sections, SizeIs(5));
  EXPECT_THAT(partial.postmortems->contributing_factors, SizeIs(12));
  ASSERT_TRUE(partial.action_items.has_value());
  EXPECT_EQ(partial.action_items->team_grace_days, 5);
  EXPECT_EQ(partial.action_items->remind_every_days, 1);
  EXPECT_THAT(partial.action_items->working_hours.days, SizeIs(5));
  EXPECT_EQ(partial.action_items->working_hours.start_minute, 9 * 60);

  // An empty list: no severity requires a postmortem. A null value is an absent key.
  EXPECT_THAT(
      ParseValid("postmortems: {required_severities: []}\n").postmortems->required_severities,
      IsEmpty());
  EXPECT_THAT(ParseValid("postmortems:\n  required_severities:\n").postmortems->required_severities,
              ElementsAre("SEV1", "SEV2"));
  // Empty sections: the defaults, as if absent.
  Org empty = ParseValid("postmortems: {}\naction_items: {}\n");
  ASSERT_TRUE(empty.postmortems.has_value());
  EXPECT_THAT(empty.postmortems->required_severities, ElementsAre("SEV1", "SEV2"));
  EXPECT_THAT(empty.postmortems->sections, SizeIs(5));
  EXPECT_FALSE(ParseValid("postmortems:\n").postmortems.has_value());
}

TEST(LearningConfigTest, PostmortemProblems) {
  EXPECT_THAT(
      ProblemsOf("severities: [{id: SEV1}, {id: SEV2}]\n"
                 "postmortems:\n"
                 "  required_severities: [SEV1, sev2, SEV9, SEV1]\n"
                 "  due_days: 0\n"
                 "  remind_every_days: 31\n"
                 "  team_after_days: 0\n"
                 "  sections:\n"
                 "    - {id: what_happened, title: What happened}\n"
                 "    - {id: What-Happened, title: X}\n"
                 "    - {id: what_happened, title: Again}\n"
                 "    - {id: notes}\n"
                 "    - {id: extra, title: Extra, hint: x}\n"
                 "  contributing_factors: [deploy, Config Change, deploy]\n"
                 "  owner: bob\n"),
      ElementsAre(
          "org.yaml:3:31: postmortems.required_severities[1]: unknown SEV level 'sev2' (did you "
          "mean 'SEV2'? levels are case-sensitive; use one of SEV1, SEV2)",
          "org.yaml:3:37: postmortems.required_severities[2]: unknown SEV level 'SEV9' (use one "
          "of SEV1, SEV2)",
          "org.yaml:3:43: postmortems.required_severities[3]: 'SEV1' is listed twice",
          "org.yaml:4:13: postmortems.due_days: must be between 1 and 90, got 0",
          "org.yaml:5:22: postmortems.remind_every_days: must be between 1 and 30, got 31",
          "org.yaml:6:20: postmortems.team_after_days: must be between 1 and 30, got 0",
          "org.yaml:9:12: postmortems.sections[1].id: invalid section id 'What-Happened': use 1 "
          "to 64 lowercase letters, digits and '_', e.g. what_happened",
          "org.yaml:10:12: postmortems.sections[2].id: duplicate section id 'what_happened' "
          "(first defined at line 8)",
          "org.yaml:11:7: postmortems.sections[3]: missing required key 'title'",
          "org.yaml:12:33: postmortems.sections[4].hint: unknown key 'hint' (allowed: id, title, "
          "prompt)",
          "org.yaml:13:34: postmortems.contributing_factors[1]: invalid factor 'Config Change': "
          "use 1 to 64 lowercase letters, digits and '_', e.g. config_change",
          "org.yaml:13:49: postmortems.contributing_factors[2]: 'deploy' is listed twice",
          "org.yaml:14:3: postmortems.owner: unknown key 'owner' (allowed: required_severities, "
          "due_days, remind_every_days, team_after_days, sections, contributing_factors)"));

  EXPECT_THAT(ProblemsOf("postmortems: {sections: [], contributing_factors: []}\n"),
              ElementsAre("org.yaml:1:25: postmortems.sections: must list at least one section; "
                          "remove the key for the built-in template",
                          "org.yaml:1:51: postmortems.contributing_factors: must list at least "
                          "one factor; remove the key for the built-in list"));
  EXPECT_THAT(ProblemsOf("postmortems: [SEV1]\n"),
              ElementsAre(HasSubstr("org.yaml:1:14: postmortems: ")));
  // The default required severities need no SEV2 to exist when the org defines one level.
  EXPECT_THAT(ParseValid("severities: [{id: ONLY}]\npostmortems: {due_days: 3}\n")
                  .postmortems->required_severities,
              ElementsAre("ONLY"));
}

TEST(LearningConfigTest, ActionItemProblems) {
  EXPECT_THAT(
      ProblemsOf("action_items:\n"
                 "  remind_every_days: 0\n"
                 "  team_grace_days: 91\n"
                 "  working_hours: {days: [mon, funday, mon], start: \"25:00\", end: \"17:00\"}\n"
                 "  escalate: true\n"),
      ElementsAre("org.yaml:2:22: action_items.remind_every_days: must be between 1 and 30, got 0",
                  "org.yaml:3:20: action_items.team_grace_days: must be between 0 and 90, got 91",
                  "org.yaml:4:31: action_items.working_hours.days[1]: unknown day 'funday' (use "
                  "mon, tue, wed, thu, fri, sat or sun)",
                  "org.yaml:4:39: action_items.working_hours.days[2]: 'mon' is listed twice",
                  "org.yaml:4:52: action_items.working_hours.start: invalid time of day '25:00': "
                  "use HH:MM between 00:00 and 24:00",
                  HasSubstr("org.yaml:5:3: action_items.escalate: unknown key 'escalate'")));
  EXPECT_THAT(ProblemsOf("action_items:\n"
                         "  working_hours: {days: [], start: \"09:00\", end: \"09:00\"}\n"),
              ElementsAre("org.yaml:2:25: action_items.working_hours.days: must list at least one "
                          "day (mon, tue, wed, thu, fri, sat, sun)",
                          "org.yaml:2:50: action_items.working_hours.end: start and end are equal; "
                          "use start 00:00 and end 24:00 for the whole day"));
  EXPECT_THAT(ProblemsOf("action_items: {working_hours: {start: \"09:00\", end: \"17:00\", tz: "
                         "UTC}}\n"),
              ElementsAre(HasSubstr("action_items.working_hours: missing required key 'days'"),
                          HasSubstr("action_items.working_hours.tz: unknown key 'tz'")));
  // Past midnight is allowed, as for layer restrictions: 22:00 to 06:00 the next day.
  Org night = ParseValid(
      "action_items: {working_hours: {days: [sat, sun], start: \"22:00\", end: \"06:00\"}}\n");
  EXPECT_EQ(night.action_items->working_hours.start_minute, 22 * 60);
  EXPECT_EQ(night.action_items->working_hours.end_minute, 6 * 60);
}

TEST(FlattenTest, LearningSections) {
  std::vector<OrgObject> objects = Flatten(ParseValid(LearningOrgText()));
  auto spec = [&](std::string_view kind, std::string_view id) {
    const OrgObject* o = FindObject(objects, kind, id);
    return o == nullptr ? std::string("(missing)") : o->spec_json;
  };
  EXPECT_EQ(spec("postmortems", "postmortems"),
            R"({"required_severities":["SEV1","SEV3"],"due_days":7,"remind_every_days":2,)"
            R"("team_after_days":3,"sections":[{"id":"what_happened","title":"What happened",)"
            R"("prompt":"The story in plain words."},{"id":"timeline_notes",)"
            R"("title":"Timeline notes","prompt":""}],)"
            R"("contributing_factors":["deploy","config_change","capacity"]})");
  EXPECT_EQ(spec("action_items", "action_items"),
            R"({"remind_every_days":2,"team_grace_days":0,)"
            R"("working_hours":{"days":["mon","fri"],"start":"08:30","end":"18:00"}})");

  // Absent sections are no objects (the defaults apply); written ones carry every default.
  for (const OrgObject& o : Flatten(ParseValid(kRefsBase))) {
    EXPECT_NE(o.kind, "postmortems");
    EXPECT_NE(o.kind, "action_items");
  }
  std::vector<OrgObject> defaults = Flatten(ParseValid("postmortems: {}\naction_items: {}\n"));
  ASSERT_NE(FindObject(defaults, "postmortems", "postmortems"), nullptr);
  EXPECT_THAT(FindObject(defaults, "postmortems", "postmortems")->spec_json,
              AllOf(HasSubstr(R"({"required_severities":["SEV1","SEV2"],"due_days":5,)"),
                    HasSubstr(R"({"id":"what_happened","title":"What happened",)")));
  EXPECT_EQ(FindObject(defaults, "action_items", "action_items")->spec_json,
            R"({"remind_every_days":1,"team_grace_days":3,"working_hours":)"
            R"({"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00"}})");
}

TEST(FlattenTest, LearningSectionsRoundTrip) {
  // What a server does: the objects applied with a file, then the org parsed again from the
  // stored source text, must not differ; the policies it runs are the ones written.
  std::string text = LearningOrgText();
  std::vector<OrgObject> stored = Flatten(ParseValid(text));
  Org reloaded = ParseValid(text);
  EXPECT_TRUE(Diff(stored, Flatten(reloaded)).empty());
  EXPECT_EQ(PostmortemPolicyOf(reloaded).due_days, 7);
  EXPECT_EQ(ActionItemPolicyOf(reloaded).working_hours.start_minute, 8 * 60 + 30);

  // Block or flow style, day order, "9:00" or "09:00", defaults written or left out: the same.
  std::string block = std::string(kRefsBase) +
                      "postmortems:\n"
                      "  due_days: 5\n"
                      "action_items:\n"
                      "  team_grace_days: 3\n"
                      "  working_hours:\n"
                      "    days: [fri, thu, wed, tue, mon]\n"
                      "    start: \"9:00\"\n"
                      "    end: \"17:00\"\n";
  std::string flow = std::string(kRefsBase) +
                     "postmortems: {required_severities: [SEV1, SEV2]}\n"
                     "action_items: {}\n";
  EXPECT_EQ(Flatten(ParseValid(block)), Flatten(ParseValid(flow)));
}

TEST(DiffTest, LearningSectionChanges) {
  std::string before_text = LearningOrgText();
  std::string after_text = before_text;
  auto replace = [&](std::string_view from, std::string_view to) {
    size_t pos = after_text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    after_text.replace(pos, from.size(), to);
  };
  replace("required_severities: [SEV1, SEV3]", "required_severities: [SEV1, SEV2]");
  replace("due_days: 7", "due_days: 10");
  replace("title: Timeline notes", "title: Timeline");
  replace("[deploy, config_change, capacity]", "[deploy, capacity]");
  replace("team_grace_days: 0", "team_grace_days: 2");
  replace("end: \"18:00\"", "end: \"17:30\"");
  std::string plan =
      FormatDiff(Diff(Flatten(ParseValid(before_text)), Flatten(ParseValid(after_text))));
  EXPECT_EQ(plan,
            "~ action_items action_items: team_grace_days 0 -> 2\n"
            "~ action_items action_items: working_hours.end \"18:00\" -> \"17:30\"\n"
            "~ postmortems postmortems: required_severities [\"SEV1\",\"SEV3\"] -> "
            "[\"SEV1\",\"SEV2\"]\n"
            "~ postmortems postmortems: due_days 7 -> 10\n"
            "~ postmortems postmortems: sections[1].title \"Timeline notes\" -> \"Timeline\"\n"
            "~ postmortems postmortems: contributing_factors [\"deploy\",\"config_change\","
            "\"capacity\"] -> [\"deploy\",\"capacity\"]\n"
            "0 to add, 2 to change, 0 to remove\n");

  // Removing a section removes its object (the defaults apply again); adding one adds it.
  std::string without =
      std::string(kRefsBase) + "severities: [{id: SEV1}, {id: SEV2}, {id: SEV3}]\n";
  EXPECT_EQ(FormatDiff(Diff(Flatten(ParseValid(before_text)), Flatten(ParseValid(without)))),
            "- action_items action_items\n"
            "- postmortems postmortems\n"
            "0 to add, 0 to change, 2 to remove\n");
  EXPECT_EQ(FormatDiff(Diff(Flatten(ParseValid(without)), Flatten(ParseValid(before_text)))),
            "+ action_items action_items\n"
            "+ postmortems postmortems\n"
            "2 to add, 0 to change, 0 to remove\n");
}

}  // namespace
}  // namespace houston::config
