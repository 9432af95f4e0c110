// The incident fan-out with the escalation engine and the dispatcher, on a FakeClock, the real
// SQLite store (temp file) and a FakeSender: rules, role pages, status updates per audience,
// incident webhooks and overdue-update reminders. Nothing sleeps.
#include "paging/incident_fanout.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "paging/notification_dispatcher.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_sender.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::paging {
namespace {

using std::chrono::minutes;
namespace json = boost::json;

constexpr const char* kOrg = R"yaml(
severities:
  - {id: SEV1, description: Critical, update_every_minutes: 30}
  - {id: SEV2, description: Major, update_every_minutes: 60}
  - {id: SEV3, description: Minor}
users:
  - id: alice
    name: Alice
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9/alice"}
  - id: bob
    name: Bob
    contact_methods:
      - {id: bob-hook, type: webhook, url: "http://127.0.0.1:9/bob"}
      - {id: bob-mail, type: email, address: bob@example.com}
    notification_rules:
      - {contact_method: bob-hook, delay_minutes: 0}
      - {contact_method: bob-mail, delay_minutes: 5}
  - id: carol
    contact_methods:
      - {id: carol-hook, type: webhook, url: "http://127.0.0.1:9/carol"}
escalation_policies:
  - id: main
    steps:
      - {delay_minutes: 0, targets: [{user: alice}]}
services:
  - {id: checkout, tier: 1, escalation_policy: main, depends_on: [db]}
  - {id: db, tier: 2, escalation_policy: main}
  - {id: search, tier: 3, escalation_policy: main}
incident_rules:
  - {id: tier1-critical, max_service_tier: 1, alert_severity: critical, severity: SEV2}
  - {id: storm, services: [search], alert_count: 3, window_minutes: 10, severity: SEV1}
audiences:
  - id: executives
    min_severity: SEV2
    subscribers:
      - {id: ceo, type: email, address: ceo@example.com}
  - id: engineering
    subscribers:
      - {id: eng-slack, type: slack, url: "http://127.0.0.1:9/slack"}
webhooks:
  - {id: all, url: "http://127.0.0.1:9/all", secret: whs}
  - {id: resolved-only, url: "http://127.0.0.1:9/resolved", events: [incident.resolved]}
  - {id: db-only, url: "http://127.0.0.1:9/db", services: [db]}
)yaml";

class FanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString() << " "
                     << (org || org.error().details().empty() ? "" : org.error().details()[0]);
    org_ = std::make_shared<const config::Org>(std::move(*org));
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_OK(s);
    store_ = std::move(*s);
    auto org_fn = [this] { return org_; };
    engine_ = std::make_unique<EscalationEngine>(
        *store_, clock_, org_fn, [](const config::Org&, const std::string&, TimePoint) {
          return std::vector<std::string>{};
        });
    fanout_ = std::make_unique<IncidentFanout>(*store_, clock_, org_fn, FanoutOptions{});
    DispatcherOptions d;
    d.max_per_minute = 100;
    dispatcher_ = std::make_unique<NotificationDispatcher>(*store_, clock_, sender_, org_fn, d);
  }
  void TearDown() override {
    dispatcher_.reset();
    fanout_.reset();
    engine_.reset();
    store_.reset();
  }

  // Everything time-driven at the current instant: escalations, fan-out, sends.
  void Tick() {
    ASSERT_TRUE(engine_->RunOnce());
    ASSERT_TRUE(fanout_->RunOnce());
    ASSERT_TRUE(dispatcher_->RunOnce());
  }
  void Run(minutes d) {
    for (int i = 0; i < d.count(); ++i) {
      clock_.Advance(minutes(1));
      Tick();
    }
  }

  core::AlertEvent Alert(const std::string& service, const std::string& key,
                         core::Severity sev = core::Severity::kError) {
    core::AlertEvent e;
    e.integration_key = "key-" + service;
    e.service_id = service;
    e.dedup_key = key;
    e.summary = "alert " + key;
    e.source = "test";
    e.severity = sev;
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "main";
    e.first_step_delay = minutes(0);
    return e;
  }
  store::EventOutcome Send(core::AlertEvent e) {
    auto r = store::Wait<std::vector<store::EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents({std::move(e)}, {"integration", "test", "integration"}, cb);
    });
    EXPECT_OK(r);
    return r ? r->front() : store::EventOutcome{};
  }
  core::Incident Declare(store::NewIncident n) {
    n.escalation_policy = "main";
    n.first_step_delay = minutes(0);
    auto r = store::Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident(std::move(n), {"token", "me", "api"}, cb);
    });
    EXPECT_OK(r);
    return r ? *r : core::Incident{};
  }
  core::Incident Patch(core::IncidentId id, store::IncidentPatch p) {
    auto r = store::Wait<core::Incident>([&](auto cb) {
      store_->UpdateIncident(id, std::move(p), {"token", "me", "api"}, cb);
    });
    EXPECT_OK(r);
    return r ? *r : core::Incident{};
  }
  store::StatusUpdate Publish(core::IncidentId id, std::vector<core::Rendering> renderings) {
    store::StatusUpdate u;
    u.incident_id = id;
    u.author = "me";
    u.via = "api";
    u.phase = "identified";
    u.renderings = std::move(renderings);
    auto r = store::Wait<store::StatusUpdate>([&](auto cb) {
      store_->PublishStatusUpdate(std::move(u), {"token", "me", "api"}, cb);
    });
    EXPECT_OK(r);
    return r ? *r : store::StatusUpdate{};
  }
  // Messages sent to a destination URL or address, in order.
  std::vector<notify::Message> To(const std::string& where) {
    std::vector<notify::Message> out;
    for (const auto& s : sender_.sent()) {
      if (s.channel.url == where || s.channel.address == where) out.push_back(s.message);
    }
    return out;
  }
  std::vector<std::string> WebhookEvents(const std::string& url) {
    std::vector<std::string> out;
    for (const auto& m : To(url)) {
      out.emplace_back(json::parse(m.body_json).at("event").as_string());
    }
    return out;
  }

  testing::TestDir dir_{"houston-fanout-test"};
  testing::FakeClock clock_;
  testing::FakeSender sender_;
  std::shared_ptr<const config::Org> org_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<EscalationEngine> engine_;
  std::unique_ptr<IncidentFanout> fanout_;
  std::unique_ptr<NotificationDispatcher> dispatcher_;
};

TEST_F(FanoutTest, RuleDeclaresASevForACriticalAlertOnATierOneService) {
  auto o = Send(Alert("checkout", "a", core::Severity::kCritical));
  Tick();
  auto inc = *store_->GetIncident(o.incident_id);
  EXPECT_EQ(inc.sev, "SEV2");
  // A lesser alert on the same tier-1 service, or a critical one on tier 3, declares nothing.
  auto lesser = Send(Alert("checkout", "b", core::Severity::kWarning));
  auto tier3 = Send(Alert("search", "c", core::Severity::kCritical));
  Tick();
  EXPECT_EQ(store_->GetIncident(lesser.incident_id)->sev, "");
  EXPECT_EQ(store_->GetIncident(tier3.incident_id)->sev, "");
  // The timeline says which rule did it, and the SEV change went out as incident.updated.
  auto timeline = *store_->ListTimeline(o.incident_id);
  bool found = false;
  for (const auto& e : timeline) {
    if (e.record.action == "incident.updated") {
      found = true;
      EXPECT_NE(e.record.details_json.find("tier1-critical"), std::string::npos);
      EXPECT_EQ(e.record.actor.id, "incident-rules");
    }
  }
  EXPECT_TRUE(found);
  auto events = WebhookEvents("http://127.0.0.1:9/all");
  EXPECT_NE(std::find(events.begin(), events.end(), "incident.updated"), events.end());
  // Incidents opened by alerts are announced to the webhooks too (one per new incident).
  EXPECT_EQ(std::count(events.begin(), events.end(), "incident.triggered"), 3);
}

