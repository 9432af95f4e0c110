// The Opsgenie-compatible Alert API and Heartbeat API (docs/opsgenie-api.md): senders written
// for Opsgenie (Alertmanager's opsgenie_configs, Grafana, Zabbix, the SDKs, scripts) change only
// their base URL. `/v2/alerts...` and `/v2/heartbeats/{name}/ping`, under any path prefix, with
// or without a trailing slash, authenticated by the key of an `opsgenie` integration
// (GenieKey, Basic with the key as password, or ?apiKey=), answered in Opsgenie's shapes.
// Bodies are parsed in ingest/ (ingest/opsgenie.cc); what a request does is one store
// transaction (store/opsgenie_store.h) that also records its request status.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/context.h"
#include "intake/routes.h"

namespace houston::intake {

// True for the paths this API answers (a `v2` segment followed by `alerts` or `heartbeats`, at
// any depth), except houston's own per-integration paths (`/integrations/...`, e.g.
// Prometheus's `/integrations/prometheus/{key}/api/v2/alerts`), which keep their own format.
bool IsOpsgeniePath(std::string_view path);

// The org as the Opsgenie API sees it: immutable, replaced whole on reload.
struct OpsgenieView {
  std::shared_ptr<const IntakeView> intake;
  struct Key {
    std::array<core::Severity, 5> priorities{};  // the severity of P1..P5
    std::string name;                            // the integration's name
  };
  std::unordered_map<std::string, Key> keys;  // by api::TokenHash(opsgenie integration key)
  struct HeartbeatRef {
    std::string service_id;
    std::string key;
  };
  // Heartbeat integration name -> the heartbeat integrations with that name.
  std::unordered_map<std::string, std::vector<HeartbeatRef>> heartbeats;
};
std::shared_ptr<const OpsgenieView> MakeOpsgenieView(std::shared_ptr<const config::Org> org);

// Which heartbeat integration a ping to `name` by an Opsgenie key of `service_id` beats: the one
// with that name on the same service, else the only one with that name in the org. nullopt when
// there is none, or several elsewhere and none on the service (`ambiguous` set).
std::optional<std::string> ResolveHeartbeat(const OpsgenieView& view, std::string_view name,
                                            std::string_view service_id, bool* ambiguous);

// Thread-safe.
class OpsgenieRoutes : public api::RouteGroup {
 public:
  explicit OpsgenieRoutes(api::Context& ctx);
  void AddTo(api::RouteTable& table) override;
  void SetOrg(std::shared_ptr<const config::Org> org);
  // An error raised before a handler ran (404, 405, body too large, malformed request), in
  // Opsgenie's shape for IsOpsgeniePath paths; nullopt for other paths.
  static std::optional<http::Response> RenderError(std::string_view path, const Status& status);

 private:
  struct Call;  // one request being handled: its id, start, key (opsgenie_routes.cc)
  std::shared_ptr<const OpsgenieView> view() const;
  // Authenticates, checks the body size and the rate limit; nullopt after answering.
  std::optional<Call> Begin(const http::HttpRequest& req, Respond& respond, bool limit);
  void CountEvent(std::string_view kind, std::string_view result);

  void Create(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Close(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Acknowledge(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Unacknowledge(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AddNote(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void UpdateMessage(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void UpdateDescription(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void UpdatePriority(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Action(store::OpsgenieAction action, const http::HttpRequest& req, Respond respond);
  // Applies a validated request; answers 202 once it and its status are durable.
  void Submit(Call call, store::OpsgenieRequest request, Respond respond);
  void GetAlert(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListAlerts(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void RequestStatus(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Ping(const http::HttpRequest& req, const auth::Principal*, Respond respond);

  RateLimiter limiter_;
  mutable std::mutex view_mu_;
  std::shared_ptr<const OpsgenieView> view_;  // guarded by view_mu_
};

}  // namespace houston::intake
