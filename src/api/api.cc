#include "api/api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "api/internal.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "engine/escalation_engine.h"
#include "engine/suspects.h"
#include "notify/notify.h"

namespace houston::api {

namespace bhttp = http::bhttp;
using core::IntegrationType;
using http::HttpRequest;
using http::Response;
using store::Role;

// ---------------------------------------------------------------------------------------------
// Org view, rate limiter, tokens.

std::shared_ptr<const OrgView> MakeOrgView(std::shared_ptr<const config::Org> org) {
  auto view = std::make_shared<OrgView>();
  view->org = org;
  if (org) {
    for (const auto& [key, integ] : config::IndexIntegrations(*org)) {
      IntegrationInfo info;
      info.key = key;
      info.service_id = integ.service_id;
      info.type = integ.type;
      info.rate_limit_per_second = integ.rate_limit_per_second;
      info.fanout = !org->incident_rules.empty() || !org->webhooks.empty();
      if (const auto* svc = config::FindService(*org, integ.service_id)) {
        Paging paging = PagingOf(*org, svc->id);
        info.escalation_policy = paging.policy;
        info.first_step_delay = paging.first_step_delay;
        if (svc->grouping) {
          info.group_window = std::chrono::minutes(svc->grouping->window_minutes);
          info.group_by = svc->grouping->by;
        }
      }
      if (integ.mapping) {
        const auto& m = *integ.mapping;
        info.mapping.summary = m.summary;
        info.mapping.severity = m.severity;
        info.mapping.dedup_key = m.dedup_key;
        info.mapping.action = m.action;
        info.mapping.source = m.source;
        info.mapping.details = m.details;
        for (const auto& [from, to] : m.action_values) {
          info.mapping.action_values[from] = std::string(core::ToString(to));
        }
        for (const auto& [from, to] : m.severity_values) {
          info.mapping.severity_values[from] = std::string(core::ToString(to));
        }
      }
      view->integrations.emplace(key, std::move(info));
    }
  }
  return view;
}

Paging PagingOf(const config::Org& org, std::string_view service) {
  Paging p;
  const auto* svc = config::FindService(org, service);
  if (!svc) return p;
  p.policy = svc->escalation_policy;
  const auto* policy = config::FindEscalationPolicy(org, svc->escalation_policy);
  if (policy && !policy->steps.empty()) {
    p.first_step_delay = std::chrono::minutes(policy->steps.front().delay_minutes);
  }
  return p;
}

void Route(core::AlertEvent& ev, const IntegrationInfo& info) {
  ev.service_id = info.service_id;
  ev.escalation_policy = info.escalation_policy;
  ev.first_step_delay = info.first_step_delay;
  ev.group_window = info.group_window;
  ev.fanout = info.fanout;
  ev.grouping_key.clear();
  if (info.group_window.count() > 0 && !info.group_by.empty()) {
    // The content key: the values of the grouping fields, as silence matchers read them.
    core::Alert a;
    a.integration_key = ev.integration_key;
    a.service_id = ev.service_id;
    a.dedup_key = ev.dedup_key;
    a.summary = ev.summary;
    a.source = ev.source;
    a.severity = ev.severity;
    a.component = ev.component;
    a.group = ev.group;
    a.klass = ev.klass;
    a.details_json = ev.details_json;
    for (const auto& field : info.group_by) {
      if (!ev.grouping_key.empty()) ev.grouping_key += '\x1f';
      ev.grouping_key += engine::AlertField(a, field);
    }
  }
}

RateLimiter::Verdict RateLimiter::Take(const std::string& key, double per_second, size_t events) {
  Verdict v;
  if (events == 0) return v;
  const double burst = Burst(per_second);
  const auto need = static_cast<double>(events);
  if (need > burst) {
    v.allowed = false;
    v.never = true;
    return v;
  }
  SteadyPoint now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst, b.tokens + elapsed * per_second);
  b.last = now;
  if (b.tokens >= need) {
    b.tokens -= need;
    return v;
  }
  v.allowed = false;
  v.retry_after = std::max(1, static_cast<int>(std::ceil((need - b.tokens) / per_second)));
  return v;
}

std::string NewApiToken() { return "hou_" + RandomBase62(32); }
std::string TokenHash(std::string_view token) { return auth::TokenHash(token); }

// ---------------------------------------------------------------------------------------------
// JSON renderings.

void Field(std::string& out, std::string_view name, std::string_view value) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}
void Raw(std::string& out, std::string_view name, std::string_view raw_json) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  out += raw_json;
}
void Time(std::string& out, std::string_view name, const std::optional<TimePoint>& t) {
  if (t) {
    Field(out, name, FormatRfc3339(*t));
  } else {
    Raw(out, name, "null");
  }
}

std::string AlertJson(const core::Alert& a) {
  std::string o = "{";
  Raw(o, "id", std::to_string(a.id));
  Field(o, "service", a.service_id);
  Raw(o, "incident_id", std::to_string(a.incident_id));
  Field(o, "dedup_key", a.dedup_key);
  Field(o, "status", core::ToString(a.status));
  Field(o, "summary", a.summary);
  Field(o, "severity", core::ToString(a.severity));
  Field(o, "source", a.source);
  Field(o, "component", a.component);
  Field(o, "group", a.group);
  Field(o, "class", a.klass);
  Raw(o, "custom_details", a.details_json.empty() ? "{}" : a.details_json);
  Raw(o, "links", a.links_json.empty() ? "[]" : a.links_json);
  Raw(o, "images", a.images_json.empty() ? "[]" : a.images_json);
  Field(o, "client", a.client);
  Field(o, "client_url", a.client_url);
  Field(o, "group_key", a.group_key);
  Raw(o, "event_count", std::to_string(a.event_count));
  Time(o, "created_at", a.created_at);
  Time(o, "last_event_at", a.last_event_at);
  Time(o, "event_timestamp", a.event_timestamp);
  Time(o, "acknowledged_at", a.acknowledged_at);
  Time(o, "resolved_at", a.resolved_at);
  o += '}';
  return o;
}

std::string ChangeJson(const core::Change& c) {
  std::string o = "{";
  Raw(o, "id", std::to_string(c.id));
  Field(o, "service", c.service_id);
  Field(o, "summary", c.summary);
  Field(o, "source", c.source);
  Time(o, "timestamp", c.timestamp);
  Time(o, "received_at", c.received_at);
  Raw(o, "custom_details", c.details_json.empty() ? "{}" : c.details_json);
  Raw(o, "links", c.links_json.empty() ? "[]" : c.links_json);
  o += '}';
  return o;
}

// ---------------------------------------------------------------------------------------------
// Routes and auth.

namespace {

std::string_view IntegrationTypeLabel(IntegrationType t) { return core::ToString(t); }

constexpr std::string_view kPdSuccess = R"({"status":"success","message":"Event processed")";

// PagerDuty's error shape for /v2/* intake.
Response PdError(bhttp::status code, std::string_view status, std::string_view message,
                 const std::vector<std::string>& errors) {
  std::string body = "{\"status\":";
  AppendJsonString(body, status);
  body += ",\"message\":";
  AppendJsonString(body, message);
  body += ",\"errors\":[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) body += ',';
    AppendJsonString(body, errors[i]);
  }
  body += "]}";
  return http::JsonResponse(code, std::move(body));
}

Response PdStoreError(const Status& st) {
  if (st.code() == StatusCode::kResourceExhausted) {
    Response r =
        PdError(bhttp::status::service_unavailable, "unavailable",
                "houston is overloaded; the event was not accepted, retry later", {st.message()});
    r.set(bhttp::field::retry_after, "1");
    return r;
  }
  Response r = PdError(bhttp::status::service_unavailable, "unavailable",
                       "the event could not be stored; retry later", {st.message()});
  r.set(bhttp::field::retry_after, "1");
  return r;
}

}  // namespace

Response StoreError(const Status& st) {
  Response r = http::ErrorResponse(st.code() == StatusCode::kResourceExhausted
                                       ? Unavailable("houston is overloaded: " + st.message() +
                                                     "; nothing was stored, retry later")
                                       : st);
  if (r.result() == bhttp::status::service_unavailable) r.set(bhttp::field::retry_after, "1");
  return r;
}

Result<int64_t> ParseId(std::string_view s, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    return std::unexpected(
        InvalidArgument(fmt::format("{} '{}' is not a positive integer", what, s)));
  }
  return v;
}

Result<Page> ParsePage(const HttpRequest& req) {
  Page p;
  if (auto l = req.Query("limit")) {
    HOUSTON_ASSIGN_OR_RETURN(int64_t v, ParseId(*l, "query parameter 'limit'"));
    if (v > 1000) {
      return std::unexpected(InvalidArgument("query parameter 'limit' must be at most 1000"));
    }
    p.limit = static_cast<int>(v);
  }
  if (auto c = req.Query("cursor")) {
    HOUSTON_ASSIGN_OR_RETURN(p.before_id, ParseId(*c, "query parameter 'cursor'"));
  }
  if (auto s = req.Query("since")) {
    auto t = ParseRfc3339(*s);
    if (!t) {
      return std::unexpected(InvalidArgument("query parameter 'since': " + t.error().message()));
    }
    p.since = *t;
  }
  return p;
}

