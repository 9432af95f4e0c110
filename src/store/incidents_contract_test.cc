// SqliteStore: running incidents. Declare, the status state machine (and that an illegal
// transition changes nothing), grouping windows, the impact window, roles, notes and pins,
// merge and split, and that declared incidents outlive their alerts.
#include <gtest/gtest.h>

#include <filesystem>

#include "testing/store_backend.h"

namespace houston::store {
namespace {

using core::EventAction;
using core::IncidentAction;
using core::IncidentStatus;
using std::chrono::minutes;

class IncidentStoreTest : public houston::testing::StoreBackendTest {
 protected:
  core::AlertEvent Ev(std::string key, std::string service = "checkout",
                      minutes window = minutes(0), std::string content = "") {
    core::AlertEvent e;
    e.integration_key = "rk-" + service;
    e.service_id = std::move(service);
    e.dedup_key = std::move(key);
    e.summary = "alert " + e.dedup_key;
    e.source = "test";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "main";
    e.group_window = window;
    e.grouping_key = std::move(content);
    return e;
  }
  EventOutcome Send(core::AlertEvent e) {
    auto r = Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents({std::move(e)}, {"integration", "t", "integration"}, cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->front() : EventOutcome{};
  }
  Result<core::Incident> Declare(NewIncident n) {
    return Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident(std::move(n), {"token", "me", "cli"}, cb);
    });
  }
  Result<core::Incident> Move(core::IncidentId id, IncidentAction a) {
    return Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(id, a, {"token", "me", "api"}, cb);
    });
  }
  Result<core::Incident> Patch(core::IncidentId id, IncidentPatch p) {
    return Wait<core::Incident>([&](auto cb) {
      store_->UpdateIncident(id, std::move(p), {"token", "me", "api"}, cb);
    });
  }
  std::vector<TimelineEntry> Timeline(core::IncidentId id) {
    auto t = store_->ListTimeline(id);
    EXPECT_TRUE(t) << t.error().ToString();
    return t ? *t : std::vector<TimelineEntry>{};
  }
  std::vector<std::string> Actions(core::IncidentId id) {
    std::vector<std::string> out;
    for (const auto& e : Timeline(id)) out.push_back(e.record.action);
    return out;
  }
};

TEST_P(IncidentStoreTest, DeclareRecordsEverythingAndStartsPaging) {
  auto inc = Declare({.title = "Checkout 500s",
                      .sev = "SEV2",
                      .services = {"checkout", "payments"},
                      .summary = "pool exhausted",
                      .tags = {"db", "checkout", "db"},
                      .roles = {{"commander", "alice"}},
                      .responders = {"bob"},
                      .escalation_policy = "main",
                      .first_step_delay = minutes(0)});
  ASSERT_TRUE(inc) << inc.error().ToString();
  EXPECT_EQ(inc->status, IncidentStatus::kTriggered);
  EXPECT_EQ(inc->sev, "SEV2");
  EXPECT_EQ(inc->service_id, "checkout");
  EXPECT_EQ(inc->services, (std::vector<std::string>{"checkout", "payments"}));
  EXPECT_EQ(inc->tags, (std::vector<std::string>{"checkout", "db"}));
  EXPECT_EQ(inc->roles, (std::vector<std::pair<std::string, std::string>>{{"commander", "alice"}}));
  EXPECT_EQ(inc->responders, std::vector<std::string>{"bob"});
  EXPECT_EQ(inc->declared_by, "me");
  EXPECT_EQ(inc->impact_started_at, clock_.Now());
  EXPECT_EQ(inc->detected_at, clock_.Now());
  auto esc = store_->GetEscalation(inc->id);
  ASSERT_TRUE(esc && *esc);
  EXPECT_EQ((*esc)->state, core::EscalationState::kActive);
  EXPECT_EQ(Actions(inc->id),
            (std::vector<std::string>{"incident.triggered", "incident.role_assigned",
                                      "incident.responder_added"}));
  // Declared without paging: no escalation.
  auto quiet =
      Declare({.title = "q", .services = {"checkout"}, .page = false, .escalation_policy = "main"});
  ASSERT_TRUE(quiet);
  EXPECT_FALSE(*store_->GetEscalation(quiet->id));
  EXPECT_EQ(Declare({.title = "none"}).error().code(), StatusCode::kInvalidArgument);
}

