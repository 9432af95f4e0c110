// Prometheus straight in: routing by label matchers, grouping by labels, and the deadline-driven
// expiry of alerts whose endsAt passed (AlertExpiry on a FakeClock), and retention.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "api/request.h"
#include "intake/alert_expiry.h"
#include "intake/alert_retention.h"
#include "intake/prometheus_routing.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace houston::intake {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kOrg = R"yaml(users:
  - {id: alice, name: Alice, email: alice@example.com}
escalation_policies:
  - id: platform-ep
    steps: [{delay_minutes: 0, targets: [{user: alice}]}]
  - id: billing-ep
    steps: [{delay_minutes: 3, targets: [{user: alice}]}]
services:
  - id: platform
    escalation_policy: platform-ep
    integrations:
      - type: prometheus
        key: prom-main
        routes:
          - {match: ['service="billing"'], service: billing}
          - {match: ['team=~"pay.*"', 'severity!="info"'], service: checkout}
        group_by: [alertname, cluster]
        resolve_timeout_minutes: 7
      - {type: prometheus, key: prom-each, group_by: ['...'], resolve_timeout_minutes: 0}
      - {type: prometheus, key: prom-plain}
  - {id: billing, escalation_policy: billing-ep}
  - {id: checkout, escalation_policy: platform-ep}
)yaml";

std::shared_ptr<const IntakeView> View() {
  auto org = config::ParseOrg(kOrg, "org.yaml");
  EXPECT_TRUE(org.has_value()) << org.error().ToString();
  return MakeIntakeView(std::make_shared<const config::Org>(std::move(org).value()));
}

ingest::PrometheusAlert Alert(Labels labels, std::optional<TimePoint> ends_at = std::nullopt) {
  std::sort(labels.begin(), labels.end());
  ingest::PrometheusAlert a;
  a.labels = std::move(labels);
  a.event.integration_key = "prom-main";
  a.event.dedup_key = "fp";
  a.event.expires_at = ends_at;
  return a;
}

TEST(PrometheusRouting, FirstMatchingRouteWinsElseTheIntegrationsService) {
  auto view = View();
  const IntegrationInfo& info = view->integrations.at(api::TokenHash("prom-main"));
  ASSERT_NE(info.prometheus, nullptr);
  auto service_of = [&](Labels labels) {
    std::sort(labels.begin(), labels.end());
    return ChooseRoute(*info.prometheus, info, labels).service_id;
  };
  EXPECT_EQ(service_of({{"alertname", "X"}, {"service", "billing"}}), "billing");
  // Both routes match: the first wins.
  EXPECT_EQ(service_of({{"service", "billing"}, {"team", "payments"}}), "billing");
  EXPECT_EQ(service_of({{"team", "payments"}, {"severity", "critical"}}), "checkout");
  // Every matcher of a route must match: severity="info" fails the second.
  EXPECT_EQ(service_of({{"team", "payments"}, {"severity", "info"}}), "platform");
  // The regex matches the whole value; an absent label reads as "" (and != "info").
  EXPECT_EQ(service_of({{"team", "xpayments"}}), "platform");
  EXPECT_EQ(service_of({{"team", "pay"}}), "checkout");
  EXPECT_EQ(service_of({{"service", "billingx"}}), "platform");
  EXPECT_EQ(service_of({}), "platform");
}

TEST(PrometheusRouting, TheRoutedServicesPolicyApplies) {
  auto view = View();
  const IntegrationInfo& info = view->integrations.at(api::TokenHash("prom-main"));
  auto billing = Alert({{"alertname", "Down"}, {"service", "billing"}, {"cluster", "eu1"}});
  RoutePrometheusAlert(billing, info, TimePoint{});
  EXPECT_EQ(billing.event.service_id, "billing");
  EXPECT_EQ(billing.event.escalation_policy, "billing-ep");
  EXPECT_EQ(billing.event.first_step_delay, minutes(3));
  auto platform = Alert({{"alertname", "Down"}});
  RoutePrometheusAlert(platform, info, TimePoint{});
  EXPECT_EQ(platform.event.service_id, "platform");
  EXPECT_EQ(platform.event.escalation_policy, "platform-ep");
  EXPECT_EQ(platform.event.first_step_delay, minutes(0));
}

