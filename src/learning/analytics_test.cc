// AnalyticsService over the store, on SQLite and PostgreSQL: each formula on hand-computed
// fixtures (incidents across the range's edges, reopened and merged incidents, untriaged pages,
// month buckets in a zone with DST, a night page across a DST change, hours on call with
// overlapping schedules, alert noise and flaps, the weekly report and a responder's record).
#include "learning/analytics.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <random>
#include <thread>

#include "core/time_util.h"
#include "learning/noise_rollup.h"
#include "testing/store_backend.h"

namespace houston::learning {
namespace {

using core::IncidentAction;
using std::chrono::minutes;
using std::chrono::seconds;
using store::Actor;
using store::Wait;

TimePoint T(std::string_view s) {
  auto t = ParseRfc3339(s);
  EXPECT_TRUE(t) << s;
  return t.value_or(TimePoint{});
}

constexpr std::string_view kOrg = R"yaml(users:
  - {id: nina, timezone: America/New_York}
  - {id: bob, timezone: UTC}
  - {id: carol, timezone: Europe/Berlin}
teams:
  - {id: shop, members: [nina, bob, carol]}
schedules:
  - id: primary
    timezone: UTC
    layers: [{start: "2026-03-02T00:00:00", rotation: {type: weekly}, users: [nina, bob]}]
  - id: shadow
    timezone: UTC
    layers: [{start: "2026-03-08T00:00:00", rotation: {type: daily}, users: [nina]}]
escalation_policies:
  - id: main
    steps: [{targets: [{schedule: primary}]}]
services:
  - {id: checkout, escalation_policy: main, team: shop,
     integrations: [{type: events_v2, key: rk-checkout-0001, name: prom}]}
  - {id: payments, escalation_policy: main}
)yaml";

class AnalyticsTest : public houston::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    org_ = std::move(*org);
    service_ = std::make_unique<AnalyticsService>(*store_, clock_);
  }
  void TearDown() override {
    service_.reset();
    StoreBackendTest::TearDown();
  }

  core::IncidentId Declare(TimePoint at, std::string sev, std::string service,
                           std::vector<std::pair<std::string, std::string>> roles = {},
                           std::vector<std::string> responders = {}) {
    clock_.Set(at);
    auto inc = Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident({.title = "incident at " + FormatRfc3339(at),
                               .sev = std::move(sev),
                               .services = {std::move(service)},
                               .roles = std::move(roles),
                               .responders = std::move(responders),
                               .escalation_policy = "main",
                               .first_step_delay = minutes(0)},
                              Actor{"token", "me", "api"}, cb);
    });
    EXPECT_TRUE(inc) << inc.error().ToString();
    return inc ? inc->id : 0;
  }
  void Move(core::IncidentId id, IncidentAction a, TimePoint at, std::string user = "") {
    clock_.Set(at);
    Actor actor = user.empty() ? Actor{"token", "me", "api"} : Actor{"user", user, "web"};
    auto r = Wait<core::Incident>([&](auto cb) { store_->TransitionIncident(id, a, actor, cb); });
    ASSERT_TRUE(r) << r.error().ToString();
  }
  void Merge(core::IncidentId from, core::IncidentId into, TimePoint at) {
    clock_.Set(at);
    auto r = Wait<core::Incident>([&](auto cb) {
      store_->MergeIncidents(from, into, Actor{"token", "me", "api"}, cb);
    });
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // Pages `user` for `id` at `at` through each of `methods` (one page: one step).
  void Page(core::IncidentId id, std::string user, TimePoint at,
            std::vector<std::string> methods = {"hook"}) {
    clock_.Set(at);
    auto esc = store_->GetEscalation(id);
    ASSERT_TRUE(esc && *esc) << "no escalation for " << id;
    store::EscalationUpdate u{.incident_id = id,
                              .expected_version = (*esc)->version,
                              .state = core::EscalationState::kActive,
                              .step = 0,
                              .loop = 0,
                              .due_at = at + std::chrono::hours(1),
                              .fired_step = ++steps_[id],
                              .fired_loop = 0};
    for (auto& m : methods) {
      u.pages.push_back(store::PageRequest{
          .user_id = user, .contact_method_id = m, .channel_type = "webhook", .not_before = at});
    }
    auto r = Wait<int>([&](auto cb) { store_->UpdateEscalations({u}, cb); });
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(*r, 1);
  }
  // Applies one alert event at `at` as an integration sends it (integration rk-checkout-0001 and
  // service checkout unless `e` says otherwise).
  void SendAlert(TimePoint at, core::AlertEvent e) {
    clock_.Set(at);
    if (e.integration_key.empty()) e.integration_key = "rk-checkout-0001";
    if (e.service_id.empty()) e.service_id = "checkout";
    e.summary = "alert " + e.dedup_key;
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "main";
    auto r = Wait<std::vector<store::EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents({std::move(e)}, Actor{"integration", "src", "integration"}, cb);
    });
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // Runs SQL on the test's database directly (rows the learning store's writes would make).
  void Exec(const std::string& sql) {
    if (postgres()) {
      PGconn* c = PQconnectdb(url_.c_str());
      ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
      PGresult* r = PQexec(c, sql.c_str());
      EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c);
      PQclear(r);
      PQfinish(c);
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "houston.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // One number read with SQL from the test's database directly.
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    if (postgres()) {
      PGconn* c = PQconnectdb(url_.c_str());
      EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        n = std::atoll(PQgetvalue(r, 0, 0));
      } else {
        ADD_FAILURE() << PQerrorMessage(c);
      }
      PQclear(r);
      PQfinish(c);
      return n;
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "houston.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    } else {
      ADD_FAILURE() << sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }
  static int64_t Ms(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

  const store::IncidentStatsRow* Row(const IncidentAnalytics& a, int bucket,
                                     const std::string& group) {
    for (const auto& r : a.rows) {
      if (r.bucket == bucket && r.group == group) return &r;
    }
    return nullptr;
  }

  // The day of hand-computed incidents (UTC): see IncidentFormulas.
  void DayOfIncidents() {
    auto a = Declare(T("2026-02-28T23:50:00Z"), "SEV2", "checkout");  // before the range
    auto b = Declare(T("2026-03-01T00:00:00Z"), "SEV1", "checkout");  // on its start: counts
    Move(a, IncidentAction::kResolve, T("2026-03-01T00:00:30Z"));
    Move(b, IncidentAction::kAcknowledge, T("2026-03-01T00:01:00Z"), "nina");  // TTA 60
    Move(b, IncidentAction::kMitigate, T("2026-03-01T00:05:00Z"));             // TTM 300
    Move(b, IncidentAction::kResolve, T("2026-03-01T00:10:00Z"));              // TTR 600
    auto c = Declare(T("2026-03-01T01:00:00Z"), "SEV2", "checkout");
    Move(c, IncidentAction::kAcknowledge, T("2026-03-01T01:02:00Z"));  // TTA 120
    auto e = Declare(T("2026-03-01T02:00:00Z"), "", "payments");       // an untriaged page
    Move(e, IncidentAction::kResolve, T("2026-03-01T02:01:40Z"));      // TTM = TTR = 100, no TTA
    auto g = Declare(T("2026-03-01T03:00:00Z"), "SEV2", "checkout");
    Merge(g, c, T("2026-03-01T03:05:00Z"));                        // g does not count
    Move(c, IncidentAction::kResolve, T("2026-03-01T04:00:00Z"));  // TTM = TTR = 10800
    // Reopened: counts once, with its first acknowledgement and its final resolution.
    auto h = Declare(T("2026-03-01T05:00:00Z"), "SEV3", "payments");
    Move(h, IncidentAction::kAcknowledge, T("2026-03-01T05:10:00Z"));  // TTA 600
    Move(h, IncidentAction::kResolve, T("2026-03-01T05:20:00Z"));
    Move(h, IncidentAction::kReopen, T("2026-03-01T06:00:00Z"));
    Move(h, IncidentAction::kAcknowledge, T("2026-03-01T06:30:00Z"));  // not its TTA
    Move(h, IncidentAction::kResolve, T("2026-03-01T07:00:00Z"));      // TTM = TTR = 7200
    auto d = Declare(T("2026-03-01T23:59:59Z"), "SEV2", "checkout");   // last second: counts
    Move(d, IncidentAction::kAcknowledge, T("2026-03-02T00:00:29Z"));  // TTA 30, still open
    Declare(T("2026-03-02T00:00:00Z"), "SEV2", "checkout");            // on the end: out
  }

  config::Org org_;
  std::unique_ptr<AnalyticsService> service_;
  std::map<core::IncidentId, int> steps_;
};