TEST_P(IncidentStoreTest, StatusMachineAndIllegalTransitionsChangeNothing) {
  auto inc = *Declare(
      {.title = "x", .sev = "SEV3", .services = {"checkout"}, .escalation_policy = "main"});
  EXPECT_EQ(Move(inc.id, IncidentAction::kAcknowledge)->status, IncidentStatus::kAcknowledged);
  clock_.Advance(minutes(3));
  auto mitigated = *Move(inc.id, IncidentAction::kMitigate);
  EXPECT_EQ(mitigated.status, IncidentStatus::kMitigated);
  EXPECT_EQ(mitigated.mitigated_at, clock_.Now());
  // Acknowledging a mitigated incident (an old page link) changes nothing.
  EXPECT_EQ(Move(inc.id, IncidentAction::kAcknowledge)->status, IncidentStatus::kMitigated);
  auto err = Move(inc.id, IncidentAction::kReopen);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(err.error().message().find("only a resolved incident can be reopened"),
            std::string::npos);
  auto resolved = *Move(inc.id, IncidentAction::kResolve);
  EXPECT_EQ(resolved.status, IncidentStatus::kResolved);
  EXPECT_EQ((*store_->GetEscalation(inc.id))->state, core::EscalationState::kDone);
  auto before = Actions(inc.id);
  for (auto a :
       {IncidentAction::kAcknowledge, IncidentAction::kMitigate, IncidentAction::kResolve}) {
    auto r = Move(inc.id, a);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(r.error().message().find("incident 1: the incident is already resolved"),
              std::string::npos)
        << r.error().message();
  }
  EXPECT_EQ(Actions(inc.id), before);  // nothing half-written
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kResolved);
  // Reopening pages again: the escalation restarts in a new round.
  auto reopened = *Move(inc.id, IncidentAction::kReopen);
  EXPECT_EQ(reopened.status, IncidentStatus::kTriggered);
  EXPECT_EQ(reopened.resolved_at, std::nullopt);
  auto esc = *store_->GetEscalation(inc.id);
  EXPECT_EQ(esc->state, core::EscalationState::kActive);
  EXPECT_EQ(esc->due_at, clock_.Now());
  EXPECT_EQ(Actions(inc.id).back(), "incident.reopened");
  EXPECT_EQ(Move(999, IncidentAction::kAcknowledge).error().code(), StatusCode::kNotFound);
}

TEST_P(IncidentStoreTest, ReopeningStartsANewEpisode) {
  auto inc = *Declare({.title = "x", .sev = "SEV3", .services = {"checkout"}});
  EXPECT_EQ(inc.episode, 0);
  // Moves within an episode keep it.
  EXPECT_EQ(Move(inc.id, IncidentAction::kAcknowledge)->episode, 0);
  EXPECT_EQ(Move(inc.id, IncidentAction::kResolve)->episode, 0);
  EXPECT_EQ(Move(inc.id, IncidentAction::kReopen)->episode, 1);
  EXPECT_EQ(store_->GetIncident(inc.id)->episode, 1);
  EXPECT_EQ(Move(inc.id, IncidentAction::kResolve)->episode, 1);
  EXPECT_EQ(Move(inc.id, IncidentAction::kReopen)->episode, 2);
  // A refused transition changes nothing.
  EXPECT_FALSE(Move(inc.id, IncidentAction::kReopen));
  auto listed = store_->ListIncidents({.limit = 10});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->front().episode, 2);
}

