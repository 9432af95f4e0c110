#include "intake/opsgenie_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "api/request.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "ingest/ingest.h"

namespace houston::intake {

namespace bhttp = http::bhttp;
namespace json = boost::json;
using core::IntegrationType;
using http::HttpRequest;
using http::Response;
using store::OpsgenieAction;
using store::OpsgenieIdentifier;

// ---------------------------------------------------------------------------------------------
// The org, paths.

bool IsOpsgeniePath(std::string_view path) {
  std::vector<std::string_view> segs;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) segs.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (segs.empty() || segs.front() == "integrations") return false;
  for (size_t k = 0; k + 1 < segs.size(); ++k) {
    if (segs[k] == "v2" && (segs[k + 1] == "alerts" || segs[k + 1] == "heartbeats")) return true;
  }
  return false;
}

std::shared_ptr<const OpsgenieView> MakeOpsgenieView(std::shared_ptr<const config::Org> org) {
  auto view = std::make_shared<OpsgenieView>();
  view->intake = MakeIntakeView(org);
  if (org) {
    for (const auto& [key, integ] : config::IndexIntegrations(*org)) {
      if (integ.type == IntegrationType::kOpsgenie) {
        view->keys[api::TokenHash(key)] = OpsgenieView::Key{
            integ.priorities.value_or(config::kDefaultOpsgeniePriorities), integ.name};
      } else if (integ.type == IntegrationType::kHeartbeat) {
        view->heartbeats[integ.name].push_back({integ.service_id, key});
      }
    }
  }
  return view;
}

std::optional<std::string> ResolveHeartbeat(const OpsgenieView& view, std::string_view name,
                                            std::string_view service_id, bool* ambiguous) {
  if (ambiguous) *ambiguous = false;
  auto it = view.heartbeats.find(std::string(name));
  if (it == view.heartbeats.end()) return std::nullopt;
  for (const auto& hb : it->second) {
    if (hb.service_id == service_id) return hb.key;
  }
  if (it->second.size() == 1) return it->second.front().key;
  if (ambiguous) *ambiguous = true;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Opsgenie's answers.

namespace {

constexpr std::string_view kType = "opsgenie";
constexpr std::string_view kHeartbeatType = "opsgenie_heartbeat";

Response OgJson(bhttp::status code, std::string body, std::string_view request_id) {
  Response r = http::JsonResponse(code, std::move(body));
  r.set("X-Request-ID", request_id);
  return r;
}

// {"message", "code", ["errors"], "took", "requestId"}.
Response OgError(bhttp::status code, std::string_view message, std::string_view request_id,
                 double took, const std::vector<std::pair<std::string, std::string>>& errors = {}) {
  std::string b = "{\"message\":";
  AppendJsonString(b, message);
  b += fmt::format(",\"code\":{}", static_cast<int>(code));
  if (!errors.empty()) {
    b += ",\"errors\":{";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) b += ',';
      AppendJsonString(b, errors[i].first);
      b += ':';
      AppendJsonString(b, errors[i].second);
    }
    b += '}';
  }
  b += fmt::format(",\"took\":{:.3f},\"requestId\":", took);
  AppendJsonString(b, request_id);
  b += '}';
  return OgJson(code, std::move(b), request_id);
}

// {"result": ..., "took": ..., "requestId": ...} with 202.
Response OgAccepted(std::string_view result, std::string_view request_id, double took) {
  std::string b = "{\"result\":";
  AppendJsonString(b, result);
  b += fmt::format(",\"took\":{:.3f},\"requestId\":", took);
  AppendJsonString(b, request_id);
  b += '}';
  return OgJson(bhttp::status::accepted, std::move(b), request_id);
}

Response OgBodyError(const ingest::OpsgenieError& e, std::string_view request_id, double took) {
  if (e.malformed) return OgError(bhttp::status::bad_request, e.message, request_id, took);
  return OgError(bhttp::status::unprocessable_entity,
                 "Request body is not processable: " + e.message, request_id, took, e.errors);
}

