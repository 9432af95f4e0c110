// The Opsgenie-compatible Alert API's store operations (store/opsgenie_store.h), on SQLite and
// PostgreSQL: a request and its status in one transaction, alias dedup, the request statuses of
// every action (found, not found, wrong state), unacknowledge re-triggering the incident and its
// escalation, notes on the timeline, field updates, listing, and pruning old statuses.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testing/store_backend.h"

namespace houston::store {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kKey = "og-key-checkout";
const Actor kActor{"integration", "opsgenie:checkout", "integration"};

class OpsgenieContractTest : public houston::testing::StoreBackendTest {
 protected:
  OpsgenieRequestStatus Apply(OpsgenieRequest r) {
    if (r.request_id.empty()) r.request_id = fmt::format("req-{}", ++requests_);
    r.integration_key = kKey;
    r.service_id = "checkout";
    auto s = Wait<OpsgenieRequestStatus>(
        [&](auto cb) { store_->ApplyOpsgenieRequest(r, clock_.Now(), kActor, cb); });
    EXPECT_TRUE(s) << s.error().ToString();
    return s ? *s : OpsgenieRequestStatus{};
  }
  OpsgenieRequestStatus Create(std::string alias, std::string message = "disk full") {
    OpsgenieRequest r;
    r.action = OpsgenieAction::kCreate;
    r.event.integration_key = kKey;
    r.event.service_id = "checkout";
    r.event.dedup_key = std::move(alias);
    r.event.summary = std::move(message);
    r.event.source = "test";
    r.event.details_json = R"({"message":"disk full","priority":"P3"})";
    r.event.links_json = "[]";
    r.event.images_json = "[]";
    r.event.escalation_policy = "main";
    r.event.first_step_delay = minutes(0);
    return Apply(std::move(r));
  }
  OpsgenieRequestStatus Act(OpsgenieAction action, std::string identifier,
                            OpsgenieIdentifier type = OpsgenieIdentifier::kAlias,
                            std::string note = "", std::string user = "") {
    OpsgenieRequest r;
    r.action = action;
    r.identifier = std::move(identifier);
    r.identifier_type = type;
    r.note = std::move(note);
    r.user = std::move(user);
    return Apply(std::move(r));
  }
  int requests_ = 0;
};

TEST_P(OpsgenieContractTest, CreateDedupsOnAliasAndRecordsTheRequest) {
  auto first = Create("a1");
  EXPECT_TRUE(first.success);
  EXPECT_EQ(first.status, "Created alert");
  EXPECT_EQ(first.alias, "a1");
  EXPECT_NE(first.alert_id, 0);
  EXPECT_TRUE(first.incident_created);
  clock_.Advance(minutes(1));
  auto again = Create("a1", "disk still full");
  EXPECT_TRUE(again.success);
  EXPECT_EQ(again.status, "Alert deduplicated");
  EXPECT_EQ(again.alert_id, first.alert_id);
  auto a = store_->GetAlert(first.alert_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->event_count, 2);
  EXPECT_EQ(a->summary, "disk still full");

  auto st = store_->GetOpsgenieRequest(first.request_id);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(st->action, OpsgenieAction::kCreate);
  EXPECT_TRUE(st->success);
  EXPECT_EQ(st->status, "Created alert");
  EXPECT_EQ(st->alert_id, first.alert_id);
  EXPECT_EQ(st->alias, "a1");
  EXPECT_EQ(st->integration_key, kKey);
  EXPECT_EQ(st->received_at, first.received_at);
  EXPECT_EQ(store_->GetOpsgenieRequest("nope").error().code(), StatusCode::kNotFound);

  // No alias: one is generated and reported.
  auto gen = Create("");
  EXPECT_EQ(gen.alias.size(), 36u);
  EXPECT_NE(gen.alert_id, first.alert_id);

  // A closed alias opens a new alert.
  EXPECT_EQ(Act(OpsgenieAction::kClose, "a1").status, "Closed alert");
  auto reopened = Create("a1");
  EXPECT_EQ(reopened.status, "Created alert");
  EXPECT_NE(reopened.alert_id, first.alert_id);
  auto open = store_->FindOpenAlertByAlias(kKey, "a1");
  ASSERT_TRUE(open && *open);
  EXPECT_EQ((*open)->id, reopened.alert_id);
  EXPECT_FALSE(*store_->FindOpenAlertByAlias("other-key", "a1"));
}

TEST_P(OpsgenieContractTest, ActionsOnUnknownOrClosedAlertsAreRecordedAsFailures) {
  auto unknown = Act(OpsgenieAction::kClose, "nope");
  EXPECT_FALSE(unknown.success);
  EXPECT_EQ(unknown.status, "Alert does not exist");
  EXPECT_EQ(unknown.alias, "nope");
  EXPECT_EQ(unknown.alert_id, 0);
  auto st = store_->GetOpsgenieRequest(unknown.request_id);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->success);
  EXPECT_EQ(st->action, OpsgenieAction::kClose);
  EXPECT_EQ(st->status, "Alert does not exist");