// A signed link acts once: the move it makes records its id in the same transaction; the same
// id again (a second POST, a replay, after a restart) changes nothing. A link whose move changes
// nothing, or that is refused, is not used up.
TEST_P(IncidentStoreTest, ALinkActsOnce) {
  auto inc = *Declare({.title = "x", .sev = "SEV3", .services = {"checkout"}});
  auto by_link = [&](IncidentAction a, std::string link, int64_t episode = 0) {
    return Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncidentInEpisode(inc.id, a, episode, std::move(link),
                                          {"user", "ada", "link"}, cb);
    });
  };
  // Refused (another episode): not used up.
  auto early = by_link(IncidentAction::kAcknowledge, "link-a", 1);
  ASSERT_FALSE(early);
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kTriggered);
  auto acked = by_link(IncidentAction::kAcknowledge, "link-a");
  ASSERT_TRUE(acked) << acked.error().ToString();
  EXPECT_EQ(acked->status, IncidentStatus::kAcknowledged);
  // The same link again, for any move: refused, nothing written.
  size_t entries = Timeline(inc.id).size();
  auto again = by_link(IncidentAction::kMitigate, "link-a");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(again.error().message().starts_with(kLinkUsed)) << again.error().message();
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(Timeline(inc.id).size(), entries);
  // A move that changes nothing (acknowledging an acknowledged incident) does not use a link up.
  ASSERT_TRUE(by_link(IncidentAction::kAcknowledge, "link-b"));
  EXPECT_EQ(Timeline(inc.id).size(), entries);
  EXPECT_EQ(by_link(IncidentAction::kMitigate, "link-b")->status, IncidentStatus::kMitigated);
  // Durable: still used after the store is opened again.
  Reopen();
  auto after = by_link(IncidentAction::kResolve, "link-b");
  ASSERT_FALSE(after);
  EXPECT_TRUE(after.error().message().starts_with(kLinkUsed)) << after.error().message();
  // Links without an id (the API's own moves) are not tracked.
  EXPECT_EQ(by_link(IncidentAction::kResolve, "")->status, IncidentStatus::kResolved);
}

TEST_P(IncidentStoreTest, AcknowledgingAnIncidentAcknowledgesItsAlertsOnce) {
  auto a = Send(Ev("a"));
  auto ack = *Move(a.incident_id, IncidentAction::kAcknowledge);
  EXPECT_EQ(store_->GetAlert(a.alert_id)->status, core::AlertStatus::kAcknowledged);
  auto actions = Actions(a.incident_id);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "incident.acknowledged"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "alert.acknowledged"), 1);
  (void)ack;
}

TEST_P(IncidentStoreTest, AlertsResolveTheirIncidentUnlessAPersonTookItOver) {
  auto page = Send(Ev("p"));
  EXPECT_EQ(Send(Ev("p")).kind, EventOutcome::Kind::kDeduplicated);
  auto e = Ev("p");
  e.action = EventAction::kResolve;
  Send(e);
  EXPECT_EQ(store_->GetIncident(page.incident_id)->status, IncidentStatus::kResolved);
  // With a SEV a person set (they took it over), the alerts clearing is news on the timeline,
  // not the end of the incident.
  auto grouped = Ev("g");
  grouped.group_key = "grp";
  auto g = Send(grouped);
  IncidentPatch p;
  p.sev = "SEV2";
  ASSERT_TRUE(Patch(g.incident_id, p));
  grouped.action = EventAction::kResolve;
  Send(grouped);
  EXPECT_EQ(store_->GetIncident(g.incident_id)->status, IncidentStatus::kTriggered);
  auto timeline = *store_->ListTimeline(g.incident_id);
  ASSERT_GE(timeline.size(), 2u);
  const auto& cleared = timeline[timeline.size() - 2].record;
  EXPECT_EQ(cleared.action, "alert.resolved");
  EXPECT_NE(cleared.details_json.find("\"open_alerts_left\":0"), std::string::npos);
  const auto& why = timeline.back().record;
  EXPECT_EQ(why.action, "incident.alerts_resolved");
  EXPECT_NE(why.details_json.find("\"taken_over_by\":\"me\""), std::string::npos)
      << why.details_json;
  // A SEV that a rule (the system) set is not a person taking over: it resolves with its alerts.
  auto ruled = Ev("r");
  ruled.group_key = "ruled";
  auto r = Send(ruled);
  ASSERT_TRUE(Wait<core::Incident>([&](auto cb) {
    store_->UpdateIncident(r.incident_id, p, {"system", "incident-rules", "system"}, cb);
  }));
  ruled.action = EventAction::kResolve;
  Send(ruled);
  EXPECT_EQ(store_->GetIncident(r.incident_id)->status, IncidentStatus::kResolved);
  // After a person resolves it and it is reopened (by the system), the person's actions belong
  // to the earlier episode: the new one resolves with its alerts.
  ASSERT_TRUE(Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(g.incident_id, core::IncidentAction::kResolve,
                               {"token", "me", "api"}, cb);
  }));
  ASSERT_TRUE(Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(g.incident_id, core::IncidentAction::kReopen,
                               {"system", "test", "system"}, cb);
  }));
  auto again = Ev("g2");
  again.group_key = "grp";
  ASSERT_EQ(Send(again).incident_id, g.incident_id);
  again.action = EventAction::kResolve;
  Send(again);
  EXPECT_EQ(store_->GetIncident(g.incident_id)->status, IncidentStatus::kResolved);
}