void ExpectStats(const store::DurationStats& d, int64_t n, std::optional<double> mean,
                 std::optional<double> p50, std::optional<double> p90) {
  EXPECT_EQ(d.n, n);
  auto near = [](std::optional<double> got, std::optional<double> want) {
    ASSERT_EQ(got.has_value(), want.has_value());
    if (want) {
      EXPECT_NEAR(*got, *want, 1e-6);
    }
  };
  near(d.mean, mean);
  near(d.p50, p50);
  near(d.p90, p90);
}

TEST_P(AnalyticsTest, IncidentFormulasByService) {
  DayOfIncidents();
  auto a = service_->Incidents(org_, {.from = T("2026-03-01T00:00:00Z"),
                                      .to = T("2026-03-02T00:00:00Z"),
                                      .group_by = store::IncidentGroupBy::kService});
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_EQ(a->buckets.size(), 1u);
  ASSERT_EQ(a->rows.size(), 2u);
  const auto* checkout = Row(*a, 0, "checkout");
  ASSERT_NE(checkout, nullptr);
  EXPECT_EQ(checkout->count, 3);  // b, c (with g merged into it) and d
  ExpectStats(checkout->tta, 3, 70, 60, 120);
  ExpectStats(checkout->ttm, 2, 5550, 300, 10800);
  ExpectStats(checkout->ttr, 2, 5700, 600, 10800);
  const auto* payments = Row(*a, 0, "payments");
  ASSERT_NE(payments, nullptr);
  EXPECT_EQ(payments->count, 2);  // e and h (reopened, once)
  ExpectStats(payments->tta, 1, 600, 600, 600);
  ExpectStats(payments->ttm, 2, 3650, 100, 7200);
  ExpectStats(payments->ttr, 2, 3650, 100, 7200);
}

TEST_P(AnalyticsTest, IncidentsBySeverityAndTeam) {
  DayOfIncidents();
  auto sev = service_->Incidents(org_, {.from = T("2026-03-01T00:00:00Z"),
                                        .to = T("2026-03-02T00:00:00Z"),
                                        .group_by = store::IncidentGroupBy::kSeverity});
  ASSERT_TRUE(sev) << sev.error().ToString();
  std::map<std::string, int64_t> counts;
  for (const auto& r : sev->rows) counts[r.group] = r.count;
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{
                        {"SEV1", 1}, {"SEV2", 2}, {"SEV3", 1}, {"untriaged", 1}}));
  auto team = service_->Incidents(org_, {.from = T("2026-03-01T00:00:00Z"),
                                         .to = T("2026-03-02T00:00:00Z"),
                                         .group_by = store::IncidentGroupBy::kTeam});
  ASSERT_TRUE(team) << team.error().ToString();
  counts.clear();
  for (const auto& r : team->rows) counts[r.group] = r.count;
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"none", 2}, {"shop", 3}}));
  // Only the team's services.
  auto shop = service_->Incidents(org_, {.from = T("2026-03-01T00:00:00Z"),
                                         .to = T("2026-03-02T00:00:00Z"),
                                         .group_by = store::IncidentGroupBy::kService,
                                         .team = "shop"});
  ASSERT_TRUE(shop) << shop.error().ToString();
  ASSERT_EQ(shop->rows.size(), 1u);
  EXPECT_EQ(shop->rows[0].group, "checkout");
}

