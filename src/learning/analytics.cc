#include "learning/analytics.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "config/schedule_convert.h"
#include "core/time_util.h"

namespace houston::learning {

namespace {

using std::chrono::days;
using std::chrono::floor;

const date::time_zone* Utc() {
  static const date::time_zone* utc = date::locate_zone("UTC");
  return utc;
}

TimePoint ToSys(const date::time_zone* zone, date::local_days d) {
  return std::chrono::time_point_cast<TimePoint::duration>(
      zone->to_sys(date::local_seconds(d), date::choose::earliest));
}

date::local_days LocalDay(const date::time_zone* zone, TimePoint t) {
  return floor<days>(zone->to_local(t));
}

std::string Label(date::local_days d) { return date::format("%F", d); }

// A date YYYY-MM-DD, or nullopt.
std::optional<date::local_days> ParseDate(std::string_view s) {
  auto d = ParseCalendarDate(s);
  if (!d) return std::nullopt;
  return date::local_days(*d);
}

date::local_days Monday(date::local_days d) { return d - (date::weekday(d) - date::Monday); }

}  // namespace

std::optional<Interval> ParseInterval(std::string_view s) {
  if (s == "day") return Interval::kDay;
  if (s == "week") return Interval::kWeek;
  if (s == "month") return Interval::kMonth;
  return std::nullopt;
}

std::optional<store::IncidentGroupBy> ParseGroupBy(std::string_view s) {
  if (s == "service") return store::IncidentGroupBy::kService;
  if (s == "team") return store::IncidentGroupBy::kTeam;
  if (s == "severity") return store::IncidentGroupBy::kSeverity;
  return std::nullopt;
}

std::string_view ToString(store::IncidentGroupBy g) {
  switch (g) {
    case store::IncidentGroupBy::kService:
      return "service";
    case store::IncidentGroupBy::kTeam:
      return "team";
    case store::IncidentGroupBy::kSeverity:
      return "severity";
  }
  return "service";
}

std::string_view ToString(Interval i) {
  switch (i) {
    case Interval::kNone:
      return "none";
    case Interval::kDay:
      return "day";
    case Interval::kWeek:
      return "week";
    case Interval::kMonth:
      return "month";
  }
  return "none";
}

Result<TimePoint> ParseInstant(std::string_view text, const date::time_zone* zone,
                               std::string_view field) {
  if (!zone) zone = Utc();
  if (auto d = ParseDate(text)) return ToSys(zone, *d);
  auto t = ParseRfc3339(text);
  if (!t) {
    return std::unexpected(InvalidArgument(
        fmt::format("'{}': '{}' is neither an RFC 3339 time nor a date YYYY-MM-DD", field, text)));
  }
  return *t;
}

std::vector<Bucket> Buckets(TimePoint from, TimePoint to, Interval interval,
                            const date::time_zone* zone) {
  if (!zone) zone = Utc();
  std::vector<Bucket> out;
  if (from >= to) return out;
  date::local_days start = LocalDay(zone, from);
  if (interval == Interval::kNone) {
    out.push_back(Bucket{from, to, Label(start)});
    return out;
  }
  if (interval == Interval::kWeek) start = Monday(start);
  if (interval == Interval::kMonth) {
    date::year_month_day ymd(start);
    start = date::local_days(ymd.year() / ymd.month() / 1);
  }
  auto next = [interval](date::local_days d) -> date::local_days {
    switch (interval) {
      case Interval::kDay:
        return d + days(1);
      case Interval::kWeek:
        return d + days(7);
      default: {
        date::year_month_day ymd(d);
        return date::local_days((ymd.year() / ymd.month() + date::months(1)) / 1);
      }
    }
  };
  for (date::local_days d = start; out.size() < store::AnalyticsStore::kMaxBuckets;) {
    date::local_days n = next(d);
    TimePoint s = ToSys(zone, d), e = ToSys(zone, n);
    if (s >= to) break;
    out.push_back(Bucket{std::max(s, from), std::min(e, to), Label(d)});
    d = n;
  }
  return out;
}

std::vector<std::string> TeamServices(const config::Org& org, const std::string& team) {
  std::vector<std::string> out;
  for (const auto& s : org.services) {
    if (s.team == team) out.push_back(s.id);
  }
  // No service: a filter that matches nothing (no service has an empty id).
  if (out.empty()) out.push_back("");
  return out;
}

Result<IncidentAnalytics> AnalyticsService::Incidents(const config::Org& org,
                                                      const IncidentAnalyticsQuery& q) {
  IncidentAnalytics out;
  out.buckets = Buckets(q.from, q.to, q.interval, q.zone);
  if (out.buckets.empty()) return out;
  store::IncidentStatsQuery sq;
  sq.group_by = q.group_by;
  for (const auto& b : out.buckets) sq.edges.push_back(b.start);
  sq.edges.push_back(out.buckets.back().end);
  if (q.group_by == store::IncidentGroupBy::kTeam) {
    for (const auto& s : org.services) sq.service_team[s.id] = s.team;
  }
  if (!q.team.empty()) sq.services = TeamServices(org, q.team);
  HOUSTON_ASSIGN_OR_RETURN(out.rows, store_.IncidentStats(sq));
  return out;
}

Result<OncallLoad> AnalyticsService::Load(const config::Org& org, TimePoint from, TimePoint to,
                                          const std::string& team) {
  OncallLoad out;
  std::vector<std::string> ids;
  if (team.empty()) {
    for (const auto& u : org.users) ids.push_back(u.id);
  } else if (const auto* t = config::FindTeam(org, team)) {
    ids = t->members;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<std::string, size_t> index;
  std::vector<const date::time_zone*> zones;
  for (const auto& id : ids) {
    PersonLoad p;
    p.user = id;
    p.timezone = "UTC";
    const date::time_zone* zone = Utc();
    if (const auto* u = config::FindUser(org, id)) {
      p.timezone = u->timezone;
      if (auto z = core::LocateTimeZone(u->timezone)) zone = *z;
    }
    index.emplace(id, out.people.size());
    out.people.push_back(std::move(p));
    zones.push_back(zone);
  }

  // Pages, in each person's own time zone. A 15-minute slot lies within one local hour.
  HOUSTON_RETURN_IF_ERROR(store_.ForEachPageSlot(from, to, [&](const store::PageSlot& s) {
    auto it = index.find(s.user_id);
    if (it == index.end()) return;
    PersonLoad& p = out.people[it->second];
    auto local = zones[it->second]->to_local(s.slot);
    date::local_days day = floor<days>(local);
    auto hour = std::chrono::duration_cast<std::chrono::hours>(local - day).count();
    date::weekday wd(day);
    bool weekday = wd != date::Saturday && wd != date::Sunday;
    p.pages += s.pages;
    if (!weekday || hour < 8 || hour >= 18) p.out_of_hours += s.pages;
    if (hour >= 22 || hour < 7) p.night += s.pages;
  }));

  // Hours on call: every schedule's shifts, overlaps counted once per person.
  std::vector<std::vector<std::pair<TimePoint, TimePoint>>> shifts(out.people.size());
  for (const auto& sched : org.schedules) {
    const core::CompiledSchedule* compiled = schedules_ ? schedules_(org, sched.id) : nullptr;
    std::optional<core::CompiledSchedule> own;
    if (!compiled) {
      auto c = core::CompiledSchedule::Create(config::ToScheduleSpec(sched));
      if (!c) return std::unexpected(c.error());
      own = std::move(*c);
      compiled = &*own;
    }
    for (const auto& shift : core::Timeline(*compiled, from, to).shifts) {
      auto it = index.find(shift.user);
      if (it != index.end()) shifts[it->second].emplace_back(shift.start, shift.end);
    }
  }
  for (size_t i = 0; i < shifts.size(); ++i) {
    auto& v = shifts[i];
    std::sort(v.begin(), v.end());
    std::chrono::milliseconds total{0};
    std::optional<std::pair<TimePoint, TimePoint>> cur;
    for (const auto& s : v) {
      if (cur && s.first <= cur->second) {
        cur->second = std::max(cur->second, s.second);
        continue;
      }
      if (cur)
        total += std::chrono::duration_cast<std::chrono::milliseconds>(cur->second - cur->first);
      cur = s;
    }
    if (cur)
      total += std::chrono::duration_cast<std::chrono::milliseconds>(cur->second - cur->first);
    out.people[i].hours_on_call = static_cast<double>(total.count()) / 3'600'000.0;
  }

  HOUSTON_ASSIGN_OR_RETURN(auto handled, store_.IncidentsHandled(from, to, ids));
  for (const auto& h : handled) {
    auto it = index.find(h.user_id);
    if (it == index.end()) continue;
    out.people[it->second].acknowledged = h.acknowledged;
    out.people[it->second].incidents_handled = h.handled;
  }

  // The spread of pages across the people listed.
  LoadSpread& sp = out.spread;
  sp.people = static_cast<int>(out.people.size());
  if (!out.people.empty()) {
    sp.min = out.people.front().pages;
    for (const auto& p : out.people) {
      sp.total_pages += p.pages;
      sp.min = std::min(sp.min, p.pages);
      if (p.pages > sp.max) {
        sp.max = p.pages;
        sp.busiest = p.user;
      }
    }
    sp.mean = static_cast<double>(sp.total_pages) / sp.people;
    double var = 0;
    for (const auto& p : out.people) var += (p.pages - sp.mean) * (p.pages - sp.mean);
    sp.stddev = std::sqrt(var / sp.people);
    sp.busiest_share = sp.total_pages ? static_cast<double>(sp.max) / sp.total_pages : 0;
  }
  return out;
}

Result<store::NoiseReport> AnalyticsService::Noise(const store::NoiseQuery& q) {
  return store_.Noise(q);
}

Result<WeeklyReport> AnalyticsService::Weekly(const config::Org& org, const std::string& team,
                                              std::optional<std::string> day,
                                              const date::time_zone* zone) {
  if (!zone) zone = Utc();
  date::local_days d;
  if (day) {
    auto parsed = ParseDate(*day);
    if (!parsed) {
      return std::unexpected(
          InvalidArgument(fmt::format("'week': '{}' is not a date YYYY-MM-DD", *day)));
    }
    d = *parsed;
  } else {
    d = LocalDay(zone, clock_.Now()) - days(7);
  }
  date::local_days monday = Monday(d);
  WeeklyReport out;
  out.week = Label(monday);
  out.team = team;
  out.from = ToSys(zone, monday);
  out.to = ToSys(zone, monday + days(7));
  std::vector<std::string> services;
  if (!team.empty()) services = TeamServices(org, team);
  store::IncidentStatsQuery sq;
  sq.edges = {out.from, out.to};
  sq.group_by = store::IncidentGroupBy::kSeverity;
  sq.services = services;
  HOUSTON_ASSIGN_OR_RETURN(out.by_severity, store_.IncidentStats(sq));
  HOUSTON_ASSIGN_OR_RETURN(
      out.slowest_ack,
      store_.SlowestIncidents(out.from, out.to, store::SlowBy::kAcknowledge, services, 5));
  HOUSTON_ASSIGN_OR_RETURN(
      out.slowest_resolve,
      store_.SlowestIncidents(out.from, out.to, store::SlowBy::kResolve, services, 5));
  const TimePoint now = clock_.Now();
  HOUSTON_ASSIGN_OR_RETURN(auto items, store_.OverdueActionItems(now, services, 20));
  out.overdue_action_items_total = items.first;
  out.overdue_action_items = std::move(items.second);
  HOUSTON_ASSIGN_OR_RETURN(auto pms, store_.OverduePostmortems(now, services, 20));
  out.overdue_postmortems_total = pms.first;
  out.overdue_postmortems = std::move(pms.second);
  HOUSTON_ASSIGN_OR_RETURN(OncallLoad load, Load(org, out.from, out.to, team));
  for (auto& p : load.people) {
    if (p.night > 0) out.night_pages.push_back(std::move(p));
  }
  std::stable_sort(out.night_pages.begin(), out.night_pages.end(),
                   [](const PersonLoad& a, const PersonLoad& b) { return a.night > b.night; });
  return out;
}

Result<store::ResponderRecord> AnalyticsService::Record(const std::string& user, TimePoint from,
                                                        TimePoint to) {
  return store_.RecordOf(user, from, to);
}

}  // namespace houston::learning
