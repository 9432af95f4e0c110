// Prometheus posting straight to houston, as to an Alertmanager (its alerting.alertmanagers):
//
//   POST /integrations/prometheus/{key}/api/v2/alerts   path_prefix: /integrations/prometheus/{key}
//   POST /integrations/prometheus/api/v2/alerts         path_prefix: /integrations/prometheus,
//                                                       authorization: {credentials: <key>}
//
// and the same under /api/v1/alerts (Prometheus's api_version: v1; the body is the same array).
// Prometheus 2.42's notifier calls nothing else. Answers as Alertmanager 0.25 does: v2 200 with
// an empty body; 400 with {"code":400,"message":...} for a body it cannot read, and with a JSON
// string naming the invalid alerts (the valid ones of the batch are kept, as Alertmanager keeps
// them); v1 {"status":"success"} or {"status":"error","errorType":"bad_data","error":...}.

#include <fmt/format.h>

#include <string>
#include <vector>

#include "api/request.h"
#include "auth/auth.h"
#include "core/json_util.h"
#include "intake/prometheus_routing.h"
#include "intake/routes.h"

namespace houston::intake {

namespace bhttp = http::bhttp;
using http::HttpRequest;
using http::Response;

namespace {

constexpr std::string_view kPrometheusType = "prometheus";

Response Refuse(std::string message) {
  Response r = http::ErrorResponse(houston::Unauthenticated(std::move(message)));
  r.set(bhttp::field::www_authenticate, "Bearer realm=\"houston\"");
  return r;
}

// Alertmanager's answers, v2 or v1.
Response Ok(bool v1) {
  if (v1) return http::JsonResponse(bhttp::status::ok, R"({"status":"success"})");
  Response r{bhttp::status::ok, 11};
  r.prepare_payload();
  return r;
}
// A body that could not be read at all.
Response BadBody(bool v1, std::string_view message) {
  std::string body;
  if (v1) {
    body = R"({"status":"error","errorType":"bad_data","error":)";
    AppendJsonString(body, message);
    body += '}';
  } else {
    body = R"({"code":400,"message":)";
    AppendJsonString(body, message);
    body += '}';
  }
  return http::JsonResponse(bhttp::status::bad_request, std::move(body));
}
// Some alerts were invalid (the others were stored).
Response InvalidAlerts(bool v1, const std::vector<std::string>& problems) {
  std::string message;
  for (const std::string& p : problems) {
    if (!message.empty()) message += "; ";
    message += p;
  }
  if (v1) return BadBody(true, message);
  std::string body;
  AppendJsonString(body, message);
  return http::JsonResponse(bhttp::status::bad_request, std::move(body));
}

}  // namespace

void IntakeRoutes::PrometheusV1(const HttpRequest& req, const auth::Principal*, Respond respond) {
  PrometheusIntake(true, req, std::move(respond));
}
void IntakeRoutes::PrometheusV2(const HttpRequest& req, const auth::Principal*, Respond respond) {
  PrometheusIntake(false, req, std::move(respond));
}

void IntakeRoutes::PrometheusIntake(bool v1, const HttpRequest& req, Respond respond) {
  // The key: in the path, or as the bearer credential. A credential that is sent must be the
  // key (a mismatch is a misconfiguration worth hearing about, not something to ignore).
  std::string key = req.Param("key");
  const bool in_path = !key.empty();
  std::optional<std::string_view> bearer = auth::BearerCredentials(req.Header("Authorization"));
  auto view = org();
  if (!in_path) {
    if (!bearer) {
      CountEvent(kPrometheusType, "unknown_key");
      return respond(
          Refuse("send the integration key as 'Authorization: Bearer <key>' (Prometheus: "
                 "authorization: {credentials: <key>}), or put it in the path: "
                 "/integrations/prometheus/<key>/api/v2/alerts"));
    }
    key = std::string(*bearer);
  }
  auto it = view->integrations.find(api::TokenHash(key));
  if (it == view->integrations.end() || it->second.type != core::IntegrationType::kPrometheus) {
    CountEvent(kPrometheusType, "unknown_key");
    if (!in_path) return respond(Refuse("no prometheus integration has this key"));
    return respond(http::ErrorResponse(NotFound("no prometheus integration has this key")));
  }
  const IntegrationInfo& info = it->second;
  if (in_path && bearer && *bearer != key) {
    CountEvent(kPrometheusType, "rejected");
    return respond(
        Refuse("the bearer credential is not this integration's key; send the key, or no "
               "Authorization header"));
  }
  if (in_path && info.prometheus && info.prometheus->require_bearer) {
    CountEvent(kPrometheusType, "rejected");
    return respond(
        Refuse("this integration takes its key only as 'Authorization: Bearer <key>' "
               "(require_bearer): use path_prefix /integrations/prometheus and authorization: "
               "{credentials: <key>}"));
  }
  if (req.raw.body().size() > options_.max_event_bytes) {
    CountEvent(kPrometheusType, "rejected");
    Response r = http::ErrorResponse(ResourceExhausted(fmt::format(
        "request body is larger than the limit of {} bytes", options_.max_event_bytes)));
    r.result(bhttp::status::payload_too_large);
    return respond(std::move(r));
  }
  const TimePoint now = clock_.Now();
  Result<ingest::PrometheusBatch> batch = ingest::ParsePrometheusAlerts(req.raw.body(), key, now);
  if (!batch) {
    CountEvent(kPrometheusType, "rejected");
    return respond(BadBody(v1, batch.error().message()));
  }
  if (!batch->problems.empty()) CountEvent(kPrometheusType, "rejected", batch->problems.size());
  // Every alert of a batch is an event: the limit counts them, not requests.
  if (!CheckRate(info, batch->alerts.size(), respond, false)) return;
  std::vector<core::AlertEvent> events;
  events.reserve(batch->alerts.size());
  for (ingest::PrometheusAlert& a : batch->alerts) {
    RoutePrometheusAlert(a, info, now);
    events.push_back(std::move(a.event));
  }
  if (events.empty()) {
    return respond(batch->problems.empty() ? Ok(v1) : InvalidAlerts(v1, batch->problems));
  }
  Submit(
      std::move(events), std::string(kPrometheusType),
      [v1, problems = std::move(batch->problems)](const std::vector<store::EventOutcome>&) {
        return problems.empty() ? Ok(v1) : InvalidAlerts(v1, problems);
      },
      api::StoreError, std::move(respond));
}

}  // namespace houston::intake
