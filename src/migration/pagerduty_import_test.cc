#include "migration/pagerduty_import.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/schedule_convert.h"
#include "core/schedule.h"
#include "core/time_util.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::migration {
namespace {

using ::houston::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kFixtures = std::string(HOUSTON_SOURCE_DIR) + "/tests/fixtures/pagerduty";

TimePoint At(std::string_view rfc3339) {
  Result<TimePoint> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

// The fixture account, imported as of 2026-12-01 (its old layers and overrides ended in 2025;
// the rest starts in 2029 and 2030).
class PagerDutyImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(kFixtures));
    ASSERT_TRUE(data.has_value()) << data.error().ToString();
    result_ = MapPagerDuty(*data, At("2026-12-01T00:00:00Z"));
    report_ = FormatReport(result_);
  }

  const config::Schedule& Schedule(std::string_view id) {
    const config::Schedule* s = config::FindSchedule(result_.org, id);
    EXPECT_NE(s, nullptr) << id;
    static const config::Schedule kNone;
    return s != nullptr ? *s : kNone;
  }

  // Expects a report line for `object` and `field` (FormatReport's "object: field: reason")
  // whose reason contains `reason_part`.
  void ExpectReported(std::string_view object, std::string_view field,
                      std::string_view reason_part) {
    std::string prefix =
        field.empty() ? fmt::format("  {}: ", object) : fmt::format("  {}: {}: ", object, field);
    std::istringstream lines(report_);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(prefix) && line.find(reason_part) != std::string::npos) return;
    }
    ADD_FAILURE() << "no report line starts with \"" << prefix << "\" and mentions \""
                  << reason_part << "\"; the report:\n"
                  << report_;
  }

  ImportResult result_;
  std::string report_;
};

