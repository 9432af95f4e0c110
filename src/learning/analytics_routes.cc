#include "learning/analytics_routes.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <memory>

#include "api/json_body.h"
#include "api/request.h"
#include "core/time_util.h"

namespace houston::learning {

namespace bhttp = http::bhttp;
namespace json = boost::json;
using http::HttpRequest;
using store::Role;

namespace {

constexpr std::chrono::hours kDefaultRange{30 * 24};

// Reads a request's query string strictly: parameters nobody asked for are problems, and every
// problem names its field (collected in a JsonBody, so that api::OrgCheck can add to them).
// Not thread-safe (one request's reader).
class QueryReader {
 public:
  QueryReader(const HttpRequest& req, std::initializer_list<std::string_view> allowed)
      : req_(req), body_(*api::JsonBody::Parse("", /*allow_empty=*/true)) {
    std::string_view q = req.query;
    while (!q.empty()) {
      size_t amp = q.find('&');
      std::string_view pair = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
      std::string_view key = pair.substr(0, pair.find('='));
      if (key.empty()) continue;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        body_.Problem(fmt::format("unknown query parameter '{}' (known: {})", key, known));
      }
    }
  }
  std::optional<std::string> Get(std::string_view name) const { return req_.Query(name); }
  void Problem(std::string p) { body_.Problem(std::move(p)); }
  api::JsonBody& body() { return body_; }
  // InvalidArgument naming every problem ("invalid query" when there are several), or OK.
  Status Finish() {
    Status st = body_.Finish();
    if (st.ok() || st.details().size() < 2) return st;
    return InvalidArgument(fmt::format("invalid query: {} problems", st.details().size()),
                           st.details());
  }

 private:
  const HttpRequest& req_;
  api::JsonBody body_;
};

struct Range {
  TimePoint from{}, to{};
  const date::time_zone* zone = nullptr;
  std::string tz = "UTC";
};

// ?from=&to=&tz= : RFC 3339 times or dates (midnight in tz); default the last 30 days to now.
Range ReadRange(QueryReader& q, TimePoint now, bool with_tz = true) {
  Range r;
  if (with_tz) r.tz = q.Get("tz").value_or("UTC");
  auto zone = core::LocateTimeZone(r.tz);
  if (!zone) {
    q.Problem(
        fmt::format("'tz': unknown time zone '{}' (a tz database name such as "
                    "Europe/Berlin)",
                    r.tz));
    zone = core::LocateTimeZone("UTC");
  }
  r.zone = *zone;
  bool ok = true;
  r.to = now;
  if (auto to = q.Get("to")) {
    auto t = ParseInstant(*to, r.zone, "to");
    if (t) {
      r.to = *t;
    } else {
      q.Problem(t.error().message());
      ok = false;
    }
  }
  r.from = r.to - kDefaultRange;
  if (auto from = q.Get("from")) {
    auto t = ParseInstant(*from, r.zone, "from");
    if (t) {
      r.from = *t;
    } else {
      q.Problem(t.error().message());
      ok = false;
    }
  }
  if (!ok) return r;
  if (r.from > r.to) {
    q.Problem(
        fmt::format("'from' ({}) is after 'to' ({})", FormatRfc3339(r.from), FormatRfc3339(r.to)));
  } else if (r.to - r.from > kMaxRange) {
    q.Problem(fmt::format("'to': the range {} to {} is longer than {} days", FormatRfc3339(r.from),
                          FormatRfc3339(r.to), kMaxRange.count() / 24));
  }
  return r;
}

const config::Org& OrgOf(const std::shared_ptr<const api::OrgView>& view) {
  static const config::Org kEmpty;
  return view && view->org ? *view->org : kEmpty;
}

json::value Opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object StatsJson(const store::DurationStats& d) {
  return {{"n", d.n}, {"mean", Opt(d.mean)}, {"p50", Opt(d.p50)}, {"p90", Opt(d.p90)}};
}

json::object GroupJson(const store::IncidentStatsRow& r) {
  return {{"group", r.group},
          {"count", r.count},
          {"tta", StatsJson(r.tta)},
          {"ttm", StatsJson(r.ttm)},
          {"ttr", StatsJson(r.ttr)}};
}

json::object PersonJson(const PersonLoad& p) {
  return {{"user", p.user},
          {"timezone", p.timezone},
          {"pages", p.pages},
          {"out_of_hours", p.out_of_hours},
          {"night", p.night},
          {"hours_on_call", p.hours_on_call},
          {"acknowledged", p.acknowledged},
          {"incidents_handled", p.incidents_handled}};
}

json::object SpreadJson(const LoadSpread& s) {
  return {{"people", s.people},   {"total_pages", s.total_pages},
          {"min", s.min},         {"max", s.max},
          {"mean", s.mean},       {"stddev", s.stddev},
          {"busiest", s.busiest}, {"busiest_share", s.busiest_share}};
}

json::array SlowJson(const std::vector<store::SlowIncident>& v) {
  json::array out;
  for (const auto& s : v) {
    out.push_back(json::object{{"id", s.id},
                               {"title", s.title},
                               {"service", s.service_id},
                               {"sev", s.sev},
                               {"seconds", s.seconds}});
  }
  return out;
}

// An integration as people know it (its key is a secret): "<service>/<integration name>".
std::string IntegrationName(const config::Org& org, const std::string& key) {
  for (const auto& s : org.services) {
    for (const auto& i : s.integrations) {
      if (i.key == key) return s.id + "/" + i.name;
    }
  }
  return "unknown integration";
}

std::string Serialize(const json::object& o) { return json::serialize(o); }

}  // namespace