TEST_P(AnalyticsTest, MonthBucketsFollowTheZoneAcrossDst) {
  auto ny = core::LocateTimeZone("America/New_York");
  ASSERT_TRUE(ny);
  // 23:30 on Feb 28 in New York is already March 1 in UTC: it counts in February there.
  Declare(T("2026-03-01T04:30:00Z"), "SEV2", "checkout");
  Declare(T("2026-03-01T05:00:00Z"), "SEV2", "checkout");  // midnight March 1 (EST)
  Declare(T("2026-04-01T03:30:00Z"), "SEV2", "checkout");  // 23:30 March 31 (EDT)
  Declare(T("2026-04-01T04:00:00Z"), "SEV2", "checkout");  // midnight April 1 (EDT): out
  auto from = ParseInstant("2026-02-01", *ny, "from");
  auto to = ParseInstant("2026-04-01", *ny, "to");
  ASSERT_TRUE(from && to);
  EXPECT_EQ(*from, T("2026-02-01T05:00:00Z"));
  EXPECT_EQ(*to, T("2026-04-01T04:00:00Z"));
  auto a = service_->Incidents(org_, {.from = *from,
                                      .to = *to,
                                      .group_by = store::IncidentGroupBy::kService,
                                      .interval = Interval::kMonth,
                                      .zone = *ny});
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_EQ(a->buckets.size(), 2u);
  EXPECT_EQ(a->buckets[0].label, "2026-02-01");
  EXPECT_EQ(a->buckets[1].start, T("2026-03-01T05:00:00Z"));
  EXPECT_EQ(a->buckets[1].end, T("2026-04-01T04:00:00Z"));
  ASSERT_NE(Row(*a, 0, "checkout"), nullptr);
  EXPECT_EQ(Row(*a, 0, "checkout")->count, 1);
  ASSERT_NE(Row(*a, 1, "checkout"), nullptr);
  EXPECT_EQ(Row(*a, 1, "checkout")->count, 2);
}

TEST_P(AnalyticsTest, OncallLoadCountsNightPagesInThePersonsZoneAcrossDst) {
  auto x = Declare(T("2026-03-08T06:00:00Z"), "SEV2", "checkout", {{"commander", "nina"}});
  auto y = Declare(T("2026-03-08T06:10:00Z"), "SEV3", "checkout", {}, {"bob"});
  // New York switches to EDT at 07:00Z on Sunday 2026-03-08.
  Page(x, "nina", T("2026-03-08T06:30:00Z"), {"hook", "sms"});  // 01:30 EST Sun: night, once
  Page(x, "nina", T("2026-03-08T07:30:00Z"));                   // 03:30 EDT Sun: night
  Page(y, "nina", T("2026-03-09T11:30:00Z"));  // 07:30 EDT Mon: out of hours, not night
  Page(y, "nina", T("2026-03-09T12:30:00Z"));  // 08:30 EDT Mon: in hours (07:30 in EST)
  Page(y, "bob", T("2026-03-09T23:00:00Z"));   // 23:00 UTC Mon: night
  Page(y, "dave", T("2026-03-09T23:00:00Z"));  // not in the org: left out
  Move(x, IncidentAction::kAcknowledge, T("2026-03-08T06:40:00Z"), "nina");
  Page(x, "nina", T("2026-03-10T00:00:00Z"));  // on the range's end: out

  auto load = service_->Load(org_, T("2026-03-08T00:00:00Z"), T("2026-03-10T00:00:00Z"), "shop");
  ASSERT_TRUE(load) << load.error().ToString();
  ASSERT_EQ(load->people.size(), 3u);
  const auto& bob = load->people[0];
  const auto& carol = load->people[1];
  const auto& nina = load->people[2];
  EXPECT_EQ(nina.user, "nina");
  EXPECT_EQ(nina.pages, 4);
  EXPECT_EQ(nina.night, 2);
  EXPECT_EQ(nina.out_of_hours, 3);
  EXPECT_EQ(nina.timezone, "America/New_York");
  EXPECT_EQ(bob.pages, 1);
  EXPECT_EQ(bob.night, 1);
  EXPECT_EQ(bob.out_of_hours, 1);
  EXPECT_EQ(carol.pages, 0);
  // primary: nina until 03-09, bob after; shadow: nina all along (counted once).
  EXPECT_DOUBLE_EQ(nina.hours_on_call, 48);
  EXPECT_DOUBLE_EQ(bob.hours_on_call, 24);
  EXPECT_DOUBLE_EQ(carol.hours_on_call, 0);
  EXPECT_EQ(nina.acknowledged, 1);
  EXPECT_EQ(nina.incidents_handled, 1);  // acknowledged x and commander of x: one incident
  EXPECT_EQ(bob.acknowledged, 0);
  EXPECT_EQ(bob.incidents_handled, 1);  // responder on y
  EXPECT_EQ(load->spread.people, 3);
  EXPECT_EQ(load->spread.total_pages, 5);
  EXPECT_EQ(load->spread.min, 0);
  EXPECT_EQ(load->spread.max, 4);
  EXPECT_EQ(load->spread.busiest, "nina");
  EXPECT_NEAR(load->spread.mean, 5.0 / 3, 1e-9);
  EXPECT_NEAR(
      load->spread.stddev,
      std::sqrt((std::pow(4 - 5.0 / 3, 2) + std::pow(1 - 5.0 / 3, 2) + std::pow(0 - 5.0 / 3, 2)) /
                3),
      1e-9);
  EXPECT_NEAR(load->spread.busiest_share, 0.8, 1e-9);
}