  auto c = Create("a2");
  const std::string id = std::to_string(c.alert_id);
  EXPECT_EQ(Act(OpsgenieAction::kAcknowledge, "999999", OpsgenieIdentifier::kId).status,
            "Alert does not exist");
  EXPECT_EQ(Act(OpsgenieAction::kAcknowledge, "x1", OpsgenieIdentifier::kId).status,
            "Alert does not exist");
  EXPECT_EQ(Act(OpsgenieAction::kUnacknowledge, id, OpsgenieIdentifier::kId).status,
            "Alert is not acknowledged");
  EXPECT_EQ(Act(OpsgenieAction::kAcknowledge, id, OpsgenieIdentifier::kId).status,
            "Acknowledged alert");
  EXPECT_EQ(Act(OpsgenieAction::kAcknowledge, id, OpsgenieIdentifier::kId).status,
            "Alert is already acknowledged");
  EXPECT_EQ(Act(OpsgenieAction::kClose, id, OpsgenieIdentifier::kId).status, "Closed alert");
  auto twice = Act(OpsgenieAction::kClose, id, OpsgenieIdentifier::kId);
  EXPECT_FALSE(twice.success);
  EXPECT_EQ(twice.status, "Alert is already closed");
  // By alias only open alerts are found.
  EXPECT_EQ(Act(OpsgenieAction::kClose, "a2").status, "Alert does not exist");
  // A note on a closed alert (by id) still lands.
  EXPECT_TRUE(Act(OpsgenieAction::kAddNote, id, OpsgenieIdentifier::kId, "post-mortem").success);
}

TEST_P(OpsgenieContractTest, AcknowledgeAndUnacknowledgeMoveTheIncidentAndItsEscalation) {
  auto c = Create("a3");
  auto inc = store_->GetIncident(c.incident_id);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->status, core::IncidentStatus::kTriggered);
  EXPECT_TRUE(
      Act(OpsgenieAction::kAcknowledge, "a3", OpsgenieIdentifier::kAlias, "", "alice").success);
  inc = store_->GetIncident(c.incident_id);
  EXPECT_EQ(inc->status, core::IncidentStatus::kAcknowledged);
  auto esc = store_->GetEscalation(c.incident_id);
  ASSERT_TRUE(esc && *esc);
  EXPECT_EQ((*esc)->state, core::EscalationState::kAcked);

  clock_.Advance(minutes(2));
  auto un = Act(OpsgenieAction::kUnacknowledge, "a3");
  EXPECT_TRUE(un.success);
  EXPECT_EQ(un.status, "Unacknowledged alert");
  auto a = store_->GetAlert(c.alert_id);
  EXPECT_EQ(a->status, core::AlertStatus::kTriggered);
  EXPECT_FALSE(a->acknowledged_at.has_value());
  inc = store_->GetIncident(c.incident_id);
  EXPECT_EQ(inc->status, core::IncidentStatus::kTriggered);
  esc = store_->GetEscalation(c.incident_id);
  ASSERT_TRUE(esc && *esc);
  EXPECT_EQ((*esc)->state, core::EscalationState::kActive);  // pages again, from step 0
  EXPECT_EQ((*esc)->step, 0);
  EXPECT_EQ((*esc)->due_at, clock_.Now());
  auto timeline = store_->ListTimeline(c.incident_id);
  ASSERT_TRUE(timeline);
  bool retriggered = false, noted = false;
  for (const auto& e : *timeline) {
    retriggered = retriggered || e.record.action == "incident.retriggered";
    if (e.record.action == "incident.note") {
      auto d = boost::json::parse(e.record.details_json);
      noted = d.at("text") == "Acknowledge via the Opsgenie API by alice" &&
              d.at("user") == "alice" && d.at("alert_id") == c.alert_id;
    }
  }
  EXPECT_TRUE(retriggered);
  EXPECT_TRUE(noted);
}

