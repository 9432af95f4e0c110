#include "core/incident.h"

#include <gtest/gtest.h>

#include "core/time_util.h"
#include "testing/status_matchers.h"

namespace houston::core {
namespace {

using ::houston::testing::StatusIs;

using S = IncidentStatus;
using A = IncidentAction;
using std::chrono::hours;
using std::chrono::minutes;

TimePoint T(const char* s) { return *ParseRfc3339(s); }

// ---- state machine --------------------------------------------------------------------------

TEST(IncidentStatusTest, ForwardPath) {
  EXPECT_EQ(NextIncidentStatus(S::kTriggered, A::kAcknowledge).value(), S::kAcknowledged);
  EXPECT_EQ(NextIncidentStatus(S::kAcknowledged, A::kMitigate).value(), S::kMitigated);
  EXPECT_EQ(NextIncidentStatus(S::kMitigated, A::kResolve).value(), S::kResolved);
  EXPECT_EQ(NextIncidentStatus(S::kResolved, A::kReopen).value(), S::kTriggered);
}

TEST(IncidentStatusTest, ShortcutsAreAllowed) {
  EXPECT_EQ(NextIncidentStatus(S::kTriggered, A::kMitigate).value(), S::kMitigated);
  EXPECT_EQ(NextIncidentStatus(S::kTriggered, A::kResolve).value(), S::kResolved);
  EXPECT_EQ(NextIncidentStatus(S::kAcknowledged, A::kResolve).value(), S::kResolved);
}

TEST(IncidentStatusTest, RepeatsThatChangeNothing) {
  EXPECT_EQ(NextIncidentStatus(S::kAcknowledged, A::kAcknowledge).value(), S::kAcknowledged);
  // Acknowledging (e.g. from an old page link) never moves a mitigated incident back.
  EXPECT_EQ(NextIncidentStatus(S::kMitigated, A::kAcknowledge).value(), S::kMitigated);
  EXPECT_EQ(NextIncidentStatus(S::kMitigated, A::kMitigate).value(), S::kMitigated);
}

TEST(IncidentStatusTest, IllegalTransitionsSayWhy) {
  for (A a : {A::kAcknowledge, A::kMitigate, A::kResolve}) {
    auto r = NextIncidentStatus(S::kResolved, a);
    ASSERT_FALSE(r.has_value()) << ToString(a);
    EXPECT_THAT(r, StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_NE(r.error().message().find("already resolved"), std::string::npos);
    EXPECT_NE(r.error().message().find("reopen"), std::string::npos);
  }
  for (S s : {S::kTriggered, S::kAcknowledged, S::kMitigated}) {
    auto r = NextIncidentStatus(s, A::kReopen);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("only a resolved incident can be reopened"),
              std::string::npos);
  }
}

TEST(IncidentStatusTest, ActionNamesRoundTrip) {
  for (A a : {A::kAcknowledge, A::kMitigate, A::kResolve, A::kReopen}) {
    EXPECT_EQ(ParseIncidentAction(ToString(a)), a);
  }
  EXPECT_EQ(ParseIncidentAction("close"), std::nullopt);
  EXPECT_EQ(ParseIncidentStatus("mitigated"), S::kMitigated);
  EXPECT_EQ(ToString(S::kMitigated), "mitigated");
}

// ---- severities -----------------------------------------------------------------------------

TEST(SevTest, NormalizesIdsAndNumbers) {
  const auto& levels = DefaultSevLevels();
  EXPECT_EQ(NormalizeSev("SEV2", levels).value(), "SEV2");
  EXPECT_EQ(NormalizeSev("sev2", levels).value(), "SEV2");
  EXPECT_EQ(NormalizeSev("2", levels).value(), "SEV2");
  EXPECT_EQ(NormalizeSev("1", levels).value(), "SEV1");
  EXPECT_EQ(NormalizeSev("5", levels).value(), "SEV5");
  std::vector<std::string> custom = {"P0", "P1", "P2"};
  EXPECT_EQ(NormalizeSev("p1", custom).value(), "P1");
  EXPECT_EQ(NormalizeSev("1", custom).value(), "P0");
}

TEST(SevTest, RejectsUnknownLevels) {
  for (const char* bad : {"6", "0", "-1", "SEV9", "", "critical", "2x"}) {
    auto r = NormalizeSev(bad, DefaultSevLevels());
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_NE(r.error().message().find("SEV1, SEV2, SEV3, SEV4, SEV5"), std::string::npos);
  }
}

TEST(SevTest, Rank) {
  EXPECT_EQ(SevRank("SEV1", DefaultSevLevels()), 0);
  EXPECT_EQ(SevRank("SEV4", DefaultSevLevels()), 3);
  EXPECT_EQ(SevRank("", DefaultSevLevels()), std::nullopt);
}

// ---- suspect changes ------------------------------------------------------------------------

Change C(int64_t id, const std::string& service, const std::string& at,
         const std::string& summary = "deploy") {
  Change c;
  c.id = id;
  c.service_id = service;
  c.timestamp = T(at.c_str());
  c.received_at = c.timestamp;
  c.summary = summary;
  return c;
}

std::map<std::string, std::vector<std::string>> Graph() {
  // storefront -> checkout -> payments-api -> payments-db; checkout -> payments-db
  return {{"storefront", {"checkout"}},
          {"checkout", {"payments-api", "payments-db"}},
          {"payments-api", {"payments-db"}}};
}

TEST(SuspectTest, ReachableFollowsDependsOnOnly) {
  auto reach = ReachableServices({"checkout"}, Graph());
  ASSERT_EQ(reach.size(), 3u);  // not storefront: it depends on checkout, not the reverse
  EXPECT_EQ(reach.at("checkout").hops, 0);
  EXPECT_EQ(reach.at("payments-api").hops, 1);
  EXPECT_EQ(reach.at("payments-db").hops, 1);  // the shortest path wins
  EXPECT_EQ(reach.at("payments-db").from, "checkout");
  EXPECT_FALSE(reach.contains("storefront"));
}

TEST(SuspectTest, RanksByTimeAndDistanceWithReasons) {
  auto reach = ReachableServices({"checkout"}, Graph());
  TimePoint impact = T("2026-11-20T12:00:00Z");
  std::vector<Change> changes = {
      C(1, "checkout", "2026-11-20T11:48:00Z", "checkout v42"),     // 12 min, 0 hops
      C(2, "payments-db", "2026-11-20T11:50:00Z", "db flag flip"),  // 10 min, 1 hop
      C(3, "checkout", "2026-11-20T06:00:00Z", "checkout v41"),     // 6 h, 0 hops
      C(4, "storefront", "2026-11-20T11:59:00Z", "storefront v7"),  // not reachable
      C(5, "checkout", "2026-11-19T10:00:00Z", "too old"),          // beyond 24 h
      C(6, "checkout", "2026-11-20T12:30:00Z", "after the fact"),   // 30 min after
      C(7, "payments-api", "2026-11-20T12:05:00Z", "api v3"),       // 5 min after: grace
  };
  auto s = RankSuspectChanges(changes, reach, impact);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].change.id, 1);
  EXPECT_EQ(s[0].reason, "12 min before impact started, on checkout (affected)");
  EXPECT_EQ(s[0].hops, 0);
  // A change after impact started (within the grace) counts as "just now", on a dependency.
  EXPECT_EQ(s[1].change.id, 7);
  EXPECT_EQ(s[1].reason,
            "5 min after impact started (clock skew?), on payments-api, which checkout depends on");
  EXPECT_EQ(s[2].change.id, 2);
  EXPECT_EQ(s[2].reason, "10 min before impact started, on payments-db, which checkout depends on");
  EXPECT_EQ(s[3].change.id, 3);
  EXPECT_EQ(s[3].reason, "6 h before impact started, on checkout (affected)");
  EXPECT_GT(s[0].score, s[2].score);
  EXPECT_GT(s[2].score, s[3].score);
}

