// ParsePrometheusAlerts: the Alertmanager API v2 body Prometheus posts.
#include <gtest/gtest.h>

#include "core/time_util.h"
#include "ingest/ingest.h"

namespace houston::ingest {
namespace {

using core::EventAction;

const TimePoint kNow = *ParseRfc3339("2026-03-01T12:00:00Z");

PrometheusBatch Parse(std::string_view body) {
  auto r = ParsePrometheusAlerts(body, "prom-main", kNow);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.value_or(PrometheusBatch{});
}

// What Prometheus 2.42's notifier sends for a firing rule (notifier.alertsToOpenAPIAlerts):
// endsAt = ValidUntil, a few evaluation intervals ahead.
TEST(Prometheus, FiringAlertAsPrometheusSendsIt) {
  auto b = Parse(R"json([{
    "labels": {"alertname": "HighErrorRate", "service": "billing", "instance": "api:9090",
               "job": "api", "severity": "critical", "cluster": "eu1"},
    "annotations": {"summary": "5% of requests fail", "runbook": "https://wiki/x"},
    "startsAt": "2026-03-01T11:58:00.123Z",
    "endsAt": "2026-03-01T12:04:00.123Z",
    "generatorURL": "http://prom.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
  }])json");
  ASSERT_EQ(b.alerts.size(), 1u);
  EXPECT_TRUE(b.problems.empty());
  const core::AlertEvent& e = b.alerts[0].event;
  EXPECT_EQ(e.action, EventAction::kTrigger);
  EXPECT_EQ(e.integration_key, "prom-main");
  EXPECT_EQ(e.summary, "5% of requests fail");
  EXPECT_EQ(e.severity, core::Severity::kCritical);
  EXPECT_EQ(e.source, "api:9090");
  EXPECT_EQ(e.component, "api");
  EXPECT_EQ(e.group, "eu1");
  EXPECT_EQ(e.timestamp, ParseRfc3339("2026-03-01T11:58:00.123Z").value());
  EXPECT_EQ(e.expires_at, ParseRfc3339("2026-03-01T12:04:00.123Z").value());
  EXPECT_EQ(e.client, "Prometheus");
  EXPECT_EQ(e.client_url, "http://prom.example:9090");
  EXPECT_EQ(e.group_key, "");
  EXPECT_EQ(e.links_json,
            R"([{"href":"http://prom.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",)"
            R"("text":"Source"}])");
  EXPECT_EQ(e.details_json,
            R"({"labels":{"alertname":"HighErrorRate","cluster":"eu1","instance":"api:9090",)"
            R"("job":"api","service":"billing","severity":"critical"},"annotations":)"
            R"({"summary":"5% of requests fail","runbook":"https://wiki/x"},)"
            R"("startsAt":"2026-03-01T11:58:00.123Z","endsAt":"2026-03-01T12:04:00.123Z",)"
            R"("generatorURL":"http://prom.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"})");
  const std::vector<std::pair<std::string, std::string>> labels{
      {"alertname", "HighErrorRate"}, {"cluster", "eu1"},
      {"instance", "api:9090"},       {"job", "api"},
      {"service", "billing"},         {"severity", "critical"}};
  EXPECT_EQ(b.alerts[0].labels, labels);
}

// The fingerprints Debian's Alertmanager 0.25 reported (GET /api/v2/alerts) for these label
// sets: an alert keeps its id whether it comes through Alertmanager or straight.
TEST(Prometheus, DedupKeyIsAlertmanagersFingerprint) {
  auto b = Parse(R"json([
    {"labels": {"alertname": "HighErrorRate", "service": "billing", "instance": "api:9090"}},
    {"labels": {"z": "a b", "team": "payments", "alertname": "Ünïcode"}},
    {"labels": {"instance": "api:9090", "alertname": "HighErrorRate", "service": "billing",
                "empty": ""}}
  ])json");
  ASSERT_EQ(b.alerts.size(), 3u);
  EXPECT_EQ(b.alerts[0].event.dedup_key, "ed610220bbe62005");
  EXPECT_EQ(b.alerts[1].event.dedup_key, "a23ac378d0d2fc79");
  // Empty labels are dropped before the fingerprint, as Alertmanager does.
  EXPECT_EQ(b.alerts[2].event.dedup_key, "ed610220bbe62005");
  EXPECT_EQ(b.alerts[2].labels.size(), 3u);
}

TEST(Prometheus, EndsAtInThePastIsAResolve) {
  auto b = Parse(R"json([
    {"labels": {"alertname": "A"}, "startsAt": "2026-03-01T11:00:00Z",
     "endsAt": "2026-03-01T11:59:30Z"},
    {"labels": {"alertname": "B"}, "endsAt": "2026-03-01T12:00:00Z"}
  ])json");
  ASSERT_EQ(b.alerts.size(), 2u);
  EXPECT_EQ(b.alerts[0].event.action, EventAction::kResolve);
  EXPECT_EQ(b.alerts[0].event.timestamp, ParseRfc3339("2026-03-01T11:59:30Z").value());
  EXPECT_EQ(b.alerts[0].event.expires_at, std::nullopt);
  EXPECT_EQ(b.alerts[1].event.action, EventAction::kResolve);  // endsAt == now: ended
}