TEST_P(IncidentStoreTest, GroupingWindowJoinsRecentIncidentsOfTheService) {
  auto first = Send(Ev("a", "checkout", minutes(10)));
  EXPECT_TRUE(first.incident_created);
  clock_.Advance(minutes(9));
  auto second = Send(Ev("b", "checkout", minutes(10)));
  EXPECT_FALSE(second.incident_created);
  EXPECT_EQ(second.incident_id, first.incident_id);
  // The window counts from the newest alert: 9 more minutes still joins.
  clock_.Advance(minutes(9));
  EXPECT_EQ(Send(Ev("c", "checkout", minutes(10))).incident_id, first.incident_id);
  EXPECT_EQ(store_->GetIncident(first.incident_id)->alert_count, 3);
  // Past the window: a new incident.
  clock_.Advance(minutes(11));
  auto late = Send(Ev("d", "checkout", minutes(10)));
  EXPECT_TRUE(late.incident_created);
  // Another service never joins; another content key never joins.
  EXPECT_TRUE(Send(Ev("e", "search", minutes(10))).incident_created);
  auto keyed = Send(Ev("f", "checkout", minutes(10), "disk"));
  EXPECT_TRUE(keyed.incident_created);
  EXPECT_EQ(Send(Ev("g", "checkout", minutes(10), "disk")).incident_id, keyed.incident_id);
  EXPECT_EQ(Send(Ev("h", "checkout", minutes(10), "cpu")).incident_created, true);
  // A resolved incident is never joined.
  ASSERT_TRUE(Move(keyed.incident_id, IncidentAction::kResolve));
  EXPECT_TRUE(Send(Ev("i", "checkout", minutes(10), "disk")).incident_created);
  // Without a window each alert opens its own incident.
  EXPECT_TRUE(Send(Ev("j")).incident_created);
  EXPECT_TRUE(Send(Ev("k")).incident_created);
}

TEST_P(IncidentStoreTest, IntakeLeavesTheFanOutAloneWhenTheOrgHasNothingForIt) {
  auto quiet = Ev("q");
  quiet.fanout = false;
  auto o = Send(quiet);
  quiet.action = EventAction::kResolve;
  Send(quiet);
  EXPECT_TRUE(store_->ListPendingFanout(100)->empty());
  EXPECT_EQ(store_->GetIncident(o.incident_id)->status, IncidentStatus::kResolved);
  EXPECT_EQ(Actions(o.incident_id),
            (std::vector<std::string>{"alert.triggered", "alert.resolved", "incident.resolved"}));
  auto loud = Send(Ev("l"));
  auto pending = *store_->ListPendingFanout(100);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].action, "alert.triggered");
  EXPECT_EQ(pending[0].incident_id, loud.incident_id);
}

TEST_P(IncidentStoreTest, ImpactWindowIsEditableAndChecked) {
  auto inc = *Declare({.title = "x", .services = {"checkout"}});
  TimePoint t0 = clock_.Now();
  IncidentPatch p;
  p.impact_started_at = t0 - minutes(40);  // impact began before anyone noticed
  auto r = Patch(inc.id, p);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->impact_started_at, t0 - minutes(40));
  EXPECT_EQ(r->detected_at, t0);
  IncidentPatch bad;
  bad.detected_at = t0 - minutes(60);
  auto e = Patch(inc.id, bad);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.error().message().find("'detected_at'"), std::string::npos) << e.error().message();
  IncidentPatch early_resolve;
  early_resolve.resolved_at = t0;
  EXPECT_EQ(Patch(inc.id, early_resolve).error().code(), StatusCode::kInvalidArgument);
  IncidentPatch early_mitigate;
  early_mitigate.mitigated_at = t0;
  EXPECT_EQ(Patch(inc.id, early_mitigate).error().code(), StatusCode::kInvalidArgument);
  // Nothing of a rejected patch was written.
  EXPECT_EQ(store_->GetIncident(inc.id)->detected_at, t0);
  ASSERT_TRUE(Move(inc.id, IncidentAction::kResolve));
  IncidentPatch fix;
  fix.mitigated_at = t0 - minutes(10);
  fix.resolved_at = t0 - minutes(5);
  auto fixed = Patch(inc.id, fix);
  ASSERT_TRUE(fixed) << fixed.error().ToString();
  EXPECT_EQ(fixed->resolved_at, t0 - minutes(5));
  auto timeline = *store_->ListTimeline(inc.id);
  EXPECT_NE(timeline.back().record.details_json.find("resolved_at"), std::string::npos);
}