TEST(SuspectTest, DistantHopsAndLimits) {
  auto reach = ReachableServices({"storefront"}, Graph());
  TimePoint impact = T("2026-11-20T12:00:00Z");
  auto s = RankSuspectChanges({C(1, "payments-api", "2026-11-20T11:00:00Z")}, reach, impact);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].reason,
            "1 h before impact started, on payments-api, 2 hops down storefront's dependencies");
  std::vector<Change> many;
  for (int i = 0; i < 30; ++i) many.push_back(C(i + 1, "storefront", "2026-11-20T11:00:00Z"));
  SuspectOptions o;
  o.limit = 5;
  EXPECT_EQ(RankSuspectChanges(many, reach, impact, o).size(), 5u);
  o.lookback = hours(1);
  EXPECT_EQ(
      RankSuspectChanges({C(1, "storefront", "2026-11-20T10:59:00Z")}, reach, impact, o).size(),
      0u);
}

TEST(SuspectTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(std::chrono::seconds(45)), "45 s");
  EXPECT_EQ(FormatDuration(minutes(12)), "12 min");
  EXPECT_EQ(FormatDuration(minutes(185)), "3 h 5 min");
  EXPECT_EQ(FormatDuration(hours(3)), "3 h");
  EXPECT_EQ(FormatDuration(hours(52)), "2 d 4 h");
  EXPECT_EQ(FormatDuration(hours(48)), "2 d");
}