TEST_P(AnalyticsTest, NoiseCountsAlertsFlapsAndSources) {
  auto send = [&](TimePoint at, std::string key, core::EventAction action,
                  std::string source = "prometheus", minutes window = minutes(0)) {
    core::AlertEvent e;
    e.action = action;
    e.dedup_key = std::move(key);
    e.source = std::move(source);
    e.group_window = window;
    SendAlert(at, std::move(e));
  };
  using A = core::EventAction;
  send(T("2026-03-01T09:00:00Z"), "k0", A::kTrigger);  // before the range
  send(T("2026-03-01T09:50:00Z"), "k0", A::kResolve);
  send(T("2026-03-01T10:00:00Z"), "k1", A::kTrigger);
  send(T("2026-03-01T10:00:00Z"), "k2", A::kTrigger, "grafana");
  send(T("2026-03-01T10:01:00Z"), "k2", A::kAcknowledge, "grafana");
  send(T("2026-03-01T10:02:00Z"), "k2", A::kResolve, "grafana");
  send(T("2026-03-01T10:05:00Z"), "k1", A::kResolve);
  send(T("2026-03-01T10:10:00Z"), "k3", A::kTrigger, "grafana");
  send(T("2026-03-01T10:30:00Z"), "k1", A::kTrigger);  // 25 min after it resolved: a flap
  send(T("2026-03-01T10:31:00Z"), "k1", A::kResolve);
  send(T("2026-03-01T12:00:00Z"), "k1", A::kTrigger);  // 89 min after: not a flap
  send(T("2026-03-01T12:10:00Z"), "k4", A::kTrigger, "loki", minutes(10));  // grouped with
  send(T("2026-03-01T12:11:00Z"), "k5", A::kTrigger, "loki", minutes(10));  // k1's incident
  send(T("2026-03-01T13:00:00Z"), "k6", A::kTrigger);  // on the range's end: out

  auto n = service_->Noise(
      {.from = T("2026-03-01T10:00:00Z"), .to = T("2026-03-01T13:00:00Z"), .top = 2});
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(n->alerts, 7);
  EXPECT_EQ(n->never_acknowledged, 2);  // k1 twice
  EXPECT_EQ(n->open, 4);                // k1 (third), k3, k4, k5
  EXPECT_EQ(n->flaps, 1);
  EXPECT_EQ(n->flapping_keys, 1);
  ASSERT_EQ(n->top_flapping.size(), 1u);
  EXPECT_EQ(n->top_flapping[0].key, "rk-checkout-0001/k1");
  ASSERT_EQ(n->top_sources.size(), 2u);
  EXPECT_EQ(n->top_sources[0].key, "prometheus");
  EXPECT_EQ(n->top_sources[0].count, 3);
  EXPECT_EQ(n->top_sources[1].key, "grafana");
  EXPECT_EQ(n->top_sources[1].count, 2);
  ASSERT_EQ(n->top_integrations.size(), 1u);
  EXPECT_EQ(n->top_integrations[0].count, 7);
  // k1 (first), k2, k3, k1 (second), and k1 (third) with k4 and k5 grouped into it (the
  // service groups alerts within 10 minutes): 1, 1, 1, 1, 3.
  EXPECT_EQ(n->incidents, 5);
  ExpectStats(n->alerts_per_incident, 5, 7.0 / 5, 1, 3);
  // A shorter window: no flap.
  auto strict = service_->Noise({.from = T("2026-03-01T10:00:00Z"),
                                 .to = T("2026-03-01T13:00:00Z"),
                                 .flap_window = minutes(20)});
  ASSERT_TRUE(strict) << strict.error().ToString();
  EXPECT_EQ(strict->flaps, 0);
}