Result<std::map<std::string, std::string>> StringFields(
    std::string_view body, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec)
    return std::unexpected(InvalidArgument("request body is not valid JSON: " + ec.message()));
  if (!v.is_object()) return std::unexpected(InvalidArgument("request body must be a JSON object"));
  std::map<std::string, std::string> out;
  std::vector<std::string> problems;
  for (const auto& [k, val] : v.as_object()) {
    std::string key(k);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      problems.push_back(fmt::format("unknown field '{}'", key));
    } else if (!val.is_string()) {
      problems.push_back(fmt::format("'{}' must be a string", key));
    } else {
      out[key] = std::string(val.as_string());
    }
  }
  if (!problems.empty()) return std::unexpected(InvalidArgument("invalid request body", problems));
  return out;
}

// {"<name>":[items...],"next_cursor":"id"|null}

const std::vector<Api::RouteSpec>& Api::Routes() {
  using V = bhttp::verb;
  static const std::vector<RouteSpec> kRoutes = {
      {V::get, "/", std::nullopt, &Api::Home},
      {V::get, "/api/v1", std::nullopt, &Api::ApiRoot},
      {V::get, "/healthz", std::nullopt, &Api::Health},
      {V::get, "/readyz", std::nullopt, &Api::Ready},
      {V::get, "/metrics", std::nullopt, &Api::MetricsText},
      {V::post, "/v2/enqueue", std::nullopt, &Api::EventsV2},
      {V::post, "/v2/change/enqueue", std::nullopt, &Api::ChangeEvent},
      {V::post, "/integrations/alertmanager/{key}", std::nullopt, &Api::AlertmanagerIntake},
      {V::post, "/integrations/grafana/{key}", std::nullopt, &Api::GrafanaIntake},
      {V::post, "/integrations/generic/{key}", std::nullopt, &Api::GenericIntake},
      {V::get, "/integrations/heartbeat/{key}", std::nullopt, &Api::Heartbeat},
      {V::post, "/integrations/heartbeat/{key}", std::nullopt, &Api::Heartbeat},
      {V::get, "/api/v1/alerts", Role::kViewer, &Api::ListAlerts},
      {V::get, "/api/v1/alerts/{id}", Role::kViewer, &Api::GetAlert},
      {V::post, "/api/v1/alerts/{id}/acknowledge", Role::kResponder, &Api::AcknowledgeAlert},
      {V::post, "/api/v1/alerts/{id}/resolve", Role::kResponder, &Api::ResolveAlert},
      {V::get, "/api/v1/incidents", Role::kViewer, &Api::ListIncidents},
      {V::get, "/api/v1/incidents/{id}", Role::kViewer, &Api::GetIncident},
      {V::get, "/api/v1/services", Role::kViewer, &Api::ListServices},
      {V::get, "/api/v1/changes", Role::kViewer, &Api::ListChanges},
      {V::get, "/api/v1/live", Role::kViewer, &Api::Live},
      {V::get, "/api/v1/audit", Role::kAdmin, &Api::ListAudit},
      {V::post, "/api/v1/incidents", Role::kResponder, &Api::DeclareIncident},
      {V::patch, "/api/v1/incidents/{id}", Role::kResponder, &Api::PatchIncident},
      {V::post, "/api/v1/incidents/{id}/acknowledge", Role::kResponder, &Api::AcknowledgeIncident},
      {V::post, "/api/v1/incidents/{id}/mitigate", Role::kResponder, &Api::MitigateIncident},
      {V::post, "/api/v1/incidents/{id}/resolve", Role::kResponder, &Api::ResolveIncident},
      {V::post, "/api/v1/incidents/{id}/reopen", Role::kResponder, &Api::ReopenIncident},
      {V::post, "/api/v1/incidents/{id}/roles", Role::kResponder, &Api::AssignRole},
      {V::post, "/api/v1/incidents/{id}/responders", Role::kResponder, &Api::AddResponder},
      {V::delete_, "/api/v1/incidents/{id}/responders/{user}", Role::kResponder,
       &Api::RemoveResponder},
      {V::post, "/api/v1/incidents/{id}/notes", Role::kResponder, &Api::AddNote},
      {V::get, "/api/v1/incidents/{id}/timeline", Role::kViewer, &Api::IncidentTimeline},
      {V::post, "/api/v1/incidents/{id}/timeline/{entry}/pin", Role::kResponder, &Api::PinEntry},
      {V::delete_, "/api/v1/incidents/{id}/timeline/{entry}/pin", Role::kResponder,
       &Api::UnpinEntry},
      {V::get, "/api/v1/incidents/{id}/suspects", Role::kViewer, &Api::Suspects},
      {V::post, "/api/v1/incidents/{id}/changes", Role::kResponder, &Api::LinkChange},
      {V::get, "/api/v1/incidents/{id}/updates", Role::kViewer, &Api::ListUpdates},
      {V::post, "/api/v1/incidents/{id}/updates", Role::kResponder, &Api::PublishUpdate},
      {V::post, "/api/v1/incidents/{id}/merge", Role::kResponder, &Api::MergeIncident},
      {V::post, "/api/v1/incidents/{id}/split", Role::kResponder, &Api::SplitIncident},
      {V::get, "/api/v1/incident-roles", Role::kViewer, &Api::ListIncidentRoles},
      {V::get, "/api/v1/severities", Role::kViewer, &Api::ListSeverities},
      {V::get, "/status", std::nullopt, &Api::StatusHtml},
      {V::get, "/status.json", std::nullopt, &Api::StatusJson},
      {V::get, "/status/feed.atom", std::nullopt, &Api::StatusAtom},
      {V::get, "/status/feed.rss", std::nullopt, &Api::StatusRss},
      {V::get, "/api/v1/notifications", Role::kViewer, &Api::ListNotifications},
      {V::get, "/api/v1/users", Role::kViewer, &Api::ListUsers},
      {V::get, "/api/v1/escalation-policies", Role::kViewer, &Api::ListEscalationPolicies},
      {V::get, "/api/v1/schedules", Role::kViewer, &Api::ListSchedules},
      {V::get, "/api/v1/schedules/{id}/oncall", Role::kViewer, &Api::ScheduleOnCall},
      {V::get, "/api/v1/schedules/{id}/shifts", Role::kViewer, &Api::ScheduleShifts},
      {V::get, "/calendars/{token}", std::nullopt, &Api::Calendar},
      {V::get, "/api/v1/schedules/{id}/overrides", Role::kViewer, &Api::ListOverrides},
      {V::post, "/api/v1/schedules/{id}/overrides", Role::kResponder, &Api::CreateOverride},
      {V::post, "/api/v1/schedules/{id}/swaps", Role::kResponder, &Api::CreateSwap},
      {V::post, "/api/v1/schedules/{id}/cover-requests", Role::kResponder,
       &Api::CreateCoverRequest},
      {V::get, "/api/v1/cover-requests", Role::kViewer, &Api::ListCoverRequests},
      {V::post, "/api/v1/overrides/{id}/accept", Role::kResponder, &Api::AcceptCover},
      {V::delete_, "/api/v1/overrides/{id}", Role::kResponder, &Api::CancelOverride},
      {V::get, "/actions/{token}", std::nullopt, &Api::ActionPage},
      {V::post, "/actions/{token}", std::nullopt, &Api::ActionPost},
      // People signing in (api/session_routes.cc); sign-in itself is checked by password.
      {V::post, "/api/v1/session", std::nullopt, &Api::SignIn},
      {V::get, "/api/v1/session", Role::kViewer, &Api::WhoAmI},
      {V::delete_, "/api/v1/session", Role::kViewer, &Api::SignOut},
      {V::delete_, "/api/v1/users/{id}/sessions", Role::kAdmin, &Api::RevokeUserSessions},
  };
  return kRoutes;
}

Api::Api(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options)
    : store_(store),
      incidents_(store),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)),
      limiter_(clock),
      org_(MakeOrgView(nullptr)) {
  auth::SessionOptions sessions = options_.sessions;
  sessions.secure_cookie =
      sessions.secure_cookie || options_.tls || options_.base_url.starts_with("https://");
  auth_ = std::make_unique<auth::Authenticator>(
      store_, clock_, std::move(sessions),
      [this](std::string_view user_id) { return UserRole(user_id); });
  metrics_.Describe("houston_events_total", "counter",
                    "Inbound events by integration type and result (accepted, rejected, "
                    "rate_limited, overloaded, failed, unknown_key).");
}

void Api::SetOrg(std::shared_ptr<const config::Org> org) {
  auto view = MakeOrgView(std::move(org));
  std::lock_guard lock(org_mu_);
  org_ = std::move(view);
  ++org_version_;
}

std::shared_ptr<const OrgView> Api::org() const {
  std::lock_guard lock(org_mu_);
  return org_;
}

void Api::CountEvent(std::string_view type, std::string_view result, uint64_t n) {
  metrics_.Add("houston_events_total",
               fmt::format("integration=\"{}\",result=\"{}\"", type, result), n);
}

void Api::Register(http::Router& router) {
  for (const auto& spec : Routes()) {
    http::PreBodyCheck check;
    if (spec.min_role) {
      // Refuses a body (and 100 Continue) to callers without the role.
      check = [this, &spec](const HttpRequest& req) -> std::optional<Response> {
        auto principal = Authorize(spec, req);
        if (principal) return std::nullopt;
        return http::ErrorResponse(principal.error());
      };
    }
    router.Add(
        spec.method, spec.pattern,
        [this, &spec](const HttpRequest& req, http::Responder respond) {
          Dispatch(spec, req, std::move(respond));
        },
        std::move(check));
  }
}

Result<auth::Principal> Api::Authenticate(const HttpRequest& req) {
  return auth_->Authenticate(auth::Credentials{.authorization = req.Header("Authorization"),
                                               .cookie = req.Header("Cookie")});
}