TEST_P(IncidentStoreTest, RolesResponderTagsAndTheirTimeline) {
  auto inc = *Declare({.title = "x", .services = {"checkout"}});
  IncidentPatch p;
  p.set_roles = {{"commander", "alice"}, {"scribe", "carol"}};
  p.add_responders = {"bob", "dave"};
  p.add_tags = {"db"};
  auto r = *Patch(inc.id, p);
  EXPECT_EQ(r.roles.size(), 2u);
  IncidentPatch q;
  q.set_roles = {{"commander", "bob"}, {"scribe", ""}};
  q.remove_responders = {"dave"};
  q.remove_tags = {"db"};
  r = *Patch(inc.id, q);
  EXPECT_EQ(r.roles, (std::vector<std::pair<std::string, std::string>>{{"commander", "bob"}}));
  EXPECT_EQ(r.responders, std::vector<std::string>{"bob"});
  EXPECT_TRUE(r.tags.empty());
  auto timeline = *store_->ListTimeline(inc.id);
  bool handover = false;
  for (const auto& e : timeline) {
    handover = handover ||
               e.record.details_json == R"({"role":"commander","user":"bob","previous":"alice"})";
  }
  EXPECT_TRUE(handover);
  auto actions = Actions(inc.id);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "incident.role_unassigned"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "incident.responder_removed"), 1);
  // An empty patch changes nothing and writes nothing.
  auto n = actions.size();
  ASSERT_TRUE(Patch(inc.id, {}));
  EXPECT_EQ(Actions(inc.id).size(), n);
}

TEST_P(IncidentStoreTest, NotesAndPins) {
  auto inc = *Declare({.title = "x", .services = {"checkout"}});
  auto note = Wait<AuditRecord>([&](auto cb) {
    store_->AddNote(inc.id, "rolled back v42", {"token", "me", "cli"}, cb);
  });
  ASSERT_TRUE(note);
  EXPECT_EQ(note->action, "incident.note");
  EXPECT_EQ(note->details_json, R"({"text":"rolled back v42"})");
  auto pin = Wait<TimelineEntry>([&](auto cb) {
    store_->PinEntry(inc.id, note->id, true, {"token", "me", "api"}, cb);
  });
  ASSERT_TRUE(pin);
  int pinned = 0;
  for (const auto& e : Timeline(inc.id)) pinned += e.pinned;
  EXPECT_EQ(pinned, 1);
  // An entry of another incident cannot be pinned here.
  auto other = *Declare({.title = "y", .services = {"checkout"}});
  auto wrong = Wait<TimelineEntry>([&](auto cb) {
    store_->PinEntry(other.id, note->id, true, {"token", "me", "api"}, cb);
  });
  EXPECT_EQ(wrong.error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Wait<TimelineEntry>([&](auto cb) {
    store_->PinEntry(inc.id, note->id, false, {"token", "me", "api"}, cb);
  }));
  pinned = 0;
  for (const auto& e : Timeline(inc.id)) pinned += e.pinned;
  EXPECT_EQ(pinned, 0);
}

TEST_P(IncidentStoreTest, MergeMovesAlertsAndTheirHistory) {
  auto a = Send(Ev("a"));
  auto b = Send(Ev("b", "payments"));
  auto merged = Wait<core::Incident>([&](auto cb) {
    store_->MergeIncidents(b.incident_id, a.incident_id, {"token", "me", "api"}, cb);
  });
  ASSERT_TRUE(merged) << merged.error().ToString();
  EXPECT_EQ(merged->alert_count, 2);
  EXPECT_EQ(merged->services, (std::vector<std::string>{"checkout", "payments"}));
  EXPECT_EQ(store_->GetAlert(b.alert_id)->incident_id, a.incident_id);
  auto source = *store_->GetIncident(b.incident_id);
  EXPECT_EQ(source.status, IncidentStatus::kResolved);
  EXPECT_EQ(source.merged_into, a.incident_id);
  EXPECT_EQ(source.alert_count, 0);
  // The moved alert's history is now on the target's timeline.
  bool moved = false;
  for (const auto& e : Timeline(a.incident_id)) {
    moved = moved || (e.record.action == "alert.triggered" &&
                      e.record.resource_id == std::to_string(b.alert_id));
  }
  EXPECT_TRUE(moved);
  // A merged incident cannot be reopened or merged again.
  EXPECT_EQ(Move(b.incident_id, IncidentAction::kReopen).error().code(),
            StatusCode::kFailedPrecondition);
  auto again = Wait<core::Incident>([&](auto cb) {
    store_->MergeIncidents(b.incident_id, a.incident_id, {"token", "me", "api"}, cb);
  });
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  auto self = Wait<core::Incident>([&](auto cb) {
    store_->MergeIncidents(a.incident_id, a.incident_id, {"token", "me", "api"}, cb);
  });
  EXPECT_EQ(self.error().code(), StatusCode::kInvalidArgument);
}