TEST_F(FanoutTest, AlertStormWithinTheWindowRaisesToSev1AndNeverLowers) {
  auto storm = [&](const std::string& key) {
    auto e = Alert("search", key);
    e.group_key = "storm";  // one incident for all of them
    return Send(std::move(e));
  };
  auto a = storm("s1");
  clock_.Advance(minutes(4));
  storm("s2");
  Tick();
  EXPECT_EQ(store_->GetIncident(a.incident_id)->sev, "");
  clock_.Advance(minutes(4));
  auto third = storm("s3");  // the incident's 3rd alert within 10 minutes
  Tick();
  EXPECT_EQ(third.incident_id, a.incident_id);
  EXPECT_EQ(store_->GetIncident(third.incident_id)->sev, "SEV1");
  // The incident's alerts spread wider than the window do not count: three alerts 8 minutes
  // apart are never three within 10 minutes.
  clock_.Advance(minutes(30));
  std::optional<store::EventOutcome> wide;
  for (std::string key : {"w1", "w2", "w3"}) {
    auto e = Alert("search", key);
    e.group_key = "wide";
    auto o = Send(std::move(e));
    if (!wide) wide = o;
    Tick();
    clock_.Advance(minutes(8));
  }
  EXPECT_EQ(store_->GetIncident(wide->incident_id)->alert_count, 3);
  EXPECT_EQ(store_->GetIncident(wide->incident_id)->sev, "");
  // Other incidents' alerts on the same service do not count: three one-alert incidents within
  // a minute stay untriaged.
  std::vector<core::IncidentId> singles;
  for (std::string key : {"o1", "o2", "o3"})
    singles.push_back(Send(Alert("search", key)).incident_id);
  Tick();
  for (auto id : singles) {
    EXPECT_EQ(store_->GetIncident(id)->alert_count, 1);
    EXPECT_EQ(store_->GetIncident(id)->sev, "") << "incident " << id;
  }
  // A rule never lowers a SEV that people raised: a critical alert joining a SEV1 incident on
  // checkout matches tier1-critical (SEV2), and the incident stays SEV1.
  auto grouped = Alert("checkout", "g1", core::Severity::kWarning);
  grouped.group_key = "grp";
  auto first = Send(grouped);
  Tick();
  EXPECT_EQ(store_->GetIncident(first.incident_id)->sev, "");
  store::IncidentPatch p;
  p.sev = "SEV1";
  Patch(first.incident_id, p);
  auto critical = Alert("checkout", "g2", core::Severity::kCritical);
  critical.group_key = "grp";
  EXPECT_EQ(Send(critical).incident_id, first.incident_id);
  Tick();
  EXPECT_EQ(store_->GetIncident(first.incident_id)->sev, "SEV1");
}

TEST_F(FanoutTest, AssigningARoleOrAddingAResponderPagesThatPerson) {
  auto inc = Declare({.title = "Checkout down",
                      .sev = "SEV2",
                      .services = {"checkout"},
                      .roles = {{"commander", "bob"}}});
  Tick();
  auto bob = To("http://127.0.0.1:9/bob");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].event, "incident.role_assigned");
  EXPECT_EQ(bob[0].subject, "You are the Commander of #1 (SEV2) Checkout down");
  EXPECT_EQ(To("bob@example.com").size(), 0u);  // his second rule waits 5 minutes
  Run(minutes(5));
  EXPECT_EQ(To("bob@example.com").size(), 1u);
  // Declaring paged the on-call (alice) through the policy as well.
  EXPECT_EQ(To("http://127.0.0.1:9/alice").size(), 1u);
  // A responder is paged; re-adding the same person does not page again.
  store::IncidentPatch p;
  p.add_responders = {"carol"};
  Patch(inc.id, p);
  Patch(inc.id, p);
  Tick();
  auto carol = To("http://127.0.0.1:9/carol");
  ASSERT_EQ(carol.size(), 1u);
  EXPECT_EQ(carol[0].subject, "You were added as a responder to #1 (SEV2) Checkout down");
  // Role pages are not cancelled by an acknowledged incident (unlike escalation pages).
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(inc.id, core::IncidentAction::kAcknowledge, {}, cb);
  }));
  store::IncidentPatch scribe;
  scribe.set_roles = {{"scribe", "carol"}};
  Patch(inc.id, scribe);
  Tick();
  EXPECT_EQ(To("http://127.0.0.1:9/carol").size(), 2u);
}