auth::RequestSite Api::SiteOf(const HttpRequest& req) const {
  return auth::RequestSite{.method = req.raw.method_string(),
                           .csrf_token = req.Header("X-CSRF-Token"),
                           .origin = req.Header("Origin"),
                           .host = req.Header("Host"),
                           .tls = options_.tls,
                           .base_url = options_.base_url};
}

Result<auth::Principal> Api::Authorize(const RouteSpec& spec, const HttpRequest& req) {
  HOUSTON_ASSIGN_OR_RETURN(auth::Principal principal, Authenticate(req));
  if (principal.role < *spec.min_role) {
    return std::unexpected(PermissionDenied(fmt::format(
        "this needs the {} role; {} '{}' has the {} role", store::ToString(*spec.min_role),
        principal.method == auth::Method::kToken ? "token" : "user", principal.id,
        store::ToString(principal.role))));
  }
  HOUSTON_RETURN_IF_ERROR(auth::CheckCsrf(principal, SiteOf(req)));
  return principal;
}

void Api::Dispatch(const RouteSpec& spec, const HttpRequest& req, Respond respond) {
  if (!spec.min_role) return (this->*spec.handler)(req, nullptr, std::move(respond));
  auto principal = Authorize(spec, req);
  if (!principal) {
    Response r = http::ErrorResponse(principal.error());
    // A session cookie that no longer works is of no use to the browser: it forgets it.
    if (principal.error().code() == StatusCode::kUnauthenticated &&
        req.Header("Authorization").empty() && !req.Header("Cookie").empty()) {
      r.set(bhttp::field::set_cookie, auth::ClearSessionCookie(auth_->options().secure_cookie));
    }
    return respond(std::move(r));
  }
  (this->*spec.handler)(req, &*principal, std::move(respond));
}

void Api::Health(const HttpRequest&, const auth::Principal*, Respond respond) {
  respond(http::JsonResponse(bhttp::status::ok, R"({"status":"ok"})"));
}

void Api::Ready(const HttpRequest&, const auth::Principal*, Respond respond) {
  Status st = store_.Ready();
  if (st.ok()) return respond(http::JsonResponse(bhttp::status::ok, R"({"status":"ready"})"));
  Response r =
      http::JsonResponse(bhttp::status::service_unavailable,
                         R"({"status":"unavailable","reason":)" + JsonQuote(st.message()) + "}");
  r.set(bhttp::field::retry_after, "1");
  respond(std::move(r));
}

void Api::MetricsText(const HttpRequest&, const auth::Principal*, Respond respond) {
  Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  r.body() = metrics_.Render();
  respond(std::move(r));
}

void Api::AlertmanagerIntake(const HttpRequest& req, const auth::Principal*, Respond respond) {
  WebhookIntake(IntegrationType::kAlertmanager, req, std::move(respond));
}
void Api::GrafanaIntake(const HttpRequest& req, const auth::Principal*, Respond respond) {
  WebhookIntake(IntegrationType::kGrafana, req, std::move(respond));
}
void Api::GenericIntake(const HttpRequest& req, const auth::Principal*, Respond respond) {
  WebhookIntake(IntegrationType::kGeneric, req, std::move(respond));
}
void Api::AcknowledgeAlert(const HttpRequest& req, const auth::Principal* principal,
                           Respond respond) {
  AlertAction(true, req, *principal, std::move(respond));
}
void Api::ResolveAlert(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  AlertAction(false, req, *principal, std::move(respond));
}

Response Api::RenderError(std::string_view path, const Status& status) const {
  if (path.starts_with("/v2/")) {
    std::vector<std::string> errors = status.details();
    if (errors.empty()) errors.push_back(status.message());
    Response r = PdError(http::HttpStatusFor(status.code()),
                         status.code() == StatusCode::kInvalidArgument ||
                                 status.code() == StatusCode::kResourceExhausted
                             ? "invalid event"
                             : "error",
                         status.message(), errors);
    return r;
  }
  return http::ErrorResponse(status);
}

// ---------------------------------------------------------------------------------------------
// Intake.

bool Api::CheckRate(const IntegrationInfo& info, size_t events, Respond& respond,
                    bool pagerduty_shape) {
  if (!info.rate_limit_per_second) return true;
  const double limit = *info.rate_limit_per_second;
  RateLimiter::Verdict v = limiter_.Take(info.key, limit, events);
  if (v.allowed) return true;
  CountEvent(IntegrationTypeLabel(info.type), "rate_limited", events);
  if (v.never) {
    // Retrying cannot help: say so (400, not 429, so that senders do not retry it forever).
    auto burst = static_cast<size_t>(RateLimiter::Burst(limit));
    std::string msg = fmt::format(
        "this request carries {} events, more than the {} this integration's rate limit "
        "(rate_limit_per_second: {}) lets through at once; it can never be accepted. Raise "
        "rate_limit_per_second to at least {}, or send fewer alerts per request",
        events, burst, limit, events);
    respond(pagerduty_shape ? PdError(bhttp::status::bad_request, "invalid event", msg, {msg})
                            : http::ErrorResponse(InvalidArgument(msg)));
    return false;
  }
  std::string msg =
      events == 1
          ? fmt::format("rate limit of {} events/s for this integration exceeded; retry after {} s",
                        limit, v.retry_after)
          : fmt::format(
                "rate limit of {} events/s for this integration exceeded: this request carries "
                "{} events (each alert counts); retry after {} s",
                limit, events, v.retry_after);
  Response r = pagerduty_shape
                   ? PdError(bhttp::status::too_many_requests, "throttle event", msg, {msg})
                   : http::ErrorResponse(ResourceExhausted(msg));
  r.set(bhttp::field::retry_after, std::to_string(v.retry_after));
  respond(std::move(r));
  return false;
}

void Api::Submit(std::vector<core::AlertEvent> events, std::string integration_type,
                 std::function<Response(const std::vector<store::EventOutcome>&)> on_success,
                 std::function<Response(const Status&)> on_error, Respond respond) {
  size_t n = events.size();
  std::optional<std::chrono::minutes> first_step_delay =
      events.empty() ? std::nullopt : events.front().first_step_delay;
  std::string actor_id = events.empty() ? "" : integration_type + ":" + events[0].service_id;
  // Responder is move-only; the store callback must be copyable, so it owns it via shared_ptr.
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.ApplyAlertEvents(
      std::move(events), store::Actor{"integration", actor_id, "integration"},
      [this, shared, n, first_step_delay, integration_type = std::move(integration_type),
       on_success = std::move(on_success),
       on_error = std::move(on_error)](Result<std::vector<store::EventOutcome>> r) {
        if (r) {
          CountEvent(integration_type, "accepted", n);
          // Wake the engine only when it has work now: a step due at once, or an ack/resolve.
          for (const auto& o : *r) {
            using K = store::EventOutcome::Kind;
            bool due_now = o.kind == K::kCreated && o.incident_created &&
                           (!first_step_delay || first_step_delay->count() == 0);
            if (due_now || o.kind == K::kAcknowledged || o.kind == K::kResolved) {
              Changed();
              break;
            }
          }
          (*shared)(on_success(*r));
        } else {
          CountEvent(integration_type,
                     r.error().code() == StatusCode::kResourceExhausted ? "overloaded" : "failed",
                     n);
          if (r.error().code() != StatusCode::kResourceExhausted) {
            spdlog::error("storing {} events failed: {}", integration_type, r.error().ToString());
          }
          (*shared)(on_error(r.error()));
        }
      });
}

// The shared front of /v2/enqueue and /v2/change/enqueue: size limit, parse, routing key,
// rate limit. Answers (PagerDuty's way) and returns nullopt when the event goes no further.
template <typename Event, typename Parse>
std::optional<std::pair<Event, IntegrationInfo>> Api::PagerDutyEvent(std::string_view type,
                                                                     const HttpRequest& req,
                                                                     Parse parse,
                                                                     Respond& respond) {
  const std::string& body = req.raw.body();
  if (body.size() > options_.max_event_bytes) {
    CountEvent(type, "rejected");
    respond(PdError(
        bhttp::status::bad_request, "invalid event", "Event object is invalid",
        {fmt::format("event is larger than the limit of {} bytes", options_.max_event_bytes)}));
    return std::nullopt;
  }
  Result<Event> ev = parse(body);
  if (!ev) {
    CountEvent(type, "rejected");
    std::vector<std::string> errors = ev.error().details();
    if (errors.empty()) errors.push_back(ev.error().message());
    respond(PdError(bhttp::status::bad_request, "invalid event", ev.error().message(), errors));
    return std::nullopt;
  }
  auto view = org();
  auto it = view->integrations.find(ev->integration_key);
  if (it == view->integrations.end() || it->second.type != IntegrationType::kEventsV2) {
    CountEvent(type, "unknown_key");
    respond(PdError(bhttp::status::bad_request, "invalid event", "Event object is invalid",
                    {"Invalid routing key"}));
    return std::nullopt;
  }
  if (!CheckRate(it->second, 1, respond, true)) return std::nullopt;
  ev->service_id = it->second.service_id;
  return std::make_pair(std::move(*ev), it->second);
}