AnalyticsRoutes::AnalyticsRoutes(api::Context& ctx, WorkerPoolOptions pool)
    : RouteGroup(ctx),
      service_(ctx.store(), ctx.clock(), ctx.options().schedule),
      pool_(std::move(pool)) {}

void AnalyticsRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  using R = AnalyticsRoutes;
  t.Add(V::get, "/api/v1/analytics/incidents", Role::kViewer, this, &R::Incidents);
  t.Add(V::get, "/api/v1/analytics/oncall-load", Role::kViewer, this, &R::OncallLoad);
  t.Add(V::get, "/api/v1/analytics/noise", Role::kViewer, this, &R::Noise);
  t.Add(V::get, "/api/v1/analytics/weekly", Role::kViewer, this, &R::Weekly);
  t.Add(V::get, "/api/v1/users/{id}/record", Role::kViewer, this, &R::Record);
}

void AnalyticsRoutes::Run(Respond respond, std::function<Result<std::string>()> work) {
  api::RunOnPool(pool_, "analytics queries", std::move(respond),
                 [work = std::move(work)](auto shared) {
                   auto body = work();
                   (*shared)(body ? http::JsonResponse(bhttp::status::ok, std::move(*body))
                                  : http::ErrorResponse(body.error()));
                 });
}

void AnalyticsRoutes::Incidents(const HttpRequest& req, const auth::Principal*, Respond respond) {
  QueryReader q(req, {"from", "to", "group_by", "interval", "tz", "team"});
  Range range = ReadRange(q, clock_.Now());
  auto view = org();
  IncidentAnalyticsQuery query{.from = range.from, .to = range.to, .zone = range.zone};
  if (auto g = q.Get("group_by")) {
    if (auto p = ParseGroupBy(*g)) {
      query.group_by = *p;
    } else {
      q.Problem(
          fmt::format("'group_by': unknown grouping '{}' (one of service, team, severity)", *g));
    }
  }
  if (auto i = q.Get("interval")) {
    if (auto p = ParseInterval(*i)) {
      query.interval = *p;
    } else {
      q.Problem(fmt::format("'interval': unknown interval '{}' (one of day, week, month)", *i));
    }
  }
  if (auto team = q.Get("team")) {
    api::OrgCheck check(view && view->org ? view->org.get() : nullptr, q.body());
    if (check.Team(*team, "team")) query.team = *team;
  }
  if (Status st = q.Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Run(std::move(respond), [this, view, query, tz = range.tz]() -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(IncidentAnalytics a, service_.Incidents(OrgOf(view), query));
    json::array buckets;
    size_t row = 0;
    for (size_t b = 0; b < a.buckets.size(); ++b) {
      json::array groups;
      for (; row < a.rows.size() && a.rows[row].bucket == static_cast<int>(b); ++row) {
        groups.push_back(GroupJson(a.rows[row]));
      }
      buckets.push_back(json::object{{"start", FormatRfc3339(a.buckets[b].start)},
                                     {"end", FormatRfc3339(a.buckets[b].end)},
                                     {"label", a.buckets[b].label},
                                     {"groups", std::move(groups)}});
    }
    return Serialize({{"from", FormatRfc3339(query.from)},
                      {"to", FormatRfc3339(query.to)},
                      {"tz", tz},
                      {"group_by", ToString(query.group_by)},
                      {"interval", ToString(query.interval)},
                      {"team", query.team.empty() ? json::value(nullptr) : json::value(query.team)},
                      {"buckets", std::move(buckets)}});
  });
}