TEST_F(FanoutTest, RolePagesAreNotSentAfterTheIncidentIsResolved) {
  auto inc = Declare(
      {.title = "x", .sev = "SEV2", .services = {"checkout"}, .roles = {{"commander", "bob"}}});
  Tick();
  EXPECT_EQ(To("http://127.0.0.1:9/bob").size(), 1u);
  Run(minutes(1));
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(inc.id, core::IncidentAction::kResolve, {"token", "me", "api"}, cb);
  }));
  Run(minutes(10));
  // Bob's email rule (5 minutes) came due after the end: it is cancelled, not sent.
  EXPECT_EQ(To("bob@example.com").size(), 0u);
  auto mail = store_->ListNotifications({.incident_id = inc.id});
  ASSERT_TRUE(mail);
  bool cancelled = false;
  for (const auto& n : *mail) {
    if (n.contact_method_id != "bob-mail") continue;
    EXPECT_EQ(n.state, core::NotificationState::kCancelled);
    EXPECT_EQ(n.last_error, "not sent: the incident was resolved first");
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
}

TEST_F(FanoutTest, ARuleSevIncidentResolvesWithItsAlertsWhenNoPersonTookItOver) {
  auto a = Alert("checkout", "disk", core::Severity::kCritical);
  auto o = Send(a);
  Tick();
  ASSERT_EQ(store_->GetIncident(o.incident_id)->sev, "SEV2");  // tier1-critical
  Run(minutes(3));
  a.action = core::EventAction::kResolve;
  Send(a);
  Tick();
  auto inc = *store_->GetIncident(o.incident_id);
  EXPECT_EQ(inc.status, core::IncidentStatus::kResolved);
  EXPECT_EQ(store_->GetEscalation(o.incident_id)->value().state, core::EscalationState::kDone);
  bool said_why = false;
  auto timeline = store_->ListTimeline(o.incident_id);
  ASSERT_TRUE(timeline);
  for (const auto& e : *timeline) {
    if (e.record.action != "incident.resolved") continue;
    said_why = e.record.details_json.find("no person had taken it over") != std::string::npos;
  }
  EXPECT_TRUE(said_why);
  auto events = WebhookEvents("http://127.0.0.1:9/all");
  EXPECT_NE(std::find(events.begin(), events.end(), "incident.resolved"), events.end());
  // Nothing pages after the end.
  sender_.Clear();
  Run(minutes(60));
  EXPECT_EQ(To("http://127.0.0.1:9/alice").size(), 0u);
}

TEST_F(FanoutTest, AnIncidentAPersonTookOverStaysOpenWhenItsAlertsResolveAndSaysWhy) {
  auto a = Alert("checkout", "disk", core::Severity::kCritical);
  auto o = Send(a);
  Tick();
  ASSERT_EQ(store_->GetIncident(o.incident_id)->sev, "SEV2");
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(o.incident_id, core::IncidentAction::kAcknowledge,
                               {"token", "dana", "cli"}, cb);
  }));
  a.action = core::EventAction::kResolve;
  Send(a);
  Tick();
  EXPECT_EQ(store_->GetIncident(o.incident_id)->status, core::IncidentStatus::kAcknowledged);
  std::string why;
  auto timeline = store_->ListTimeline(o.incident_id);
  ASSERT_TRUE(timeline);
  for (const auto& e : *timeline) {
    if (e.record.action == "incident.alerts_resolved") why = e.record.details_json;
  }
  EXPECT_NE(why.find("\"taken_over_by\":\"dana\""), std::string::npos) << why;
  EXPECT_NE(why.find(R"(acknowledged"})"), std::string::npos) << why;  // what dana did
}