void Api::EventsV2(const HttpRequest& req, const auth::Principal*, Respond respond) {
  constexpr std::string_view kType = "events_v2";
  auto parsed = PagerDutyEvent<core::AlertEvent>(
      kType, req, [](std::string_view b) { return ingest::ParseEventsV2(b); }, respond);
  if (!parsed) return;
  auto& [ev, info] = *parsed;
  Route(ev, info);
  std::vector<core::AlertEvent> events;
  events.push_back(std::move(ev));
  Submit(
      std::move(events), std::string(kType),
      [](const std::vector<store::EventOutcome>& out) {
        std::string b(kPdSuccess);
        b += ",\"dedup_key\":";
        AppendJsonString(b, out.at(0).dedup_key);
        b += '}';
        return http::JsonResponse(bhttp::status::accepted, std::move(b));
      },
      PdStoreError, std::move(respond));
}

void Api::ChangeEvent(const HttpRequest& req, const auth::Principal*, Respond respond) {
  constexpr std::string_view kType = "change";
  auto parsed = PagerDutyEvent<core::ChangeEvent>(
      kType, req, [](std::string_view b) { return ingest::ParseChangeEvent(b); }, respond);
  if (!parsed) return;
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.RecordChange(std::move(parsed->first), [this, shared](Result<core::Change> r) {
    if (!r) {
      CountEvent("change",
                 r.error().code() == StatusCode::kResourceExhausted ? "overloaded" : "failed");
      return (*shared)(PdStoreError(r.error()));
    }
    CountEvent("change", "accepted");
    (*shared)(http::JsonResponse(bhttp::status::accepted, std::string(kPdSuccess) + "}"));
  });
}

void Api::WebhookIntake(IntegrationType type, const HttpRequest& req, Respond respond) {
  std::string type_name(IntegrationTypeLabel(type));
  const std::string key = req.Param("key");
  auto view = org();
  auto it = view->integrations.find(key);
  if (it == view->integrations.end() || it->second.type != type) {
    CountEvent(type_name, "unknown_key");
    return respond(
        http::ErrorResponse(NotFound(fmt::format("no {} integration has this key", type_name))));
  }
  if (req.raw.body().size() > options_.max_event_bytes) {
    CountEvent(type_name, "rejected");
    Response r = http::ErrorResponse(ResourceExhausted(fmt::format(
        "request body is larger than the limit of {} bytes", options_.max_event_bytes)));
    r.result(bhttp::status::payload_too_large);
    return respond(std::move(r));
  }
  Result<std::vector<core::AlertEvent>> events = std::vector<core::AlertEvent>{};
  switch (type) {
    case IntegrationType::kAlertmanager:
      events = ingest::ParseAlertmanager(req.raw.body(), key);
      break;
    case IntegrationType::kGrafana:
      events = ingest::ParseGrafana(req.raw.body(), key);
      break;
    case IntegrationType::kGeneric: {
      auto ev = ingest::ParseGeneric(req.raw.body(), key, it->second.mapping);
      if (ev) {
        events->push_back(std::move(*ev));
      } else {
        events = std::unexpected(ev.error());
      }
      break;
    }
    default:
      HOUSTON_CHECK(false);
  }
  if (!events) {
    CountEvent(type_name, "rejected");
    return respond(http::ErrorResponse(events.error()));
  }
  // Every alert of a batch is an event: the limit counts them, not requests.
  if (!CheckRate(it->second, events->size(), respond, false)) return;
  for (auto& ev : *events) Route(ev, it->second);
  if (events->empty()) {
    return respond(http::JsonResponse(bhttp::status::accepted,
                                      R"({"status":"success","message":"No alerts","alerts":[]})"));
  }
  Submit(
      std::move(*events), type_name,
      [](const std::vector<store::EventOutcome>& out) {
        std::string b = R"({"status":"success","message":"Event processed","alerts":[)";
        for (size_t i = 0; i < out.size(); ++i) {
          if (i) b += ',';
          b += "{\"dedup_key\":";
          AppendJsonString(b, out[i].dedup_key);
          b += ",\"result\":";
          AppendJsonString(b, store::ToString(out[i].kind));
          b += fmt::format(",\"alert_id\":{},\"incident_id\":{}}}", out[i].alert_id,
                           out[i].incident_id);
        }
        b += "]}";
        return http::JsonResponse(bhttp::status::accepted, std::move(b));
      },
      StoreError, std::move(respond));
}

void Api::Heartbeat(const HttpRequest& req, const auth::Principal*, Respond respond) {
  const std::string key = req.Param("key");
  auto view = org();
  auto it = view->integrations.find(key);
  if (it == view->integrations.end() || it->second.type != IntegrationType::kHeartbeat) {
    CountEvent("heartbeat", "unknown_key");
    return respond(http::ErrorResponse(NotFound("no heartbeat integration has this key")));
  }
  // HEAD only asks whether the URL works: GET and POST record a beat.
  if (req.raw.method() == bhttp::verb::head) {
    return respond(http::JsonResponse(bhttp::status::ok, R"({"status":"ok"})"));
  }
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.RecordHeartbeat(key, [this, shared](Result<store::Heartbeat> r) {
    if (!r) {
      CountEvent("heartbeat", "failed");
      return (*shared)(StoreError(r.error()));
    }
    CountEvent("heartbeat", "accepted");
    std::string b = R"({"status":"ok","next_beat_due_by":)";
    AppendJsonString(b, FormatRfc3339(*r->last_beat_at + r->interval));
    b += '}';
    (*shared)(http::JsonResponse(bhttp::status::ok, std::move(b)));
  });
}

// ---------------------------------------------------------------------------------------------
// REST.

void Api::ListAlerts(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::AlertFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  f.since = page->since;
  if (auto s = req.Query("status")) {
    auto st = core::ParseAlertStatus(*s);
    if (!st) {
      return respond(http::ErrorResponse(InvalidArgument(fmt::format(
          "query parameter 'status' must be triggered, acknowledged or resolved, not '{}'", *s))));
    }
    f.status = st;
  }
  if (auto s = req.Query("service")) f.service_id = *s;
  auto alerts = store_.ListAlerts(f);
  if (!alerts) return respond(http::ErrorResponse(alerts.error()));
  respond(ListResponse("alerts", *alerts, f.limit, AlertJson));
}

void Api::GetAlert(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "alert id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto a = store_.GetAlert(*id);
  if (!a) return respond(http::ErrorResponse(a.error()));
  respond(http::JsonResponse(bhttp::status::ok, "{\"alert\":" + AlertJson(*a) + "}"));
}