// The noise roll-ups change only how fast Noise answers, never what: a seeded history of alerts
// over five days (triggers, acknowledgements, resolutions, flaps, two integrations and three
// sources) is checked against a model of the alerts, for ranges of whole and partial days and
// several flap windows, with nothing folded, folded part way (with the lag), all folded, and
// after folded alerts that were open resolve.
TEST_P(AnalyticsTest, NoiseRollUpsAnswerAsTheAlertsDo) {
  struct ModelAlert {
    std::string ik, dk, source;
    TimePoint created{};
    bool acknowledged = false;
    std::optional<TimePoint> resolved;
  };
  std::vector<ModelAlert> model;
  std::map<std::pair<std::string, std::string>, size_t> open;  // key -> index in model
  auto send = [&](TimePoint at, const std::string& ik, const std::string& dk,
                  const std::string& source, core::EventAction action) {
    core::AlertEvent e;
    e.action = action;
    e.integration_key = ik;
    e.service_id = ik == "rk-checkout-0001" ? "checkout" : "payments";
    e.dedup_key = dk;
    e.source = source;
    SendAlert(at, std::move(e));
    auto it = open.find({ik, dk});
    switch (action) {
      case core::EventAction::kTrigger:
        if (it == open.end()) {
          open[{ik, dk}] = model.size();
          model.push_back(ModelAlert{ik, dk, source, at});
        }
        break;
      case core::EventAction::kAcknowledge:
        if (it != open.end()) model[it->second].acknowledged = true;
        break;
      case core::EventAction::kResolve:
        if (it != open.end()) {
          model[it->second].resolved = at;
          open.erase(it);
        }
        break;
    }
  };
  struct Range {
    TimePoint from, to;
  };
  const std::vector<Range> ranges = {
      {T("2026-03-01T00:00:00Z"), T("2026-03-06T00:00:00Z")},  // everything, whole days
      {T("2026-03-02T00:00:00Z"), T("2026-03-04T00:00:00Z")},  // whole days inside
      {T("2026-03-01T05:17:00Z"), T("2026-03-04T19:02:00Z")},  // partial days at both ends
      {T("2026-03-02T12:00:00Z"), T("2026-03-02T18:00:00Z")},  // inside one day
      {T("2026-03-03T23:00:00Z"), T("2026-03-05T01:00:00Z")},  // one whole day between
  };
  const std::vector<minutes> windows = {minutes(5), minutes(60), minutes(24 * 60)};
  auto check = [&](const std::string& stage) {
    for (const auto& r : ranges) {
      for (minutes w : windows) {
        SCOPED_TRACE(fmt::format("{}: [{}, {}) window {} min", stage, FormatRfc3339(r.from),
                                 FormatRfc3339(r.to), w.count()));
        int64_t alerts = 0, never = 0, still_open = 0;
        std::map<std::string, int64_t> sources, integrations, flaps;
        std::map<std::pair<std::string, std::string>, std::optional<TimePoint>> previous;
        for (const auto& a : model) {
          auto& prev = previous[{a.ik, a.dk}];
          const bool in = a.created >= r.from && a.created < r.to;
          if (in) {
            ++alerts;
            ++sources[a.source];
            ++integrations[a.ik];
            if (!a.resolved) ++still_open;
            if (a.resolved && !a.acknowledged) ++never;
            if (prev && a.created >= *prev && a.created - *prev <= w) ++flaps[a.ik + "/" + a.dk];
          }
          prev = a.resolved;
        }
        auto n = store_->Noise({.from = r.from, .to = r.to, .flap_window = w, .top = 100});
        ASSERT_TRUE(n) << n.error().ToString();
        EXPECT_EQ(n->alerts, alerts);
        EXPECT_EQ(n->never_acknowledged, never);
        EXPECT_EQ(n->open, still_open);
        auto as_map = [](const std::vector<store::KeyCount>& v) {
          std::map<std::string, int64_t> m;
          for (const auto& k : v) m[k.key] = k.count;
          return m;
        };
        EXPECT_EQ(as_map(n->top_sources), sources);
        EXPECT_EQ(as_map(n->top_integrations), integrations);
        EXPECT_EQ(as_map(n->top_flapping), flaps);
        int64_t total_flaps = 0;
        for (const auto& [k, c] : flaps) total_flaps += c;
        EXPECT_EQ(n->flaps, total_flaps);
        EXPECT_EQ(n->flapping_keys, static_cast<int64_t>(flaps.size()));
      }
    }
  };

  std::mt19937 rng(20261205);
  const std::vector<std::string> iks = {"rk-checkout-0001", "rk-payments-0001"};
  const std::vector<std::string> srcs = {"prometheus", "grafana", "loki"};
  // Keys seen once, early: the fold forgets them once they can flap no more.
  for (int i = 0; i < 4; ++i) {
    send(T("2026-03-01T00:00:00Z") + seconds(i), iks[1], fmt::format("once-{}", i), "loki",
         core::EventAction::kTrigger);
    send(T("2026-03-01T00:01:00Z") + seconds(i), iks[1], fmt::format("once-{}", i), "loki",
         core::EventAction::kResolve);
  }
  TimePoint at = T("2026-03-01T00:03:00Z");
  const TimePoint end = T("2026-03-05T12:00:00Z");
  while (at < end) {
    // Mostly minutes apart (flaps), sometimes hours.
    at += rng() % 6 == 0 ? minutes(30 + rng() % 240) : minutes(1 + rng() % 15);
    const std::string ik = iks[rng() % iks.size()];
    const std::string dk = fmt::format("k{}", rng() % 5);
    const bool is_open = open.contains({ik, dk});
    using A = core::EventAction;
    A action = !is_open ? A::kTrigger : (rng() % 3 == 0 ? A::kAcknowledge : A::kResolve);
    send(at, ik, dk, srcs[rng() % srcs.size()], action);
  }
  ASSERT_GT(model.size(), 60u);
  check("nothing folded");

  const TimePoint middle = T("2026-03-03T10:00:00Z");
  clock_.Set(middle);
  // The loop's step: one batch, and again at once while there is a backlog.
  NoiseRollUp step(*store_, clock_, {.batch = 3});
  auto next = step.RunOnce();
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(*next, middle);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM noise_keys WHERE dedup_key LIKE 'once-%'"), 3);
  NoiseRollUp rollup(*store_, clock_, {.batch = 7});
  auto folded = rollup.CatchUp();
  ASSERT_TRUE(folded) << folded.error().ToString();
  int64_t before_lag = 0;
  for (const auto& a : model) before_lag += a.created < middle - minutes(10) ? 1 : 0;
  EXPECT_EQ(3 + *folded, before_lag);  // nothing younger than the lag
  next = step.RunOnce();               // caught up: in a minute
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(*next, middle + minutes(1));
  check("folded to the middle");

  // Two servers on one database fold at the same time: each alert is folded once.
  clock_.Set(end + std::chrono::hours(1));
  auto other_store = Open();
  ASSERT_TRUE(other_store) << other_store.error().ToString();
  NoiseRollUp other(**other_store, clock_, {.batch = 5});
  Result<int64_t> folded_there = 0;
  std::thread there([&] { folded_there = other.CatchUp(); });
  folded = rollup.CatchUp();
  there.join();
  ASSERT_TRUE(folded) << folded.error().ToString();
  ASSERT_TRUE(folded_there) << folded_there.error().ToString();
  EXPECT_EQ(*folded + *folded_there, static_cast<int64_t>(model.size()) - before_lag);
  (*other_store)->Shutdown();
  check("all folded");

  // Every open alert resolves (some acknowledged first), then flaps on the last day.
  at = end + std::chrono::hours(2);
  auto still_open = open;
  for (const auto& [key, index] : still_open) {
    at += minutes(1);
    if (index % 2 == 0)
      send(at, key.first, key.second, "prometheus", core::EventAction::kAcknowledge);
    send(at, key.first, key.second, "prometheus", core::EventAction::kResolve);
  }
  for (int i = 0; i < 3; ++i) {
    at += minutes(2);
    send(at, iks[0], "k0", "loki", core::EventAction::kTrigger);
    at += minutes(2);
    send(at, iks[0], "k0", "loki", core::EventAction::kResolve);
  }
  check("open folded alerts resolved");
  clock_.Set(at + std::chrono::hours(1));
  ASSERT_TRUE(rollup.CatchUp());
  check("folded again");
  ASSERT_TRUE(rollup.CatchUp());  // nothing left: a pass changes nothing
  check("folded twice");
  // The keys seen once were forgotten; the others, still able to flap, were kept.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM noise_keys WHERE dedup_key LIKE 'once-%'"), 0);
  EXPECT_GT(Count("SELECT COUNT(*) FROM noise_keys"), 0);
}