TEST_F(FanoutTest, StatusUpdatesReachEachAudiencesSubscribers) {
  auto inc = Declare({.title = "Checkout down", .sev = "SEV3", .services = {"checkout"}});
  Publish(inc.id, {{"executives", "exec subject", "exec text"},
                   {"engineering", "eng subject", "eng text"},
                   {"public", "pub subject", "pub text"}});
  Tick();
  // SEV3 is below the executives' min_severity (SEV2): only engineering hears of it.
  EXPECT_EQ(To("ceo@example.com").size(), 0u);
  auto eng = To("http://127.0.0.1:9/slack");
  ASSERT_EQ(eng.size(), 1u);
  EXPECT_EQ(eng[0].event, "status_update_published");
  EXPECT_EQ(eng[0].subject, "eng subject");
  EXPECT_EQ(eng[0].text, "eng text");
  store::IncidentPatch p;
  p.sev = "SEV2";
  Patch(inc.id, p);
  Publish(inc.id, {{"executives", "exec subject 2", "exec text 2"}});
  Tick();
  auto ceo = To("ceo@example.com");
  ASSERT_EQ(ceo.size(), 1u);
  EXPECT_EQ(ceo[0].text, "exec text 2");
  EXPECT_EQ(To("http://127.0.0.1:9/slack").size(), 1u);  // not sent to engineering this time
  // The incident webhook carries the update with every rendering.
  auto all = To("http://127.0.0.1:9/all");
  int updates = 0;
  for (const auto& m : all) {
    auto body = json::parse(m.body_json);
    if (body.at("event") != "status_update_published") continue;
    ++updates;
    EXPECT_TRUE(body.at("status_update").at("renderings").is_array());
    EXPECT_EQ(body.at("incident").at("id"), inc.id);
  }
  EXPECT_EQ(updates, 2);
}

TEST_F(FanoutTest, IncidentWebhooksFollowTheLifecycleWithFilters) {
  auto inc = Declare({.title = "Checkout down", .sev = "SEV2", .services = {"checkout"}});
  for (auto a : {core::IncidentAction::kAcknowledge, core::IncidentAction::kMitigate,
                 core::IncidentAction::kResolve, core::IncidentAction::kReopen}) {
    ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(inc.id, a, {"token", "me", "cli"}, cb);
    }));
  }
  Tick();
  EXPECT_EQ(
      WebhookEvents("http://127.0.0.1:9/all"),
      (std::vector<std::string>{"incident.triggered", "incident.acknowledged", "incident.mitigated",
                                "incident.resolved", "incident.reopened"}));
  EXPECT_EQ(WebhookEvents("http://127.0.0.1:9/resolved"),
            std::vector<std::string>{"incident.resolved"});
  EXPECT_TRUE(WebhookEvents("http://127.0.0.1:9/db").empty());  // checkout is not db
  auto first = json::parse(To("http://127.0.0.1:9/all")[1].body_json);
  EXPECT_EQ(first.at("actor").at("via"), "cli");
  EXPECT_EQ(first.at("details").at("from"), "triggered");
  EXPECT_EQ(first.at("incident").at("sev"), "SEV2");
  EXPECT_TRUE(first.at("incident").at("url").as_string().ends_with("/api/v1/incidents/1"));
  // The channel carries the webhook's secret, so the body is signed.
  for (const auto& sent : sender_.sent()) {
    if (sent.channel.url == "http://127.0.0.1:9/all") {
      EXPECT_EQ(sent.channel.secret, "whs");
    }
  }
  // An incident that affects db as a second service reaches the db-only webhook.
  store::IncidentPatch p;
  p.services = std::vector<std::string>{"checkout", "db"};
  Patch(inc.id, p);
  Tick();
  EXPECT_EQ(WebhookEvents("http://127.0.0.1:9/db"), std::vector<std::string>{"incident.updated"});
}

TEST_F(FanoutTest, AWebhookWaitingBehindARetryIsDueWithIt) {
  auto inc = Declare({.title = "Checkout down", .sev = "SEV2", .services = {"checkout"}});
  Tick();
  ASSERT_EQ(WebhookEvents("http://127.0.0.1:9/all"),
            std::vector<std::string>{"incident.triggered"});
  for (auto a : {core::IncidentAction::kAcknowledge, core::IncidentAction::kMitigate}) {
    ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(inc.id, a, {"token", "me", "cli"}, cb);
    }));
  }
  // The receiver fails the first: it is retried later, and the second waits for it.
  sender_.Script({notify::Outcome::kRetry});
  Tick();
  EXPECT_EQ(WebhookEvents("http://127.0.0.1:9/all"),
            (std::vector<std::string>{"incident.triggered", "incident.acknowledged"}));
  auto retry = store_->ListNotifications({.state = core::NotificationState::kPending});
  ASSERT_TRUE(retry);
  ASSERT_EQ(retry->size(), 2u);
  const TimePoint again = std::max(retry->at(0).not_before, retry->at(1).not_before);
  ASSERT_GT(again, clock_.Now());
  // Not due before the retry: the dispatcher sleeps until then instead of claiming in vain.
  auto due = store_->NextNotificationDue(minutes(2));
  ASSERT_TRUE(due && *due);
  EXPECT_EQ(**due, again);
  // Then the retry goes first, though the message behind it has been due longer.
  clock_.Set(again);
  Tick();
  EXPECT_EQ(WebhookEvents("http://127.0.0.1:9/all"),
            (std::vector<std::string>{"incident.triggered", "incident.acknowledged",
                                      "incident.acknowledged", "incident.mitigated"}));
}