TEST(Prometheus, NoEndsAtIsATriggerWithoutDeadline) {
  auto b = Parse(R"json([
    {"labels": {"alertname": "A"}},
    {"labels": {"alertname": "B"}, "endsAt": "0001-01-01T00:00:00Z", "startsAt": ""},
    {"labels": {"alertname": "C"}, "endsAt": null, "annotations": null}
  ])json");
  ASSERT_EQ(b.alerts.size(), 3u);
  for (const auto& a : b.alerts) {
    EXPECT_EQ(a.event.action, EventAction::kTrigger);
    EXPECT_EQ(a.event.expires_at, std::nullopt);
    EXPECT_EQ(a.event.timestamp, std::nullopt);
    EXPECT_EQ(a.event.source, "prometheus");
    EXPECT_EQ(a.event.client_url, "");
    EXPECT_EQ(a.event.links_json, "[]");
  }
  EXPECT_EQ(b.alerts[0].event.summary, "A");
  EXPECT_EQ(b.alerts[0].event.severity, core::Severity::kError);
}

TEST(Prometheus, SummaryFallsBackToDescriptionThenLabels) {
  auto b = Parse(R"json([
    {"labels": {"alertname": "A", "x": "1"}, "annotations": {"description": "why"}},
    {"labels": {"alertname": "A", "x": "1", "y": "q\"uote"}}
  ])json");
  ASSERT_EQ(b.alerts.size(), 2u);
  EXPECT_EQ(b.alerts[0].event.summary, "why");
  EXPECT_EQ(b.alerts[1].event.summary, R"(A{x="1", y="q\"uote"})");
}

TEST(Prometheus, UnknownKeysAreIgnored) {
  auto b = Parse(R"json([{"labels": {"a": "b"}, "status": "firing", "fingerprint": "zz",
                          "receivers": [1], "extra": {"deep": true}}])json");
  ASSERT_EQ(b.alerts.size(), 1u);
  EXPECT_TRUE(b.problems.empty());
  EXPECT_EQ(b.alerts[0].event.action, EventAction::kTrigger);
  EXPECT_EQ(b.alerts[0].event.dedup_key.size(), 16u);  // its own fingerprint, not the sender's
}

TEST(Prometheus, InvalidAlertsAreNamedAndTheValidOnesKept) {
  auto b = Parse(R"json([
    {"labels": {"alertname": "ok"}},
    {"annotations": {"summary": "no labels"}},
    {"labels": {}},
    {"labels": {"a": ""}},
    {"labels": {"1x": "b", "ok": "c"}},
    {"labels": {"a": 1}},
    {"labels": {"a": "b"}, "annotations": ["x"]},
    {"labels": {"a": "b"}, "startsAt": "yesterday"},
    {"labels": {"a": "b"}, "startsAt": "2026-03-01T12:00:00Z", "endsAt": "2026-03-01T11:00:00Z"},
    {"labels": {"a": "b"}, "endsAt": 5, "generatorURL": false},
    "not an alert",
    {"labels": {"alertname": "ok too"}}
  ])json");
  ASSERT_EQ(b.alerts.size(), 2u);
  EXPECT_EQ(b.alerts[0].event.summary, "ok");
  EXPECT_EQ(b.alerts[1].event.summary, "ok too");
  const std::vector<std::string> want{
      "alerts[1].labels is missing",
      "alerts[2].labels must have at least one non-empty label",
      "alerts[3].labels must have at least one non-empty label",
      "alerts[4].labels has an invalid label name '1x' (use [a-zA-Z_][a-zA-Z0-9_]*)",
      "alerts[5].labels must be an object of strings ('a' is a number)",
      "alerts[6].annotations must be an object of strings",
      "alerts[7].startsAt is invalid: ",  // prefix; the reason follows
      "alerts[8].endsAt (2026-03-01T11:00:00Z) is before its startsAt (2026-03-01T12:00:00Z)",
      "alerts[9].endsAt must be a string",
      "alerts[9].generatorURL must be a string",
      "alerts[10] must be an object, not a string",
  };
  ASSERT_EQ(b.problems.size(), want.size()) << ::testing::PrintToString(b.problems);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(b.problems[i].starts_with(want[i])) << b.problems[i];
  }
}

TEST(Prometheus, BodyErrorsRefuseTheWholeBody) {
  for (std::string_view body :
       {"", "nope", "{\"labels\":{}}", "[{\"labels\":{\"a\":\"b\"}}", "\"alerts\"", "[\xff]"}) {
    auto r = ParsePrometheusAlerts(body, "k", kNow);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(r.error().message().empty());
  }
  auto obj = ParsePrometheusAlerts(R"({"labels":{}})", "k", kNow);
  EXPECT_EQ(obj.error().message(),
            "body must be a JSON array of alerts (Alertmanager API v2 postableAlerts), not an "
            "object");
  EXPECT_TRUE(Parse("[]").alerts.empty());
}

TEST(Prometheus, TooManyAlertsAreRefused) {
  std::string body = "[";
  for (size_t i = 0; i <= kMaxPrometheusAlerts; ++i) {
    body += i ? ",{}" : "{}";
  }
  body += "]";
  auto r = ParsePrometheusAlerts(body, "k", kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("more than the 10000"), std::string::npos);
}

}  // namespace
}  // namespace houston::ingest