TEST(PrometheusRouting, GroupKeysPerServiceAndGroupByValues) {
  auto view = View();
  const IntegrationInfo& main = view->integrations.at(api::TokenHash("prom-main"));
  auto key = [&](Labels labels) {
    auto a = Alert(std::move(labels));
    RoutePrometheusAlert(a, main, TimePoint{});
    return a.event.group_key;
  };
  EXPECT_EQ(key({{"alertname", "Down"}, {"cluster", "eu1"}, {"instance", "a"}}),
            R"(platform:{alertname="Down",cluster="eu1"})");
  // Another instance of the same alert in the same cluster: the same group.
  EXPECT_EQ(key({{"alertname", "Down"}, {"cluster", "eu1"}, {"instance", "b"}}),
            R"(platform:{alertname="Down",cluster="eu1"})");
  EXPECT_EQ(key({{"alertname", "Down"}, {"instance", "b"}}),
            R"(platform:{alertname="Down",cluster=""})");
  EXPECT_EQ(key({{"alertname", "Down"}, {"cluster", "eu1"}, {"service", "billing"}}),
            R"(billing:{alertname="Down",cluster="eu1"})");
  EXPECT_EQ(key({{"alertname", "q\"uote"}}), R"(platform:{alertname="q\"uote",cluster=""})");

  auto each = Alert({{"alertname", "Down"}});
  RoutePrometheusAlert(each, view->integrations.at(api::TokenHash("prom-each")), TimePoint{});
  EXPECT_EQ(each.event.group_key, "");  // '...': every alert its own incident
  auto plain = Alert({{"alertname", "Down"}, {"cluster", "eu1"}});
  RoutePrometheusAlert(plain, view->integrations.at(api::TokenHash("prom-plain")), TimePoint{});
  EXPECT_EQ(plain.event.group_key, R"(platform:{alertname="Down"})");  // the default
}

TEST(PrometheusRouting, ResolveTimeoutForAlertsWithoutEndsAt) {
  auto view = View();
  const TimePoint now = TimePoint{} + std::chrono::hours(1000);
  auto no_end = Alert({{"alertname", "A"}});
  RoutePrometheusAlert(no_end, view->integrations.at(api::TokenHash("prom-main")), now);
  EXPECT_EQ(no_end.event.expires_at, now + minutes(7));
  auto with_end = Alert({{"alertname", "A"}}, now + minutes(4));
  RoutePrometheusAlert(with_end, view->integrations.at(api::TokenHash("prom-main")), now);
  EXPECT_EQ(with_end.event.expires_at, now + minutes(4));
  auto plain = Alert({{"alertname", "A"}});
  RoutePrometheusAlert(plain, view->integrations.at(api::TokenHash("prom-plain")), now);
  EXPECT_EQ(plain.event.expires_at, now + minutes(5));  // Alertmanager's default
  auto never = Alert({{"alertname", "A"}});
  RoutePrometheusAlert(never, view->integrations.at(api::TokenHash("prom-each")), now);
  EXPECT_EQ(never.event.expires_at, std::nullopt);  // resolve_timeout_minutes: 0
  auto resolve = Alert({{"alertname", "A"}});
  resolve.event.action = core::EventAction::kResolve;
  RoutePrometheusAlert(resolve, view->integrations.at(api::TokenHash("prom-main")), now);
  EXPECT_EQ(resolve.event.expires_at, std::nullopt);
}

TEST(PrometheusRouting, LongValuesNeverMatchARegex) {
  CompiledMatcher m{"team", config::MatchOp::kRegexMatch, "pay.*", std::regex("pay.*")};
  Labels labels{{"team", "pay" + std::string(kMaxRegexLabelValue, 'x')}};
  EXPECT_FALSE(Matches(m, labels));
  m.op = config::MatchOp::kRegexNoMatch;
  EXPECT_TRUE(Matches(m, labels));
  labels[0].second.resize(kMaxRegexLabelValue);
  EXPECT_FALSE(Matches(m, labels));
}

class AlertExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("houston-expiry-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "houston.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    auto s = store::sqlite::SqliteStore::Open(std::move(o));
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::EventOutcome Trigger(std::string dedup_key, std::optional<TimePoint> expires_at) {
    core::AlertEvent e;
    e.integration_key = "prom-main";
    e.service_id = "platform";
    e.dedup_key = std::move(dedup_key);
    e.summary = "Down";
    e.source = "prometheus";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.expires_at = expires_at;
    auto r = store::Wait<std::vector<store::EventOutcome>>(
        [&](auto cb) { store_->ApplyAlertEvents({std::move(e)}, store::Actor{}, cb); });
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? r->at(0) : store::EventOutcome{};
  }

  std::filesystem::path dir_;
  houston::testing::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AlertExpiryTest, ResolvesWhatIsDueAndSaysWhenTheNextIsDue) {
  AlertExpiry expiry(*store_, clock_);
  const TimePoint t0 = clock_.Now();
  EXPECT_EQ(expiry.RunOnce().value(), std::nullopt);  // nothing to watch
  auto a = Trigger("a", t0 + minutes(4));
  auto b = Trigger("b", t0 + minutes(6));
  EXPECT_EQ(expiry.RunOnce().value(), t0 + minutes(4));
  clock_.Set(t0 + minutes(4) - std::chrono::milliseconds(1));
  EXPECT_EQ(expiry.RunOnce().value(), t0 + minutes(4));
  EXPECT_EQ(store_->GetAlert(a.alert_id)->status, core::AlertStatus::kTriggered);
  clock_.Set(t0 + minutes(4));
  EXPECT_EQ(expiry.RunOnce().value(), t0 + minutes(6));
  EXPECT_EQ(store_->GetAlert(a.alert_id)->status, core::AlertStatus::kResolved);
  EXPECT_EQ(store_->GetIncident(a.incident_id)->status, core::IncidentStatus::kResolved);
  // A re-send moves b's deadline: it is not due at its old one.
  clock_.Set(t0 + minutes(5));
  Trigger("b", t0 + minutes(9));
  EXPECT_EQ(expiry.RunOnce().value(), t0 + minutes(9));
  clock_.Set(t0 + minutes(6));
  EXPECT_EQ(expiry.RunOnce().value(), t0 + minutes(9));
  EXPECT_EQ(store_->GetAlert(b.alert_id)->status, core::AlertStatus::kTriggered);
  clock_.Set(t0 + minutes(10));
  EXPECT_EQ(expiry.RunOnce().value(), std::nullopt);
  EXPECT_EQ(store_->GetAlert(b.alert_id)->status, core::AlertStatus::kResolved);
}

TEST_F(AlertExpiryTest, AFullBatchComesBackAtOnce) {
  AlertExpiry expiry(*store_, clock_);
  for (int i = 0; i < AlertExpiry::kBatch + 3; ++i) {
    Trigger("k" + std::to_string(i), clock_.Now() + seconds(1));
  }
  clock_.Advance(seconds(1));
  EXPECT_EQ(expiry.RunOnce().value(), clock_.Now());  // 500 resolved, more are due
  EXPECT_EQ(expiry.RunOnce().value(), std::nullopt);  // the last 3
  auto open = store_->ListAlerts({.status = core::AlertStatus::kTriggered});
  EXPECT_TRUE(open->empty());
}

// Retention on a FakeClock: nothing goes before the cutoff, a full batch comes back after a short
// pause, then the loop rests; the alerts past the cutoff are gone, the newer one stays.
TEST_F(AlertExpiryTest, RetentionDeletesPastTheCutoffInBatches) {
  AlertRetention retention(*store_, clock_, std::chrono::hours(24 * 7));
  const int n = AlertRetention::kBatch + 2;
  for (int i = 0; i < n; ++i) Trigger("r" + std::to_string(i), clock_.Now() + seconds(1));
  clock_.Advance(seconds(1));
  AlertExpiry expiry(*store_, clock_);
  while (expiry.RunOnce().value().has_value()) {
  }
  clock_.Advance(std::chrono::hours(24 * 6));
  // The noise roll-up folds alerts a few minutes behind intake; retention waits for it.
  auto rolled = store::Wait<int64_t>([&](auto cb) { store_->RollUpNoise(clock_.Now(), 5000, cb); });
  ASSERT_TRUE(rolled.has_value()) << rolled.error().ToString();
  EXPECT_EQ(retention.RunOnce().value(), clock_.Now() + AlertRetention::kIdle);  // not old yet
  clock_.Advance(std::chrono::hours(24 * 2));
  auto kept = Trigger("new", std::nullopt);
  EXPECT_EQ(retention.RunOnce().value(), clock_.Now() + AlertRetention::kPause);  // full batch
  EXPECT_EQ(retention.RunOnce().value(), clock_.Now() + AlertRetention::kIdle);   // the last 2
  auto left = store_->ListAlerts({.limit = 1000});
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).id, kept.alert_id);
}

}  // namespace
}  // namespace houston::intake