// The store could not take the request: the sender retries (Alertmanager and the SDKs retry
// 5xx; nothing was stored).
Response OgStoreError(const Status& st, std::string_view request_id, double took) {
  Response r = OgError(bhttp::status::service_unavailable,
                       st.code() == StatusCode::kResourceExhausted
                           ? "houston is overloaded; the request was not accepted, retry later"
                           : "the request could not be stored; retry later: " + st.message(),
                       request_id, took);
  r.set(bhttp::field::retry_after, "1");
  return r;
}

std::string Iso(TimePoint t) { return FormatRfc3339(t); }

// `identifierType`: id (default) or tiny -> houston's alert id; alias.
std::optional<OpsgenieIdentifier> IdentifierType(const HttpRequest& req, std::string& bad) {
  auto t = req.Query("identifierType");
  if (!t || t->empty()) return OpsgenieIdentifier::kId;
  std::string lower = *t;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "id" || lower == "tiny") return OpsgenieIdentifier::kId;
  if (lower == "alias") return OpsgenieIdentifier::kAlias;
  bad = *t;
  return std::nullopt;
}

// The alert as Opsgenie's GET /v2/alerts/{id} shows it (its Opsgenie fields come from the
// details houston stored at create: ingest::OpsgenieAlertEvent).
json::object OpsgenieAlertJson(const core::Alert& a, std::string_view integration_name) {
  boost::system::error_code ec;
  json::value parsed = json::parse(a.details_json, ec);
  json::object d = !ec && parsed.is_object() ? std::move(parsed.as_object()) : json::object();
  auto take = [&d](std::string_view key, json::value fallback) -> json::value {
    auto* v = d.if_contains(key);
    return v ? *v : fallback;
  };
  json::object o;
  o["id"] = std::to_string(a.id);
  o["tinyId"] = std::to_string(a.id);
  o["alias"] = a.dedup_key;
  o["message"] = a.summary;
  o["status"] = a.status == core::AlertStatus::kResolved ? "closed" : "open";
  o["acknowledged"] = a.acknowledged_at.has_value();
  o["isSeen"] = a.acknowledged_at.has_value();
  o["tags"] = take("tags", json::array());
  o["snoozed"] = false;
  o["count"] = a.event_count;
  o["lastOccurredAt"] = Iso(a.last_event_at);
  o["createdAt"] = Iso(a.created_at);
  TimePoint updated = a.last_event_at;
  if (a.acknowledged_at) updated = std::max(updated, *a.acknowledged_at);
  if (a.resolved_at) updated = std::max(updated, *a.resolved_at);
  o["updatedAt"] = Iso(updated);
  o["source"] = take("source", json::value(a.source));
  o["owner"] = "";
  o["priority"] = take("priority", "P3");
  o["responders"] = take("responders", json::array());
  o["visibleTo"] = take("visibleTo", json::array());
  o["integration"] =
      json::object{{"id", integration_name}, {"name", integration_name}, {"type", "API"}};
  json::object report;
  auto ms = [&a](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - a.created_at).count();
  };
  if (a.acknowledged_at) report["ackTime"] = ms(*a.acknowledged_at);
  if (a.resolved_at) report["closeTime"] = ms(*a.resolved_at);
  o["report"] = std::move(report);
  o["actions"] = take("actions", json::array());
  o["entity"] = take("entity", json::value(a.component));
  o["description"] = take("description", "");
  json::value details = take("details", json::object());
  o["details"] = details.is_object() ? details : json::object();
  // houston's own view of it, for people reading the answer.
  o["houston"] = json::object{{"incident_id", a.incident_id},
                              {"service", a.service_id},
                              {"severity", core::ToString(a.severity)},
                              {"status", core::ToString(a.status)}};
  return o;
}

std::string Envelope(json::value data, std::string_view request_id, double took,
                     std::optional<json::object> paging = std::nullopt) {
  json::object o;
  o["data"] = std::move(data);
  if (paging) o["paging"] = std::move(*paging);
  o["took"] = took;
  o["requestId"] = request_id;
  return json::serialize(o);
}

