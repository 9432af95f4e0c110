// The Opsgenie importer on the fixture backup in tests/fixtures/opsgenie/OpsGenieBackups (written
// in the shapes opsgenie-configuration-backup saves: Jackson-serialized Opsgenie SDK models).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "config/schedule_convert.h"
#include "core/schedule.h"
#include "core/time_util.h"
#include "migration/migration.h"
#include "migration/opsgenie.h"

namespace houston::migration {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = ReportEntry::Kind;

const std::string kFixture = std::string(HOUSTON_SOURCE_DIR) + "/tests/fixtures/opsgenie";

std::function<std::string()> CountingKeys() {
  auto n = std::make_shared<int>(0);
  return [n] { return "generated-key-" + std::to_string(++*n); };
}

ImportResult ImportFixture() {
  auto data = LoadOpsgenieBackup(kFixture);
  EXPECT_TRUE(data.has_value()) << (data ? "" : data.error().message());
  auto result = MapOpsgenie(*data, CountingKeys());
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message());
  return std::move(*result);
}

const ImportResult& Fixture() {
  static const ImportResult* r = new ImportResult(ImportFixture());
  return *r;
}

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// Whether the report has an entry of `kind` whose object and field contain the given parts.
bool Reported(Kind kind, std::string_view object, std::string_view field = "",
              std::string_view reason = "") {
  for (const auto& e : Fixture().report) {
    if (e.kind == kind && e.object.find(object) != std::string::npos &&
        e.field.find(field) != std::string::npos && e.reason.find(reason) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The union of who is on call at `t` over `schedule_ids`: Opsgenie pages everyone on call in any
// rotation of a schedule, and the importer made one houston schedule per rotation.
std::set<std::string> OnCallUnion(const config::Org& org, const std::vector<std::string>& ids,
                                  TimePoint t) {
  std::set<std::string> out;
  for (const auto& id : ids) {
    const config::Schedule* s = config::FindSchedule(org, id);
    EXPECT_NE(s, nullptr) << id;
    if (!s) continue;
    auto compiled = core::CompiledSchedule::Create(config::ToScheduleSpec(*s));
    EXPECT_TRUE(compiled.has_value()) << id;
    if (!compiled) continue;
    for (auto& u : core::OnCallAt(*compiled, t)) out.insert(u);
  }
  return out;
}

const std::vector<std::string> kPayments = {
    "payments-schedule-weekdays", "payments-schedule-nights", "payments-schedule-weekend"};
const std::string kFrank = "frank.o-neil-ops";

TEST(OpsgenieImport, OutputIsAValidOrg) {
  std::string yaml = WriteOrgYaml(Fixture().org);
  ASSERT_FALSE(yaml.empty());
  auto parsed = config::ParseOrg(yaml, "imported.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message() << "\n"
                                  << ::testing::PrintToString(parsed.error().details()) << "\n"
                                  << yaml;
  auto got = config::Flatten(*parsed);
  auto want = config::Flatten(Fixture().org);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].kind + " " + got[i].id + " " + got[i].spec_json,
              want[i].kind + " " + want[i].id + " " + want[i].spec_json);
  }
  for (const auto& s : parsed->schedules) {
    EXPECT_TRUE(core::ValidateScheduleSpec(config::ToScheduleSpec(s)).ok()) << s.id;
  }
}

TEST(OpsgenieImport, Users) {
  const auto& org = Fixture().org;
  std::vector<std::string> ids;
  for (const auto& u : org.users) ids.push_back(u.id);
  // Ids from the login's local part, sanitized and made unique.
  EXPECT_THAT(ids, ElementsAre("alice", "alice-2", "bob", "carol", "dave", "erin", kFrank));
  const config::User* alice = config::FindUser(org, "alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "Alice Example");
  EXPECT_EQ(alice->email, "alice@example.com");
  EXPECT_EQ(alice->timezone, "Europe/Berlin");
  EXPECT_EQ(alice->role, core::Role::kAdmin);
  ASSERT_EQ(alice->contact_methods.size(), 1u);
  EXPECT_EQ(alice->contact_methods[0].type, config::ContactMethodType::kEmail);
  EXPECT_EQ(alice->contact_methods[0].address, "alice@example.com");
  // Only the enabled e-mail step of the create-alert rule (sms/mobile are reported).
  ASSERT_EQ(alice->notification_rules.size(), 1u);
  EXPECT_EQ(alice->notification_rules[0].contact_method, alice->contact_methods[0].id);
  EXPECT_EQ(alice->notification_rules[0].delay_minutes, 0);

  EXPECT_EQ(config::FindUser(org, "bob")->role, core::Role::kAdmin);  // Owner
  EXPECT_EQ(config::FindUser(org, "bob")->notification_rules[0].delay_minutes, 5);
  EXPECT_EQ(config::FindUser(org, "dave")->role, core::Role::kViewer);     // Stakeholder
  EXPECT_EQ(config::FindUser(org, "erin")->role, core::Role::kResponder);  // custom role
  EXPECT_EQ(config::FindUser(org, "erin")->timezone, "UTC");
  // carol: a step to an address that is not a contact adds that address.
  const config::User* carol = config::FindUser(org, "carol");
  ASSERT_EQ(carol->contact_methods.size(), 2u);
  EXPECT_EQ(carol->contact_methods[1].address, "carol.pager@example.com");
  ASSERT_EQ(carol->notification_rules.size(), 2u);
  EXPECT_EQ(carol->notification_rules[1].contact_method, carol->contact_methods[1].id);
  EXPECT_EQ(carol->notification_rules[1].delay_minutes, 2);
}

TEST(OpsgenieImport, UserReport) {
  EXPECT_TRUE(Reported(Kind::kManualStep, "user 'alice@example.com'", "contact sms +4915112345",
                       "sms_provider"));
  EXPECT_TRUE(Reported(Kind::kManualStep, "user 'bob@example.com'", "contact voice"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'alice@example.com'", "contact mobile"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'alice@example.com'", "notificationRules",
                       "'Acknowledged Alert' (acknowledged-alert)"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'alice@example.com'", "locale"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'alice@example.com'", "tags"));
  EXPECT_TRUE(Reported(Kind::kDropped, "schedule 'Payments Schedule'", "ownerTeam", "Payments"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'carol@example.com'", "contact email carol@old"));
  EXPECT_TRUE(Reported(Kind::kChanged, "user 'bob@example.com' notification rule", "criteria"));
  EXPECT_TRUE(
      Reported(Kind::kChanged, "user 'bob@example.com' notification rule", "timeRestriction"));
  EXPECT_TRUE(Reported(Kind::kChanged, "user 'carol@example.com' notification rule", "repeat"));
  EXPECT_TRUE(Reported(Kind::kChanged, "user 'erin@example.com'", "role", "Responder Plus"));
  EXPECT_TRUE(Reported(Kind::kChanged, "user 'erin@example.com'", "timeZone"));
  EXPECT_TRUE(Reported(Kind::kChanged, "user 'bob@example.com'", "role", "owner"));
  EXPECT_TRUE(Reported(Kind::kDropped, "user 'frank.o'neil+ops@example.com'", "skypeUsername"));
}

TEST(OpsgenieImport, Teams) {
  const auto& org = Fixture().org;
  const config::Team* pay = config::FindTeam(org, "payments");
  ASSERT_NE(pay, nullptr);
  EXPECT_THAT(pay->members, ElementsAre("alice", "bob", "carol", kFrank));
  EXPECT_TRUE(Reported(Kind::kChanged, "team 'Payments'", "members[].role", "alice: admin"));
  EXPECT_NE(config::FindTeam(org, "empty-team"), nullptr);
}

TEST(OpsgenieImport, SchedulesSplitIntoRotations) {
  const auto& org = Fixture().org;
  std::vector<std::string> ids;
  for (const auto& s : org.schedules) ids.push_back(s.id);
  EXPECT_THAT(ids, ElementsAre("payments-schedule-weekdays", "payments-schedule-nights",
                               "payments-schedule-weekend", "platform-oncall"));
  EXPECT_TRUE(Reported(Kind::kChanged, "schedule 'Payments Schedule'", "rotations",
                       "split into 3 houston schedules"));
  const config::Schedule* wd = config::FindSchedule(org, "payments-schedule-weekdays");
  EXPECT_EQ(wd->name, "Payments Schedule / Weekdays");
  EXPECT_EQ(wd->timezone, "Europe/Berlin");
  ASSERT_EQ(wd->layers.size(), 1u);
  const auto& l = wd->layers[0];
  EXPECT_EQ(l.start, "2026-03-02T09:00:00");  // 08:00Z in Berlin (CET)
  EXPECT_EQ(l.rotation.type, config::RotationType::kWeekly);
  EXPECT_THAT(l.users, ElementsAre("alice", "bob"));
  // monday 09:00 .. friday 17:00 as one span: split exactly into day windows.
  ASSERT_EQ(l.restrictions.size(), 3u);
  auto window = [](const config::DailyWindow& w) {
    std::string days;
    for (auto d : w.days) days += std::to_string(d.iso_encoding());
    return days + " " + std::to_string(w.start_minute) + "-" + std::to_string(w.end_minute);
  };
  EXPECT_EQ(window(l.restrictions[0]), "1 540-1440");
  EXPECT_EQ(window(l.restrictions[1]), "234 0-1440");
  EXPECT_EQ(window(l.restrictions[2]), "5 0-1020");

  const config::Schedule* nt = config::FindSchedule(org, "payments-schedule-nights");
  EXPECT_THAT(nt->layers[0].users, ElementsAre("carol", "", kFrank));  // `none` = empty turn
  ASSERT_TRUE(nt->layers[0].end_local.has_value());
  EXPECT_EQ(date::format("%FT%T", *nt->layers[0].end_local), "2026-04-15T08:00:00");
  ASSERT_EQ(nt->layers[0].restrictions.size(), 1u);
  EXPECT_EQ(window(nt->layers[0].restrictions[0]), "1234567 1080-480");  // overnight

  const config::Schedule* we = config::FindSchedule(org, "payments-schedule-weekend");
  EXPECT_THAT(we->layers[0].users, ElementsAre(kFrank, ""));
  EXPECT_TRUE(Reported(Kind::kChanged, "rotation 'Weekend'", "participants[2]", "team 'Platform'"));
  // Friday 17:00 .. Monday 09:00 wraps the week's end.
  ASSERT_EQ(we->layers[0].restrictions.size(), 3u);
  EXPECT_EQ(window(we->layers[0].restrictions[0]), "1 0-540");
  EXPECT_EQ(window(we->layers[0].restrictions[1]), "5 1020-1440");
  EXPECT_EQ(window(we->layers[0].restrictions[2]), "67 0-1440");

  // Overrides: per rotation, or on every rotation when none is named.
  EXPECT_EQ(wd->overrides.size(), 2u);  // erin (Weekdays only) + carol (all)
  EXPECT_EQ(nt->overrides.size(), 1u);  // carol; the `none` override is reported
  EXPECT_EQ(we->overrides.size(), 1u);  // carol
  EXPECT_EQ(wd->overrides[0].user, "erin");
  EXPECT_TRUE(Reported(Kind::kDropped, "override 'quiet-night'", "user", "nobody"));
  EXPECT_TRUE(Reported(Kind::kDropped, "schedule 'Retired' rotation 'Nobody'", "participants"));
  EXPECT_TRUE(Reported(Kind::kChanged, "schedule 'Retired'", "enabled"));
  // The single-rotation schedule keeps the schedule's name; its override came from the old
  // layout's scheduleOverrides/ folder.
  const config::Schedule* plat = config::FindSchedule(org, "platform-oncall");
  EXPECT_EQ(plat->name, "Platform Oncall");
  EXPECT_EQ(plat->layers[0].rotation.type, config::RotationType::kHourly);
  EXPECT_EQ(plat->layers[0].rotation.length, 12);
  EXPECT_EQ(plat->overrides.size(), 1u);
}

// Who is on call, houston (the union over the rotation schedules) against Opsgenie's rules worked
// out by hand. Payments Schedule is in Europe/Berlin (CET = UTC+1 until 2026-03-29 02:00, then
// CEST = UTC+2):
//   Weekdays: weekly from Mon 2026-03-02 09:00 local, alice, bob, ...; only Mon 09:00 .. Fri 17:00.
//   Nights:   daily from Sun 2026-03-01 18:00 local, carol, nobody, frank, ...; only 18:00-08:00;
//             ends 2026-04-15 08:00 local.
//   Weekend:  weekly from Fri 2026-02-27 17:00 local, frank, team Platform, ...; only
//             Fri 17:00 .. Mon 09:00.
//   Overrides: erin 03-10 10:00Z-14:00Z on Weekdays; carol 03-28 20:00Z .. 03-30 06:00Z on all.
// Assumptions (Opsgenie documents them only loosely): handoffs are at the same wall-clock time in
// the schedule's zone across DST; a restriction hides the rotation outside its windows without
// shifting turns; an override replaces the rotations it names.
TEST(OpsgenieImport, WhoIsOnCallMatchesOpsgenie) {
  const auto& org = Fixture().org;
  struct Case {
    const char* at;
    std::set<std::string> want;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"2026-03-02T05:00:00Z",
       {"carol", kFrank},
       "Mon 06:00 CET: Weekdays not started; Nights turn 0 (carol); Weekend window, frank"},
      {"2026-03-03T10:00:00Z", {"alice"}, "Tue 11:00: Weekdays week 0 (alice) only"},
      {"2026-03-03T20:00:00Z",
       {"alice", kFrank},
       "Tue 21:00: inside the Mon..Fri span (alice); Nights turn 2 (frank)"},
      {"2026-03-04T23:00:00Z", {"alice", "carol"}, "Thu 00:00: alice; Nights turn 3 (carol)"},
      {"2026-03-05T19:00:00Z", {"alice"}, "Thu 20:00: Nights turn 4 is `none`: alice only"},
      {"2026-03-10T11:00:00Z", {"erin"}, "Tue 12:00: erin overrides Weekdays (bob's week)"},
      {"2026-03-10T19:00:00Z", {"bob", "carol"}, "Tue 20:00: override over; Nights turn 9"},
      {"2026-03-14T12:00:00Z", {kFrank}, "Sat 13:00: Weekend week 2 (frank)"},
      {"2026-03-29T10:00:00Z", {"carol"}, "Sun 12:00 CEST: carol overrides every rotation"},
      {"2026-03-30T06:30:00Z",
       {kFrank},
       "Mon 08:30 CEST: Weekend window until 09:00 local (frank); Nights ended at 08:00"},
      {"2026-03-30T07:30:00Z",
       {"alice"},
       "Mon 09:30 CEST: Weekdays handoff at 09:00 local, week 4 (alice); Weekend over"},
      {"2026-03-30T16:30:00Z",
       {"alice", kFrank},
       "Mon 18:30 CEST: Nights turn 29 (frank) from 18:00 local = 16:00Z"},
      {"2026-04-14T20:00:00Z", {"alice", kFrank}, "Tue 22:00: Nights turn 44 (frank)"},
      {"2026-04-15T20:00:00Z", {"alice"}, "Wed 22:00: Nights ended (endDate)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(OnCallUnion(org, kPayments, At(c.at)), c.want) << c.at << ": " << c.why;
  }
  // Platform Oncall, America/New_York (EST = UTC-5 until 2026-03-08 02:00, then EDT = UTC-4):
  // hourly x12 from 2026-03-01 07:00 local (erin, alice-2, ...): handoffs at 07:00 and 19:00
  // local. Override erin 2026-03-08 05:00Z .. 09:00Z.
  const std::vector<Case> plat = {
      {"2026-03-07T13:00:00Z", {"erin"}, "Sat 08:00 EST: turn 12"},
      {"2026-03-08T08:00:00Z", {"erin"}, "Sun 04:00 EDT: turn 13 (alice-2), overridden by erin"},
      {"2026-03-08T10:30:00Z", {"alice-2"}, "Sun 06:30 EDT: turn 13"},
      {"2026-03-08T11:30:00Z", {"erin"}, "Sun 07:30 EDT: turn 14 began at 07:00 EDT = 11:00Z"},
  };
  for (const auto& c : plat) {
    EXPECT_EQ(OnCallUnion(org, {"platform-oncall"}, At(c.at)), c.want) << c.at << ": " << c.why;
  }
  // The differences the report names: a team as a rotation participant has no houston turn
  // (Opsgenie would page team Platform on Sat 2026-03-07), and the override to nobody is not
  // imported (on Fri 2026-03-13 03:00 CET houston shows Nights' turn 11, frank, where Opsgenie has
  // nobody from Nights; bob is on Weekdays in both).
  EXPECT_EQ(OnCallUnion(org, kPayments, At("2026-03-07T12:00:00Z")), std::set<std::string>{});
  EXPECT_EQ(OnCallUnion(org, kPayments, At("2026-03-13T02:00:00Z")),
            (std::set<std::string>{"bob", kFrank}));
}

TEST(OpsgenieImport, Escalations) {
  const auto& org = Fixture().org;
  const config::EscalationPolicy* p = config::FindEscalationPolicy(org, "payments_escalation");
  ASSERT_NE(p, nullptr);
  // Opsgenie delays count from the alert's creation: 0, 10, 10, 30, 60 -> steps 0, +10, +20, +30.
  ASSERT_EQ(p->steps.size(), 4u);
  auto ids = [](const config::EscalationStep& s) {
    std::vector<std::string> out;
    for (const auto& t : s.targets)
      out.push_back(std::string(config::ToString(t.type)) + ":" + t.id);
    return out;
  };
  EXPECT_EQ(p->steps[0].delay_minutes, 0);
  EXPECT_THAT(ids(p->steps[0]), ElementsAre("schedule:payments-schedule-weekdays",
                                            "schedule:payments-schedule-nights",
                                            "schedule:payments-schedule-weekend"));
  EXPECT_EQ(p->steps[1].delay_minutes, 10);
  EXPECT_THAT(ids(p->steps[1]), ElementsAre("user:alice", "user:bob"));  // team admins + bob
  EXPECT_EQ(p->steps[2].delay_minutes, 20);
  EXPECT_TRUE(p->steps[2].round_robin);  // a random member
  EXPECT_THAT(ids(p->steps[2]),
              ElementsAre("user:alice", "user:bob", "user:carol", "user:" + kFrank));
  EXPECT_EQ(p->steps[3].delay_minutes, 30);
  EXPECT_EQ(p->steps[3].targets.size(), 3u);
  EXPECT_EQ(p->repeat, 2);
  EXPECT_TRUE(Reported(Kind::kChanged, "escalation 'Payments_escalation'", "repeat.waitInterval",
                       "15 min"));
  EXPECT_TRUE(
      Reported(Kind::kChanged, "escalation 'Payments_escalation'", "repeat.resetRecipientStates"));
  EXPECT_TRUE(Reported(Kind::kDropped, "escalation 'Payments_escalation' rule", "recipient",
                       "policies do not nest"));
  EXPECT_TRUE(Reported(Kind::kChanged, "escalation 'Payments_escalation' rule", "condition",
                       "if-not-closed"));
  EXPECT_TRUE(
      Reported(Kind::kChanged, "escalation 'Payments_escalation' rule", "notifyType", "'next'"));
  EXPECT_TRUE(Reported(Kind::kChanged, "escalation 'Payments_escalation' rule", "notifyType",
                       "round robin"));

  const config::EscalationPolicy* plat = config::FindEscalationPolicy(org, "platform_escalation");
  ASSERT_NE(plat, nullptr);
  // A team recipient goes where the team's default routing rule goes (its schedule).
  EXPECT_THAT(ids(plat->steps[0]), ElementsAre("schedule:platform-oncall"));
  EXPECT_EQ(plat->steps[1].delay_minutes, 5);
  EXPECT_EQ(config::FindEscalationPolicy(org, "old"), nullptr);
  EXPECT_TRUE(Reported(Kind::kDropped, "escalation 'Old'", "rules"));
}

TEST(OpsgenieImport, ServicesIntegrationsHeartbeats) {
  const auto& org = Fixture().org;
  ASSERT_EQ(org.services.size(), 2u);
  const config::Service* pay = config::FindService(org, "payments");
  ASSERT_NE(pay, nullptr);
  EXPECT_EQ(pay->team, "payments");
  EXPECT_EQ(pay->escalation_policy, "payments_escalation");
  EXPECT_EQ(pay->description, "Checkout and billing");
  const config::Service* plat = config::FindService(org, "platform");
  ASSERT_NE(plat, nullptr);
  EXPECT_EQ(plat->escalation_policy, "platform-routing");
  const config::EscalationPolicy* routing = config::FindEscalationPolicy(org, "platform-routing");
  ASSERT_NE(routing, nullptr);
  EXPECT_EQ(routing->steps[0].targets[0].id, "platform-oncall");

  ASSERT_EQ(pay->integrations.size(), 3u);
  EXPECT_EQ(pay->integrations[0].type, core::IntegrationType::kOpsgenie);
  EXPECT_EQ(pay->integrations[0].name, "Payments API");
  EXPECT_EQ(pay->integrations[0].key, "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");  // senders keep it
  EXPECT_EQ(pay->integrations[1].name, "Batch jobs");
  EXPECT_EQ(pay->integrations[1].key, "generated-key-1");
  EXPECT_EQ(pay->integrations[2].type, core::IntegrationType::kHeartbeat);
  EXPECT_EQ(pay->integrations[2].name, "nightly-backup");
  EXPECT_EQ(pay->integrations[2].interval_minutes, 1440);
  ASSERT_EQ(plat->integrations.size(), 2u);
  EXPECT_EQ(plat->integrations[0].name, "Alertmanager");
  EXPECT_EQ(plat->integrations[0].key, "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b");
  EXPECT_EQ(plat->integrations[1].name, "watchdog");
  EXPECT_EQ(plat->integrations[1].interval_minutes, 5);

  EXPECT_TRUE(Reported(Kind::kManualStep, "integration 'Batch jobs'", "apiKey"));
  EXPECT_TRUE(
      Reported(Kind::kManualStep, "integration 'Alertmanager' (Prometheus)", "", "api_url"));
  EXPECT_TRUE(Reported(Kind::kChanged, "integration 'Payments API'", "integrationActions"));
  EXPECT_TRUE(Reported(Kind::kChanged, "integration 'Payments API'", "responders"));
  EXPECT_TRUE(Reported(Kind::kDropped, "integration 'Mail intake' (Email)"));
  EXPECT_TRUE(Reported(Kind::kDropped, "integration 'Old sender'", "enabled"));
  EXPECT_TRUE(Reported(Kind::kManualStep, "integration 'Global sender'", "ownerTeam"));
  EXPECT_TRUE(Reported(Kind::kDropped, "integration 'Datadog' (Datadog)"));
  EXPECT_TRUE(Reported(Kind::kDropped, "heartbeat 'old-cron'", "enabled"));
  EXPECT_TRUE(Reported(Kind::kDropped, "team 'Payments' routing rule 'P1 to schedule'"));
  EXPECT_TRUE(Reported(Kind::kChanged, "team 'Platform' routing rule", "timeRestriction"));
  EXPECT_TRUE(Reported(Kind::kDropped, "team 'Empty Team'", "service"));
  EXPECT_TRUE(Reported(Kind::kDropped, "backup folder 'forwardings'"));
  EXPECT_TRUE(Reported(Kind::kDropped, "backup folder 'policies'"));
  EXPECT_EQ(Fixture().counts.at("users"), 7);
  EXPECT_EQ(Fixture().counts.at("schedules"), 4);
  EXPECT_EQ(Fixture().counts.at("integrations"), 5);
}

TEST(OpsgenieImport, ReportTextNamesEveryEntry) {
  std::string text = FormatReport(Fixture());
  for (const auto& e : Fixture().report) EXPECT_THAT(text, HasSubstr(e.object));
}

TEST(OpsgenieMap, DateFormsDelayUnitsAndWholeDayRestriction) {
  auto obj = [](std::string_view text) { return boost::json::parse(text).as_object(); };
  OpsgenieData data;
  data.users.push_back({{"u.json", obj(R"({"id":"1","username":"x@y.io","timeZone":"UTC"})")}, {}});
  data.schedules.push_back({{"s.json", obj(R"({"id":"s","name":"S","timezone":"Asia/Kolkata",
      "rotations":[{"name":"a","type":"daily","startDate":1772323200000,
                    "endDate":"2026-03-10 06:30",
                    "participants":[{"type":"user","username":"x@y.io"}],
                    "timeRestriction":{"type":"time-of-day","restriction":
                       {"startHour":0,"startMin":0,"endHour":0,"endMin":0}}}]})")},
                            {}});
  data.escalations.push_back({"e.json", obj(R"({"name":"E","rules":[
      {"delay":{"timeAmount":90,"timeUnit":"seconds"},"recipient":{"type":"user","id":"1"}},
      {"delay":{"timeAmount":1,"timeUnit":"hours"},"recipient":{"type":"schedule","name":"S"}}]})")});
  auto r = MapOpsgenie(data, CountingKeys());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->org.schedules.size(), 1u);
  const auto& layer = r->org.schedules[0].layers[0];
  EXPECT_EQ(layer.start, "2026-03-01T05:30:00");  // 2026-03-01T00:00Z in Kolkata (+05:30)
  EXPECT_EQ(date::format("%FT%T", *layer.end_local), "2026-03-10T12:00:00");
  EXPECT_TRUE(layer.restrictions.empty());  // 00:00-00:00: the whole day
  const auto& steps = r->org.escalation_policies[0].steps;
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].delay_minutes, 2);  // 90 s, rounded up (reported)
  EXPECT_EQ(steps[1].delay_minutes, 58);
  bool rounded = false;
  for (const auto& e : r->report) rounded |= e.field == "delay";
  EXPECT_TRUE(rounded);
}

// ---- bad input ----

class BadBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("og-bad-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(kFixture, dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Root() const { return dir_ / "OpsGenieBackups"; }
  void Write(const fs::path& p, std::string_view text) {
    std::ofstream(p, std::ios::trunc) << text;
  }
  fs::path dir_;
};

TEST_F(BadBackup, CorruptFileIsNamedWithLineAndColumn) {
  fs::path f = Root() / "escalations" / "Old-e-old.json";
  Write(f, "{\n  \"name\": \"Old\",\n  \"rules\": [\n}");
  auto data = LoadOpsgenieBackup(dir_.string());
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(data.error().message(), HasSubstr(f.string()));
  EXPECT_THAT(data.error().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(data.error().message(), HasSubstr("line 4"));
}

TEST_F(BadBackup, WrongShapeIsNamed) {
  fs::path f = Root() / "teams" / "Payments-t-pay.json";
  Write(f, "[1, 2]");
  auto data = LoadOpsgenieBackup(dir_.string());
  ASSERT_FALSE(data.has_value());
  EXPECT_THAT(data.error().message(), HasSubstr(f.string() + ": expected a JSON object"));
}

TEST_F(BadBackup, MissingUsersFolder) {
  fs::remove_all(Root() / "users");
  auto data = LoadOpsgenieBackup(dir_.string());
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.error().message(), HasSubstr((Root() / "users").string()));
}

TEST_F(BadBackup, MissingUserFileIsNamedByEveryReference) {
  fs::remove(Root() / "users" / "bob@example.com-u-bob.json");
  auto data = LoadOpsgenieBackup(dir_.string());
  ASSERT_TRUE(data.has_value());
  auto result = MapOpsgenie(*data, CountingKeys());
  ASSERT_FALSE(result.has_value());
  std::string all;
  for (const auto& d : result.error().details()) all += d + "\n";
  EXPECT_THAT(all, HasSubstr("Payments-t-pay.json: team 'Payments' member "
                             "'bob@example.com' has no file in users/"));
  EXPECT_THAT(all, HasSubstr("Payments Schedule-s-pay.json: schedule 'Payments Schedule' "
                             "rotation 'Weekdays': participant user 'bob@example.com' has no "
                             "file in users/"));
  EXPECT_THAT(all, HasSubstr("Payments_escalation-e-pay.json"));
}

// ---- API mode (the e2e test drives it over HTTP; here the paging and errors) ----

TEST(OpsgenieApi, FollowsPagingAndNamesBadAnswers) {
  std::map<std::string, std::string> pages = {
      {"http://og/v2/users?limit=100&offset=0",
       R"({"data":[{"id":"u1","username":"a@x.io"}],"paging":{"next":"https://elsewhere/v2/users?limit=100&offset=1"}})"},
      {"http://og/v2/users?limit=100&offset=1", R"({"data":[{"id":"u2","username":"b@x.io"}]})"},
      {"http://og/v2/users/u1?expand=contact", R"({"data":{"id":"u1","username":"a@x.io"}})"},
      {"http://og/v2/users/u2?expand=contact", R"({"data":{"id":"u2","username":"b@x.io"}})"},
      {"http://og/v2/users/u1/notification-rules", R"({"data":[]})"},
      {"http://og/v2/users/u2/notification-rules", R"({"data":[]})"},
      {"http://og/v2/teams", R"({"data":[]})"},
      {"http://og/v2/schedules?expand=rotation", R"({"data":[]})"},
      {"http://og/v2/escalations", R"({"data":[]})"},
      {"http://og/v2/integrations", R"({"data":[]})"},
      {"http://og/v2/heartbeats", R"({"data":{"heartbeats":[]}})"},
  };
  std::vector<std::string> asked;
  OpsgenieGet get = [&](const std::string& url) -> Result<std::string> {
    asked.push_back(url);
    auto it = pages.find(url);
    if (it == pages.end()) return std::unexpected(Unavailable("no " + url));
    return it->second;
  };
  auto data = LoadOpsgenieApi(get, "http://og/");
  ASSERT_TRUE(data.has_value()) << data.error().message();
  ASSERT_EQ(data->users.size(), 2u);
  // The key is never sent to the host paging.next names: only the path and query are kept.
  for (const auto& u : asked) EXPECT_TRUE(u.starts_with("http://og/v2/")) << u;

  pages["http://og/v2/teams"] = "<html>oops</html>";
  auto bad = LoadOpsgenieApi(get, "http://og");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("GET http://og/v2/teams: not valid JSON"));
}

}  // namespace
}  // namespace houston::migration