// Alert ranges are bounded by id (ids grow with created_at): a clock stepped back a few minutes
// (another server's, or NTP) neither loses nor adds alerts at the range's edges.
TEST_P(AnalyticsTest, AlertRangesSurviveAClockSteppedBack) {
  auto send = [&](std::string_view at, std::string key) {
    core::AlertEvent e;
    e.dedup_key = std::move(key);
    e.source = "prometheus";
    SendAlert(T(at), std::move(e));
  };
  send("2026-03-01T09:58:00Z", "before");
  send("2026-03-01T10:00:00Z", "in-1");
  send("2026-03-01T09:55:00Z", "stepped-back-before");  // a later id, an earlier time: out
  send("2026-03-01T10:30:00Z", "in-2");
  send("2026-03-01T11:02:00Z", "after");
  send("2026-03-01T10:58:00Z", "stepped-back-in");  // a later id than "after": in
  send("2026-03-01T11:05:00Z", "after-2");
  auto n = service_->Noise({.from = T("2026-03-01T10:00:00Z"), .to = T("2026-03-01T11:00:00Z")});
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(n->alerts, 3);
  EXPECT_EQ(n->open, 3);
}

TEST_P(AnalyticsTest, RecordAndWeeklyReport) {
  auto x = Declare(T("2026-03-03T15:00:00Z"), "SEV1", "checkout", {{"commander", "nina"}});
  auto y = Declare(T("2026-03-04T15:00:00Z"), "SEV2", "checkout",
                   {{"commander", "bob"}, {"scribe", "nina"}}, {"nina"});
  auto z = Declare(T("2026-03-05T15:00:00Z"), "SEV2", "payments", {{"commander", "nina"}});
  Page(x, "nina", T("2026-03-03T15:01:00Z"));
  Move(x, IncidentAction::kAcknowledge, T("2026-03-03T15:04:00Z"), "nina");  // 180 s after
  Page(y, "nina", T("2026-03-04T15:00:00Z"));
  Move(y, IncidentAction::kAcknowledge, T("2026-03-04T15:10:00Z"), "nina");  // 600 s after
  Move(z, IncidentAction::kAcknowledge, T("2026-03-05T15:00:30Z"), "nina");  // never paged
  Move(x, IncidentAction::kResolve, T("2026-03-03T17:00:00Z"));
  Move(y, IncidentAction::kResolve, T("2026-03-04T16:00:00Z"));
  Page(y, "nina", T("2026-03-05T03:00:00Z"));  // 22:00 EST: a night page
  // What the learning store writes: postmortems and action items.
  Exec(fmt::format(
      "INSERT INTO postmortems(incident_id, status, owner, created_at, updated_at, due_at, "
      "published_at) VALUES ({}, 'published', 'nina', 0, 0, NULL, {}), ({}, 'draft', 'bob', 0, 0, "
      "{}, NULL)",
      x, Ms(T("2026-03-06T00:00:00Z")), y, Ms(T("2026-03-07T00:00:00Z"))));
  Exec(fmt::format(
      "INSERT INTO action_items(incident_id, service_id, title, owner, due, overdue_at, priority, "
      "status, created_at, updated_at, closed_at) VALUES "
      "({0}, 'checkout', 'add an alert', 'nina', '2026-03-06', {1}, 'P2', 'done', 0, 0, {2}), "
      "({0}, 'checkout', 'fix the pool', 'bob', '2026-03-06', {1}, 'P1', 'open', 0, 0, NULL), "
      "({0}, 'payments', 'elsewhere', 'bob', '2026-03-06', {1}, 'P1', 'open', 0, 0, NULL)",
      x, Ms(T("2026-03-07T05:00:00Z")), Ms(T("2026-03-06T12:00:00Z"))));

  auto r = service_->Record("nina", T("2026-03-01T00:00:00Z"), T("2026-03-08T00:00:00Z"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->incidents_handled, 3);
  EXPECT_EQ(r->roles, (std::map<std::string, int64_t>{{"commander", 2}, {"scribe", 1}}));
  EXPECT_EQ(r->responder_on, 1);
  EXPECT_EQ(r->pages_received, 3);
  ExpectStats(r->pages_answered, 2, 390, 180, 600);
  EXPECT_EQ(r->postmortems_published, 1);
  EXPECT_EQ(r->action_items_closed, 1);
  auto none = service_->Record("nina", T("2026-03-08T00:00:00Z"), T("2026-03-09T00:00:00Z"));
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(none->incidents_handled, 0);
  EXPECT_EQ(none->postmortems_published, 0);
  EXPECT_EQ(none->pages_answered.n, 0);

  clock_.Set(T("2026-03-09T09:00:00Z"));  // Monday morning: the report of last week
  auto ny = core::LocateTimeZone("America/New_York");
  ASSERT_TRUE(ny);
  auto w = service_->Weekly(org_, "shop", std::nullopt, *ny);
  ASSERT_TRUE(w) << w.error().ToString();
  EXPECT_EQ(w->week, "2026-03-02");
  EXPECT_EQ(w->from, T("2026-03-02T05:00:00Z"));
  EXPECT_EQ(w->to, T("2026-03-09T04:00:00Z"));  // the week ends in EDT
  std::map<std::string, int64_t> sev;
  for (const auto& s : w->by_severity) sev[s.group] = s.count;
  EXPECT_EQ(sev, (std::map<std::string, int64_t>{{"SEV1", 1}, {"SEV2", 1}}));  // z: payments
  ASSERT_EQ(w->slowest_ack.size(), 2u);
  EXPECT_EQ(w->slowest_ack[0].id, y);
  EXPECT_DOUBLE_EQ(w->slowest_ack[0].seconds, 600);
  ASSERT_EQ(w->slowest_resolve.size(), 2u);
  EXPECT_EQ(w->slowest_resolve[0].id, x);
  EXPECT_DOUBLE_EQ(w->slowest_resolve[0].seconds, 7200);
  EXPECT_EQ(w->overdue_action_items_total, 1);
  ASSERT_EQ(w->overdue_action_items.size(), 1u);
  EXPECT_EQ(w->overdue_action_items[0].title, "fix the pool");
  EXPECT_EQ(w->overdue_postmortems_total, 1);
  ASSERT_EQ(w->overdue_postmortems.size(), 1u);
  EXPECT_EQ(w->overdue_postmortems[0].incident_id, y);
  ASSERT_EQ(w->night_pages.size(), 1u);
  EXPECT_EQ(w->night_pages[0].user, "nina");
  EXPECT_EQ(w->night_pages[0].night, 1);
  // Any day of the week names it.
  auto same = service_->Weekly(org_, "", std::string("2026-03-08"), *ny);
  ASSERT_TRUE(same) << same.error().ToString();
  EXPECT_EQ(same->week, "2026-03-02");
  EXPECT_EQ(same->overdue_action_items_total, 2);  // every team
}

// The store's statistics per (bucket, group) directly: nearest-rank percentiles with ties, an
// empty bucket (no row), a bucket whose incidents were never acknowledged (TTA unset), services
// without a team and services not in the map ("none", merged into one group), "untriaged", the
// services filter, and the rows in (bucket, group) order.
TEST_P(AnalyticsTest, IncidentStatsPercentilesTiesAndGroups) {
  // Bucket 0 [00:00, 06:00): checkout TTAs 40, 20, 50, 10, 20 s: sorted 10 20 20 40 50, p50 at
  // rank 3 (20), p90 at rank 5 (50), mean 28.
  const std::vector<std::pair<std::string, int>> acks = {
      {"00:00", 40}, {"01:00", 20}, {"02:00", 50}, {"03:00", 10}, {"04:00", 20}};
  for (const auto& [at, tta] : acks) {
    auto t = T("2026-03-10T" + at + ":00Z");
    auto id = Declare(t, "SEV2", "checkout");
    Move(id, IncidentAction::kAcknowledge, t + seconds(tta));
  }
  auto p = Declare(T("2026-03-10T01:30:00Z"), "", "payments");       // untriaged, no team
  Move(p, IncidentAction::kAcknowledge, T("2026-03-10T01:30:30Z"));  // TTA 30
  Move(p, IncidentAction::kResolve, T("2026-03-10T01:31:40Z"));      // TTM = TTR = 100
  auto s = Declare(T("2026-03-10T05:59:59Z"), "SEV1", "search");     // not in the map
  Move(s, IncidentAction::kAcknowledge, T("2026-03-10T06:00:09Z"));  // TTA 10
  // Bucket 1 [06:00, 12:00): nothing. Bucket 2 [12:00, 18:00): never acknowledged.
  auto u = Declare(T("2026-03-10T12:00:00Z"), "SEV3", "checkout");
  Move(u, IncidentAction::kResolve, T("2026-03-10T12:05:00Z"));  // TTM = TTR = 300
  Declare(T("2026-03-10T13:00:00Z"), "SEV3", "checkout");        // still open
  Declare(T("2026-03-10T18:00:00Z"), "SEV3", "checkout");        // on the last edge: out

  store::IncidentStatsQuery q{.edges = {T("2026-03-10T00:00:00Z"), T("2026-03-10T06:00:00Z"),
                                        T("2026-03-10T12:00:00Z"), T("2026-03-10T18:00:00Z")},
                              .group_by = store::IncidentGroupBy::kService};
  auto by_service = store_->IncidentStats(q);
  ASSERT_TRUE(by_service) << by_service.error().ToString();
  std::vector<std::pair<int, std::string>> keys;
  for (const auto& r : *by_service) keys.emplace_back(r.bucket, r.group);
  EXPECT_EQ(keys, (std::vector<std::pair<int, std::string>>{
                      {0, "checkout"}, {0, "payments"}, {0, "search"}, {2, "checkout"}}));
  ASSERT_EQ(by_service->size(), 4u);
  const auto& checkout = (*by_service)[0];
  EXPECT_EQ(checkout.count, 5);
  ExpectStats(checkout.tta, 5, 28, 20, 50);
  ExpectStats(checkout.ttm, 0, std::nullopt, std::nullopt, std::nullopt);
  ExpectStats(checkout.ttr, 0, std::nullopt, std::nullopt, std::nullopt);
  const auto& unacked = (*by_service)[3];
  EXPECT_EQ(unacked.count, 2);
  ExpectStats(unacked.tta, 0, std::nullopt, std::nullopt, std::nullopt);
  ExpectStats(unacked.ttm, 1, 300, 300, 300);
  ExpectStats(unacked.ttr, 1, 300, 300, 300);

  // Teams: payments (no team) and search (not listed) are one group, "none".
  q.group_by = store::IncidentGroupBy::kTeam;
  q.service_team = {{"checkout", "shop"}, {"payments", ""}};
  auto by_team = store_->IncidentStats(q);
  ASSERT_TRUE(by_team) << by_team.error().ToString();
  keys.clear();
  for (const auto& r : *by_team) keys.emplace_back(r.bucket, r.group);
  EXPECT_EQ(keys,
            (std::vector<std::pair<int, std::string>>{{0, "none"}, {0, "shop"}, {2, "shop"}}));
  ASSERT_EQ(by_team->size(), 3u);
  EXPECT_EQ((*by_team)[0].count, 2);
  ExpectStats((*by_team)[0].tta, 2, 20, 10, 30);  // 10 30: p50 at rank 1, p90 at rank 2
  ExpectStats((*by_team)[0].ttr, 1, 100, 100, 100);
  ExpectStats((*by_team)[1].tta, 5, 28, 20, 50);

  // SEV levels, only checkout and search: SEV2 and SEV1 in bucket 0, SEV3 in bucket 2.
  q.group_by = store::IncidentGroupBy::kSeverity;
  q.services = {"checkout", "search"};
  auto by_sev = store_->IncidentStats(q);
  ASSERT_TRUE(by_sev) << by_sev.error().ToString();
  keys.clear();
  for (const auto& r : *by_sev) keys.emplace_back(r.bucket, r.group);
  EXPECT_EQ(keys,
            (std::vector<std::pair<int, std::string>>{{0, "SEV1"}, {0, "SEV2"}, {2, "SEV3"}}));
  q.services.clear();
  auto all_sev = store_->IncidentStats(q);
  ASSERT_TRUE(all_sev) << all_sev.error().ToString();
  ASSERT_EQ(all_sev->size(), 4u);
  EXPECT_EQ((*all_sev)[2].group, "untriaged");
  ExpectStats((*all_sev)[2].tta, 1, 30, 30, 30);
  // A range with nothing in it: no rows.
  q.edges = {T("2026-03-11T00:00:00Z"), T("2026-03-12T00:00:00Z")};
  auto empty = store_->IncidentStats(q);
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->empty());
}