TEST_F(PagerDutyImportTest, WritesAnOrgHoustonAccepts) {
  std::string yaml = WriteOrgYaml(result_.org);
  Result<config::Org> parsed = config::ParseOrg(yaml, "imported.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString() << "\n" << yaml;
  EXPECT_EQ(config::Flatten(*parsed), config::Flatten(result_.org)) << yaml;
  EXPECT_EQ(result_.counts["users"], 5);
  EXPECT_EQ(result_.counts["teams"], 2);
  EXPECT_EQ(result_.counts["schedules"], 2);
  EXPECT_EQ(result_.counts["escalation_policies"], 2);
  EXPECT_EQ(result_.counts["services"], 4);
  EXPECT_EQ(result_.counts["integrations"], 4);
}

TEST_F(PagerDutyImportTest, Users) {
  const config::Org& org = result_.org;
  std::vector<std::string> ids;
  for (const config::User& u : org.users) ids.push_back(u.id);
  // From the e-mail's local part, unique (the second page, users.2.json, is read too).
  EXPECT_THAT(ids, ElementsAre("alice", "bob", "carol", "dave.smith", "alice-2"));

  const config::User& alice = org.users[0];
  EXPECT_EQ(alice.name, "Alice Admin");
  EXPECT_EQ(alice.email, "alice@example.com");
  EXPECT_EQ(alice.timezone, "America/New_York");
  EXPECT_EQ(alice.role, core::Role::kAdmin);
  ASSERT_EQ(alice.contact_methods.size(), 1u);
  EXPECT_EQ(alice.contact_methods[0].id, "email");
  EXPECT_EQ(alice.contact_methods[0].address, "alice@example.com");
  ASSERT_EQ(alice.notification_rules.size(), 1u);  // the high-urgency e-mail rule
  EXPECT_EQ(alice.notification_rules[0].contact_method, "email");
  EXPECT_EQ(alice.notification_rules[0].delay_minutes, 0);
  ExpectReported("user 'Alice Admin' (PU1ALICE)", "contact method 'Mobile' (phone_contact_method)",
                 "+1 5555550100");
  ExpectReported("user 'Alice Admin' (PU1ALICE)",
                 "contact method 'Mobile SMS' (sms_contact_method)", "sms_provider");
  ExpectReported("user 'Alice Admin' (PU1ALICE)",
                 "contact method 'iPhone' (push_notification_contact_method)", "no mobile app");
  ExpectReported("user 'Alice Admin' (PU1ALICE)",
                 "notification rule (email, low urgency, after 0 min)", "no low urgency");
  ExpectReported("user 'Alice Admin' (PU1ALICE)",
                 "notification rule (phone, high urgency, after 5 min)", "not imported");
  ExpectReported("user 'Alice Admin' (PU1ALICE)", "job_title", "SRE lead");

  const config::User& bob = org.users[1];
  EXPECT_EQ(bob.role, core::Role::kResponder);
  ASSERT_EQ(bob.contact_methods.size(), 2u);
  EXPECT_EQ(bob.contact_methods[1].id, "email-2");
  // Sorted by delay.
  ASSERT_EQ(bob.notification_rules.size(), 2u);
  EXPECT_EQ(bob.notification_rules[0].contact_method, "email");
  EXPECT_EQ(bob.notification_rules[1].contact_method, "email-2");
  EXPECT_EQ(bob.notification_rules[1].delay_minutes, 10);
  ExpectReported("user 'Bob Builder' (PU2BOB)", "role", "limited_user");
  ExpectReported("user 'Bob Builder' (PU2BOB)",
                 "contact method 'Default' (email_contact_method).send_short_email", "one e-mail");

  const config::User& carol = org.users[2];
  EXPECT_EQ(carol.role, core::Role::kViewer);
  ASSERT_EQ(carol.notification_rules.size(), 1u);  // houston's default: every method at once
  ExpectReported("user 'Carol Observer' (PU3CAROL)", "notification_rules", "at once");

  const config::User& dave = org.users[3];
  EXPECT_EQ(dave.timezone, "UTC");
  EXPECT_THAT(dave.contact_methods, IsEmpty());
  ExpectReported("user 'Dave Smith' (PU4DAVE)", "time_zone", "Mars/Olympus_Mons");
  ExpectReported("user 'Dave Smith' (PU4DAVE)", "contact_methods", "never notified");
  ExpectReported("user 'Dave Smith' (PU4DAVE)", "contact method 'Mobile' (sms_contact_method)",
                 "+44 7700900123");
  ExpectReported("user 'Dave Smith' (PU4DAVE)", "description", "no description");

  const config::User& erin = org.users[4];
  EXPECT_EQ(erin.role, core::Role::kViewer);
  ExpectReported("user 'Erin' (PU5ERIN)", "role", "restricted_access");
  ExpectReported("user 'Erin' (PU5ERIN)", "contact method 'WhatsApp' (whatsapp_contact_method)",
                 "WhatsApp");
  ExpectReported("user 'Erin' (PU5ERIN)", "contact method 'Pigeon' (carrier_pigeon_contact_method)",
                 "unknown");
}

TEST_F(PagerDutyImportTest, Teams) {
  const config::Org& org = result_.org;
  ASSERT_EQ(org.teams.size(), 2u);
  EXPECT_EQ(org.teams[0].id, "payments-team");
  EXPECT_EQ(org.teams[0].name, "Payments Team");
  EXPECT_THAT(org.teams[0].members, ElementsAre("alice", "bob", "alice-2"));
  EXPECT_EQ(org.teams[1].id, "platform");
  EXPECT_THAT(org.teams[1].members, ElementsAre("bob", "carol"));
  ExpectReported("team 'Payments Team' (PT1PAY)", "description", "no description");
  ExpectReported("team 'Platform' (PT2PLAT)", "parent", "not nested");
}

TEST_F(PagerDutyImportTest, ScheduleLayersInHoustonOrder) {
  const config::Schedule& s = Schedule("payments-primary");
  EXPECT_EQ(s.timezone, "America/New_York");
  // Lowest first; Layer 3 starts mid-turn in the future, so its first turn is a layer of its own;
  // the old layer ended in 2025.
  std::vector<std::string> names;
  for (const config::ScheduleLayer& l : s.layers) names.push_back(l.name);
  EXPECT_THAT(names, ElementsAre("Layer 1", "Layer 2", "Layer 3 (first turn)", "Layer 3"));
  EXPECT_THAT(s.layers[0].users, ElementsAre("alice", "carol", "", "bob"));
  EXPECT_EQ(s.layers[0].rotation.type, config::RotationType::kWeekly);
  EXPECT_THAT(s.layers[2].users, ElementsAre("carol"));
  EXPECT_THAT(s.layers[3].users, ElementsAre("alice", "carol"));
  // Five weekly restrictions 09:00 + 8 h become one window on five days.
  ASSERT_EQ(s.layers[1].restrictions.size(), 1u);
  EXPECT_EQ(s.layers[1].restrictions[0].days.size(), 5u);
  EXPECT_EQ(s.layers[1].restrictions[0].start_minute, 9 * 60);
  EXPECT_EQ(s.layers[1].restrictions[0].end_minute, 17 * 60);
  // Tuesday 12:00 + 48 h: tue 12-24, wed all day, thu 0-12.
  ASSERT_EQ(s.layers[3].restrictions.size(), 3u);
  ASSERT_EQ(s.overrides.size(), 1u);
  EXPECT_EQ(s.overrides[0].user, "bob");
  ExpectReported("schedule 'Payments Primary' (PS1PAY) layer 'Old layer'", "", "ended at");
  ExpectReported("schedule 'Payments Primary' (PS1PAY) layer 'Layer 1'", "users", "PDELETED");
  ExpectReported("schedule 'Payments Primary' (PS1PAY)",
                 "override PO3 (2030-04-01T00:00:00Z to "
                 "2030-04-02T00:00:00Z)",
                 "PNOSUCH");
  ExpectReported("schedule 'Payments Primary' (PS1PAY)", "overrides", "1 override(s) ended");
  ExpectReported("schedule 'Payments Primary' (PS1PAY)", "description", "no description");
  ExpectReported("schedule 'Payments Primary' (PS1PAY)", "teams", "no team");

  const config::Schedule& sun = Schedule("follow-the-sun");
  ASSERT_EQ(sun.layers.size(), 2u);
  EXPECT_EQ(sun.layers[0].name, "Odd turns");
  EXPECT_EQ(sun.layers[0].rotation.type, config::RotationType::kHourly);
  EXPECT_EQ(sun.layers[0].rotation.length, 2);  // 5400 s, rounded
  EXPECT_EQ(sun.layers[1].rotation.length, 12);
  ExpectReported("schedule 'Follow the sun' (PS2SUN) layer 'Odd turns'",
                 "rotation_turn_length_seconds", "every 2 h");
  ExpectReported("schedule 'Follow the sun' (PS2SUN) layer 'Odd turns'",
                 "restriction (daily_restriction from 22:00:30)", "whole minutes");
  ExpectReported("schedule 'Retired' (PS3OLD)", "", "no layer could be imported");
  EXPECT_EQ(config::FindSchedule(result_.org, "retired"), nullptr);
}

// Who is on call in the imported schedule, against answers worked out by hand from PagerDuty's
// documented layer semantics:
//  - a later (higher) layer wins where it has someone; outside its restrictions, or before its
//    start, the layers below show through; overrides win over every layer;
//  - turn k of a layer runs from rotation_virtual_start + k * turn length, users in order;
//  - ASSUMED for DST: PagerDuty keeps handoffs and restriction windows at the same wall-clock
//    time in the schedule's zone (a weekly 18:00 handoff stays at 18:00 local across the change,
//    so that week is an hour shorter or longer in real time). If PagerDuty instead added turn
//    lengths in real seconds, the handoffs marked DST below would move by an hour.
// Schedule "Payments Primary", America/New_York (DST starts 2030-03-10 02:00, ends 2030-11-03):
//  Layer 1: weekly from Sun 2029-01-07 18:00, [alice, carol, (deleted user), bob]; the week
//           from Sun 2030-03-03 18:00 is turn 60 (alice), from 03-10 18:00 turn 61 (carol),
//           from 03-17 turn 62 (nobody), from 2030-10-27 turn 94 (nobody), 11-03 turn 95 (bob).
//  Layer 2: bob, Mon-Fri 09:00-17:00.
//  Layer 3: from Tue 2030-03-12 12:00, daily turns from Mon 03-04 09:00 [carol, alice] (turn 8,
//           from 03-12 09:00, is carol's), only Tue 12:00 to Thu 12:00.
//  Override: bob from Sat 2030-03-09 20:00 EST to Sun 03-10 08:00 EDT.
TEST_F(PagerDutyImportTest, AnswersWhoIsOnCallAsPagerDutyWould) {
  Result<core::CompiledSchedule> compiled =
      core::CompiledSchedule::Create(config::ToScheduleSpec(Schedule("payments-primary")));
  ASSERT_TRUE(compiled.has_value()) << compiled.error().ToString();
  struct Case {
    const char* at;
    const char* who;  // "" = nobody
    const char* why;
  };
  const std::vector<Case> cases = {
      {"2030-03-05T17:00:00Z", "bob", "Tue 12:00 EST: layer 2 business hours"},
      {"2030-03-06T01:00:00Z", "alice", "Tue 20:00 EST: layer 1, turn 60"},
      {"2030-03-10T04:00:00Z", "bob", "Sat 23:00 EST: override"},
      {"2030-03-10T11:30:00Z", "bob", "Sun 07:30 EDT: override, across the DST change"},
      {"2030-03-10T12:30:00Z", "alice", "Sun 08:30 EDT: override over, layer 1 turn 60"},
      {"2030-03-10T21:30:00Z", "alice", "DST: Sun 17:30 EDT, before the 18:00 handoff"},
      {"2030-03-10T22:30:00Z", "carol", "DST: Sun 18:30 EDT, after the 18:00 handoff"},
      {"2030-03-11T13:30:00Z", "bob", "DST: Mon 09:30 EDT, layer 2 window in wall-clock time"},
      {"2030-03-11T21:30:00Z", "carol", "DST: Mon 17:30 EDT, layer 2 window over at 17:00"},
      {"2030-03-12T15:00:00Z", "bob", "Tue 11:00 EDT: layer 3 not started yet"},
      {"2030-03-12T17:00:00Z", "carol", "Tue 13:00 EDT: layer 3, its first (partial) turn"},
      {"2030-03-13T14:00:00Z", "alice", "Wed 10:00 EDT: layer 3, turn 9"},
      {"2030-03-14T15:00:00Z", "carol", "Thu 11:00 EDT: layer 3, turn 10"},
      {"2030-03-14T17:00:00Z", "bob", "Thu 13:00 EDT: layer 3 window over, layer 2"},
      {"2030-03-17T23:00:00Z", "", "Sun 19:00 EDT: layer 1 turn 62 is the deleted user's"},
      {"2030-03-26T16:00:00Z", "carol", "Tue 12:00 EDT: layer 3 window starts, turn 22"},
      {"2030-03-26T15:59:00Z", "bob", "Tue 11:59 EDT: layer 3 window not yet"},
      {"2030-11-03T22:30:00Z", "", "DST: Sun 17:30 EST, turn 94 (deleted user) until 18:00"},
      {"2030-11-03T23:30:00Z", "bob", "DST: Sun 18:30 EST, turn 95"},
      {"2029-01-07T22:59:00Z", "", "before every layer starts"},
      {"2029-01-07T23:00:00Z", "alice", "layer 1's first turn"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> who = core::OnCallAt(*compiled, At(c.at));
    std::vector<std::string> expected;
    if (*c.who != '\0') expected.push_back(c.who);
    EXPECT_EQ(who, expected) << c.at << ": " << c.why;
  }
}

// Europe/Berlin, 12-hour turns from Fri 2029-06-01 08:00 [alice, bob], only Fri 18:00 to Mon
// 08:00; below it, carol every night 22:00-08:00 (a 10 h daily restriction).
TEST_F(PagerDutyImportTest, WeekendLayerAcrossBerlinDst) {
  Result<core::CompiledSchedule> compiled =
      core::CompiledSchedule::Create(config::ToScheduleSpec(Schedule("follow-the-sun")));
  ASSERT_TRUE(compiled.has_value()) << compiled.error().ToString();
  // 2030-03-29 is a Friday, 301 days (602 turns) after 2029-06-01: the 08:00 turn is alice's,
  // the 20:00 one bob's. DST starts Sun 2030-03-31 02:00 (CET -> CEST).
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"2030-03-29T16:00:00Z", ""},       // Fri 17:00 CET: before the weekend window, not night
      {"2030-03-29T17:30:00Z", "alice"},  // Fri 18:30 CET: weekend, alice's 08:00 turn
      {"2030-03-29T19:30:00Z", "bob"},    // Fri 20:30 CET: bob's 20:00 turn
      {"2030-03-31T05:30:00Z", "bob"},    // Sun 07:30 CEST: the 20:00 turn, after the change
      {"2030-03-31T06:30:00Z", "alice"},  // Sun 08:30 CEST: handoff at 08:00 wall-clock
      {"2030-04-01T06:30:00Z", ""},       // Mon 08:30 CEST: weekend over, carol's night over
      {"2030-04-01T20:30:00Z", "carol"},  // Mon 22:30 CEST: carol's night
  };
  for (const auto& [at, who] : cases) {
    std::vector<std::string> expected;
    if (*who != '\0') expected.push_back(who);
    EXPECT_EQ(core::OnCallAt(*compiled, At(at)), expected) << at;
  }
}