void AnalyticsRoutes::OncallLoad(const HttpRequest& req, const auth::Principal*, Respond respond) {
  QueryReader q(req, {"from", "to", "team", "tz"});
  Range range = ReadRange(q, clock_.Now());
  auto view = org();
  std::string team;
  if (auto t = q.Get("team")) {
    api::OrgCheck check(view && view->org ? view->org.get() : nullptr, q.body());
    if (check.Team(*t, "team")) team = *t;
  }
  if (Status st = q.Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Run(std::move(respond), [this, view, range, team]() -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(learning::OncallLoad load,
                             service_.Load(OrgOf(view), range.from, range.to, team));
    json::array people;
    for (const auto& p : load.people) people.push_back(PersonJson(p));
    return Serialize({{"from", FormatRfc3339(range.from)},
                      {"to", FormatRfc3339(range.to)},
                      {"team", team.empty() ? json::value(nullptr) : json::value(team)},
                      {"people", std::move(people)},
                      {"spread", SpreadJson(load.spread)}});
  });
}

void AnalyticsRoutes::Noise(const HttpRequest& req, const auth::Principal*, Respond respond) {
  QueryReader q(req, {"from", "to", "tz", "window"});
  Range range = ReadRange(q, clock_.Now());
  store::NoiseQuery query{.from = range.from, .to = range.to};
  if (auto w = q.Get("window")) {
    int minutes = 0;
    auto [p, ec] = std::from_chars(w->data(), w->data() + w->size(), minutes);
    const int most = static_cast<int>(store::AnalyticsStore::kMaxFlapWindow.count());
    if (ec != std::errc() || p != w->data() + w->size() || minutes < 1 || minutes > most) {
      q.Problem(fmt::format("'window': '{}' is not a number of minutes from 1 to {}", *w, most));
    } else {
      query.flap_window = std::chrono::minutes(minutes);
    }
  }
  if (Status st = q.Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  auto view = org();
  Run(std::move(respond), [this, view, query]() -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(store::NoiseReport n, service_.Noise(query));
    const config::Org& o = OrgOf(view);
    json::array sources, integrations, flapping;
    for (const auto& k : n.top_sources) {
      sources.push_back(json::object{{"source", k.key}, {"alerts", k.count}});
    }
    for (const auto& k : n.top_integrations) {
      integrations.push_back(
          json::object{{"integration", IntegrationName(o, k.key)}, {"alerts", k.count}});
    }
    for (const auto& k : n.top_flapping) {
      size_t slash = k.key.find('/');
      flapping.push_back(json::object{{"integration", IntegrationName(o, k.key.substr(0, slash))},
                                      {"dedup_key", k.key.substr(slash + 1)},
                                      {"flaps", k.count}});
    }
    return Serialize({{"from", FormatRfc3339(query.from)},
                      {"to", FormatRfc3339(query.to)},
                      {"window_minutes", query.flap_window.count()},
                      {"incidents", n.incidents},
                      {"alerts_per_incident", StatsJson(n.alerts_per_incident)},
                      {"alerts", n.alerts},
                      {"never_acknowledged", n.never_acknowledged},
                      {"open", n.open},
                      {"flaps", n.flaps},
                      {"flapping_keys", n.flapping_keys},
                      {"top_sources", std::move(sources)},
                      {"top_integrations", std::move(integrations)},
                      {"top_flapping", std::move(flapping)}});
  });
}