// A non-negative integer query parameter, or nullopt (absent) / error text.
std::optional<int64_t> IntParam(const HttpRequest& req, std::string_view name, int64_t lo,
                                int64_t hi, std::vector<std::pair<std::string, std::string>>& bad) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    bad.emplace_back(std::string(name),
                     fmt::format("must be a whole number from {} to {}, not '{}'", lo, hi, *v));
    return std::nullopt;
  }
  return n;
}

}  // namespace

struct OpsgenieRoutes::Call {
  std::string request_id;
  SteadyPoint start{};
  TimePoint received_at{};
  std::shared_ptr<const OpsgenieView> view;
  std::string key;
  const IntegrationInfo* info = nullptr;  // in view
  const OpsgenieView::Key* og = nullptr;  // in view
  double Took(Clock& clock) const {
    return std::chrono::duration<double>(clock.SteadyNow() - start).count();
  }
};

OpsgenieRoutes::OpsgenieRoutes(api::Context& ctx)
    : RouteGroup(ctx), limiter_(ctx.clock()), view_(MakeOpsgenieView(nullptr)) {}

void OpsgenieRoutes::SetOrg(std::shared_ptr<const config::Org> org) {
  auto view = MakeOpsgenieView(std::move(org));
  std::lock_guard lock(view_mu_);
  view_ = std::move(view);
}

std::shared_ptr<const OpsgenieView> OpsgenieRoutes::view() const {
  std::lock_guard lock(view_mu_);
  return view_;
}

void OpsgenieRoutes::CountEvent(std::string_view kind, std::string_view result) {
  metrics_.Add("houston_events_total",
               fmt::format("integration=\"{}\",result=\"{}\"", kind, result));
}