TEST_F(PagerDutyImportTest, EscalationPolicies) {
  const config::EscalationPolicy* pay = config::FindEscalationPolicy(result_.org, "payments-ep");
  ASSERT_NE(pay, nullptr);
  // Rule 3 targets a schedule that was not imported; PagerDuty then loops 40 min after rule 2
  // (its 10 + rule 3's 30), while houston would wait rule 2's 15: the loops are written out.
  EXPECT_EQ(pay->repeat, 0);
  std::vector<int> delays;
  for (const config::EscalationStep& s : pay->steps) delays.push_back(s.delay_minutes);
  EXPECT_THAT(delays, ElementsAre(0, 15, 40, 15, 40, 15));
  EXPECT_EQ(pay->steps[0].targets[0].id, "payments-primary");
  EXPECT_TRUE(pay->steps[1].round_robin);
  ASSERT_EQ(pay->steps[1].targets.size(), 2u);
  EXPECT_EQ(pay->steps[1].targets[0].id, "bob");
  EXPECT_EQ(pay->steps[1].targets[1].id, "alice");
  EXPECT_EQ(pay->ack_timeout_minutes, 30);  // both services: 1800 s
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "rule 3 target schedule PS3OLD",
                 "not imported");
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "rule 3", "left out");
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "num_loops", "3 copies");
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "on_call_handoff_notifications",
                 "if_has_services");
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "teams", "no team");
  ExpectReported("escalation policy 'Payments EP' (PE1PAY)", "description", "no description");

  const config::EscalationPolicy* plat = config::FindEscalationPolicy(result_.org, "platform-ep");
  ASSERT_NE(plat, nullptr);
  EXPECT_EQ(plat->repeat, 1);  // houston's repeat waits the last step's 20 min, as PagerDuty
  ASSERT_EQ(plat->steps.size(), 2u);
  EXPECT_EQ(plat->steps[1].delay_minutes, 20);
  EXPECT_FALSE(plat->steps[0].round_robin);
  EXPECT_FALSE(plat->ack_timeout_minutes.has_value());  // its services disagree
  ExpectReported("escalation policy 'Platform EP' (PE2PLAT)", "rule 2 target team PX1",
                 "not imported");
  ExpectReported("escalation policy 'Orphan EP' (PE3ORPH)", "", "left out");
}