HOUSTON_STORE_CONTRACT(AnalyticsTest);

TEST(BucketsTest, DaysFollowDstAndTheRangeCutsTheEdges) {
  auto ny = core::LocateTimeZone("America/New_York");
  ASSERT_TRUE(ny);
  auto b = Buckets(T("2026-03-07T12:00:00Z"), T("2026-03-09T12:00:00Z"), Interval::kDay, *ny);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].label, "2026-03-07");
  EXPECT_EQ(b[0].start, T("2026-03-07T12:00:00Z"));  // cut to the range
  EXPECT_EQ(b[1].label, "2026-03-08");
  EXPECT_EQ(b[1].start, T("2026-03-08T05:00:00Z"));
  EXPECT_EQ(b[1].end, T("2026-03-09T04:00:00Z"));  // a 23-hour day
  EXPECT_EQ(b[2].end, T("2026-03-09T12:00:00Z"));
  auto weeks = Buckets(T("2026-03-04T00:00:00Z"), T("2026-03-20T00:00:00Z"), Interval::kWeek,
                       *core::LocateTimeZone("UTC"));
  ASSERT_EQ(weeks.size(), 3u);
  EXPECT_EQ(weeks[0].label, "2026-03-02");  // the Monday
  EXPECT_EQ(weeks[1].start, T("2026-03-09T00:00:00Z"));
  EXPECT_TRUE(Buckets(T("2026-03-04T00:00:00Z"), T("2026-03-04T00:00:00Z"), Interval::kDay,
                      *core::LocateTimeZone("UTC"))
                  .empty());
}

TEST(ParseInstantTest, DatesAndTimes) {
  auto berlin = core::LocateTimeZone("Europe/Berlin");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(*ParseInstant("2026-07-01", *berlin, "from"), T("2026-06-30T22:00:00Z"));
  EXPECT_EQ(*ParseInstant("2026-07-01T00:00:00Z", *berlin, "from"), T("2026-07-01T00:00:00Z"));
  auto bad = ParseInstant("2026-02-30", *berlin, "from");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), ::testing::HasSubstr("'from'"));
}

}  // namespace
}  // namespace houston::learning