TEST_F(FanoutTest, OverdueStatusUpdatesRemindTheCommunicationsLead) {
  auto inc = Declare({.title = "Checkout down",
                      .sev = "SEV1",
                      .services = {"checkout"},
                      .roles = {{"commander", "alice"}, {"communications_lead", "bob"}}});
  Tick();
  sender_.Clear();
  auto reminders = [&] {
    size_t n = 0;
    for (const auto& m : To("http://127.0.0.1:9/bob")) n += m.event == "incident.update_overdue";
    return n;
  };
  EXPECT_EQ(*store_->GetIncident(inc.id)->update_due_at, inc.created_at + minutes(30));
  Run(minutes(29));
  EXPECT_EQ(reminders(), 0u);
  Run(minutes(1));  // SEV1: an update every 30 minutes
  EXPECT_EQ(reminders(), 1u);
  auto msg = To("http://127.0.0.1:9/bob").back();
  EXPECT_EQ(msg.subject, "Status update overdue for #1 (SEV1) Checkout down");
  Run(minutes(14));
  EXPECT_EQ(reminders(), 1u);
  Run(minutes(1));  // and again every 15 minutes while nothing is published
  EXPECT_EQ(reminders(), 2u);
  // Publishing resets the clock: the next is due 30 minutes after the update.
  Publish(inc.id, {{"public", "s", "t"}});
  Tick();
  EXPECT_EQ(*store_->GetIncident(inc.id)->update_due_at, clock_.Now() + minutes(30));
  Run(minutes(29));
  EXPECT_EQ(reminders(), 2u);
  Run(minutes(1));
  EXPECT_EQ(reminders(), 3u);
  // Lowering to SEV3 (no cadence) stops reminders; resolving clears the deadline.
  store::IncidentPatch p;
  p.sev = "SEV3";
  Patch(inc.id, p);
  Tick();
  EXPECT_EQ(store_->GetIncident(inc.id)->update_due_at, std::nullopt);
  Run(minutes(120));
  EXPECT_EQ(reminders(), 3u);
  auto timeline = *store_->ListTimeline(inc.id);
  int overdue = 0;
  for (const auto& e : timeline) overdue += e.record.action == "incident.update_overdue";
  EXPECT_EQ(overdue, 3);
}

TEST_F(FanoutTest, WithoutACommunicationsLeadTheCommanderIsReminded) {
  auto inc = Declare(
      {.title = "x", .sev = "SEV2", .services = {"checkout"}, .roles = {{"commander", "carol"}}});
  Tick();
  sender_.Clear();
  Run(minutes(60));
  auto carol = To("http://127.0.0.1:9/carol");
  ASSERT_EQ(carol.size(), 1u);
  EXPECT_EQ(carol[0].event, "incident.update_overdue");
  // Resolved: no more reminders.
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(inc.id, core::IncidentAction::kResolve, {}, cb);
  }));
  Run(minutes(120));
  EXPECT_EQ(To("http://127.0.0.1:9/carol").size(), 1u);
}

TEST_F(FanoutTest, NothingIsDoneTwiceAcrossRuns) {
  Declare({.title = "x", .sev = "SEV2", .services = {"checkout"}, .roles = {{"commander", "bob"}}});
  Tick();
  size_t n = sender_.count();
  // The records are handled: running again (as after a restart) sends nothing new.
  auto again = std::make_unique<IncidentFanout>(
      *store_, clock_, [this] { return org_; }, FanoutOptions{});
  ASSERT_TRUE(again->RunOnce());
  ASSERT_TRUE(dispatcher_->RunOnce());
  EXPECT_EQ(sender_.count(), n);
  EXPECT_TRUE(store_->ListPendingFanout(100)->empty());
}

}  // namespace
}  // namespace houston::paging