TEST_F(PagerDutyImportTest, ServicesAndIntegrations) {
  const config::Service* checkout = config::FindService(result_.org, "checkout-api");
  ASSERT_NE(checkout, nullptr);
  EXPECT_EQ(checkout->description, "Takes orders: card and wallet");
  EXPECT_EQ(checkout->team, "payments-team");
  EXPECT_EQ(checkout->escalation_policy, "payments-ep");
  ASSERT_EQ(checkout->integrations.size(), 3u);
  EXPECT_EQ(checkout->integrations[0].key, "a1b2c3d4e5f60718293a4b5c6d7e8f90");  // the same key
  EXPECT_EQ(checkout->integrations[0].type, core::IntegrationType::kEventsV2);
  EXPECT_EQ(checkout->integrations[0].name, "Events API V2");
  EXPECT_EQ(checkout->integrations[1].key, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  ASSERT_TRUE(checkout->grouping.has_value());
  EXPECT_EQ(checkout->grouping->window_minutes, 10);
  const std::string c = "service 'Checkout API' (PSV1)";
  ExpectReported(c, "integration 'Email' (generic_email_inbound_integration)",
                 "checkout@acme.pagerduty.com");
  ExpectReported(c, "integration 'Nagios (v1)' (generic_events_api_inbound_integration)",
                 "Events API v1");
  ExpectReported(c, "integration 'CloudWatch' (aws_cloudwatch_inbound_integration)", "same key");
  ExpectReported(c, "integration 'Same key again' (events_api_v2_inbound_integration)",
                 "already used");
  ExpectReported(c, "auto_resolve_timeout", "4 h");
  ExpectReported(c, "alert_grouping", "10 min");

  const config::Service* db = config::FindService(result_.org, "payments-db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->team, "payments-team");
  EXPECT_FALSE(db->grouping.has_value());
  const std::string d = "service 'Payments DB' (PSV2)";
  ExpectReported(d, "teams", "one owning team");
  ExpectReported(d, "status", "maintenance");
  ExpectReported(d, "incident_urgency_rule", "use_support_hours");
  ExpectReported(d, "support_hours", "no support hours");
  ExpectReported(d, "scheduled_actions", "no scheduled");
  ExpectReported(d, "alert_grouping", "'intelligent'");

  const config::Service* platform = config::FindService(result_.org, "platform-api");
  ASSERT_NE(platform, nullptr);
  ASSERT_TRUE(platform->grouping.has_value());
  EXPECT_EQ(platform->grouping->window_minutes, 30);
  EXPECT_THAT(platform->grouping->by, ElementsAre("source", "details.host"));
  EXPECT_THAT(platform->integrations, IsEmpty());
  ExpectReported("service 'Platform API' (PSV3)",
                 "integration 'Events API V2' (events_api_v2_inbound_integration)",
                 "include[]=integrations");

  EXPECT_EQ(config::FindService(result_.org, "legacy"), nullptr);
  ExpectReported("service 'Legacy' (PSV4)", "", "disabled");
  EXPECT_EQ(config::FindService(result_.org, "orphan-service"), nullptr);
  ExpectReported("service 'Orphan service' (PSV5)", "", "PE3ORPH");

  const std::string b = "service 'Batch jobs' (PSV6)";
  ExpectReported(b, "teams", "PNOTEAM");
  ExpectReported(b, "acknowledgement_timeout", "different timeouts");
  ExpectReported(b, "incident_urgency_rule", "low");
  ExpectReported(b, "integration 'Too short' (events_api_v2_inbound_integration)", "8 to 128");
  ExpectReported(b, "integration 'No key' (events_api_v2_inbound_integration)",
                 "no integration_key");
  ExpectReported(b, "integrations", "no integration was imported");
}

// Smaller cases, built in the test.
boost::json::object Json(std::string_view text) { return boost::json::parse(text).as_object(); }

PagerDutyData SmallAccount() {
  PagerDutyData d;
  d.users = {Json(R"({"id": "PA", "name": "A", "email": "a@example.com"})"),
             Json(R"({"id": "PB", "name": "B", "email": "b@example.com"})")};
  d.schedules = {Json(R"({"id": "PS", "name": "S", "time_zone": "UTC", "schedule_layers": [
      {"name": "bad restrictions", "start": "2029-01-01T00:00:00Z",
       "rotation_virtual_start": "2029-01-01T00:00:00Z", "rotation_turn_length_seconds": 86400,
       "users": [{"user": {"id": "PB"}}],
       "restrictions": [{"type": "daily_restriction", "start_time_of_day": "09:00:00",
                         "duration_seconds": 30},
                        {"type": "weekly_restriction", "start_time_of_day": "09:00:00",
                         "duration_seconds": 3600, "start_day_of_week": 8}]},
      {"name": "base", "start": "2029-01-01T00:00:00Z", "end": null,
       "rotation_virtual_start": "2029-01-03T00:00:00Z", "rotation_turn_length_seconds": 86400,
       "users": [{"user": {"id": "PA"}}, {"user": {"id": "PB"}}], "restrictions": []}]})")};
  d.escalation_policies = {
      // Rule 1 has no target houston imports: the first step waits its 10 minutes.
      Json(R"({"id": "PE1", "name": "lead", "num_loops": 1, "escalation_rules": [
          {"escalation_delay_in_minutes": 10, "targets": [{"id": "PX", "type": "team"}]},
          {"escalation_delay_in_minutes": 5, "targets": [{"id": "PA", "type": "user"}]}]})"),
      // One rule of 5 minutes: houston's repeat waits 5 minutes when steps have no delay.
      Json(R"({"id": "PE2", "name": "single", "num_loops": 3, "escalation_rules": [
          {"escalation_delay_in_minutes": 5, "targets": [{"id": "PS", "type": "schedule"}]}]})")};
  return d;
}