void Api::AlertAction(bool acknowledge, const HttpRequest& req, const auth::Principal& principal,
                      Respond respond) {
  auto id = ParseId(req.Param("id"), "alert id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  store::Actor actor = principal.Actor();
  std::string_view via = req.Header("X-Houston-Client");
  if (via == "cli") actor.method = "cli";
  auto shared = std::make_shared<Respond>(std::move(respond));
  auto done = [this, shared](Result<core::Alert> r) {
    if (!r) return (*shared)(StoreError(r.error()));
    Changed();
    (*shared)(http::JsonResponse(bhttp::status::ok, "{\"alert\":" + AlertJson(*r) + "}"));
  };
  if (acknowledge) {
    store_.AcknowledgeAlert(*id, std::move(actor), std::move(done));
  } else {
    store_.ResolveAlert(*id, std::move(actor), std::move(done));
  }
}

void Api::ListIncidents(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::IncidentFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  f.since = page->since;
  if (auto s = req.Query("status")) {
    auto st = core::ParseIncidentStatus(*s);
    if (!st) {
      return respond(http::ErrorResponse(InvalidArgument(fmt::format(
          "query parameter 'status' must be triggered, acknowledged, mitigated or resolved, not "
          "'{}'",
          *s))));
    }
    f.status = st;
  }
  if (auto s = req.Query("service")) f.service_id = *s;
  if (auto s = req.Query("open")) {
    if (*s != "true" && *s != "false") {
      return respond(http::ErrorResponse(InvalidArgument(
          fmt::format("query parameter 'open' must be true or false, not '{}'", *s))));
    }
    f.open_only = *s == "true";
  }
  if (auto s = req.Query("sev")) {
    auto view = org();
    auto sev = core::NormalizeSev(
        *s, view->org ? config::SevLevels(*view->org) : core::DefaultSevLevels());
    if (!sev) {
      return respond(
          http::ErrorResponse(InvalidArgument("query parameter 'sev': " + sev.error().message())));
    }
    f.sev = *sev;
  }
  auto incidents = store_.ListIncidents(f);
  if (!incidents) return respond(http::ErrorResponse(incidents.error()));
  respond(ListResponse("incidents", *incidents, f.limit,
                       [](const core::Incident& i) { return core::IncidentJson(i); }));
}

void Api::GetIncident(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto inc = store_.GetIncident(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  // Its alerts: grouped incidents can have many; list the newest 1000.
  std::string body = "{\"incident\":" + core::IncidentJson(*inc) + ",\"alerts\":[";
  auto alerts = store_.ListAlerts({.incident_id = inc->id, .limit = 1000});
  if (!alerts) return respond(http::ErrorResponse(alerts.error()));
  for (size_t i = 0; i < alerts->size(); ++i) {
    if (i) body += ',';
    body += AlertJson((*alerts)[i]);
  }
  // What may have caused it, as one line each (GET .../suspects has the detail).
  body += "],\"suspects\":[";
  if (auto view = org(); view->org) {
    auto suspects = engine::FindSuspects(store_, *view->org, *inc, 5);
    if (!suspects) return respond(http::ErrorResponse(suspects.error()));
    for (size_t i = 0; i < suspects->size(); ++i) {
      if (i) body += ',';
      AppendJsonString(body, engine::SuspectLine((*suspects)[i]));
    }
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void Api::ListServices(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string body = "{\"services\":[";
  if (view->org) {
    bool first = true;
    for (const auto& s : view->org->services) {
      if (!first) body += ',';
      first = false;
      std::string o = "{";
      Field(o, "id", s.id);
      Field(o, "name", s.name);
      Field(o, "description", s.description);
      Field(o, "team", s.team);
      Raw(o, "tier", s.tier ? std::to_string(*s.tier) : "null");
      Field(o, "runbook_url", s.runbook_url);
      Field(o, "escalation_policy", s.escalation_policy);
      std::string deps = "[";
      for (size_t i = 0; i < s.depends_on.size(); ++i) {
        if (i) deps += ',';
        AppendJsonString(deps, s.depends_on[i]);
      }
      deps += ']';
      Raw(o, "depends_on", deps);
      // Integration keys are secrets: list types and names only.
      std::string integ = "[";
      for (size_t i = 0; i < s.integrations.size(); ++i) {
        if (i) integ += ',';
        std::string io = "{";
        Field(io, "type", core::ToString(s.integrations[i].type));
        Field(io, "name", s.integrations[i].name);
        io += '}';
        integ += io;
      }
      integ += ']';
      Raw(o, "integrations", integ);
      auto open = store_.ListIncidents({.service_id = s.id, .limit = 1000, .open_only = true});
      Raw(o, "open_incidents", std::to_string(open ? open->size() : 0));
      o += '}';
      body += o;
    }
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void Api::ListChanges(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::ChangeFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  f.since = page->since;
  if (auto s = req.Query("service")) f.service_id = *s;
  auto changes = store_.ListChanges(f);
  if (!changes) return respond(http::ErrorResponse(changes.error()));
  respond(ListResponse("changes", *changes, f.limit, ChangeJson));
}

void Api::ListAudit(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::AuditFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  if (auto s = req.Query("resource_type")) f.resource_type = *s;
  if (auto s = req.Query("resource_id")) f.resource_id = *s;
  auto records = store_.ListAudit(f);
  if (!records) return respond(http::ErrorResponse(records.error()));
  respond(ListResponse("audit", *records, f.limit, [](const store::AuditRecord& r) {
    std::string o = "{";
    Raw(o, "id", std::to_string(r.id));
    Time(o, "at", r.at);
    std::string actor = "{";
    Field(actor, "type", r.actor.type);
    Field(actor, "id", r.actor.id);
    actor += '}';
    Raw(o, "actor", actor);
    Field(o, "method", r.actor.method);
    Field(o, "action", r.action);
    Field(o, "resource_type", r.resource_type);
    Field(o, "resource_id", r.resource_id);
    Raw(o, "details", r.details_json.empty() ? "{}" : r.details_json);
    o += '}';
    return o;
  }));
}

// ---------------------------------------------------------------------------------------------
// Paging: incidents, notifications, on-call, signed action links.

void Api::Changed() {
  if (options_.on_change) options_.on_change();
}

store::Actor ActorOf(const HttpRequest& req, const auth::Principal& principal) {
  return principal.Actor(req.Header("X-Houston-Client") == "cli" ? "cli" : "api");
}

void Api::TransitionIncident(core::IncidentAction action, core::IncidentId id, store::Actor actor,
                             Respond respond) {
  incidents_.Transition(id, action, std::move(actor), AnswerIncident(std::move(respond)));
}

void Api::IncidentAction(core::IncidentAction action, const HttpRequest& req,
                         const auth::Principal& principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  TransitionIncident(action, *id, ActorOf(req, principal), std::move(respond));
}

void Api::AcknowledgeIncident(const HttpRequest& req, const auth::Principal* principal,
                              Respond respond) {
  IncidentAction(core::IncidentAction::kAcknowledge, req, *principal, std::move(respond));
}

void Api::MitigateIncident(const HttpRequest& req, const auth::Principal* principal,
                           Respond respond) {
  IncidentAction(core::IncidentAction::kMitigate, req, *principal, std::move(respond));
}

void Api::ResolveIncident(const HttpRequest& req, const auth::Principal* principal,
                          Respond respond) {
  IncidentAction(core::IncidentAction::kResolve, req, *principal, std::move(respond));
}

void Api::ReopenIncident(const HttpRequest& req, const auth::Principal* principal,
                         Respond respond) {
  IncidentAction(core::IncidentAction::kReopen, req, *principal, std::move(respond));
}

void Api::IncidentTimeline(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  bool pinned_only = req.Query("pinned") == std::optional<std::string_view>("true");
  auto entries = store_.ListTimeline(*id);
  if (!entries) return respond(http::ErrorResponse(entries.error()));
  // The incident's own records and its alerts', plus every notification about it (pages, role
  // pages, reminders, status updates, webhooks) at the time it was sent or gave up.
  struct Item {
    TimePoint at;
    int order;  // records before notifications at the same instant
    int64_t seq;
    std::string json;
  };
  std::vector<Item> items;
  for (const auto& e : *entries) {
    if (pinned_only && !e.pinned) continue;
    const auto& r = e.record;
    std::string o = "{";
    Raw(o, "id", std::to_string(r.id));
    Time(o, "at", r.at);
    Field(o, "action", r.action);
    Field(o, "resource", r.resource_type + "/" + r.resource_id);
    Field(o, "actor", r.actor.type + ":" + r.actor.id);
    Field(o, "via", r.actor.method);
    Raw(o, "details", r.details_json.empty() ? "{}" : r.details_json);
    Raw(o, "pinned", e.pinned ? "true" : "false");
    items.push_back({r.at, 0, r.id, o + "}"});
  }
  if (!pinned_only) {
    auto notes = store_.ListNotifications({.incident_id = *id, .limit = 1000});
    if (!notes) return respond(http::ErrorResponse(notes.error()));
    for (const auto& n : *notes) {
      if (n.state == core::NotificationState::kPending ||
          n.state == core::NotificationState::kSending) {
        continue;
      }
      TimePoint at = n.sent_at.value_or(std::max(n.not_before, n.created_at));
      std::string o = "{";
      Raw(o, "id", "null");
      Time(o, "at", at);
      Field(o, "action", fmt::format("notification.{}", core::ToString(n.state)));
      Field(o, "resource", fmt::format("notification/{}", n.id));
      Field(o, "actor", "system:notification-dispatcher");
      Field(o, "via", "system");
      Raw(o, "details",
          fmt::format(R"({{"kind":{},"user":{},"contact_method":{},"channel":{},"target":{},)"
                      R"("attempts":{},"last_error":{}}})",
                      JsonQuote(n.kind), JsonQuote(n.user_id), JsonQuote(n.contact_method_id),
                      JsonQuote(n.channel_type), JsonQuote(n.target), n.attempts,
                      JsonQuote(n.last_error)));
      Raw(o, "pinned", "false");
      items.push_back({at, 1, n.id, o + "}"});
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.at, a.order, a.seq) < std::tie(b.at, b.order, b.seq);
  });
  std::string body = "{\"incident_id\":" + std::to_string(*id) + ",\"timeline\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body += ',';
    body += items[i].json;
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void Api::ListNotifications(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::NotificationFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  if (auto s = req.Query("state")) {
    f.state = core::ParseNotificationState(*s);
    if (!f.state) {
      return respond(http::ErrorResponse(InvalidArgument(
          fmt::format("query parameter 'state' must be one of pending, sending, sent, failed, "
                      "unknown, cancelled, dead, not '{}'",
                      *s))));
    }
  }
  if (auto s = req.Query("incident")) {
    auto id = ParseId(*s, "query parameter 'incident'");
    if (!id) return respond(http::ErrorResponse(id.error()));
    f.incident_id = *id;
  }
  auto list = store_.ListNotifications(f);
  if (!list) return respond(http::ErrorResponse(list.error()));
  respond(ListResponse("notifications", *list, f.limit, [](const store::Notification& n) {
    std::string o = "{";
    Raw(o, "id", std::to_string(n.id));
    Raw(o, "incident_id", std::to_string(n.incident_id));
    Field(o, "user", n.user_id);
    Field(o, "contact_method", n.contact_method_id);
    Field(o, "channel", n.channel_type);
    Raw(o, "step", std::to_string(n.step));
    Raw(o, "loop", std::to_string(n.loop));
    Field(o, "target", n.target);
    Field(o, "state", core::ToString(n.state));
    Raw(o, "attempts", std::to_string(n.attempts));
    Time(o, "created_at", n.created_at);
    Time(o, "not_before", n.not_before);
    Time(o, "sent_at", n.sent_at);
    Field(o, "last_error", n.last_error);
    o += '}';
    return o;
  }));
}

namespace {
std::string StringArray(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, v[i]);
  }
  return out + "]";
}
}  // namespace

void Api::ListUsers(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string body = "{\"users\":[";
  if (view->org) {
    for (size_t i = 0; i < view->org->users.size(); ++i) {
      const auto& u = view->org->users[i];
      if (i) body += ',';
      std::string o = "{";
      Field(o, "id", u.id);
      Field(o, "name", u.name);
      Field(o, "email", u.email);
      Field(o, "timezone", u.timezone);
      Field(o, "role", core::ToString(u.role));
      std::string cms = "[";
      for (size_t j = 0; j < u.contact_methods.size(); ++j) {
        if (j) cms += ',';
        // Contact details stay private: ids and types only.
        cms += fmt::format("{{\"id\":{},\"type\":\"{}\"}}", JsonQuote(u.contact_methods[j].id),
                           config::ToString(u.contact_methods[j].type));
      }
      Raw(o, "contact_methods", cms + "]");
      std::string rules = "[";
      for (size_t j = 0; j < u.notification_rules.size(); ++j) {
        if (j) rules += ',';
        rules += fmt::format("{{\"contact_method\":{},\"delay_minutes\":{}}}",
                             JsonQuote(u.notification_rules[j].contact_method),
                             u.notification_rules[j].delay_minutes);
      }
      Raw(o, "notification_rules", rules + "]");
      Field(o, "ical_url", CalendarUrl("user", u.id, req));
      body += o + "}";
    }
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void Api::ListEscalationPolicies(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string body = "{\"escalation_policies\":[";
  if (view->org) {
    for (size_t i = 0; i < view->org->escalation_policies.size(); ++i) {
      const auto& p = view->org->escalation_policies[i];
      if (i) body += ',';
      std::string o = "{";
      Field(o, "id", p.id);
      Field(o, "name", p.name);
      Raw(o, "repeat", std::to_string(p.repeat));
      Raw(o, "ack_timeout_minutes",
          p.ack_timeout_minutes ? std::to_string(*p.ack_timeout_minutes) : "null");
      std::string steps = "[";
      for (size_t j = 0; j < p.steps.size(); ++j) {
        if (j) steps += ',';
        std::string targets = "[";
        for (size_t k = 0; k < p.steps[j].targets.size(); ++k) {
          if (k) targets += ',';
          targets += fmt::format("{{\"type\":\"{}\",\"id\":{}}}",
                                 config::ToString(p.steps[j].targets[k].type),
                                 JsonQuote(p.steps[j].targets[k].id));
        }
        steps += fmt::format("{{\"delay_minutes\":{},\"round_robin\":{},\"targets\":{}]}}",
                             p.steps[j].delay_minutes, p.steps[j].round_robin, targets);
      }
      Raw(o, "steps", steps + "]");
      body += o + "}";
    }
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void Api::ListSchedules(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string body = "{\"schedules\":[";
  if (view->org) {
    for (size_t i = 0; i < view->org->schedules.size(); ++i) {
      const auto& sch = view->org->schedules[i];
      if (i) body += ',';
      std::string o = "{";
      Field(o, "id", sch.id);
      Field(o, "name", sch.name);
      Field(o, "timezone", sch.timezone);
      std::string layers = "[";
      for (size_t j = 0; j < sch.layers.size(); ++j) {
        if (j) layers += ',';
        layers += fmt::format(
            "{{\"name\":{},\"start\":{},\"rotation\":{{\"type\":\"{}\","
            "\"length\":{}}},\"users\":{}}}",
            JsonQuote(sch.layers[j].name), JsonQuote(sch.layers[j].start),
            config::ToString(sch.layers[j].rotation.type), sch.layers[j].rotation.length,
            StringArray(sch.layers[j].users));
      }
      Raw(o, "layers", layers + "]");
      Raw(o, "overrides", std::to_string(sch.overrides.size()));
      Field(o, "ical_url", CalendarUrl("schedule", sch.id, req));
      body += o + "}";
    }
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void Api::ScheduleOnCall(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  if (!view->org || !config::FindSchedule(*view->org, id)) {
    return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  }
  TimePoint at = clock_.Now();
  if (auto s = req.Query("at")) {
    auto t = ParseRfc3339(*s);
    if (!t) {
      return respond(
          http::ErrorResponse(InvalidArgument("query parameter 'at': " + t.error().message())));
    }
    at = *t;
  }
  if (!options_.on_call) {
    return respond(http::ErrorResponse(Unavailable("schedule resolution is not configured")));
  }
  auto users = options_.on_call(*view->org, id, at);
  if (!users) return respond(http::ErrorResponse(users.error()));
  std::string body = "{\"schedule\":" + JsonQuote(id) + ",\"at\":" + JsonQuote(FormatRfc3339(at)) +
                     ",\"users\":" + StringArray(*users) + "}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

Response HtmlPage(bhttp::status code, std::string_view title, std::string_view body_html) {
  Response r{code, 11};
  r.set(bhttp::field::content_type, "text/html; charset=utf-8");
  r.set(bhttp::field::cache_control, "no-store");
  r.set("Referrer-Policy", "no-referrer");
  r.body() = fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>{0} - houston</title><style>body{{font-family:"
      "system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}}"
      "button{{font-size:1.1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:"
      "#1f6feb;color:#fff;cursor:pointer}}.muted{{color:#57606a}}form{{display:inline-block;"
      "margin:0 .5rem .5rem 0}}table{{border-collapse:collapse;width:100%}}th,td{{text-align:"
      "left;vertical-align:top;padding:.25rem .75rem .25rem 0}}th{{font-weight:600;white-space:"
      "nowrap}}</style></head><body><h1>{0}</h1>{1}</body></html>",
      notify::HtmlEscape(title), body_html);
  return r;
}

Result<std::vector<Api::BatchIncident>> Api::BatchIncidents(int64_t batch_id) {
  HOUSTON_ASSIGN_OR_RETURN(auto notifications,
                           store_.ListNotifications({.batch_id = batch_id, .limit = 1000}));
  std::vector<BatchIncident> out;
  for (const auto& n : notifications) {
    bool seen = false;
    for (const auto& i : out) seen = seen || i.incident.id == n.incident_id;
    if (seen) continue;
    HOUSTON_ASSIGN_OR_RETURN(core::Incident inc, store_.GetIncident(n.incident_id));
    bool earlier = false;
    if (inc.episode > 0) {
      HOUSTON_ASSIGN_OR_RETURN(std::optional<TimePoint> reopened, LastReopened(inc.id));
      earlier = reopened && *reopened > n.created_at;
    }
    out.push_back({std::move(inc), earlier});
  }
  if (out.empty()) return std::unexpected(NotFound("no incidents belong to this link"));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.incident.id < b.incident.id; });
  return out;
}

namespace {
constexpr std::string_view kNotAnIncidentLink = "<p>not an incident link</p>";
bool IsIncidentAction(std::string_view a) { return a == "ack" || a == "resolve" || a == "view"; }
}  // namespace

std::expected<core::Incident, http::Response> Api::LinkedIncident(core::IncidentId id) {
  auto inc = store_.GetIncident(id);
  if (inc) return std::move(*inc);
  return std::unexpected(HtmlPage(bhttp::status::not_found, "No such incident",
                                  "<p>" + notify::HtmlEscape(inc.error().message()) + "</p>"));
}

void Api::ActionPage(const HttpRequest& req, const auth::Principal*, Respond respond) {
  // GET never acts: mail scanners and link previews follow links.
  auto claim = notify::VerifyActionToken(options_.link_key, req.Param("token"), clock_.Now());
  if (options_.link_key.empty() || !claim) {
    std::string why =
        options_.link_key.empty() ? "links are disabled on this server" : claim.error().message();
    return respond(HtmlPage(bhttp::status::forbidden, "This link does not work",
                            "<p>" + notify::HtmlEscape(why) + "</p>"));
  }
  if (claim->action == "ack_batch") {
    auto incidents = BatchIncidents(claim->incident_id);
    if (!incidents) return respond(http::ErrorResponse(incidents.error()));
    std::string list;
    size_t acting = 0;
    for (const auto& [i, earlier] : *incidents) {
      list += fmt::format(
          "<li>#{} {} ({}){}</li>", i.id, notify::HtmlEscape(i.title), core::ToString(i.status),
          earlier ? ": reopened since this message; this link leaves it alone" : "");
      acting += earlier ? 0 : 1;
    }
    return respond(HtmlPage(
        bhttp::status::ok, fmt::format("Acknowledge {} incidents", acting),
        "<ul>" + list +
            "</ul><form method=\"post\"><button type=\"submit\">Acknowledge all</button></form>"));
  }
  if (!IsIncidentAction(claim->action)) {
    return respond(
        HtmlPage(bhttp::status::forbidden, "This link does not work", kNotAnIncidentLink));
  }
  auto inc = LinkedIncident(claim->incident_id);
  if (!inc) return respond(std::move(inc.error()));
  if (claim->action == "view") {
    auto page = IncidentPage(*inc, claim->user_id, claim->expires, claim->episode);
    if (!page) return respond(http::ErrorResponse(page.error()));
    return respond(std::move(*page));
  }
  if (claim->episode != inc->episode) {
    return respond(EarlierEpisodePage(*inc, claim->episode, false));
  }
  std::string verb = claim->action == "ack" ? "Acknowledge" : "Resolve";
  respond(HtmlPage(
      bhttp::status::ok, fmt::format("{} incident #{}", verb, inc->id),
      fmt::format("<p><b>{}</b><br>service {} &middot; {} &middot; now {}</p><form method=\"post\">"
                  "<button type=\"submit\">{}</button></form>",
                  notify::HtmlEscape(inc->title), notify::HtmlEscape(inc->service_id),
                  core::ToString(inc->severity), core::ToString(inc->status), verb)));
}

void Api::ActionPost(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto claim = notify::VerifyActionToken(options_.link_key, req.Param("token"), clock_.Now());
  if (options_.link_key.empty() || !claim) {
    std::string why =
        options_.link_key.empty() ? "links are disabled on this server" : claim.error().message();
    return respond(HtmlPage(bhttp::status::forbidden, "This link does not work",
                            "<p>" + notify::HtmlEscape(why) + "</p>"));
  }
  store::Actor actor{"user", claim->user_id.empty() ? "unknown" : claim->user_id, "link"};
  if (claim->action == "ack_batch") {
    auto incidents = BatchIncidents(claim->incident_id);
    if (!incidents) return respond(http::ErrorResponse(incidents.error()));
    // Acknowledge them one after the other, then answer once.
    struct State {
      std::vector<BatchIncident> incidents;
      size_t next = 0;
      std::vector<std::string> done;
      Respond respond;
    };
    auto st = std::make_shared<State>(State{std::move(*incidents), 0, {}, std::move(respond)});
    auto step = std::make_shared<std::function<void()>>();
    *step = [this, st, step, actor] {
      while (st->next < st->incidents.size() && st->incidents[st->next].earlier_episode) {
        st->done.push_back(fmt::format("#{}: reopened since this message; left alone",
                                       st->incidents[st->next++].incident.id));
      }
      if (st->next == st->incidents.size()) {
        Changed();
        std::string list;
        for (const auto& d : st->done) list += "<li>" + notify::HtmlEscape(d) + "</li>";
        st->respond(HtmlPage(bhttp::status::ok, "Acknowledged", "<ul>" + list + "</ul>"));
        *step = nullptr;  // break the cycle
        return;
      }
      const core::Incident& inc = st->incidents[st->next++].incident;
      incidents_.TransitionInEpisode(
          inc.id, core::IncidentAction::kAcknowledge, inc.episode, actor,
          [st, step, id = inc.id](Result<core::Incident> r) {
            st->done.push_back(r ? fmt::format("#{} acknowledged", id)
                                 : fmt::format("#{}: {}", id, r.error().message()));
            (*step)();
          });
    };
    (*step)();
    return;
  }
  if (claim->action != "ack" && claim->action != "resolve") {
    // A view link only shows; its page's buttons carry their own links.
    return respond(
        HtmlPage(bhttp::status::forbidden, "This link does not work", kNotAnIncidentLink));
  }
  // An old link must not act on a later episode (e.g. stop the paging of a reopened incident).
  auto inc = LinkedIncident(claim->incident_id);
  if (!inc) return respond(std::move(inc.error()));
  if (claim->episode != inc->episode) {
    return respond(EarlierEpisodePage(*inc, claim->episode, true));
  }
  bool ack = claim->action == "ack";
  auto shared = std::make_shared<Respond>(std::move(respond));
  auto done = [this, shared, ack](Result<core::Incident> r) {
    if (!r) {
      bool already = r.error().code() == StatusCode::kFailedPrecondition;
      return (*shared)(HtmlPage(already ? bhttp::status::ok : bhttp::status::conflict,
                                already ? "Nothing to do" : "That did not work",
                                "<p>" + notify::HtmlEscape(r.error().message()) + "</p>"));
    }
    Changed();
    (*shared)(HtmlPage(bhttp::status::ok,
                       fmt::format("Incident #{} {}", r->id, ack ? "acknowledged" : "resolved"),
                       "<p>" + notify::HtmlEscape(r->title) + "</p><p>Paging has stopped.</p>"));
  };
  // The episode is checked again inside the write: a reopen that lands after the check above
  // makes it refuse ("Nothing to do", saying so) rather than act on the new episode.
  incidents_.TransitionInEpisode(
      claim->incident_id, ack ? core::IncidentAction::kAcknowledge : core::IncidentAction::kResolve,
      claim->episode, std::move(actor), std::move(done));
}

// ---------------------------------------------------------------------------------------------
// Shifts and calendars.

namespace {
constexpr auto kMaxTimelineRange = std::chrono::days(366);

std::string ShiftsJson(const core::ScheduleTimeline& t) {
  std::string out = "\"shifts\":[";
  for (size_t i = 0; i < t.shifts.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{{\"start\":{},\"end\":{},\"user\":{}}}",
                       JsonQuote(FormatRfc3339(t.shifts[i].start)),
                       JsonQuote(FormatRfc3339(t.shifts[i].end)), JsonQuote(t.shifts[i].user));
  }
  out += "],\"gaps\":[";
  for (size_t i = 0; i < t.gaps.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{{\"start\":{},\"end\":{}}}", JsonQuote(FormatRfc3339(t.gaps[i].start)),
                       JsonQuote(FormatRfc3339(t.gaps[i].end)));
  }
  return out + "]";
}

// Everything from the first VEVENT up to (not including) END:VCALENDAR.
std::string_view Events(std::string_view cal) {
  auto b = cal.find("BEGIN:VEVENT");
  auto e = cal.rfind("END:VCALENDAR");
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return {};
  return cal.substr(b, e - b);
}
}  // namespace

std::string Api::CalendarUrl(std::string_view kind, std::string_view id,
                             const HttpRequest& req) const {
  if (options_.link_key.empty()) return "";
  // Calendar links do not expire: they are revoked by changing the link key.
  TimePoint never = TimePoint(std::chrono::milliseconds(253'402'300'799'000));  // 9999-12-31
  std::string token =
      notify::MakeActionToken(options_.link_key, 0, "ics", never, fmt::format("{}:{}", kind, id));
  std::string base = options_.base_url;
  if (base.empty() && !req.Header("Host").empty()) {
    // No --base-url: the address the client used to reach us.
    base = fmt::format("{}://{}", options_.tls ? "https" : "http", req.Header("Host"));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/calendars/{}.ics", base, token);
}

void Api::ScheduleShifts(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  const core::CompiledSchedule* sched =
      view->org && options_.schedule ? options_.schedule(*view->org, id) : nullptr;
  if (!sched) return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  TimePoint from = clock_.Now();
  TimePoint to = from + std::chrono::days(14);
  for (auto [name, target] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    if (auto q = req.Query(name)) {
      auto t = ParseRfc3339(*q);
      if (!t) {
        return respond(http::ErrorResponse(
            InvalidArgument(fmt::format("query parameter '{}': {}", name, t.error().message()))));
      }
      *target = *t;
    }
  }
  if (to <= from) {
    return respond(http::ErrorResponse(InvalidArgument("'to' must be after 'from'")));
  }
  if (to - from > kMaxTimelineRange) {
    return respond(
        http::ErrorResponse(InvalidArgument("the range from 'from' to 'to' is at most 366 days")));
  }
  auto timeline = core::Timeline(*sched, from, to);
  std::string body = fmt::format("{{\"schedule\":{},\"from\":{},\"to\":{},{}", JsonQuote(id),
                                 JsonQuote(FormatRfc3339(from)), JsonQuote(FormatRfc3339(to)),
                                 ShiftsJson(timeline));
  if (!timeline.gaps.empty()) {
    body += fmt::format(",\"warning\":{}",
                        JsonQuote(fmt::format("nobody is on call during {} gap(s) in this range: "
                                              "add a layer or an override to cover them",
                                              timeline.gaps.size())));
  }
  body += ",\"ical_url\":" + JsonQuote(CalendarUrl("schedule", id, req)) + "}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void Api::Calendar(const HttpRequest& req, const auth::Principal*, Respond respond) {
  std::string token = req.Param("token");
  if (token.ends_with(".ics")) token.resize(token.size() - 4);
  auto claim = notify::VerifyActionToken(options_.link_key, token, clock_.Now());
  if (options_.link_key.empty() || !claim || claim->action != "ics") {
    return respond(http::ErrorResponse(PermissionDenied("this calendar link is not valid")));
  }
  auto view = org();
  if (!view->org || !options_.schedule) {
    return respond(http::ErrorResponse(NotFound("no schedules")));
  }
  TimePoint now = clock_.Now();
  // Whole UTC days, so that a shift cut by the range edge keeps its UID from one fetch to the
  // next within a day.
  TimePoint from = std::chrono::floor<std::chrono::days>(now) - std::chrono::days(7);
  TimePoint to = from + std::chrono::days(98);
  std::string cal;
  auto colon = claim->user_id.find(':');
  std::string kind = claim->user_id.substr(0, colon);
  std::string id = colon == std::string::npos ? "" : claim->user_id.substr(colon + 1);
  if (kind == "schedule") {
    const auto* sched = options_.schedule(*view->org, id);
    if (!sched) return respond(http::ErrorResponse(NotFound("the schedule no longer exists")));
    auto t = core::Timeline(*sched, from, to);
    cal = core::ToICalendar(sched->spec(), t.shifts, "", now);
  } else if (kind == "user") {
    // One calendar with the user's shifts from every schedule.
    for (const auto& s : view->org->schedules) {
      const auto* sched = options_.schedule(*view->org, s.id);
      if (!sched) continue;
      auto t = core::Timeline(*sched, from, to);
      std::string one = core::ToICalendar(sched->spec(), t.shifts, id, now);
      if (cal.empty()) {
        cal = std::move(one);
      } else {
        auto end = cal.rfind("END:VCALENDAR");
        cal.insert(end, Events(one));
      }
    }
    if (cal.empty()) {
      return respond(http::ErrorResponse(NotFound("no schedules to build a calendar from")));
    }
  } else {
    return respond(http::ErrorResponse(PermissionDenied("this calendar link is not valid")));
  }
  Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, "text/calendar; charset=utf-8");
  r.set(bhttp::field::cache_control, "no-store");
  r.body() = std::move(cal);
  respond(std::move(r));
}

// ---------------------------------------------------------------------------------------------
// Overrides, swaps, cover requests.

namespace {

constexpr auto kMaxOverrideLength = std::chrono::days(90);

// Validates one override's user and times; appends problems prefixed with `where`.
void CheckOverride(const config::Org& org, const store::ScheduleOverride& o, TimePoint now,
                   const std::string& where, std::vector<std::string>& problems) {
  if (!o.user_id.empty() && !config::FindUser(org, o.user_id)) {
    problems.push_back(fmt::format("{}'user': no user '{}'", where, o.user_id));
  }
  if (o.end <= o.start) problems.push_back(where + "'end' must be after 'start'");
  if (o.end <= now) problems.push_back(where + "'end' is in the past");
  if (o.end - o.start > kMaxOverrideLength) {
    problems.push_back(where + "an override is at most 90 days long");
  }
}

Result<TimePoint> TimeField(const std::map<std::string, std::string>& f, const std::string& key,
                            const std::string& where, std::vector<std::string>& problems) {
  auto it = f.find(key);
  if (it == f.end()) {
    problems.push_back(fmt::format("{}'{}' is missing", where, key));
    return TimePoint{};
  }
  auto t = ParseRfc3339(it->second);
  if (!t) {
    problems.push_back(fmt::format("{}'{}': {}", where, key, t.error().message()));
    return TimePoint{};
  }
  return *t;
}

std::string OverrideJson(const store::ScheduleOverride& o) {
  std::string j = "{";
  Raw(j, "id", std::to_string(o.id));
  Field(j, "schedule", o.schedule_id);
  if (o.user_id.empty()) {
    Raw(j, "user", "null");
  } else {
    Field(j, "user", o.user_id);
  }
  Time(j, "start", o.start);
  Time(j, "end", o.end);
  Field(j, "kind", o.kind);
  Field(j, "state", core::ToString(o.state));
  Field(j, "requested_by", o.requested_by);
  Field(j, "note", o.note);
  Field(j, "created_by", o.created_by);
  Time(j, "created_at", o.created_at);
  Field(j, "source", "api");
  return j + "}";
}

}  // namespace

void Api::SubmitOverrides(std::vector<store::ScheduleOverride> overrides, store::Actor actor,
                          Respond respond) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.CreateOverrides(std::move(overrides), std::move(actor),
                         [this, shared](Result<std::vector<store::ScheduleOverride>> r) {
                           if (!r) return (*shared)(StoreError(r.error()));
                           if (options_.on_overrides_changed) options_.on_overrides_changed();
                           std::string body = "{\"overrides\":[";
                           for (size_t i = 0; i < r->size(); ++i) {
                             if (i) body += ',';
                             body += OverrideJson((*r)[i]);
                           }
                           (*shared)(http::JsonResponse(bhttp::status::created, body + "]}"));
                         });
}

void Api::ListOverrides(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  const config::Schedule* sched = view->org ? config::FindSchedule(*view->org, id) : nullptr;
  if (!sched) return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  auto list = store_.ListOverrides(id, clock_.Now());
  if (!list) return respond(http::ErrorResponse(list.error()));
  std::string body = "{\"schedule\":" + JsonQuote(id) + ",\"overrides\":[";
  bool first = true;
  for (const auto& o : sched->overrides) {
    if (o.end <= clock_.Now()) continue;
    if (!first) body += ',';
    first = false;
    body += fmt::format(
        "{{\"id\":null,\"schedule\":{},\"user\":{},\"start\":{},\"end\":{},\"kind\":\"override\","
        "\"state\":\"active\",\"source\":\"org.yaml\"}}",
        JsonQuote(id), JsonQuote(o.user), JsonQuote(FormatRfc3339(o.start)),
        JsonQuote(FormatRfc3339(o.end)));
  }
  for (const auto& o : *list) {
    if (!first) body += ',';
    first = false;
    body += OverrideJson(o);
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void Api::CreateOverride(const HttpRequest& req, const auth::Principal* principal,
                         Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  if (!view->org || !config::FindSchedule(*view->org, id)) {
    return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  }
  auto f = StringFields(req.raw.body(), {"user", "start", "end", "note"});
  if (!f) return respond(http::ErrorResponse(f.error()));
  std::vector<std::string> problems;
  store::ScheduleOverride o;
  o.schedule_id = id;
  o.kind = "override";
  o.state = core::OverrideState::kActive;
  if (!f->count("user")) problems.push_back("'user' is missing");
  o.user_id = (*f)["user"];
  o.note = (*f)["note"];
  o.start = *TimeField(*f, "start", "", problems);
  o.end = *TimeField(*f, "end", "", problems);
  if (problems.empty()) CheckOverride(*view->org, o, clock_.Now(), "", problems);
  if (!problems.empty()) {
    return respond(http::ErrorResponse(InvalidArgument("invalid override", problems)));
  }
  SubmitOverrides({std::move(o)}, principal->Actor(), std::move(respond));
}

void Api::CreateSwap(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  if (!view->org || !config::FindSchedule(*view->org, id)) {
    return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  }
  // {"shifts":[{"user":..,"start":..,"end":..}, ...]}: each person takes the listed time; all
  // are created together or none.
  boost::system::error_code ec;
  auto v = boost::json::parse(req.raw.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("shifts") || !v.at("shifts").is_array() ||
      v.as_object().size() != 1) {
    return respond(http::ErrorResponse(InvalidArgument(
        "request body must be {\"shifts\":[{\"user\":..,\"start\":..,\"end\":..}, ...]}")));
  }
  const auto& arr = v.at("shifts").as_array();
  if (arr.size() < 2) {
    return respond(http::ErrorResponse(InvalidArgument("a swap has at least two shifts")));
  }
  std::vector<std::string> problems;
  std::vector<store::ScheduleOverride> overrides;
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string where = fmt::format("shifts[{}]: ", i);
    auto f = StringFields(boost::json::serialize(arr[i]), {"user", "start", "end", "note"});
    if (!f) {
      for (const auto& d : f.error().details()) problems.push_back(where + d);
      if (f.error().details().empty()) problems.push_back(where + f.error().message());
      continue;
    }
    store::ScheduleOverride o;
    o.schedule_id = id;
    o.kind = "swap";
    o.state = core::OverrideState::kActive;
    if (!f->count("user")) problems.push_back(where + "'user' is missing");
    o.user_id = (*f)["user"];
    o.note = (*f)["note"];
    o.start = *TimeField(*f, "start", where, problems);
    o.end = *TimeField(*f, "end", where, problems);
    CheckOverride(*view->org, o, clock_.Now(), where, problems);
    overrides.push_back(std::move(o));
  }
  if (!problems.empty()) {
    return respond(http::ErrorResponse(InvalidArgument("invalid swap", problems)));
  }
  SubmitOverrides(std::move(overrides), principal->Actor(), std::move(respond));
}

void Api::CreateCoverRequest(const HttpRequest& req, const auth::Principal* principal,
                             Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  if (!view->org || !config::FindSchedule(*view->org, id)) {
    return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  }
  auto f = StringFields(req.raw.body(), {"requested_by", "start", "end", "note"});
  if (!f) return respond(http::ErrorResponse(f.error()));
  std::vector<std::string> problems;
  store::ScheduleOverride o;
  o.schedule_id = id;
  o.kind = "cover";
  o.state = core::OverrideState::kRequested;
  o.requested_by = (*f)["requested_by"];
  if (o.requested_by.empty()) {
    problems.push_back("'requested_by' (the user who needs cover) is missing");
  } else if (!config::FindUser(*view->org, o.requested_by)) {
    problems.push_back(fmt::format("'requested_by': no user '{}'", o.requested_by));
  }
  o.note = (*f)["note"];
  o.start = *TimeField(*f, "start", "", problems);
  o.end = *TimeField(*f, "end", "", problems);
  if (problems.empty()) CheckOverride(*view->org, o, clock_.Now(), "", problems);
  if (!problems.empty()) {
    return respond(http::ErrorResponse(InvalidArgument("invalid cover request", problems)));
  }
  SubmitOverrides({std::move(o)}, principal->Actor(), std::move(respond));
}

void Api::ListCoverRequests(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto list = store_.ListOverrides("", clock_.Now());
  if (!list) return respond(http::ErrorResponse(list.error()));
  std::string body = "{\"cover_requests\":[";
  bool first = true;
  for (const auto& o : *list) {
    if (o.state != core::OverrideState::kRequested) continue;
    if (!first) body += ',';
    first = false;
    body += OverrideJson(o);
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void Api::AcceptCover(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "override id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto f = StringFields(req.raw.body(), {"user"});
  if (!f) return respond(http::ErrorResponse(f.error()));
  auto view = org();
  std::string user = (*f)["user"];
  if (user.empty()) return respond(http::ErrorResponse(InvalidArgument("'user' is missing")));
  if (!view->org || !config::FindUser(*view->org, user)) {
    return respond(http::ErrorResponse(InvalidArgument(fmt::format("no user '{}'", user))));
  }
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.UpdateOverride(
      *id, user, principal->Actor(), [this, shared](Result<store::ScheduleOverride> r) {
        if (!r) return (*shared)(StoreError(r.error()));
        if (options_.on_overrides_changed) options_.on_overrides_changed();
        (*shared)(http::JsonResponse(bhttp::status::ok, "{\"override\":" + OverrideJson(*r) + "}"));
      });
}

void Api::CancelOverride(const HttpRequest& req, const auth::Principal* principal,
                         Respond respond) {
  auto id = ParseId(req.Param("id"), "override id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.UpdateOverride(
      *id, std::nullopt, principal->Actor(), [this, shared](Result<store::ScheduleOverride> r) {
        if (!r) return (*shared)(StoreError(r.error()));
        if (options_.on_overrides_changed) options_.on_overrides_changed();
        (*shared)(http::JsonResponse(bhttp::status::ok, "{\"override\":" + OverrideJson(*r) + "}"));
      });
}

}  // namespace houston::api