TEST_P(OpsgenieContractTest, NotesAndFieldUpdates) {
  auto c = Create("a4");
  auto note =
      Act(OpsgenieAction::kAddNote, "a4", OpsgenieIdentifier::kAlias, "checking disks", "bob");
  EXPECT_TRUE(note.success);
  EXPECT_EQ(note.status, "Added note");
  auto timeline = store_->ListTimeline(c.incident_id);
  ASSERT_TRUE(timeline);
  std::string text;
  for (const auto& e : *timeline) {
    if (e.record.action == "incident.note") {
      text = boost::json::parse(e.record.details_json).at("text").as_string().c_str();
    }
  }
  EXPECT_EQ(text, "checking disks");

  OpsgenieRequest m;
  m.action = OpsgenieAction::kUpdateMessage;
  m.identifier = "a4";
  m.identifier_type = OpsgenieIdentifier::kAlias;
  m.value = "disk 99% full";
  EXPECT_EQ(Apply(m).status, "Updated message");
  OpsgenieRequest p = m;
  p.action = OpsgenieAction::kUpdatePriority;
  p.value = "P1";
  p.severity = core::Severity::kCritical;
  EXPECT_EQ(Apply(p).status, "Updated priority");
  OpsgenieRequest d = m;
  d.action = OpsgenieAction::kUpdateDescription;
  d.value = "see runbook";
  EXPECT_EQ(Apply(d).status, "Updated description");
  auto a = store_->GetAlert(c.alert_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->summary, "disk 99% full");
  EXPECT_EQ(a->severity, core::Severity::kCritical);
  auto details = boost::json::parse(a->details_json);
  EXPECT_EQ(details.at("message"), "disk 99% full");
  EXPECT_EQ(details.at("priority"), "P1");
  EXPECT_EQ(details.at("description"), "see runbook");
}

TEST_P(OpsgenieContractTest, ListsTheServicesAlertsByStatus) {
  auto a = Create("l1");
  auto b = Create("l2");
  auto c = Create("l3");
  Act(OpsgenieAction::kClose, "l1");
  Act(OpsgenieAction::kAcknowledge, "l2");
  auto ids = [&](OpsgenieAlertQuery q) {
    q.service_id = "checkout";
    std::vector<core::AlertId> out;
    auto r = store_->ListOpsgenieAlerts(q);
    EXPECT_TRUE(r) << r.error().ToString();
    if (r) {
      for (const auto& x : *r) out.push_back(x.id);
    }
    return out;
  };
  using V = std::vector<core::AlertId>;
  EXPECT_EQ(ids({}), (V{c.alert_id, b.alert_id, a.alert_id}));
  EXPECT_EQ(ids({.open = true}), (V{c.alert_id, b.alert_id}));
  EXPECT_EQ(ids({.open = false}), (V{a.alert_id}));
  EXPECT_EQ(ids({.acknowledged = true}), (V{b.alert_id}));
  EXPECT_EQ(ids({.open = true, .acknowledged = false}), (V{c.alert_id}));
  EXPECT_EQ(ids({.offset = 1, .limit = 1}), (V{b.alert_id}));
  OpsgenieAlertQuery other{.service_id = "payments"};
  EXPECT_TRUE(store_->ListOpsgenieAlerts(other)->empty());
}

TEST_P(OpsgenieContractTest, OldRequestStatusesArePrunedByLaterRequests) {
  auto old = Create("p1");
  ASSERT_TRUE(store_->GetOpsgenieRequest(old.request_id));
  clock_.Advance(kOpsgenieRequestRetention + hours(1));
  auto recent = Create("p2");
  EXPECT_EQ(store_->GetOpsgenieRequest(old.request_id).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetOpsgenieRequest(recent.request_id));
  // A request id is used once.
  OpsgenieRequest dup;
  dup.request_id = recent.request_id;
  dup.action = OpsgenieAction::kAddNote;
  dup.identifier = "p2";
  dup.identifier_type = OpsgenieIdentifier::kAlias;
  dup.note = "x";
  dup.integration_key = kKey;
  dup.service_id = "checkout";
  auto r = Wait<OpsgenieRequestStatus>(
      [&](auto cb) { store_->ApplyOpsgenieRequest(dup, clock_.Now(), kActor, cb); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kAlreadyExists);
}

HOUSTON_STORE_CONTRACT(OpsgenieContractTest);

}  // namespace
}  // namespace houston::store