TEST(PagerDutyMapTest, EdgeCases) {
  ImportResult result = MapPagerDuty(SmallAccount(), At("2026-12-01T00:00:00Z"));
  std::string report = FormatReport(result);
  Result<config::Org> parsed = config::ParseOrg(WriteOrgYaml(result.org), "small.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();

  const config::Schedule* s = config::FindSchedule(result.org, "s");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->layers.size(), 1u);  // the layer without a usable restriction is left out
  EXPECT_THAT(report, HasSubstr("layer 'bad restrictions': restriction (daily_restriction from "
                                "09:00:00): shorter than a minute"));
  EXPECT_THAT(report, HasSubstr("start_day_of_week must be 1 (Monday) to 7 (Sunday)"));
  EXPECT_THAT(report, HasSubstr("layer 'bad restrictions': none of its restrictions"));
  // The virtual start is two turns after the start: houston's start is moved back to the start,
  // the order unchanged (2 users, 2 turns).
  EXPECT_THAT(s->layers[0].users, ElementsAre("a", "b"));
  EXPECT_EQ(s->layers[0].start_local,
            date::local_days(date::year(2029) / 1 / 1) + std::chrono::hours(0));

  const config::EscalationPolicy* lead = config::FindEscalationPolicy(result.org, "lead");
  ASSERT_NE(lead, nullptr);
  // Loop gap in PagerDuty: 5 (rule 2) + 10 (rule 1) = 15; houston's would be 10: written out.
  EXPECT_EQ(lead->repeat, 0);
  ASSERT_EQ(lead->steps.size(), 2u);
  EXPECT_EQ(lead->steps[0].delay_minutes, 10);
  EXPECT_EQ(lead->steps[1].delay_minutes, 15);
  const config::EscalationPolicy* single = config::FindEscalationPolicy(result.org, "single");
  ASSERT_NE(single, nullptr);
  EXPECT_EQ(single->repeat, 3);
  EXPECT_EQ(single->steps.size(), 1u);
}

