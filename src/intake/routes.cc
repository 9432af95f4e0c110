#include "intake/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "api/request.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "ingest/ingest.h"
#include "intake/prometheus_routing.h"
#include "notify/notify.h"

namespace houston::intake {

namespace bhttp = http::bhttp;
using api::AlertJson;
using api::ChangeJson;
using api::Field;
using api::ListResponse;
using api::Paging;
using api::PagingOf;
using api::ParseId;
using api::ParsePage;
using api::Raw;
using api::StoreError;
using core::IntegrationType;
using http::HttpRequest;
using http::Response;
using store::Role;

std::shared_ptr<const IntakeView> MakeIntakeView(std::shared_ptr<const config::Org> org) {
  auto view = std::make_shared<IntakeView>();
  view->org = org;
  if (org) {
    for (const auto& [key, integ] : config::IndexIntegrations(*org)) {
      IntegrationInfo info;
      info.key = key;
      info.service_id = integ.service_id;
      info.type = integ.type;
      info.rate_limit_per_second = integ.rate_limit_per_second;
      info.fanout = !org->incident_rules.empty() || !org->webhooks.empty();
      SetIntegrationService(info, *org, integ.service_id);
      if (integ.prometheus) info.prometheus = MakePrometheusRouting(*org, *integ.prometheus, info);
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
      view->integrations.emplace(api::TokenHash(key), std::move(info));
    }
  }
  return view;
}

void SetIntegrationService(IntegrationInfo& info, const config::Org& org,
                           const std::string& service_id) {
  info.service_id = service_id;
  info.escalation_policy.clear();
  info.first_step_delay.reset();
  info.group_window = std::chrono::minutes(0);
  info.group_by.clear();
  if (const auto* svc = config::FindService(org, service_id)) {
    Paging paging = PagingOf(org, svc->id);
    info.escalation_policy = paging.policy;
    info.first_step_delay = paging.first_step_delay;
    if (svc->grouping) {
      info.group_window = std::chrono::minutes(svc->grouping->window_minutes);
      info.group_by = svc->grouping->by;
    }
  }
}

void Route(core::AlertEvent& ev, const IntegrationInfo& info) {
  ev.service_id = info.service_id;
  ev.escalation_policy = info.escalation_policy;
  ev.first_step_delay = info.first_step_delay;
  ev.group_window = info.group_window;
  ev.fanout = info.fanout;
  ev.grouping_key.clear();
  if (info.group_window.count() > 0 && !info.group_by.empty()) {
    // The content key: the values of the grouping fields, as silence matchers read them. It is
    // stored and only compared, so the integration stands in it by its key's digest (a database
    // file never shows an integration key).
    core::Alert a;
    if (std::find(info.group_by.begin(), info.group_by.end(), "integration") !=
        info.group_by.end()) {
      a.integration_key = api::TokenHash(ev.integration_key);
    }
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
      ev.grouping_key += core::AlertField(a, field);
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

void IntakeRoutes::CountEvent(std::string_view type, std::string_view result, uint64_t n) {
  metrics_.Add("houston_events_total",
               fmt::format("integration=\"{}\",result=\"{}\"", type, result), n);
}

void IntakeRoutes::AlertmanagerIntake(const HttpRequest& req, const auth::Principal*,
                                      Respond respond) {
  WebhookIntake(IntegrationType::kAlertmanager, req, std::move(respond));
}
void IntakeRoutes::GrafanaIntake(const HttpRequest& req, const auth::Principal*, Respond respond) {
  WebhookIntake(IntegrationType::kGrafana, req, std::move(respond));
}
void IntakeRoutes::GenericIntake(const HttpRequest& req, const auth::Principal*, Respond respond) {
  WebhookIntake(IntegrationType::kGeneric, req, std::move(respond));
}
void IntakeRoutes::AcknowledgeAlert(const HttpRequest& req, const auth::Principal* principal,
                                    Respond respond) {
  AlertAction(true, req, *principal, std::move(respond));
}
void IntakeRoutes::ResolveAlert(const HttpRequest& req, const auth::Principal* principal,
                                Respond respond) {
  AlertAction(false, req, *principal, std::move(respond));
}

// ---------------------------------------------------------------------------------------------
// Intake.

bool IntakeRoutes::CheckRate(const IntegrationInfo& info, size_t events, Respond& respond,
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

void IntakeRoutes::Submit(
    std::vector<core::AlertEvent> events, std::string integration_type,
    std::function<Response(const std::vector<store::EventOutcome>&)> on_success,
    std::function<Response(const Status&)> on_error, Respond respond) {
  size_t n = events.size();
  // Whether a new incident may page at once (its policy's first step has no delay, or the delay
  // is unknown). Events of one batch may go to different services (Prometheus routes).
  const bool page_now = std::any_of(events.begin(), events.end(), [](const core::AlertEvent& e) {
    return !e.first_step_delay || e.first_step_delay->count() == 0;
  });
  std::string actor_id = events.empty() ? "" : integration_type + ":" + events[0].service_id;
  // Responder is move-only; the store callback must be copyable, so it owns it via shared_ptr.
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.ApplyAlertEvents(
      std::move(events), store::Actor{"integration", actor_id, "integration"},
      [this, shared, n, page_now, integration_type = std::move(integration_type),
       on_success = std::move(on_success),
       on_error = std::move(on_error)](Result<std::vector<store::EventOutcome>> r) {
        if (r) {
          CountEvent(integration_type, "accepted", n);
          // Wake the engines only when they have work now: a step due at once (the paging
          // engines), or an ack/resolve (every engine: a resolved incident may need a
          // postmortem draft).
          bool opened = false, moved = false;
          for (const auto& o : *r) {
            using K = store::EventOutcome::Kind;
            opened = opened || (o.kind == K::kCreated && o.incident_created && page_now);
            moved = moved || o.kind == K::kAcknowledged || o.kind == K::kResolved;
          }
          if (moved) {
            Changed();
          } else if (opened) {
            IncidentsOpened();
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
std::optional<std::pair<Event, IntegrationInfo>> IntakeRoutes::PagerDutyEvent(
    std::string_view type, const HttpRequest& req, Parse parse, Respond& respond) {
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
  auto it = view->integrations.find(api::TokenHash(ev->integration_key));
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

void IntakeRoutes::EventsV2(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void IntakeRoutes::ChangeEvent(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void IntakeRoutes::WebhookIntake(IntegrationType type, const HttpRequest& req, Respond respond) {
  std::string type_name(IntegrationTypeLabel(type));
  const std::string key = req.Param("key");
  auto view = org();
  auto it = view->integrations.find(api::TokenHash(key));
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

void IntakeRoutes::Heartbeat(const HttpRequest& req, const auth::Principal*, Respond respond) {
  const std::string key = req.Param("key");
  auto view = org();
  auto it = view->integrations.find(api::TokenHash(key));
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

void IntakeRoutes::ListAlerts(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void IntakeRoutes::GetAlert(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "alert id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto a = store_.GetAlert(*id);
  if (!a) return respond(http::ErrorResponse(a.error()));
  respond(http::JsonResponse(bhttp::status::ok, "{\"alert\":" + AlertJson(*a) + "}"));
}

void IntakeRoutes::AlertAction(bool acknowledge, const HttpRequest& req,
                               const auth::Principal& principal, Respond respond) {
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

namespace {

// How many of a service's newest alerts are looked at for its last event: an older alert can
// only be later when repeats kept folding into it while newer ones opened.
constexpr int kLastEventAlerts = 20;
// Open incidents are counted from one read of them all, up to this many.
constexpr int kMaxOpenIncidentsCounted = 10000;

}  // namespace

void IntakeRoutes::ListServices(const HttpRequest&, const auth::Principal* principal,
                                Respond respond) {
  auto view = org();
  // Integration keys are secrets: admins see them (to configure senders), others types and
  // names only.
  const bool show_keys = principal && principal->role >= Role::kAdmin;
  std::map<std::string, int> open_counts;
  bool open_capped = false;
  std::map<std::string, TimePoint> last_beats;
  if (view->org && !view->org->services.empty()) {
    auto open = store_.ListIncidents({.limit = kMaxOpenIncidentsCounted, .open_only = true});
    if (!open) return respond(StoreError(open.error()));
    for (const auto& inc : *open) ++open_counts[inc.service_id];
    open_capped = static_cast<int>(open->size()) == kMaxOpenIncidentsCounted;
    auto beats = store_.ListHeartbeats();
    if (!beats) return respond(StoreError(beats.error()));
    for (const auto& hb : *beats) {
      if (hb.last_beat_at) last_beats[hb.integration_key] = *hb.last_beat_at;
    }
  }
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
      std::string team_name = s.team;
      if (const auto* team = config::FindTeam(*view->org, s.team)) team_name = team->name;
      Field(o, "team_name", team_name);
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
      std::string integ = "[";
      for (size_t i = 0; i < s.integrations.size(); ++i) {
        const auto& in = s.integrations[i];
        if (i) integ += ',';
        std::string io = "{";
        Field(io, "type", core::ToString(in.type));
        Field(io, "name", in.name);
        if (show_keys) Field(io, "key", in.key);
        if (in.type == IntegrationType::kHeartbeat) {
          auto beat = last_beats.find(in.key);
          api::Time(io, "last_beat_at",
                    beat == last_beats.end() ? std::nullopt : std::optional(beat->second));
        }
        io += '}';
        integ += io;
      }
      integ += ']';
      Raw(o, "integrations", integ);
      auto it = open_counts.find(s.id);
      Raw(o, "open_incidents", std::to_string(it == open_counts.end() ? 0 : it->second));
      if (open_capped) Raw(o, "open_incidents_capped", "true");
      // The latest alert event: the newest alerts' last events (by the alerts_service index).
      auto alerts = store_.ListAlerts({.service_id = s.id, .limit = kLastEventAlerts});
      if (!alerts) return respond(StoreError(alerts.error()));
      std::optional<TimePoint> last_event;
      for (const auto& a : *alerts) {
        if (!last_event || a.last_event_at > *last_event) last_event = a.last_event_at;
      }
      api::Time(o, "last_event_at", last_event);
      o += '}';
      body += o;
    }
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void IntakeRoutes::ListChanges(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

IntakeRoutes::IntakeRoutes(api::Context& ctx)
    : RouteGroup(ctx), limiter_(ctx.clock()), view_(MakeIntakeView(nullptr)) {
  metrics_.Describe("houston_events_total", "counter",
                    "Inbound events by integration type and result (accepted, rejected, "
                    "rate_limited, overloaded, failed, unknown_key).");
}

void IntakeRoutes::SetOrg(std::shared_ptr<const config::Org> org) {
  auto view = MakeIntakeView(std::move(org));
  std::lock_guard lock(view_mu_);
  view_ = std::move(view);
}

std::shared_ptr<const IntakeView> IntakeRoutes::org() const {
  std::lock_guard lock(view_mu_);
  return view_;
}

std::optional<Response> IntakeRoutes::RenderError(std::string_view path, const Status& status) {
  if (!path.starts_with("/v2/")) return std::nullopt;
  std::vector<std::string> errors = status.details();
  if (errors.empty()) errors.push_back(status.message());
  // Before a handler, ResourceExhausted is a body over the limit: PagerDuty answers 400.
  return PdError(status.code() == StatusCode::kResourceExhausted
                     ? bhttp::status::bad_request
                     : http::HttpStatusFor(status.code()),
                 status.code() == StatusCode::kInvalidArgument ||
                         status.code() == StatusCode::kResourceExhausted
                     ? "invalid event"
                     : "error",
                 status.message(), errors);
}

void IntakeRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  // Intake: no principal; the integration key is the secret.
  t.Add(V::post, "/v2/enqueue", api::Open::kIntegrationKey, this, &IntakeRoutes::EventsV2);
  t.Add(V::post, "/v2/change/enqueue", api::Open::kIntegrationKey, this,
        &IntakeRoutes::ChangeEvent);
  t.Add(V::post, "/integrations/alertmanager/{key}", api::Open::kIntegrationKey, this,
        &IntakeRoutes::AlertmanagerIntake);
  t.Add(V::post, "/integrations/grafana/{key}", api::Open::kIntegrationKey, this,
        &IntakeRoutes::GrafanaIntake);
  t.Add(V::post, "/integrations/generic/{key}", api::Open::kIntegrationKey, this,
        &IntakeRoutes::GenericIntake);
  t.Add(V::get, "/integrations/heartbeat/{key}", api::Open::kIntegrationKey, this,
        &IntakeRoutes::Heartbeat);
  t.Add(V::post, "/integrations/heartbeat/{key}", api::Open::kIntegrationKey, this,
        &IntakeRoutes::Heartbeat);
  // Prometheus's alerting.alertmanagers with path_prefix /integrations/prometheus/{key}, or
  // /integrations/prometheus and the key as its bearer credential.
  t.Add(V::post, "/integrations/prometheus/{key}/api/v2/alerts", api::Open::kIntegrationKey, this,
        &IntakeRoutes::PrometheusV2);
  t.Add(V::post, "/integrations/prometheus/{key}/api/v1/alerts", api::Open::kIntegrationKey, this,
        &IntakeRoutes::PrometheusV1);
  t.Add(V::post, "/integrations/prometheus/api/v2/alerts", api::Open::kIntegrationKey, this,
        &IntakeRoutes::PrometheusV2);
  t.Add(V::post, "/integrations/prometheus/api/v1/alerts", api::Open::kIntegrationKey, this,
        &IntakeRoutes::PrometheusV1);
  t.Add(V::get, "/api/v1/alerts", Role::kViewer, this, &IntakeRoutes::ListAlerts);
  t.Add(V::get, "/api/v1/alerts/{id}", Role::kViewer, this, &IntakeRoutes::GetAlert);
  t.Add(V::post, "/api/v1/alerts/{id}/acknowledge", Role::kResponder, this,
        &IntakeRoutes::AcknowledgeAlert);
  t.Add(V::post, "/api/v1/alerts/{id}/resolve", Role::kResponder, this,
        &IntakeRoutes::ResolveAlert);
  t.Add(V::get, "/api/v1/services", Role::kViewer, this, &IntakeRoutes::ListServices);
  t.Add(V::get, "/api/v1/changes", Role::kViewer, this, &IntakeRoutes::ListChanges);
}

}  // namespace houston::intake