TEST_P(IncidentStoreTest, SplitMovesChosenAlertsToANewIncident) {
  auto first = Send(Ev("a", "checkout", minutes(10)));
  auto second = Send(Ev("b", "checkout", minutes(10)));
  auto third = Send(Ev("c", "checkout", minutes(10)));
  ASSERT_EQ(second.incident_id, first.incident_id);
  ASSERT_EQ(third.incident_id, first.incident_id);
  ASSERT_TRUE(Move(first.incident_id, IncidentAction::kAcknowledge));
  auto split = Wait<core::Incident>([&](auto cb) {
    store_->SplitIncident(first.incident_id, {third.alert_id},
                          NewIncident{.title = "separate problem", .sev = "SEV3"},
                          {"token", "me", "api"}, cb);
  });
  ASSERT_TRUE(split) << split.error().ToString();
  EXPECT_EQ(split->title, "separate problem");
  EXPECT_EQ(split->alert_count, 1);
  // The source was acknowledged, so the split-off part is too (nobody is paged again).
  EXPECT_EQ(split->status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(store_->GetIncident(first.incident_id)->alert_count, 2);
  EXPECT_EQ(store_->GetAlert(third.alert_id)->incident_id, split->id);
  auto bad = Wait<core::Incident>([&](auto cb) {
    store_->SplitIncident(first.incident_id, {third.alert_id}, NewIncident{},
                          {"token", "me", "api"}, cb);
  });
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);  // no longer in the source
  auto all = Wait<core::Incident>([&](auto cb) {
    store_->SplitIncident(first.incident_id, {first.alert_id, second.alert_id}, NewIncident{},
                          {"token", "me", "api"}, cb);
  });
  EXPECT_EQ(all.error().code(), StatusCode::kInvalidArgument);  // would leave it empty
}

TEST_P(IncidentStoreTest, StatusUpdatesAndIncidentFilters) {
  auto inc = *Declare({.title = "x", .sev = "SEV1", .services = {"checkout"}});
  auto page = Send(Ev("p"));
  StatusUpdate u;
  u.incident_id = inc.id;
  u.author = "me";
  u.via = "cli";
  u.phase = "investigating";
  u.fields_json = R"({"message":"m"})";
  u.renderings = {{"public", "S", "public text"}, {"engineering", "E", "eng text"}};
  auto published = Wait<StatusUpdate>([&](auto cb) {
    store_->PublishStatusUpdate(u, {"token", "me", "cli"}, cb);
  });
  ASSERT_TRUE(published);
  auto list = *store_->ListStatusUpdates({.incident_id = inc.id});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].renderings.size(), 2u);
  EXPECT_EQ(list[0].renderings[0].text, "public text");
  EXPECT_EQ(store_->GetIncident(inc.id)->last_update_at, clock_.Now());
  EXPECT_EQ(store_->ListIncidents({.declared_only = true})->size(), 1u);
  EXPECT_EQ(store_->ListIncidents({.sev = std::string("SEV1")})->size(), 1u);
  ASSERT_TRUE(Move(page.incident_id, IncidentAction::kResolve));
  EXPECT_EQ(store_->ListIncidents({.open_only = true})->size(), 1u);
  clock_.Advance(std::chrono::hours(48));
  EXPECT_EQ(store_->ListIncidents({.active_since = clock_.Now() - std::chrono::hours(24)})->size(),
            1u);  // the open one; the page was resolved two days ago
}

HOUSTON_STORE_CONTRACT(IncidentStoreTest);

}  // namespace
}  // namespace houston::store