// ---- the directory source ----

class PagerDutyDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy(kFixtures, dir_.path(), std::filesystem::copy_options::recursive);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(path() + "/" + name) << text;
  }
  std::string path() const { return dir_.path().string(); }
  houston::testing::TestDir dir_{"pagerduty"};
};

TEST_F(PagerDutyDirTest, MissingFileIsNamed) {
  std::filesystem::remove(path() + "/escalation_policies.json");
  Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(path()));
  EXPECT_THAT(data, StatusIs(StatusCode::kNotFound,
                             HasSubstr(path() + "/escalation_policies.json' is missing")));
}

TEST_F(PagerDutyDirTest, MissingNextPageIsNamed) {
  std::filesystem::remove(path() + "/users.2.json");
  Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(path()));
  EXPECT_THAT(data, StatusIs(StatusCode::kNotFound, HasSubstr("users.2.json")));
}

TEST_F(PagerDutyDirTest, CorruptFileIsNamed) {
  Write("schedules/PS1PAY/overrides.json", "{\"overrides\": [");
  Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(path()));
  EXPECT_THAT(data, StatusIs(StatusCode::kInvalidArgument,
                             HasSubstr("schedules/PS1PAY/overrides.json is not valid JSON")));
}

TEST_F(PagerDutyDirTest, WrongShapeIsNamed) {
  Write("teams.json", "{\"team\": []}");
  Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(path()));
  EXPECT_THAT(
      data, StatusIs(StatusCode::kInvalidArgument, HasSubstr("teams.json has no \"teams\" list")));
}

TEST_F(PagerDutyDirTest, HostileScheduleIdIsRejected) {
  Write("schedules.json", "{\"schedules\": [{\"id\": \"../../etc\"}]}");
  Result<PagerDutyData> data = LoadPagerDuty(PagerDutyDirSource(path()));
  EXPECT_THAT(data, StatusIs(StatusCode::kInvalidArgument, HasSubstr("'../../etc'")));
}

}  // namespace
}  // namespace houston::migration