// ---- status updates per audience ------------------------------------------------------------

AudienceContext Ctx() {
  AudienceContext ctx;
  Incident& i = ctx.incident;
  i.id = 42;
  i.title = "Checkout 500s after deploy";
  i.summary = "db pool exhausted on db-7.internal";
  i.sev = "SEV2";
  i.status = S::kAcknowledged;
  i.service_id = "checkout";
  i.services = {"checkout", "payments-api"};
  i.impact_started_at = T("2026-11-20T12:00:00Z");
  i.declared_by = "alice";  // declared by a person (see PublicTitleOfAutomaticIncidents)
  ctx.now = T("2026-11-20T12:45:00Z");
  ctx.sev_description = "Major";
  ctx.services = {{"checkout", "Checkout API"}, {"payments-api", "Payments API"}};
  ctx.roles = {{"commander", "Commander", "Alice Example"},
               {"communications_lead", "Communications lead", "Bob"}};
  ctx.suspects = {"checkout v42: 12 min before impact started, on checkout (affected)"};
  ctx.components = {"Checkout and payments"};
  ctx.incident_url = "http://houston/incidents/42";
  return ctx;
}

UpdateFields Fields() {
  UpdateFields u;
  u.phase = "identified";
  u.message = "connection pool exhausted on db-7.internal after v42; rolling back";
  u.impact = "about 30% of orders fail";
  u.customer_effect = "checkout shows an error page";
  u.eta = "within 30 minutes";
  u.support_guidance = "ask customers to retry in half an hour; no double charges";
  u.public_message = "Some customers cannot complete checkout. We have found the cause.";
  u.next_update_in = minutes(30);
  return u;
}

