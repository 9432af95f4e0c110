// The learning domain on both store backends (SQLite, PostgreSQL): postmortem drafts for a
// recorded incident, the human part that is never overwritten, publication (frozen, read-only
// until reopened, audited), action items and their validation, and the reminders that chase
// both, driven by a FakeClock through working hours in each person's own time zone.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/time_util.h"
#include "learning/learning_service.h"
#include "learning/postmortem_report.h"
#include "learning/reminders.h"
#include "testing/store_backend.h"

namespace houston::learning {
namespace {

namespace json = boost::json;
using core::IncidentAction;
using std::chrono::hours;
using std::chrono::minutes;
using store::ActionItemStatus;
using store::PostmortemStatus;

const store::Actor kAlice{"user", "alice", "api"};

TimePoint At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t) << rfc3339;
  return t ? *t : TimePoint{};
}

constexpr const char* kOrg = R"(
users:
  - id: alice
    name: Alice Example
    timezone: Europe/Berlin
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9/alice"}
      - {id: alice-mail, type: email, address: alice@example.com}
    notification_rules:
      - {contact_method: alice-hook, delay_minutes: 0}
      - {contact_method: alice-mail, delay_minutes: 5}
      - {contact_method: alice-hook, delay_minutes: 10}
  - id: bob
    timezone: America/New_York
    contact_methods:
      - {id: bob-hook, type: webhook, url: "http://127.0.0.1:9/bob"}
  - id: carol
    timezone: Asia/Tokyo
    contact_methods:
      - {id: carol-hook, type: webhook, url: "http://127.0.0.1:9/carol"}
teams:
  - {id: payments, members: [alice, bob, carol]}
escalation_policies:
  - id: main
    steps:
      - {delay_minutes: 0, targets: [{user: alice}]}
services:
  - {id: checkout, name: Checkout API, team: payments, escalation_policy: main}
  - {id: payments-db, team: payments, escalation_policy: main}
)";

