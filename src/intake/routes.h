// The intake domain: events in from the tools teams run (PagerDuty Events API v2 senders,
// Alertmanager, Grafana, generic webhooks, heartbeats, change events) -> routed to a service,
// rate limited per integration, deduplicated and stored as alerts; and the alert, service and
// change resources of the REST API. The formats' parsers are in ingest/.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/context.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/types.h"
#include "ingest/ingest.h"
#include "store/store.h"

namespace houston::intake {

struct PrometheusRouting;  // intake/prometheus_routing.h

// An integration as intake sees it.
struct IntegrationInfo {
  std::string key;
  std::string service_id;
  core::IntegrationType type = core::IntegrationType::kEventsV2;
  std::optional<double> rate_limit_per_second;
  ingest::GenericMapping mapping;
  std::string escalation_policy;                         // the service's
  std::optional<std::chrono::minutes> first_step_delay;  // of that policy
  std::chrono::minutes group_window{0};  // the service's time-window grouping (0: off)
  std::vector<std::string> group_by;     // its content-key fields
  bool fanout = true;                    // the org has incident rules or incident webhooks
  // Prometheus integrations: their routes and grouping, compiled (nullptr for other types).
  std::shared_ptr<const PrometheusRouting> prometheus;
};

// Points `info` at service `service_id` of `org`: the service, its escalation policy (and that
// policy's first-step delay) and its time-window grouping.
void SetIntegrationService(IntegrationInfo& info, const config::Org& org,
                           const std::string& service_id);

// Fills in what routing adds to an inbound event: its service, the escalation policy, and the
// service's grouping window and content key.
void Route(core::AlertEvent& ev, const IntegrationInfo& info);

// The org as intake sees it: immutable, replaced whole on reload.
struct IntakeView {
  std::shared_ptr<const config::Org> org;
  // By api::TokenHash(key): a lookup compares digests, never the secret key itself, so that its
  // time tells a caller nothing about how much of a real key a guess matched.
  std::unordered_map<std::string, IntegrationInfo> integrations;
};
std::shared_ptr<const IntakeView> MakeIntakeView(std::shared_ptr<const config::Org> org);

// A token bucket per integration key: it refills at `per_second` events per second and holds
// at most Burst(per_second) of them. Every event counts, so a batch (an Alertmanager or Grafana
// request with many alerts) takes one token per alert, and passes whole or not at all.
// Thread-safe.
class RateLimiter {
 public:
  struct Verdict {
    bool allowed = true;
    int retry_after = 0;  // when refused: whole seconds (>= 1) until the batch would pass
    bool never = false;   // refused because the batch is larger than the bucket can ever hold
  };
  explicit RateLimiter(Clock& clock) : clock_(clock) {}
  // Takes `events` tokens from `key`'s bucket if it holds them all now; otherwise takes none.
  Verdict Take(const std::string& key, double per_second, size_t events = 1);
  // One event: true if it may pass now; otherwise sets `retry_after` (whole seconds, >= 1).
  bool Allow(const std::string& key, double per_second, int& retry_after) {
    Verdict v = Take(key, per_second, 1);
    if (!v.allowed) retry_after = v.retry_after;
    return v.allowed;
  }
  // How many events the bucket of a `per_second` limit holds: one second's worth, at least 1.
  static double Burst(double per_second) { return std::max(1.0, per_second); }

 private:
  struct Bucket {
    double tokens;
    SteadyPoint last;
  };
  Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

// The intake endpoints (no principal: the integration key is the secret) and the alerts,
// services and changes resources. Thread-safe.
class IntakeRoutes : public api::RouteGroup {
 public:
  explicit IntakeRoutes(api::Context& ctx);
  void AddTo(api::RouteTable& table) override;
  // Indexes a new org's integrations.
  void SetOrg(std::shared_ptr<const config::Org> org);
  // An error raised before a handler ran, in PagerDuty's shape for /v2/ paths; nullopt for other
  // paths.
  static std::optional<http::Response> RenderError(std::string_view path, const Status& status);

 private:
  std::shared_ptr<const IntakeView> org() const;
  void EventsV2(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  template <typename Event, typename Parse>
  std::optional<std::pair<Event, IntegrationInfo>> PagerDutyEvent(std::string_view type,
                                                                  const http::HttpRequest& req,
                                                                  Parse parse, Respond& respond);
  void ChangeEvent(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AlertmanagerIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GrafanaIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GenericIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void WebhookIntake(core::IntegrationType type, const http::HttpRequest& req, Respond respond);
  void Heartbeat(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Prometheus's alertmanager client (prometheus_intake.cc): the Alertmanager API v2 (and v1)
  // POST /api/vN/alerts, under /integrations/prometheus/{key} or with the key as bearer token.
  void PrometheusV1(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void PrometheusV2(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void PrometheusIntake(bool v1, const http::HttpRequest& req, Respond respond);
  // Applies parsed events; answers with `on_success(outcomes)` once they are durable.
  void Submit(std::vector<core::AlertEvent> events, std::string integration_type,
              std::function<http::Response(const std::vector<store::EventOutcome>&)> on_success,
              std::function<http::Response(const Status&)> on_error, Respond respond);
  // Checks the per-integration rate limit for `events` events; false after answering 429 (or
  // 400 when the batch is larger than the limit's bucket, so that it can never pass).
  bool CheckRate(const IntegrationInfo& info, size_t events, Respond& respond,
                 bool pagerduty_shape);
  void CountEvent(std::string_view type, std::string_view result, uint64_t n = 1);

  void ListAlerts(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GetAlert(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AcknowledgeAlert(const http::HttpRequest& req, const auth::Principal* principal,
                        Respond respond);
  void ResolveAlert(const http::HttpRequest& req, const auth::Principal* principal,
                    Respond respond);
  void AlertAction(bool acknowledge, const http::HttpRequest& req, const auth::Principal& principal,
                   Respond respond);
  void ListServices(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListChanges(const http::HttpRequest& req, const auth::Principal*, Respond respond);

  RateLimiter limiter_;
  mutable std::mutex view_mu_;
  std::shared_ptr<const IntakeView> view_;  // guarded by view_mu_
};

}  // namespace houston::intake
