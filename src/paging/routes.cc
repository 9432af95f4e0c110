#include "paging/routes.h"

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
#include "incidents/suspects.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"
#include "paging/schedules.h"

namespace houston::paging {

namespace bhttp = http::bhttp;
using api::Field;
using api::ListResponse;
using api::ParseId;
using api::ParsePage;
using api::Raw;
using api::StoreError;
using api::StringFields;
using api::Time;
using http::HttpRequest;
using http::Response;
using store::Role;

void PagingRoutes::ListNotifications(const HttpRequest& req, const auth::Principal*,
                                     Respond respond) {
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
  if (auto s = req.Query("user")) f.user_id = std::string(*s);
  if (auto s = req.Query("problems")) {
    if (*s != "true" && *s != "false") {
      return respond(http::ErrorResponse(InvalidArgument(
          fmt::format("query parameter 'problems' must be true or false, not '{}'", *s))));
    }
    f.problems_only = *s == "true";
  }
  auto list = store_.ListNotifications(f);
  if (!list) return respond(http::ErrorResponse(list.error()));
  respond(ListResponse("notifications", *list, f.limit, [](const store::Notification& n) {
    std::string o = "{";
    Raw(o, "id", std::to_string(n.id));
    Raw(o, "incident_id", std::to_string(n.incident_id));
    Field(o, "kind", n.kind);
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
// ?at=RFC3339 (default `now`): the moment an on-call question is about.
Result<TimePoint> AtParam(const HttpRequest& req, TimePoint now) {
  auto s = req.Query("at");
  if (!s) return now;
  auto t = ParseRfc3339(*s);
  if (!t) return std::unexpected(InvalidArgument("query parameter 'at': " + t.error().message()));
  return *t;
}

std::string StringArray(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, v[i]);
  }
  return out + "]";
}
}  // namespace

void PagingRoutes::ListUsers(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void PagingRoutes::ListEscalationPolicies(const HttpRequest&, const auth::Principal*,
                                          Respond respond) {
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

void PagingRoutes::ListSchedules(const HttpRequest& req, const auth::Principal*, Respond respond) {
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
        // users: "" is a turn with nobody; end: null when the layer does not end.
        const auto& end = sch.layers[j].end_local;
        layers += fmt::format(
            "{{\"name\":{},\"start\":{},\"end\":{},\"rotation\":{{\"type\":\"{}\","
            "\"length\":{}}},\"users\":{}}}",
            JsonQuote(sch.layers[j].name), JsonQuote(sch.layers[j].start),
            end ? JsonQuote(config::FormatLocalDateTime(*end)) : std::string("null"),
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

void PagingRoutes::ScheduleOnCall(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto view = org();
  std::string id = req.Param("id");
  if (!view->org || !config::FindSchedule(*view->org, id)) {
    return respond(http::ErrorResponse(NotFound(fmt::format("no schedule '{}'", id))));
  }
  auto at_param = AtParam(req, clock_.Now());
  if (!at_param) return respond(http::ErrorResponse(at_param.error()));
  TimePoint at = *at_param;
  if (!options_.on_call) {
    return respond(http::ErrorResponse(Unavailable("schedule resolution is not configured")));
  }
  auto users = options_.on_call(*view->org, id, at);
  if (!users) return respond(http::ErrorResponse(users.error()));
  std::string body = "{\"schedule\":" + JsonQuote(id) + ",\"at\":" + JsonQuote(FormatRfc3339(at)) +
                     ",\"users\":" + StringArray(*users) + "}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
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

// The final timeline cut where the user or its source changes (a layer, an override, a gap).
std::string SegmentsJson(const std::vector<ExplainedShift>& pieces) {
  std::string out = "\"segments\":[";
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i) out += ',';
    const ExplainedShift& p = pieces[i];
    out += fmt::format("{{\"start\":{},\"end\":{},\"user\":{},\"source\":\"{}\",\"layer\":{}}}",
                       JsonQuote(FormatRfc3339(p.start)), JsonQuote(FormatRfc3339(p.end)),
                       p.user.empty() ? "null" : JsonQuote(p.user), ToString(p.source),
                       p.layer.empty() ? "null" : JsonQuote(p.layer));
  }
  return out + "]";
}

std::string OptionalTime(const std::optional<TimePoint>& t) {
  return t ? JsonQuote(FormatRfc3339(*t)) : "null";
}

// One schedule's entry of GET /api/v1/oncall.
std::string OnCallSpanJson(const config::Schedule& sch, const OnCallSpan& span) {
  std::string o = "{";
  Field(o, "id", sch.id);
  Field(o, "name", sch.name);
  Field(o, "timezone", sch.timezone);
  Raw(o, "users", StringArray(span.users));
  Field(o, "source", ToString(span.source));
  Raw(o, "layer", span.layer.empty() ? "null" : JsonQuote(span.layer));
  Raw(o, "until", OptionalTime(span.until));
  if (span.next) {
    Raw(o, "next",
        fmt::format("{{\"users\":{},\"start\":{},\"until\":{}}}", StringArray(span.next->users),
                    JsonQuote(FormatRfc3339(span.next->start)), OptionalTime(span.next->until)));
  } else {
    Raw(o, "next", "null");
  }
  return o + "}";
}

// Everything from the first VEVENT up to (not including) END:VCALENDAR.
std::string_view Events(std::string_view cal) {
  auto b = cal.find("BEGIN:VEVENT");
  auto e = cal.rfind("END:VCALENDAR");
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return {};
  return cal.substr(b, e - b);
}
}  // namespace

std::string PagingRoutes::CalendarUrl(std::string_view kind, std::string_view id,
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

void PagingRoutes::ScheduleShifts(const HttpRequest& req, const auth::Principal*, Respond respond) {
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
  body += "," + SegmentsJson(ExplainTimeline(*sched, from, to));
  if (!timeline.gaps.empty()) {
    body += fmt::format(",\"warning\":{}",
                        JsonQuote(fmt::format("nobody is on call during {} gap(s) in this range: "
                                              "add a layer or an override to cover them",
                                              timeline.gaps.size())));
  }
  body += ",\"ical_url\":" + JsonQuote(CalendarUrl("schedule", id, req)) + "}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void PagingRoutes::OnCallNow(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto at_param = AtParam(req, clock_.Now());
  if (!at_param) return respond(http::ErrorResponse(at_param.error()));
  TimePoint at = *at_param;
  if (!options_.schedule) {
    return respond(http::ErrorResponse(Unavailable("schedule resolution is not configured")));
  }
  auto view = org();
  std::string body = "{\"at\":" + JsonQuote(FormatRfc3339(at)) + ",\"schedules\":[";
  if (!view->org) {
    return respond(http::JsonResponse(bhttp::status::ok, body + "],\"escalation_policies\":[]}"));
  }
  const config::Org& o = *view->org;
  std::map<std::string, std::vector<std::string>, std::less<>> now;  // schedule -> on call at `at`
  for (size_t i = 0; i < o.schedules.size(); ++i) {
    const auto& sch = o.schedules[i];
    if (i) body += ',';
    const core::CompiledSchedule* compiled = options_.schedule(o, sch.id);
    if (!compiled) {
      // Left out of the compiled book (logged when the org was loaded).
      std::string e = "{";
      Field(e, "id", sch.id);
      Field(e, "name", sch.name);
      Field(e, "timezone", sch.timezone);
      Raw(e, "users", "[]");
      Field(e, "error", "this schedule cannot be resolved; the server log says why");
      body += e + "}";
      continue;
    }
    OnCallSpan span = OnCallAround(*compiled, at);
    now[sch.id] = span.users;
    body += OnCallSpanJson(sch, span);
  }
  body += "],\"escalation_policies\":[";
  auto on_call = [&now](const std::string& schedule) {
    auto it = now.find(schedule);
    return it == now.end() ? std::vector<std::string>{} : it->second;
  };
  for (size_t i = 0; i < o.escalation_policies.size(); ++i) {
    const auto& p = o.escalation_policies[i];
    if (i) body += ',';
    std::string j = "{";
    Field(j, "id", p.id);
    Field(j, "name", p.name);
    Raw(j, "repeat", std::to_string(p.repeat));
    std::string steps = "[";
    for (size_t k = 0; k < p.steps.size(); ++k) {
      const auto& step = p.steps[k];
      if (k) steps += ',';
      std::vector<std::string> all;
      std::set<std::string> seen;
      std::string targets = "[";
      for (size_t t = 0; t < step.targets.size(); ++t) {
        auto users = TargetUsers(o, step.targets[t], on_call);
        for (const auto& u : users) {
          if (seen.insert(u).second) all.push_back(u);
        }
        if (t) targets += ',';
        targets += fmt::format("{{\"type\":\"{}\",\"id\":{},\"users\":{}}}",
                               config::ToString(step.targets[t].type),
                               JsonQuote(step.targets[t].id), StringArray(users));
      }
      steps +=
          fmt::format("{{\"delay_minutes\":{},\"round_robin\":{},\"targets\":{}],\"users\":{}}}",
                      step.delay_minutes, step.round_robin, targets, StringArray(all));
    }
    Raw(j, "steps", steps + "]");
    body += j + "}";
  }
  respond(http::JsonResponse(bhttp::status::ok, body + "]}"));
}

void PagingRoutes::Calendar(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void PagingRoutes::SubmitOverrides(std::vector<store::ScheduleOverride> overrides,
                                   store::Actor actor, Respond respond) {
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

void PagingRoutes::ListOverrides(const HttpRequest& req, const auth::Principal*, Respond respond) {
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

void PagingRoutes::CreateOverride(const HttpRequest& req, const auth::Principal* principal,
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

void PagingRoutes::CreateSwap(const HttpRequest& req, const auth::Principal* principal,
                              Respond respond) {
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

void PagingRoutes::CreateCoverRequest(const HttpRequest& req, const auth::Principal* principal,
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

void PagingRoutes::ListCoverRequests(const HttpRequest&, const auth::Principal*, Respond respond) {
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

void PagingRoutes::AcceptCover(const HttpRequest& req, const auth::Principal* principal,
                               Respond respond) {
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

void PagingRoutes::CancelOverride(const HttpRequest& req, const auth::Principal* principal,
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

void PagingRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  using R = PagingRoutes;
  t.Add(V::get, "/api/v1/notifications", Role::kViewer, this, &R::ListNotifications);
  t.Add(V::get, "/api/v1/users", Role::kViewer, this, &R::ListUsers);
  t.Add(V::get, "/api/v1/escalation-policies", Role::kViewer, this, &R::ListEscalationPolicies);
  t.Add(V::get, "/api/v1/schedules", Role::kViewer, this, &R::ListSchedules);
  t.Add(V::get, "/api/v1/schedules/{id}/oncall", Role::kViewer, this, &R::ScheduleOnCall);
  t.Add(V::get, "/api/v1/schedules/{id}/shifts", Role::kViewer, this, &R::ScheduleShifts);
  t.Add(V::get, "/api/v1/oncall", Role::kViewer, this, &R::OnCallNow);
  // Calendar apps cannot send tokens: the URL is signed.
  t.Add(V::get, "/calendars/{token}", api::Open::kSignedLink, this, &R::Calendar);
  t.Add(V::get, "/api/v1/schedules/{id}/overrides", Role::kViewer, this, &R::ListOverrides);
  t.Add(V::post, "/api/v1/schedules/{id}/overrides", Role::kResponder, this, &R::CreateOverride);
  t.Add(V::post, "/api/v1/schedules/{id}/swaps", Role::kResponder, this, &R::CreateSwap);
  t.Add(V::post, "/api/v1/schedules/{id}/cover-requests", Role::kResponder, this,
        &R::CreateCoverRequest);
  t.Add(V::get, "/api/v1/cover-requests", Role::kViewer, this, &R::ListCoverRequests);
  t.Add(V::post, "/api/v1/overrides/{id}/accept", Role::kResponder, this, &R::AcceptCover);
  t.Add(V::delete_, "/api/v1/overrides/{id}", Role::kResponder, this, &R::CancelOverride);
}

}  // namespace houston::paging