std::optional<OpsgenieRoutes::Call> OpsgenieRoutes::Begin(const HttpRequest& req, Respond& respond,
                                                          bool limit) {
  Call c;
  c.request_id = NewUuid();
  c.start = clock_.SteadyNow();
  c.received_at = clock_.Now();
  c.view = view();
  std::optional<std::string> key =
      ingest::OpsgenieKeyFromAuthorization(req.Header("Authorization"));
  if (!key) {
    if (auto q = req.Query("apiKey"); q && !q->empty()) key = *q;
  }
  const std::string_view kind =
      req.path.find("/heartbeats/") != std::string_view::npos ? kHeartbeatType : kType;
  if (!key) {
    CountEvent(kind, "unknown_key");
    respond(OgError(bhttp::status::unauthorized,
                    "Could not authenticate: send the key of an opsgenie integration as "
                    "'Authorization: GenieKey <key>', as the password of Basic auth, or as "
                    "?apiKey=<key>",
                    c.request_id, c.Took(clock_)));
    return std::nullopt;
  }
  const std::string digest = api::TokenHash(*key);  // compared in place of the key
  auto it = c.view->intake->integrations.find(digest);
  auto og = c.view->keys.find(digest);
  if (it == c.view->intake->integrations.end() || og == c.view->keys.end()) {
    CountEvent(kind, "unknown_key");
    respond(OgError(bhttp::status::unauthorized,
                    "Could not authenticate: no opsgenie integration has this key", c.request_id,
                    c.Took(clock_)));
    return std::nullopt;
  }
  c.key = *key;
  c.info = &it->second;
  c.og = &og->second;
  if (req.raw.body().size() > options_.max_event_bytes) {
    CountEvent(kind, "rejected");
    respond(OgError(
        bhttp::status::payload_too_large,
        fmt::format("Request body is larger than the limit of {} bytes", options_.max_event_bytes),
        c.request_id, c.Took(clock_)));
    return std::nullopt;
  }
  if (limit && c.info->rate_limit_per_second) {
    const double per_second = *c.info->rate_limit_per_second;
    RateLimiter::Verdict v = limiter_.Take(c.key, per_second, 1);
    if (!v.allowed) {
      CountEvent(kind, "rate_limited");
      Response r = OgError(
          bhttp::status::too_many_requests,
          fmt::format("Rate limit of {} requests/s for this integration exceeded; retry after {} s",
                      per_second, v.retry_after),
          c.request_id, c.Took(clock_));
      r.set(bhttp::field::retry_after, std::to_string(v.retry_after));
      r.set("X-RateLimit-State", "THROTTLED");
      respond(std::move(r));
      return std::nullopt;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Alert API: writes.

void OpsgenieRoutes::Create(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto call = Begin(req, respond, true);
  if (!call) return;
  auto parsed = ingest::ParseOpsgenieCreate(req.raw.body());
  if (!parsed) {
    CountEvent(kType, "rejected");
    return respond(OgBodyError(parsed.error(), call->request_id, call->Took(clock_)));
  }
  store::OpsgenieRequest r;
  r.action = OpsgenieAction::kCreate;
  r.event = ingest::OpsgenieAlertEvent(*parsed, call->key, call->og->priorities);
  Route(r.event, *call->info);
  r.user = parsed->user;
  r.note = parsed->note;
  Submit(std::move(*call), std::move(r), std::move(respond));
}

void OpsgenieRoutes::Close(const HttpRequest& req, const auth::Principal*, Respond respond) {
  Action(OpsgenieAction::kClose, req, std::move(respond));
}
void OpsgenieRoutes::Acknowledge(const HttpRequest& req, const auth::Principal*, Respond respond) {
  Action(OpsgenieAction::kAcknowledge, req, std::move(respond));
}
void OpsgenieRoutes::Unacknowledge(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  Action(OpsgenieAction::kUnacknowledge, req, std::move(respond));
}
void OpsgenieRoutes::AddNote(const HttpRequest& req, const auth::Principal*, Respond respond) {
  Action(OpsgenieAction::kAddNote, req, std::move(respond));
}
void OpsgenieRoutes::UpdateMessage(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  Action(OpsgenieAction::kUpdateMessage, req, std::move(respond));
}
void OpsgenieRoutes::UpdateDescription(const HttpRequest& req, const auth::Principal*,
                                       Respond respond) {
  Action(OpsgenieAction::kUpdateDescription, req, std::move(respond));
}
void OpsgenieRoutes::UpdatePriority(const HttpRequest& req, const auth::Principal*,
                                    Respond respond) {
  Action(OpsgenieAction::kUpdatePriority, req, std::move(respond));
}

void OpsgenieRoutes::Action(OpsgenieAction action, const HttpRequest& req, Respond respond) {
  auto call = Begin(req, respond, true);
  if (!call) return;
  std::string bad;
  auto type = IdentifierType(req, bad);
  if (!type) {
    CountEvent(kType, "rejected");
    return respond(
        OgError(bhttp::status::unprocessable_entity,
                fmt::format("Invalid identifierType '{}': use id, alias or tiny", bad),
                call->request_id, call->Took(clock_),
                {{"identifierType", fmt::format("must be id, alias or tiny, not '{}'", bad)}}));
  }
  store::OpsgenieRequest r;
  r.action = action;
  r.identifier = req.Param("identifier");
  r.identifier_type = *type;
  std::optional<ingest::OpsgenieError> error;
  auto take = [&r](const ingest::OpsgenieActionBody& b) {
    r.user = b.user;
    r.source = b.source;
    r.note = b.note;
  };
  if (action == OpsgenieAction::kUpdateMessage || action == OpsgenieAction::kUpdateDescription ||
      action == OpsgenieAction::kUpdatePriority) {
    std::string_view field = action == OpsgenieAction::kUpdateMessage       ? "message"
                             : action == OpsgenieAction::kUpdateDescription ? "description"
                                                                            : "priority";
    auto u = ingest::ParseOpsgenieUpdate(req.raw.body(), field);
    if (u) {
      take(u->action);
      r.value = u->value;
      if (action == OpsgenieAction::kUpdatePriority) {
        r.severity = call->og->priorities[static_cast<size_t>(r.value[1] - '1')];
      }
    } else {
      error = std::move(u.error());
    }
  } else {
    auto b = ingest::ParseOpsgenieAction(req.raw.body(), action == OpsgenieAction::kAddNote);
    if (b) {
      take(*b);
    } else {
      error = std::move(b.error());
    }
  }
  if (error) {
    CountEvent(kType, "rejected");
    return respond(OgBodyError(*error, call->request_id, call->Took(clock_)));
  }
  Submit(std::move(*call), std::move(r), std::move(respond));
}

void OpsgenieRoutes::Submit(Call call, store::OpsgenieRequest request, Respond respond) {
  request.request_id = call.request_id;
  request.integration_key = call.key;
  request.service_id = call.info->service_id;
  const OpsgenieAction action = request.action;
  const bool starts_now = !call.info->first_step_delay || call.info->first_step_delay->count() == 0;
  store::Actor actor{"integration", fmt::format("{}:{}", kType, call.info->service_id),
                     "integration"};
  auto shared = std::make_shared<Respond>(std::move(respond));
  auto c = std::make_shared<Call>(std::move(call));
  store_.ApplyOpsgenieRequest(
      std::move(request), c->received_at, std::move(actor),
      [this, shared, c, action, starts_now](Result<store::OpsgenieRequestStatus> r) {
        if (!r) {
          CountEvent(kType,
                     r.error().code() == StatusCode::kResourceExhausted ? "overloaded" : "failed");
          if (r.error().code() != StatusCode::kResourceExhausted) {
            spdlog::error("storing an Opsgenie request failed: {}", r.error().ToString());
          }
          return (*shared)(OgStoreError(r.error(), c->request_id, c->Took(clock_)));
        }
        CountEvent(kType, "accepted");
        // Wake the engines when they have work now: a new incident to page (the paging engines
        // only, as /v2/enqueue does), an ack or a close (every engine).
        if (r->success &&
            (action == OpsgenieAction::kClose || action == OpsgenieAction::kAcknowledge ||
             action == OpsgenieAction::kUnacknowledge)) {
          Changed();
        } else if (r->success && action == OpsgenieAction::kCreate && r->incident_created &&
                   starts_now) {
          IncidentsOpened();
        }
        (*shared)(OgAccepted("Request will be processed", c->request_id, c->Took(clock_)));
      });
}

// ---------------------------------------------------------------------------------------------
// Alert API: reads.

void OpsgenieRoutes::GetAlert(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto call = Begin(req, respond, false);
  if (!call) return;
  std::string bad;
  auto type = IdentifierType(req, bad);
  if (!type) {
    return respond(
        OgError(bhttp::status::unprocessable_entity,
                fmt::format("Invalid identifierType '{}': use id, alias or tiny", bad),
                call->request_id, call->Took(clock_),
                {{"identifierType", fmt::format("must be id, alias or tiny, not '{}'", bad)}}));
  }
  const std::string identifier = req.Param("identifier");
  std::optional<core::Alert> alert;
  if (*type == OpsgenieIdentifier::kAlias) {
    auto found = store_.FindOpenAlertByAlias(call->key, identifier);
    if (!found) return respond(OgStoreError(found.error(), call->request_id, call->Took(clock_)));
    alert = std::move(*found);
  } else {
    int64_t id = 0;
    auto [p, ec] = std::from_chars(identifier.data(), identifier.data() + identifier.size(), id);
    if (ec == std::errc() && p == identifier.data() + identifier.size() && id > 0) {
      auto a = store_.GetAlert(id);
      if (a && a->service_id == call->info->service_id) {
        alert = std::move(*a);
      } else if (!a && a.error().code() != StatusCode::kNotFound) {
        return respond(OgStoreError(a.error(), call->request_id, call->Took(clock_)));
      }
    }
  }
  if (!alert) {
    return respond(OgError(bhttp::status::not_found, "Alert does not exist", call->request_id,
                           call->Took(clock_)));
  }
  respond(OgJson(
      bhttp::status::ok,
      Envelope(OpsgenieAlertJson(*alert, call->og->name), call->request_id, call->Took(clock_)),
      call->request_id));
}

void OpsgenieRoutes::ListAlerts(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto call = Begin(req, respond, false);
  if (!call) return;
  store::OpsgenieAlertQuery q;
  q.service_id = call->info->service_id;
  std::vector<std::pair<std::string, std::string>> bad;
  q.limit = static_cast<int>(IntParam(req, "limit", 1, 100, bad).value_or(20));
  // Opsgenie's bound: offset + limit at most 20000.
  q.offset = static_cast<int>(IntParam(req, "offset", 0, 20000 - q.limit, bad).value_or(0));
  if (auto sort = req.Query("sort"); sort && *sort != "createdAt") {
    bad.emplace_back("sort", fmt::format("houston sorts by createdAt only, not '{}'", *sort));
  }
  if (auto order = req.Query("order"); order && *order != "desc") {
    bad.emplace_back("order",
                     fmt::format("houston lists newest first (desc) only, not '{}'", *order));
  }
  if (auto query = req.Query("query")) {
    if (auto terms = ingest::ParseOpsgenieQuery(*query)) {
      q.open = terms->open;
      q.acknowledged = terms->acknowledged;
    } else {
      bad.emplace_back("query", terms.error().message());
    }
  }
  if (!bad.empty()) {
    return respond(OgError(
        bhttp::status::unprocessable_entity,
        fmt::format("Invalid query parameter '{}': {}", bad.front().first, bad.front().second),
        call->request_id, call->Took(clock_), bad));
  }
  auto alerts = store_.ListOpsgenieAlerts(q);
  if (!alerts) return respond(OgStoreError(alerts.error(), call->request_id, call->Took(clock_)));
  json::array data;
  for (const auto& a : *alerts) data.push_back(OpsgenieAlertJson(a, call->og->name));
  json::object paging;
  if (static_cast<int>(alerts->size()) == q.limit) {
    std::string next =
        fmt::format("{}{}?limit={}&offset={}", BaseUrl(req), req.path, q.limit, q.offset + q.limit);
    if (auto query = req.Query("query")) next += "&query=" + *query;
    paging["next"] = next;
  }
  respond(OgJson(bhttp::status::ok,
                 Envelope(std::move(data), call->request_id, call->Took(clock_), paging),
                 call->request_id));
}

void OpsgenieRoutes::RequestStatus(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  auto call = Begin(req, respond, false);
  if (!call) return;
  auto st = store_.GetOpsgenieRequest(req.Param("requestId"));
  if (!st && st.error().code() != StatusCode::kNotFound) {
    return respond(OgStoreError(st.error(), call->request_id, call->Took(clock_)));
  }
  // Another key's requests are not this caller's to read.
  if (!st || st->integration_key != call->key) {
    return respond(OgError(bhttp::status::not_found,
                           "Request not found. It might not be processed, yet.", call->request_id,
                           call->Took(clock_)));
  }
  json::object d;
  d["success"] = st->success;
  d["action"] = store::ToString(st->action);
  d["processedAt"] = Iso(st->processed_at);
  d["integrationId"] = call->og->name;
  d["isSuccess"] = st->success;
  d["status"] = st->status;
  d["alertId"] = st->alert_id ? std::to_string(st->alert_id) : "";
  d["alias"] = st->alias;
  respond(OgJson(bhttp::status::ok, Envelope(std::move(d), call->request_id, call->Took(clock_)),
                 call->request_id));
}

// ---------------------------------------------------------------------------------------------
// Heartbeat API.

void OpsgenieRoutes::Ping(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto call = Begin(req, respond, false);
  if (!call) return;
  // HEAD only asks whether the URL works (as on /integrations/heartbeat/{key}): no beat.
  if (req.raw.method() == bhttp::verb::head) {
    return respond(OgAccepted("PONG - Heartbeat received", call->request_id, call->Took(clock_)));
  }
  const std::string name = req.Param("name");
  bool ambiguous = false;
  auto key = ResolveHeartbeat(*call->view, name, call->info->service_id, &ambiguous);
  if (!key) {
    // Opsgenie answers PONG without checking that the heartbeat exists, so a sender cannot tell;
    // houston does the same, and says so where people look.
    CountEvent(kHeartbeatType, "unknown_heartbeat");
    spdlog::warn(
        "Opsgenie heartbeat ping for '{}' (key of service '{}') matched {}: answered PONG as "
        "Opsgenie does, but no heartbeat was recorded",
        name, call->info->service_id,
        ambiguous ? "several heartbeat integrations of other services; name one on this service"
                  : "no heartbeat integration of that name");
    return respond(OgAccepted("PONG - Heartbeat received", call->request_id, call->Took(clock_)));
  }
  auto shared = std::make_shared<Respond>(std::move(respond));
  auto c = std::make_shared<Call>(std::move(*call));
  store_.RecordHeartbeat(*key, [this, shared, c](Result<store::Heartbeat> r) {
    if (!r) {
      CountEvent(kHeartbeatType, "failed");
      return (*shared)(OgStoreError(r.error(), c->request_id, c->Took(clock_)));
    }
    CountEvent(kHeartbeatType, "accepted");
    (*shared)(OgAccepted("PONG - Heartbeat received", c->request_id, c->Took(clock_)));
  });
}

// ---------------------------------------------------------------------------------------------

std::optional<Response> OpsgenieRoutes::RenderError(std::string_view path, const Status& status) {
  if (!IsOpsgeniePath(path)) return std::nullopt;
  bhttp::status code = http::HttpStatusFor(status.code());
  // Before a handler, ResourceExhausted is a body over the server's limit.
  if (status.code() == StatusCode::kResourceExhausted) code = bhttp::status::payload_too_large;
  return OgError(code, status.message(), NewUuid(), 0.0);
}

void OpsgenieRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  using R = OpsgenieRoutes;
  // No principal: the opsgenie integration's key is the secret. Every path also under any
  // prefix, as senders' base URLs have one (Alertmanager's api_url: http://host/prefix/).
  const std::string a = "{prefix*}/v2/alerts";
  t.Add(V::post, a, api::Open::kIntegrationKey, this, &R::Create);
  t.Add(V::get, a, api::Open::kIntegrationKey, this, &R::ListAlerts);
  t.Add(V::get, a + "/requests/{requestId}", api::Open::kIntegrationKey, this, &R::RequestStatus);
  t.Add(V::get, a + "/{identifier}", api::Open::kIntegrationKey, this, &R::GetAlert);
  t.Add(V::post, a + "/{identifier}/close", api::Open::kIntegrationKey, this, &R::Close);
  t.Add(V::post, a + "/{identifier}/acknowledge", api::Open::kIntegrationKey, this,
        &R::Acknowledge);
  t.Add(V::post, a + "/{identifier}/unacknowledge", api::Open::kIntegrationKey, this,
        &R::Unacknowledge);
  t.Add(V::post, a + "/{identifier}/notes", api::Open::kIntegrationKey, this, &R::AddNote);
  t.Add(V::put, a + "/{identifier}/message", api::Open::kIntegrationKey, this, &R::UpdateMessage);
  t.Add(V::put, a + "/{identifier}/description", api::Open::kIntegrationKey, this,
        &R::UpdateDescription);
  t.Add(V::put, a + "/{identifier}/priority", api::Open::kIntegrationKey, this, &R::UpdatePriority);
  for (V v : {V::get, V::post, V::put, V::patch}) {
    t.Add(v, "{prefix*}/v2/heartbeats/{name}/ping", api::Open::kIntegrationKey, this, &R::Ping);
  }
}

}  // namespace houston::intake