TEST(UpdateRenderTest, ExecutivesGetImpactEtaAndNoJargon) {
  auto r = RenderUpdate("executives", "", "", Ctx(), Fields()).value();
  EXPECT_EQ(r.subject, "[SEV2] Checkout 500s after deploy: Identified");
  EXPECT_NE(r.text.find("Impact: about 30% of orders fail"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Customer effect: checkout shows an error page"), std::string::npos);
  EXPECT_NE(r.text.find("ETA: within 30 minutes"), std::string::npos);
  EXPECT_NE(r.text.find("Duration so far: 45 min"), std::string::npos);
  EXPECT_NE(r.text.find("Incident commander: Alice Example"), std::string::npos);
  EXPECT_NE(r.text.find("Next update in 30 min."), std::string::npos);
  EXPECT_EQ(r.text.find("db-7.internal"), std::string::npos) << "technical detail leaked";
}

TEST(UpdateRenderTest, EngineeringGetsTechnicalDetailAndSuspects) {
  auto r = RenderUpdate("engineering", "", "", Ctx(), Fields()).value();
  EXPECT_NE(r.text.find("connection pool exhausted on db-7.internal"), std::string::npos);
  EXPECT_NE(r.text.find("Suspect changes:\n- checkout v42"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Services: Checkout API and Payments API"), std::string::npos);
  EXPECT_NE(r.text.find("Commander: Alice Example"), std::string::npos);
  EXPECT_NE(r.text.find("http://houston/incidents/42"), std::string::npos);
}

TEST(UpdateRenderTest, SupportGetsWhatToTellCustomers) {
  auto r = RenderUpdate("support", "", "", Ctx(), Fields()).value();
  EXPECT_NE(r.text.find("What to tell customers: ask customers to retry"), std::string::npos);
  EXPECT_NE(r.text.find("What customers notice: checkout shows an error page"), std::string::npos);
  EXPECT_EQ(r.text.find("db-7"), std::string::npos);
}

TEST(UpdateRenderTest, PublicSeesOnlyPublicFields) {
  AudienceContext ctx = Ctx();
  auto r = RenderUpdate("public", "", "", ctx, Fields()).value();
  EXPECT_EQ(r.subject, "Service disruption affecting Checkout and payments: Identified");
  EXPECT_EQ(r.text,
            "Some customers cannot complete checkout. We have found the cause. We expect to "
            "resolve it within 30 minutes. Next update in 30 min.");
  // Even a template that asks for internal fields gets nothing from them.
  auto sneaky = RenderUpdate("public", "{{incident.title}}",
                             "{{incident.summary}}|{{update.message}}|{{incident.sev}}|{{title}}",
                             ctx, Fields())
                    .value();
  EXPECT_EQ(sneaky.subject, "");
  EXPECT_EQ(sneaky.text, "|||Service disruption affecting Checkout and payments");
  ctx.incident.public_title = "Checkout problems";
  EXPECT_EQ(RenderUpdate("public", "{{title}}", "x", ctx, Fields())->subject, "Checkout problems");
}

TEST(UpdateRenderTest, PublicTitleOfAutomaticIncidents) {
  Incident declared = Ctx().incident;
  EXPECT_EQ(PublicTitle(declared, {"Website"}), "Service disruption affecting Website");
  // Opened by alerts (nobody declared them): told apart by when they began, and never by the
  // alert's own (internal) words.
  Incident a = declared;
  a.declared_by = "";
  a.title = "Disk 95% full on db-7.internal";
  Incident b = a;
  b.impact_started_at = T("2026-11-21T08:05:00Z");
  EXPECT_EQ(PublicTitle(a, {"Website"}),
            "Service disruption affecting Website (from Nov 20, 12:00 UTC)");
  EXPECT_EQ(PublicTitle(b, {"Website"}),
            "Service disruption affecting Website (from Nov 21, 08:05 UTC)");
  EXPECT_EQ(PublicTitle(b, {}), "Service disruption (from Nov 21, 08:05 UTC)");
  // Without an impact start: when houston opened it.
  b.impact_started_at.reset();
  b.created_at = T("2026-12-04T14:05:30Z");
  EXPECT_EQ(PublicTitle(b, {"Website"}),
            "Service disruption affecting Website (from Dec 4, 14:05 UTC)");
  // A public title someone wrote wins.
  b.public_title = "Slow checkout";
  EXPECT_EQ(PublicTitle(b, {"Website"}), "Slow checkout");
}

TEST(UpdateRenderTest, DefaultsWhenTheAuthorSaysLittle) {
  UpdateFields u;
  u.phase = "investigating";
  auto pub = RenderUpdate("public", "", "", Ctx(), u).value();
  EXPECT_EQ(pub.text, "We are investigating an issue affecting Checkout and payments.");
  auto exec = RenderUpdate("executives", "", "", Ctx(), u).value();
  EXPECT_NE(exec.text.find("Impact: being assessed"), std::string::npos);
  EXPECT_NE(exec.text.find("ETA: not known yet"), std::string::npos);
}

TEST(UpdateRenderTest, CustomTemplatesAndErrorsWithLineAndColumn) {
  auto r = RenderUpdate("executives", "{{incident.sev}} update",
                        "Hi,\n{{update.impact}} ({{incident.commander}})", Ctx(), Fields());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->subject, "SEV2 update");
  EXPECT_EQ(r->text, "Hi,\nabout 30% of orders fail (Alice Example)");
  auto bad =
      RenderUpdate("support", "", "line one\n  {{#update.eta}} never closed", Ctx(), Fields());
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(bad.error().message().find("audience 'support' template: invalid template"),
            std::string::npos)
      << bad.error().message();
  EXPECT_NE(bad.error().message().find("line 2, column"), std::string::npos)
      << bad.error().message();
  Status st = ValidateTemplate("ok {{a}}\n{{/b}}");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 2, column 1"), std::string::npos) << st.message();
  EXPECT_TRUE(ValidateTemplate("{{#x}}{{y}}{{/x}}").ok());
}

TEST(UpdateRenderTest, PhasesAndDefaults) {
  EXPECT_TRUE(IsPhase("monitoring"));
  EXPECT_FALSE(IsPhase("fixed"));
  EXPECT_EQ(PhaseLabel("identified"), "Identified");
  EXPECT_EQ(DefaultPhase(S::kTriggered), "investigating");
  EXPECT_EQ(DefaultPhase(S::kMitigated), "monitoring");
  EXPECT_EQ(DefaultPhase(S::kResolved), "resolved");
}

// ---- component states -----------------------------------------------------------------------

TEST(ComponentStateTest, FromSeverityAndStatus) {
  using CS = ComponentState;
  EXPECT_EQ(StateForIncident(0, S::kTriggered), CS::kMajorOutage);
  EXPECT_EQ(StateForIncident(1, S::kAcknowledged), CS::kPartialOutage);
  EXPECT_EQ(StateForIncident(2, S::kAcknowledged), CS::kDegradedPerformance);
  EXPECT_EQ(StateForIncident(3, S::kAcknowledged), CS::kOperational);
  EXPECT_EQ(StateForIncident(0, S::kMitigated), CS::kDegradedPerformance);
  EXPECT_EQ(StateForIncident(0, S::kResolved), CS::kOperational);
  EXPECT_EQ(Worse(CS::kUnderMaintenance, CS::kPartialOutage), CS::kPartialOutage);
  EXPECT_EQ(Worse(CS::kUnderMaintenance, CS::kOperational), CS::kUnderMaintenance);
  EXPECT_EQ(ParseComponentState("major_outage"), CS::kMajorOutage);
  EXPECT_EQ(ToString(CS::kDegradedPerformance), "degraded_performance");
}

}  // namespace
}  // namespace houston::core