void AnalyticsRoutes::Weekly(const HttpRequest& req, const auth::Principal*, Respond respond) {
  QueryReader q(req, {"team", "week", "tz"});
  auto view = org();
  std::string team;
  if (auto t = q.Get("team")) {
    api::OrgCheck check(view && view->org ? view->org.get() : nullptr, q.body());
    if (check.Team(*t, "team")) team = *t;
  }
  std::string tz = q.Get("tz").value_or("UTC");
  auto zone = core::LocateTimeZone(tz);
  if (!zone) q.Problem(fmt::format("'tz': unknown time zone '{}'", tz));
  std::optional<std::string> week = q.Get("week");
  if (week && !ParseInstant(*week, nullptr, "week")) {
    q.Problem(fmt::format("'week': '{}' is not a date YYYY-MM-DD", *week));
  } else if (week && week->size() != 10) {
    q.Problem(fmt::format("'week': '{}' is not a date YYYY-MM-DD (any day of the week)", *week));
  }
  if (Status st = q.Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Run(std::move(respond), [this, view, team, week, tz, zone = *zone]() -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(WeeklyReport w, service_.Weekly(OrgOf(view), team, week, zone));
    json::array sev, items, pms, night;
    for (const auto& r : w.by_severity) {
      sev.push_back(json::object{{"sev", r.group},
                                 {"count", r.count},
                                 {"tta", StatsJson(r.tta)},
                                 {"ttm", StatsJson(r.ttm)},
                                 {"ttr", StatsJson(r.ttr)}});
    }
    for (const auto& a : w.overdue_action_items) {
      items.push_back(json::object{{"id", a.id},
                                   {"incident", a.incident_id},
                                   {"title", a.title},
                                   {"owner", a.owner},
                                   {"due", a.due},
                                   {"status", a.status},
                                   {"overdue_at", FormatRfc3339(a.overdue_at)}});
    }
    for (const auto& p : w.overdue_postmortems) {
      pms.push_back(json::object{{"incident", p.incident_id},
                                 {"title", p.title},
                                 {"owner", p.owner},
                                 {"status", p.status},
                                 {"due_at", FormatRfc3339(p.due_at)}});
    }
    for (const auto& p : w.night_pages) {
      night.push_back(json::object{
          {"user", p.user}, {"timezone", p.timezone}, {"night", p.night}, {"pages", p.pages}});
    }
    return Serialize({{"week", w.week},
                      {"from", FormatRfc3339(w.from)},
                      {"to", FormatRfc3339(w.to)},
                      {"tz", tz},
                      {"team", team.empty() ? json::value(nullptr) : json::value(team)},
                      {"incidents_by_severity", std::move(sev)},
                      {"slowest_acknowledge", SlowJson(w.slowest_ack)},
                      {"slowest_resolve", SlowJson(w.slowest_resolve)},
                      {"overdue_action_items", json::object{{"total", w.overdue_action_items_total},
                                                            {"items", std::move(items)}}},
                      {"overdue_postmortems", json::object{{"total", w.overdue_postmortems_total},
                                                           {"items", std::move(pms)}}},
                      {"night_pages", std::move(night)}});
  });
}

void AnalyticsRoutes::Record(const HttpRequest& req, const auth::Principal*, Respond respond) {
  QueryReader q(req, {"from", "to", "tz"});
  Range range = ReadRange(q, clock_.Now());
  auto view = org();
  std::string user = req.Param("id");
  api::OrgCheck check(view && view->org ? view->org.get() : nullptr, q.body());
  check.User(user, "id");
  if (Status st = q.Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Run(std::move(respond), [this, range, user]() -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(store::ResponderRecord r, service_.Record(user, range.from, range.to));
    json::object roles;
    for (const auto& [role, n] : r.roles) roles[role] = n;
    return Serialize({{"user", user},
                      {"from", FormatRfc3339(range.from)},
                      {"to", FormatRfc3339(range.to)},
                      {"incidents_handled", r.incidents_handled},
                      {"roles", std::move(roles)},
                      {"responder_on", r.responder_on},
                      {"pages_received", r.pages_received},
                      {"pages_answered", StatsJson(r.pages_answered)},
                      {"postmortems_published", r.postmortems_published},
                      {"action_items_closed", r.action_items_closed}});
  });
}

}  // namespace houston::learning