class LearningTest : public houston::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    org_ = std::make_shared<const config::Org>(std::move(*org));
    service_ = std::make_unique<LearningService>(*store_, clock_);
    chaser_ = std::make_unique<Chaser>(*store_, clock_, [this] { return org_; });
  }
  void TearDown() override {
    chaser_.reset();
    service_.reset();
    StoreBackendTest::TearDown();
  }

  template <typename T, typename Start>
  Result<T> Run(Start&& start) {
    return store::Wait<T>(std::forward<Start>(start));
  }
  core::Incident Declare(std::string sev = "SEV2") {
    auto r = Run<core::Incident>([&](auto cb) {
      store_->DeclareIncident({.title = "Checkout 500s",
                               .sev = sev,
                               .services = {"checkout"},
                               .summary = "the pool ran dry",
                               .roles = {{"commander", "alice"}},
                               .responders = {"bob"},
                               .impact_started_at = clock_.Now() - minutes(4),
                               .page = false},
                              kAlice, cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : core::Incident{};
  }
  void Move(core::IncidentId id, IncidentAction a) {
    auto r = Run<core::Incident>([&](auto cb) {
      store_->TransitionIncident(id, a, {"user", "bob", "api"}, cb);
    });
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // SEV2 declared now, acknowledged 3 min later by bob, mitigated at 20 min, resolved at 45.
  core::Incident Recorded() {
    core::Incident inc = Declare();
    clock_.Advance(minutes(3));
    Move(inc.id, IncidentAction::kAcknowledge);
    clock_.Advance(minutes(17));
    Move(inc.id, IncidentAction::kMitigate);
    clock_.Advance(minutes(25));
    Move(inc.id, IncidentAction::kResolve);
    return inc;
  }
  Result<store::Postmortem> Edit(core::IncidentId id, store::PostmortemEdit e) {
    return Run<store::Postmortem>(
        [&](auto cb) { service_->EditPostmortem(*org_, id, std::move(e), kAlice, cb); });
  }
  Result<store::ActionItem> AddItem(NewActionItem n) {
    return Run<store::ActionItem>(
        [&](auto cb) { service_->CreateActionItem(*org_, std::move(n), kAlice, cb); });
  }
  json::value Computed(core::IncidentId id) {
    auto v = service_->GetPostmortem(*org_, id);
    EXPECT_TRUE(v) << v.error().ToString();
    return v ? json::parse(v->computed_json) : json::value();
  }
  void Tick() {
    auto r = chaser_->RunOnce();
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // Reminders of `kind` in the outbox, oldest first.
  std::vector<store::Notification> Reminders(std::string_view kind) {
    std::vector<store::Notification> out;
    auto all = store_->ListNotifications({.limit = 1000});
    EXPECT_TRUE(all) << all.error().ToString();
    if (!all) return out;
    for (const auto& n : *all) {
      if (n.kind == kind) out.push_back(n);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }

  std::shared_ptr<const config::Org> org_;
  std::unique_ptr<LearningService> service_;
  std::unique_ptr<Chaser> chaser_;
};

TEST_P(LearningTest, AResolvedSev2HasADraftThatNeedsOnlyItsHumanSections) {
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident inc = Declare();
  // Things on the timeline the postmortem must show: a pinned note, a linked change.
  auto change = Run<core::Change>([&](auto cb) {
    store_->RecordChange({.integration_key = "rk",
                          .service_id = "checkout",
                          .summary = "deploy v42",
                          .source = "ci",
                          .timestamp = clock_.Now() - minutes(30),
                          .details_json = "{}",
                          .links_json = "[]"},
                         cb);
  });
  ASSERT_TRUE(change) << change.error().ToString();
  ASSERT_TRUE(
      Run<core::Change>([&](auto cb) { store_->LinkChange(inc.id, change->id, kAlice, cb); }));
  ASSERT_TRUE(Run<store::TimelineEntry>(
      [&](auto cb) { store_->AddTimelineNote(inc.id, "rolled back v42", true, kAlice, cb); }));
  clock_.Advance(minutes(3));
  Move(inc.id, IncidentAction::kAcknowledge);
  clock_.Advance(minutes(17));
  Move(inc.id, IncidentAction::kMitigate);
  clock_.Advance(minutes(25));
  Move(inc.id, IncidentAction::kResolve);
  TimePoint resolved = clock_.Now();

  EXPECT_EQ(store_->GetPostmortem(inc.id).error().code(), StatusCode::kNotFound);
  Tick();
  auto pm = store_->GetPostmortem(inc.id);
  ASSERT_TRUE(pm) << pm.error().ToString();
  EXPECT_EQ(pm->status, PostmortemStatus::kDraft);
  EXPECT_TRUE(pm->required);
  EXPECT_EQ(pm->owner, "alice");  // the commander
  EXPECT_EQ(pm->due_at, resolved + hours(24 * 5));
  ASSERT_EQ(pm->sections.size(), 5u);
  EXPECT_EQ(pm->sections[0].id, "what_happened");
  for (const auto& s : pm->sections) EXPECT_EQ(s.text, "") << s.id;

  json::value c = Computed(inc.id);
  EXPECT_EQ(c.at("incident").at("sev"), "SEV2");
  EXPECT_EQ(c.at("incident").at("services").at(0).at("name"), "Checkout API");
  // Detected at declaration; impact started 4 min before; ack +3 min, mitigated +20, resolved
  // +45 (all from detection).
  EXPECT_EQ(c.at("response_seconds").at("detect"), 240);
  EXPECT_EQ(c.at("response_seconds").at("acknowledge"), 180);
  EXPECT_EQ(c.at("response_seconds").at("mitigate"), 1200);
  EXPECT_EQ(c.at("response_seconds").at("resolve"), 2700);
  EXPECT_EQ(c.at("impact").at("duration_seconds"), 240 + 1200);
  // People: alice commander, bob responder who acknowledged.
  const auto& people = c.at("people").as_array();
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].at("user"), "alice");
  EXPECT_EQ(people[0].at("roles").at(0), "commander");
  EXPECT_EQ(people[1].at("user"), "bob");
  EXPECT_EQ(people[1].at("acknowledged"), true);
  ASSERT_EQ(c.at("confirmed_changes").as_array().size(), 1u);
  EXPECT_EQ(c.at("confirmed_changes").at(0).at("summary"), "deploy v42");
  EXPECT_FALSE(c.at("suspect_changes").as_array().empty());
  bool pinned_note = false;
  for (const auto& e : c.at("timeline").as_array()) {
    if (e.at("action") == "incident.note") {
      pinned_note = e.at("pinned") == true && e.at("text") == "note by alice: rolled back v42";
    }
  }
  EXPECT_TRUE(pinned_note);

  // Markdown export: the computed part and empty sections with their prompts.
  auto view = service_->GetPostmortem(*org_, inc.id);
  ASSERT_TRUE(view);
  std::string md = PostmortemMarkdown(view->postmortem, view->computed_json);
  EXPECT_NE(md.find("# Postmortem: incident #" + std::to_string(inc.id)), std::string::npos);
  EXPECT_NE(md.find("| Time to acknowledge | 3 min |"), std::string::npos) << md;
  EXPECT_NE(md.find("**note by alice: rolled back v42** (pinned)"), std::string::npos) << md;
  EXPECT_NE(md.find("## Where we got lucky\n\n_"), std::string::npos) << md;

  // Drafting again changes nothing.
  Tick();
  EXPECT_EQ(store_->GetPostmortem(inc.id)->version, pm->version);
}

TEST_P(LearningTest, OnlyRequiredSeveritiesWithinTheLookbackAreDrafted) {
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident sev3 = Declare("SEV3");
  Move(sev3.id, IncidentAction::kResolve);
  core::Incident old = Declare("SEV1");
  Move(old.id, IncidentAction::kResolve);
  clock_.Advance(hours(24 * 15));  // beyond the 14-day lookback when first seen
  core::Incident merged = Declare("SEV1");
  core::Incident target = Declare("SEV1");
  ASSERT_TRUE(Run<core::Incident>(
      [&](auto cb) { store_->MergeIncidents(merged.id, target.id, kAlice, cb); }));
  Tick();
  EXPECT_FALSE(store_->GetPostmortem(sev3.id));
  EXPECT_FALSE(store_->GetPostmortem(old.id));
  EXPECT_FALSE(store_->GetPostmortem(merged.id));
  EXPECT_FALSE(store_->GetPostmortem(target.id));  // still open
  Move(target.id, IncidentAction::kResolve);
  Tick();
  EXPECT_TRUE(store_->GetPostmortem(target.id));
  // Anyone may start one for any incident: not required, no due date.
  auto started = Edit(sev3.id, {.sections = {{"what_happened", "a slow query"}}});
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_FALSE(started->required);
  EXPECT_FALSE(started->due_at);
  EXPECT_EQ(started->sections[0].text, "a slow query");
}

TEST_P(LearningTest, TheHumanPartIsEditedNeverOverwrittenAndPublishedIsReadOnly) {
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident inc = Recorded();
  Tick();
  auto e = Edit(inc.id, {.sections = {{"what_happened", "Checkout failed for 40 min."}},
                         .factors = std::vector<std::string>{"deploy", "capacity", "deploy"}});
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_EQ(e->factors, (std::vector<std::string>{"capacity", "deploy"}));
  // Unknown section and factor: InvalidArgument naming them; nothing changes.
  auto bad = Edit(inc.id, {.sections = {{"root_cause", "x"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("sections.root_cause"), std::string::npos);
  bad = Edit(inc.id, {.factors = std::vector<std::string>{"cosmic_rays"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("factors[0]: 'cosmic_rays'"), std::string::npos);
  bad = Edit(inc.id, {.owner = "zed"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("owner: unknown user 'zed'"), std::string::npos);
  // A stale version is refused.
  bad = Edit(inc.id, {.expected_version = e->version - 1, .sections = {{"what_happened", "y"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kFailedPrecondition);
  auto reviewed =
      Edit(inc.id, {.expected_version = e->version, .status = PostmortemStatus::kInReview});
  ASSERT_TRUE(reviewed) << reviewed.error().ToString();
  EXPECT_EQ(reviewed->sections[0].text, "Checkout failed for 40 min.");

  auto published = Run<store::Postmortem>(
      [&](auto cb) { service_->Publish(*org_, inc.id, reviewed->version, kAlice, cb); });
  ASSERT_TRUE(published) << published.error().ToString();
  EXPECT_EQ(published->status, PostmortemStatus::kPublished);
  EXPECT_EQ(published->published_by, "alice");
  EXPECT_FALSE(published->next_reminder_at);
  size_t frozen = Computed(inc.id).at("timeline").as_array().size();
  // The incident goes on; the published postmortem does not.
  ASSERT_TRUE(Run<store::TimelineEntry>(
      [&](auto cb) { store_->AddTimelineNote(inc.id, "later note", false, kAlice, cb); }));
  EXPECT_EQ(Computed(inc.id).at("timeline").as_array().size(), frozen);
  auto refused = Edit(inc.id, {.sections = {{"what_happened", "rewritten"}}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("reopen"), std::string::npos);
  EXPECT_FALSE(Run<store::Postmortem>(
      [&](auto cb) { service_->Publish(*org_, inc.id, std::nullopt, kAlice, cb); }));

  auto reopened = Run<store::Postmortem>([&](auto cb) { service_->Reopen(inc.id, kAlice, cb); });
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_EQ(reopened->status, PostmortemStatus::kDraft);
  EXPECT_EQ(Computed(inc.id).at("timeline").as_array().size(), frozen + 1);
  EXPECT_TRUE(Edit(inc.id, {.sections = {{"what_happened", "rewritten"}}}));
  // Every step is audited.
  auto audit =
      store_->ListAudit({.resource_type = "postmortem", .resource_id = std::to_string(inc.id)});
  ASSERT_TRUE(audit);
  std::vector<std::string> actions;
  for (const auto& r : *audit) actions.insert(actions.begin(), r.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"postmortem.created", "postmortem.edited",
                                               "postmortem.edited", "postmortem.published",
                                               "postmortem.reopened", "postmortem.edited"}));
}

TEST_P(LearningTest, APostmortemPastDueRemindsItsOwnerThenTheOwningTeam) {
  // Resolved on Tuesday 2026-12-01 at 10:45 UTC: due Sunday 2026-12-06 10:45 UTC.
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident inc = Recorded();
  Tick();
  auto pm = store_->GetPostmortem(inc.id);
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->due_at, At("2026-12-06T10:45:00Z"));
  clock_.Set(At("2026-12-06T10:44:00Z"));
  Tick();
  EXPECT_TRUE(Reminders("postmortem_reminder").empty());
  clock_.Set(At("2026-12-06T10:45:00Z"));
  Tick();
  // Alice (Berlin) on a Sunday: her reminder waits for Monday 09:00 Berlin (08:00 UTC), once per
  // contact method of her rules (alice-hook is listed twice).
  auto r = Reminders("postmortem_reminder");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].user_id, "alice");
  EXPECT_EQ(r[0].contact_method_id, "alice-hook");
  EXPECT_EQ(r[1].contact_method_id, "alice-mail");
  EXPECT_EQ(r[0].not_before, At("2026-12-07T08:00:00Z"));
  EXPECT_NE(r[0].payload_json.find("Postmortem overdue"), std::string::npos);
  EXPECT_EQ(store_->GetPostmortem(inc.id)->reminders, 1);
  // The next one a day later, within alice's working hours: Monday 10:45 UTC is 11:45 Berlin.
  EXPECT_EQ(store_->GetPostmortem(inc.id)->next_reminder_at, At("2026-12-07T10:45:00Z"));
  Tick();
  EXPECT_EQ(Reminders("postmortem_reminder").size(), 2u);  // nothing new until then
  clock_.Set(At("2026-12-07T10:45:00Z"));
  Tick();
  EXPECT_EQ(Reminders("postmortem_reminder").size(),
            4u);  // still only alice: the team comes 2 days past due
  clock_.Set(At("2026-12-08T10:45:00Z"));
  Tick();
  r = Reminders("postmortem_reminder");
  ASSERT_EQ(r.size(), 8u);  // alice (2 methods), bob, carol
  std::set<std::string> users;
  for (size_t i = 4; i < r.size(); ++i) users.insert(r[i].user_id);
  EXPECT_EQ(users, (std::set<std::string>{"alice", "bob", "carol"}));
  for (size_t i = 4; i < r.size(); ++i) {
    if (r[i].user_id == "bob") {  // 05:45 in New York: at 09:00 there
      EXPECT_EQ(r[i].not_before, At("2026-12-08T14:00:00Z"));
      EXPECT_NE(r[i].payload_json.find("Its owner is Alice Example"), std::string::npos);
    }
    if (r[i].user_id == "carol") {  // 19:45 in Tokyo: Wednesday 09:00 there
      EXPECT_EQ(r[i].not_before, At("2026-12-09T00:00:00Z"));
    }
  }
  // Published: the chase ends.
  ASSERT_TRUE(Run<store::Postmortem>(
      [&](auto cb) { service_->Publish(*org_, inc.id, std::nullopt, kAlice, cb); }));
  clock_.Set(At("2026-12-20T10:45:00Z"));
  Tick();
  EXPECT_EQ(Reminders("postmortem_reminder").size(), 8u);
}

TEST_P(LearningTest, ActionItemsAreValidatedAndFieldsNamed) {
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident inc = Recorded();
  auto bad = AddItem({.incident_id = inc.id,
                      .title = " ",
                      .owner = "zed",
                      .due = "2026-13-01",
                      .priority = "P0",
                      .ticket_url = "ftp://x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  std::string all;
  for (const auto& d : bad.error().details()) all += d + "\n";
  for (const char* field : {"title:", "owner: unknown user 'zed'", "due: '2026-13-01'",
                            "priority: 'P0'", "ticket_url:"}) {
    EXPECT_NE(all.find(field), std::string::npos) << field << "\n" << all;
  }
  bad = AddItem({.incident_id = 999999, .title = "x", .owner = "bob", .due = "2026-12-07"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(AddItem({.incident_id = inc.id, .title = "x", .owner = "bob", .due = "07/12/2026"}));

  auto item = AddItem({.incident_id = inc.id,
                       .title = "Alert on pool saturation",
                       .owner = "bob",
                       .due = "2026-12-07",
                       .priority = "P1",
                       .ticket_url = "https://jira.example.com/OPS-1"});
  ASSERT_TRUE(item) << item.error().ToString();
  EXPECT_EQ(item->service_id, "checkout");
  // Due Monday 2026-12-07 for bob in New York: overdue when that day ends there (05:00 UTC), the
  // first reminder at 09:00 New York on Tuesday.
  EXPECT_EQ(item->overdue_at, At("2026-12-08T05:00:00Z"));
  EXPECT_EQ(item->next_reminder_at, At("2026-12-08T14:00:00Z"));
  // On the incident's timeline.
  bool on_timeline = false;
  auto timeline = store_->ListTimeline(inc.id);
  ASSERT_TRUE(timeline);
  for (const auto& e : *timeline) {
    on_timeline = on_timeline || e.record.action == "action_item.created";
  }
  EXPECT_TRUE(on_timeline);

  auto none = Run<store::ActionItem>(
      [&](auto cb) { service_->UpdateActionItem(*org_, item->id, {}, kAlice, cb); });
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("nothing to change"), std::string::npos);
  EXPECT_FALSE(Run<store::ActionItem>([&](auto cb) {
    service_->UpdateActionItem(*org_, 424242, {.status = ActionItemStatus::kDone}, kAlice, cb);
  }));

  // Filters.
  ASSERT_TRUE(
      AddItem({.incident_id = inc.id, .title = "Runbook", .owner = "carol", .due = "2026-12-31"}));
  auto mine = store_->ListActionItems({.owner = "bob"});
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->size(), 1u);
  clock_.Set(At("2026-12-08T05:00:00Z"));
  auto overdue = store_->ListActionItems({.overdue_at = clock_.Now()});
  ASSERT_TRUE(overdue);
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ(overdue->front().id, item->id);
  EXPECT_EQ(store_->ListActionItems({.incident = inc.id})->size(), 2u);
  EXPECT_EQ(store_->ListActionItems({.service = "payments-db"})->size(), 0u);
}

TEST_P(LearningTest, OverdueActionItemsChaseTheirOwnerInWorkingHoursThenTheTeam) {
  clock_.Set(At("2026-12-01T10:00:00Z"));
  core::Incident inc = Recorded();
  // Due Friday 2026-12-04 for carol in Tokyo: overdue at Saturday 00:00 Tokyo (Friday 15:00
  // UTC); the weekend is not working time, so the first reminder is Monday 09:00 Tokyo.
  auto item = AddItem({.incident_id = inc.id,
                       .title = "Add a canary",
                       .owner = "carol",
                       .due = "2026-12-04",
                       .priority = "P2"});
  ASSERT_TRUE(item) << item.error().ToString();
  EXPECT_EQ(item->overdue_at, At("2026-12-04T15:00:00Z"));
  EXPECT_EQ(item->next_reminder_at, At("2026-12-07T00:00:00Z"));
  clock_.Set(At("2026-12-05T12:00:00Z"));
  Tick();
  EXPECT_TRUE(Reminders("action_item_reminder").empty());
  clock_.Set(At("2026-12-07T00:00:00Z"));
  Tick();
  auto r = Reminders("action_item_reminder");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].user_id, "carol");
  EXPECT_EQ(r[0].kind, "action_item_reminder");
  EXPECT_EQ(r[0].not_before, At("2026-12-07T00:00:00Z"));
  EXPECT_NE(r[0].payload_json.find("Action item overdue: #"), std::string::npos);
  clock_.Set(At("2026-12-07T12:00:00Z"));
  Tick();
  EXPECT_EQ(Reminders("action_item_reminder").size(),
            1u);  // daily: the next on Tuesday 09:00 Tokyo
  // The team after 3 days of grace past overdue_at (from Monday 15:00 UTC).
  clock_.Set(At("2026-12-08T00:00:00Z"));
  Tick();
  r = Reminders("action_item_reminder");
  ASSERT_EQ(r.size(), 5u);  // carol, and alice (2 methods) and bob
  std::set<std::string> users;
  for (size_t i = 1; i < r.size(); ++i) users.insert(r[i].user_id);
  EXPECT_EQ(users, (std::set<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(store_->GetActionItem(item->id)->reminders, 2);
  // Done: no more reminders, and the item says who closed it.
  auto done = Run<store::ActionItem>([&](auto cb) {
    service_->UpdateActionItem(*org_, item->id, {.status = ActionItemStatus::kDone}, kAlice, cb);
  });
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->closed_by, "alice");
  EXPECT_FALSE(done->next_reminder_at);
  clock_.Set(At("2026-12-20T00:00:00Z"));
  Tick();
  EXPECT_EQ(Reminders("action_item_reminder").size(), 5u);
  // Reopened with a later due date: chased again from then.
  auto again = Run<store::ActionItem>([&](auto cb) {
    service_->UpdateActionItem(*org_, item->id,
                               {.status = ActionItemStatus::kInProgress, .due = "2026-12-22"},
                               kAlice, cb);
  });
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(again->closed_at);
  EXPECT_EQ(again->next_reminder_at, At("2026-12-23T00:00:00Z"));
}

HOUSTON_STORE_CONTRACT(LearningTest);

TEST(WorkingHoursTest, DueDatesEndAtTheOwnersMidnightAcrossDst) {
  const date::time_zone* ny = date::locate_zone("America/New_York");
  auto day = ParseCalendarDate("2026-03-07");  // the day before the spring change
  ASSERT_TRUE(day);
  EXPECT_EQ(EndOfDay(*day, ny), At("2026-03-08T05:00:00Z"));
  day = ParseCalendarDate("2026-03-08");  // 23 hours long
  EXPECT_EQ(EndOfDay(*day, ny), At("2026-03-09T04:00:00Z"));
  EXPECT_FALSE(ParseCalendarDate("2026-02-30"));
  EXPECT_FALSE(ParseCalendarDate("2026-2-3"));
  EXPECT_FALSE(ParseCalendarDate("26-02-03xx"));
  config::DailyWindow hours = config::ActionItemPolicy{}.working_hours;
  // Saturday 2026-03-07 12:00 in New York -> Monday 09:00, which is EDT by then (13:00 UTC).
  EXPECT_EQ(NextWorkingMoment(hours, ny, At("2026-03-07T17:00:00Z")), At("2026-03-09T13:00:00Z"));
  // Inside working hours: at once.
  EXPECT_EQ(NextWorkingMoment(hours, ny, At("2026-03-09T15:00:00Z")), At("2026-03-09T15:00:00Z"));
  // Windows past midnight (22:00-06:00 every day).
  config::DailyWindow night{{date::Monday, date::Tuesday, date::Wednesday, date::Thursday,
                             date::Friday, date::Saturday, date::Sunday},
                            22 * 60,
                            6 * 60};
  const date::time_zone* utc = date::locate_zone("UTC");
  EXPECT_EQ(NextWorkingMoment(night, utc, At("2026-03-10T03:00:00Z")), At("2026-03-10T03:00:00Z"));
  EXPECT_EQ(NextWorkingMoment(night, utc, At("2026-03-10T07:00:00Z")), At("2026-03-10T22:00:00Z"));
}

}  // namespace
}  // namespace houston::learning
