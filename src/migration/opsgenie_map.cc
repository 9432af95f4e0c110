// MapOpsgenie: Opsgenie objects (in their JSON shapes) -> a houston org and the report.
//
// Semantics assumed (docs/import-opsgenie.md explains each):
// - Rotations of one Opsgenie schedule are cumulative (everyone on call in any rotation is paged),
//   so each rotation becomes its own houston schedule and every reference to the Opsgenie
//   schedule targets all of them.
// - Rotation handoffs happen every `length` hours/days/weeks of wall-clock time in the schedule's
//   time zone, counted from startDate; a time restriction limits a rotation to its windows
//   without shifting the rotation; an override replaces the rotations it names (all when it names
//   none) during [startDate, endDate), whatever their restrictions.
// - An escalation rule's delay counts from the alert's creation (not from the previous rule).
#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "core/random.h"
#include "core/schedule.h"
#include "core/time_util.h"
#include "migration/internal/json_fields.h"
#include "migration/opsgenie.h"

namespace houston::migration {
namespace {

namespace json = boost::json;
using Kind = ReportEntry::Kind;

// ---- JSON access: absent and wrongly typed fields read as empty ---------------------------

std::optional<std::int64_t> Int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  if (it->value().is_double()) return static_cast<std::int64_t>(it->value().get_double());
  return std::nullopt;
}
bool Bool(const json::object& o, std::string_view key, bool absent) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().get_bool() : absent;
}

// An Opsgenie date-time: an RFC 3339 string (the API; the backup tool's Joda dates, e.g.
// "2026-03-02T08:00:00.000Z"), "yyyy-MM-dd HH:mm" in UTC, or epoch milliseconds.
std::optional<TimePoint> TimeAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_string()) {
    std::string s(it->value().get_string());
    // Jackson with a "yyyy-MM-dd HH:mm" date format (UTC) writes no seconds and no zone.
    if (s.size() == 16 && s[10] == ' ') s += ":00Z";
    auto t = ParseRfc3339(s);
    if (t) return *t;
    return std::nullopt;
  }
  if (auto ms = Int(o, key)) return TimePoint(std::chrono::milliseconds(*ms));
  return std::nullopt;
}

// {timeAmount, timeUnit} in minutes, rounded up; `exact` is false when it was not whole minutes.
std::int64_t DurationMinutes(const json::object* d, bool* exact) {
  *exact = true;
  if (!d) return 0;
  std::int64_t amount = Int(*d, "timeAmount").value_or(0);
  std::string unit = Str(*d, "timeUnit");
  auto up = [&](std::int64_t per_minute) {
    if (amount % per_minute != 0) *exact = false;
    return (amount + per_minute - 1) / per_minute;
  };
  if (unit.empty() || unit == "minutes") return amount;
  if (unit == "hours") return amount * 60;
  if (unit == "days") return amount * 1440;
  if (unit == "seconds") return up(60);
  if (unit == "miliseconds" || unit == "milliseconds") return up(60'000);
  if (unit == "micros") return up(60'000'000);
  if (unit == "nanos") return up(60'000'000'000);
  *exact = false;
  return amount;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A houston id (1..64 of [A-Za-z0-9_.-], starting with a letter or digit) made from `raw`.
std::string SanitizeId(std::string_view raw, std::string_view fallback) {
  std::string out;
  for (char c : raw) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  size_t first = 0;
  while (first < out.size() && !std::isalnum(static_cast<unsigned char>(out[first]))) ++first;
  out.erase(0, first);
  if (out.size() > 56) out.resize(56);
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out.empty() ? std::string(fallback) : out;
}

std::string UniqueId(std::string_view raw, std::string_view fallback, std::set<std::string>& used) {
  std::string base = SanitizeId(raw, fallback);
  std::string id = base;
  for (int n = 2; used.count(id); ++n) id = fmt::format("{}-{}", base, n);
  used.insert(id);
  return id;
}

// houston's rule for integration keys (config.h Integration::key).
bool ValidKey(std::string_view k) {
  if (k.size() < 8 || k.size() > 128) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

int DayIndex(std::string_view day) {  // monday = 0 .. sunday = 6, -1 unknown
  static constexpr std::string_view kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                               "friday", "saturday", "sunday"};
  for (int i = 0; i < 7; ++i) {
    if (kDays[i] == day) return i;
  }
  return -1;
}

std::string DescribeRecipient(const json::object& r) {
  std::string type = Str(r, "type");
  std::string name = Str(r, "username");
  if (name.empty()) name = Str(r, "name");
  if (name.empty()) name = Str(r, "id");
  if (name.empty()) return type;
  return type.empty() ? fmt::format("'{}'", name) : fmt::format("{} '{}'", type, name);
}

// ---- time restrictions -> houston day windows -------------------------------------------------

// Splits week-minute intervals [s, e) (0 = Monday 00:00; e may pass the week's end and wrap) into
// day windows: each day's part of an interval becomes a window on that weekday, ending at 24:00
// when the interval goes on past midnight. Equal (start, end) pairs share one window. Exact: the
// union of the windows is the union of the intervals, local time.
std::vector<config::DailyWindow> WeekWindows(const std::vector<std::pair<int, int>>& intervals) {
  std::map<std::pair<int, int>, std::set<int>> pieces;
  for (auto [s, e] : intervals) {
    for (int m = s; m < e;) {
      int day = m / 1440;
      int piece_end = std::min(e, (day + 1) * 1440);
      pieces[{m - day * 1440, piece_end - day * 1440}].insert(day % 7);
      m = piece_end;
    }
  }
  std::vector<config::DailyWindow> out;
  for (const auto& [span, days] : pieces) {
    config::DailyWindow w;
    for (int d : days) w.days.push_back(date::weekday{static_cast<unsigned>(d + 1)});
    w.start_minute = span.first;
    w.end_minute = span.second;
    out.push_back(std::move(w));
  }
  // Readable order: by the first day, then the start.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(a.days.front().iso_encoding(), a.start_minute) <
           std::pair(b.days.front().iso_encoding(), b.start_minute);
  });
  return out;
}

struct RestrictionResult {
  std::vector<config::DailyWindow> windows;  // empty: no restriction (covers all the time)
  std::string problem;                       // non-empty: could not be read
};

RestrictionResult MapTimeRestriction(const json::object& tr) {
  RestrictionResult r;
  std::string type = Str(tr, "type");
  auto hm = [](const json::object& o, const char* h, const char* m) {
    return static_cast<int>(Int(o, h).value_or(0) * 60 + Int(o, m).value_or(0));
  };
  if (type == "time-of-day") {
    const json::object* x = ObjAt(tr, "restriction");
    if (!x) {
      r.problem = "time-of-day restriction without `restriction`";
      return r;
    }
    int s = hm(*x, "startHour", "startMin"), e = hm(*x, "endHour", "endMin");
    if (s < 0 || s >= 1440 || e < 0 || e > 1440) {
      r.problem = "time of day out of range";
      return r;
    }
    if (s == e) return r;  // the whole day
    config::DailyWindow w;
    for (unsigned d = 1; d <= 7; ++d) w.days.push_back(date::weekday{d});
    w.start_minute = s;
    w.end_minute = e == 0 ? 1440 : e;  // an end at midnight: to 24:00 (or overnight when e < s)
    r.windows.push_back(std::move(w));
    return r;
  }
  if (type == "weekday-and-time-of-day") {
    const json::array* list = ArrAt(tr, "restrictions");
    if (!list || list->empty()) {
      r.problem = "weekday-and-time-of-day restriction without `restrictions`";
      return r;
    }
    std::vector<std::pair<int, int>> intervals;
    for (const auto& v : *list) {
      if (!v.is_object()) continue;
      const auto& x = v.get_object();
      int sd = DayIndex(Str(x, "startDay")), ed = DayIndex(Str(x, "endDay"));
      if (sd < 0 || ed < 0) {
        r.problem = fmt::format("unknown day in restriction ({} .. {})", Str(x, "startDay"),
                                Str(x, "endDay"));
        return r;
      }
      int s = sd * 1440 + hm(x, "startHour", "startMin");
      int e = ed * 1440 + hm(x, "endHour", "endMin");
      if (e <= s) e += 7 * 1440;  // wraps past Sunday midnight (equal: the whole week)
      intervals.emplace_back(s, e);
    }
    r.windows = WeekWindows(intervals);
    return r;
  }
  r.problem = fmt::format("unknown time restriction type '{}'", type);
  return r;
}

std::string FormatLocal(date::local_seconds t) { return date::format("%Y-%m-%dT%H:%M:%S", t); }

// ---- the mapper -------------------------------------------------------------------------------

class Mapper {
 public:
  Mapper(const OpsgenieData& data, std::function<std::string()> new_key)
      : data_(data), new_key_(std::move(new_key)) {}

  Result<ImportResult> Run() {
    result_.report = data_.skipped;
    MapUsers();
    MapTeams();
    MapSchedules();
    MapEscalations();
    MapServices();
    MapIntegrations();
    MapHeartbeats();
    if (!problems_.empty()) {
      return std::unexpected(InvalidArgument(
          fmt::format("the Opsgenie data cannot be imported: {} problem(s)", problems_.size()),
          problems_));
    }
    auto& org = result_.org;
    result_.counts["users"] = static_cast<int>(org.users.size());
    result_.counts["teams"] = static_cast<int>(org.teams.size());
    result_.counts["schedules"] = static_cast<int>(org.schedules.size());
    result_.counts["escalation_policies"] = static_cast<int>(org.escalation_policies.size());
    result_.counts["services"] = static_cast<int>(org.services.size());
    int integrations = 0;
    for (const auto& s : org.services) integrations += static_cast<int>(s.integrations.size());
    result_.counts["integrations"] = integrations;
    return std::move(result_);
  }

 private:
  struct TeamInfo {
    std::string id;                                            // houston team id
    std::string name;                                          // Opsgenie name
    std::vector<std::pair<std::string, std::string>> members;  // (houston user id, Opsgenie role)
    const OpsgenieTeam* source = nullptr;
  };

  void Report(Kind kind, std::string object, std::string field, std::string reason) {
    result_.report.push_back({kind, std::move(object), std::move(field), std::move(reason)});
  }
  void Problem(const std::string& origin, const std::string& what) {
    problems_.push_back(fmt::format("{}: {}", origin, what));
  }

  std::string NewKey() { return new_key_ ? new_key_() : RandomBase62(24); }

  // The houston user a recipient {type: user, id | username} names, or nullopt.
  std::optional<std::string> UserFor(const json::object& r) const {
    if (auto it = user_by_og_id_.find(Str(r, "id")); it != user_by_og_id_.end()) {
      return it->second;
    }
    if (auto it = user_by_username_.find(ToLower(Str(r, "username")));
        it != user_by_username_.end()) {
      return it->second;
    }
    return std::nullopt;
  }
  template <typename Map>
  static auto Lookup(const Map& by_id, const Map& by_name, const json::object& r) -> const
      typename Map::mapped_type* {
    if (auto it = by_id.find(Str(r, "id")); it != by_id.end()) return &it->second;
    if (auto it = by_name.find(Str(r, "name")); it != by_name.end()) return &it->second;
    return nullptr;
  }
  const TeamInfo* TeamFor(const json::object& r) const {
    auto* idx = Lookup(team_by_og_id_, team_by_name_, r);
    return idx ? &teams_[*idx] : nullptr;
  }
  // A team named by `ownerTeam` {id, name} or a bare `teamId`.
  const TeamInfo* OwnerTeam(const json::object& o) const {
    if (const json::object* t = ObjAt(o, "ownerTeam")) return TeamFor(*t);
    std::string id = Str(o, "teamId");
    if (id.empty()) return nullptr;
    json::object r;
    r["id"] = id;
    return TeamFor(r);
  }

  // ---- users ----

  void MapUsers() {
    std::set<std::string> ids;
    for (const auto& u : data_.users) {
      const auto& o = u.user.value;
      std::string username = Str(o, "username");
      if (username.empty()) {
        Problem(u.user.origin, "user without `username`");
        continue;
      }
      std::string what = fmt::format("user '{}'", username);
      config::User user;
      user.id = UniqueId(username.substr(0, username.find('@')), "user", ids);
      user.name = Str(o, "fullName").empty() ? username : Str(o, "fullName");
      if (username.find('@') != std::string::npos) user.email = username;
      std::string tz = Str(o, "timeZone");
      if (tz.empty()) {
        Report(Kind::kChanged, what, "timeZone",
               "not set (Opsgenie used the account's zone); houston uses UTC: set `timezone`");
      } else if (!core::LocateTimeZone(tz)) {
        Report(Kind::kChanged, what, "timeZone",
               fmt::format("'{}' is not a tz database zone; houston uses UTC", tz));
      } else {
        user.timezone = tz;
      }
      std::string role;
      if (const json::object* r = ObjAt(o, "role")) role = Str(*r, "name");
      if (role.empty()) role = Str(o, "role");
      std::string lrole = ToLower(role);
      if (lrole == "owner" || lrole == "admin") {
        user.role = core::Role::kAdmin;
      } else if (lrole == "user" || lrole.empty()) {
        user.role = core::Role::kResponder;
      } else if (lrole == "observer" || lrole == "stakeholder") {
        user.role = core::Role::kViewer;
      } else {
        user.role = core::Role::kResponder;
        Report(
            Kind::kChanged, what, "role",
            fmt::format("custom role '{}' has no houston equivalent; imported as responder", role));
      }
      if (lrole == "owner") {
        Report(Kind::kChanged, what, "role", "Opsgenie owner imported as houston admin");
      }
      MapContacts(u, what, user);
      std::vector<std::string> dropped;
      if (ArrAt(o, "tags") && !ArrAt(o, "tags")->empty()) dropped.push_back("tags");
      if (ObjAt(o, "details") && !ObjAt(o, "details")->empty()) dropped.push_back("details");
      if (ObjAt(o, "userAddress") && !ObjAt(o, "userAddress")->empty()) {
        dropped.push_back("userAddress");
      }
      if (!Str(o, "skypeUsername").empty()) dropped.push_back("skypeUsername");
      if (!Str(o, "locale").empty()) dropped.push_back("locale");
      if (!dropped.empty()) {
        Report(Kind::kDropped, what, fmt::format("{}", fmt::join(dropped, ", ")),
               "houston users have no such fields");
      }
      if (Bool(o, "blocked", false)) {
        Report(Kind::kChanged, what, "blocked",
               "blocked in Opsgenie; imported as a normal user: remove or restrict by hand");
      }
      user_by_og_id_[Str(o, "id")] = user.id;
      user_by_username_[ToLower(username)] = user.id;
      result_.org.users.push_back(std::move(user));
    }
  }

  void MapContacts(const OpsgenieUser& u, const std::string& what, config::User& user) {
    const auto& o = u.user.value;
    std::set<std::string> cm_ids;
    auto add_email = [&](const std::string& address) -> std::string {
      for (const auto& cm : user.contact_methods) {
        if (cm.type == config::ContactMethodType::kEmail &&
            ToLower(cm.address) == ToLower(address)) {
          return cm.id;
        }
      }
      config::ContactMethod cm;
      cm.id = UniqueId("email", "email", cm_ids);
      cm.type = config::ContactMethodType::kEmail;
      cm.address = address;
      user.contact_methods.push_back(cm);
      return cm.id;
    };
    std::set<std::string> manual_reported;
    auto report_method = [&](const std::string& method, const std::string& to, bool enabled) {
      if (method == "email") return;
      std::string key = method + "|" + to;
      if (!manual_reported.insert(key).second) return;
      if (method == "sms" || method == "voice") {
        Report(Kind::kManualStep, what, fmt::format("contact {} {}", method, to),
               fmt::format("houston sends {} through your provider: add a contact method "
                           "{{type: sms_provider, url: <provider webhook>, address: \"{}\"}}{}",
                           method == "sms" ? "SMS" : "voice calls", to,
                           enabled ? "" : " (it was disabled in Opsgenie)"));
      } else if (method == "mobile") {
        Report(Kind::kDropped, what, fmt::format("contact mobile {}", to),
               "push notifications go to the Opsgenie app; houston has no mobile app: use "
               "Slack, e-mail or an sms_provider instead");
      } else {
        Report(Kind::kDropped, what, fmt::format("contact {} {}", method, to),
               "unknown contact method");
      }
    };
    if (const json::array* contacts = ArrAt(o, "userContacts")) {
      for (const auto& v : *contacts) {
        if (!v.is_object()) continue;
        const auto& c = v.get_object();
        std::string method = Str(c, "contactMethod");
        if (method.empty()) method = Str(c, "method");
        std::string to = Str(c, "to");
        bool enabled = Bool(c, "enabled", true);
        if (const json::object* st = ObjAt(c, "status")) enabled = Bool(*st, "enabled", enabled);
        if (method == "email" && enabled) {
          add_email(to);
        } else if (method == "email") {
          Report(Kind::kDropped, what, fmt::format("contact email {}", to),
                 "disabled in Opsgenie; not imported");
        } else {
          report_method(method, to, enabled);
        }
      }
    }
    // The rule for new alerts decides when each method fires; houston's notification rules are
    // exactly that (delay after the incident reaches the user).
    std::vector<const json::object*> create_rules;
    std::vector<std::string> other_rules;
    for (const auto& r : u.notification_rules) {
      if (Str(r, "actionType") == "create-alert" && Bool(r, "enabled", true)) {
        create_rules.push_back(&r);
      } else {
        other_rules.push_back(fmt::format("'{}' ({}{})", Str(r, "name"), Str(r, "actionType"),
                                          Bool(r, "enabled", true) ? "" : ", disabled"));
      }
    }
    std::stable_sort(create_rules.begin(), create_rules.end(), [](auto* a, auto* b) {
      return Int(*a, "order").value_or(0) < Int(*b, "order").value_or(0);
    });
    for (size_t i = 1; i < create_rules.size(); ++i) {
      other_rules.push_back(fmt::format("'{}' (create-alert, after '{}')",
                                        Str(*create_rules[i], "name"),
                                        Str(*create_rules[0], "name")));
    }
    if (!other_rules.empty()) {
      Report(Kind::kDropped, what, "notificationRules",
             fmt::format("{}: houston notifies on new incidents only (by the rules below); these "
                         "rules are not imported",
                         fmt::join(other_rules, ", ")));
    }
    if (create_rules.empty()) {
      if (!user.contact_methods.empty()) {
        Report(Kind::kChanged, what, "notificationRules",
               "no enabled 'create-alert' rule; houston notifies every contact method at once");
      }
      FillDefaultRules(user);
      return;
    }
    const json::object& rule = *create_rules[0];
    std::string rwhat = fmt::format("{} notification rule '{}'", what, Str(rule, "name"));
    if (const json::object* c = ObjAt(rule, "criteria")) {
      if (!Str(*c, "type").empty() && Str(*c, "type") != "match-all") {
        Report(Kind::kChanged, rwhat, "criteria",
               "houston notification rules apply to every incident; the rule's conditions are "
               "dropped");
      }
    }
    if (ObjAt(rule, "timeRestriction")) {
      Report(Kind::kChanged, rwhat, "timeRestriction",
             "houston notification rules apply at all times; the time restriction is dropped");
    }
    if (const json::object* rep = ObjAt(rule, "repeat"); rep && Bool(*rep, "enabled", false)) {
      Report(Kind::kChanged, rwhat, "repeat",
             fmt::format("houston re-notifies by the escalation policy's repeat, not per user; "
                         "the repeat every {} min is dropped",
                         Int(*rep, "loopAfter").value_or(0)));
    }
    struct Step {
      std::int64_t delay;
      std::string method, to;
    };
    std::vector<Step> steps;
    if (const json::array* list = ArrAt(rule, "steps")) {
      for (const auto& v : *list) {
        if (!v.is_object() || !Bool(v.get_object(), "enabled", true)) continue;
        const auto& s = v.get_object();
        bool exact = true;
        std::int64_t delay = DurationMinutes(ObjAt(s, "sendAfter"), &exact);
        const json::object* c = ObjAt(s, "contact");
        if (!c) continue;
        std::string method = Str(*c, "method");
        if (method.empty()) method = Str(*c, "contactMethod");
        steps.push_back({std::clamp<std::int64_t>(delay, 0, 525600), method, Str(*c, "to")});
      }
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.delay < b.delay; });
    for (const auto& s : steps) {
      if (s.method == "email") {
        user.notification_rules.push_back({add_email(s.to), static_cast<int>(s.delay)});
      } else {
        report_method(s.method, s.to, true);
      }
    }
    if (user.notification_rules.empty() && !user.contact_methods.empty()) {
      Report(Kind::kChanged, rwhat, "steps",
             "no enabled e-mail step; houston notifies every contact method at once");
    }
    FillDefaultRules(user);
  }

  // What config::ParseOrg fills in for a user without rules, so the org equals its re-read.
  static void FillDefaultRules(config::User& user) {
    if (!user.notification_rules.empty()) return;
    for (const auto& cm : user.contact_methods) user.notification_rules.push_back({cm.id, 0});
  }

  // ---- teams ----

  void MapTeams() {
    std::set<std::string> ids;
    for (const auto& t : data_.teams) {
      const auto& o = t.team.value;
      std::string name = Str(o, "name");
      if (name.empty()) {
        Problem(t.team.origin, "team without `name`");
        continue;
      }
      TeamInfo info;
      info.id = UniqueId(name, "team", ids);
      info.name = name;
      info.source = &t;
      config::Team team;
      team.id = info.id;
      team.name = name;
      std::vector<std::string> roles;
      if (const json::array* members = ArrAt(o, "members")) {
        for (const auto& v : *members) {
          if (!v.is_object()) continue;
          const json::object* mu = ObjAt(v.get_object(), "user");
          std::optional<std::string> uid = mu ? UserFor(*mu) : std::nullopt;
          if (!uid) {
            Problem(t.team.origin, fmt::format("team '{}' member {} has no file in users/", name,
                                               mu ? DescribeRecipient(*mu) : "(no user)"));
            continue;
          }
          std::string role = Str(v.get_object(), "role");
          if (role.empty()) role = "user";
          if (role != "user") roles.push_back(fmt::format("{}: {}", *uid, role));
          if (std::find(team.members.begin(), team.members.end(), *uid) == team.members.end()) {
            team.members.push_back(*uid);
          }
          info.members.emplace_back(*uid, role);
        }
      }
      if (!roles.empty()) {
        Report(Kind::kChanged, fmt::format("team '{}'", name), "members[].role",
               fmt::format("houston teams have no member roles ({}); roles come from each "
                           "user's `role`",
                           fmt::join(roles, ", ")));
      }
      team_by_og_id_[Str(o, "id")] = teams_.size();
      team_by_name_[name] = teams_.size();
      teams_.push_back(std::move(info));
      result_.org.teams.push_back(std::move(team));
    }
  }

  // ---- schedules ----

  void MapSchedules() {
    for (const auto& s : data_.schedules) MapSchedule(s);
  }

  void MapSchedule(const OpsgenieSchedule& src) {
    const auto& o = src.schedule.value;
    const std::string& origin = src.schedule.origin;
    std::string name = Str(o, "name");
    if (name.empty()) {
      Problem(origin, "schedule without `name`");
      return;
    }
    std::string what = fmt::format("schedule '{}'", name);
    std::string tz = Str(o, "timezone");
    const date::time_zone* zone = nullptr;
    if (auto z = core::LocateTimeZone(tz.empty() ? "UTC" : tz)) {
      zone = *z;
    } else {
      Problem(origin, fmt::format("schedule '{}' has unknown timezone '{}'", name, tz));
      return;
    }
    if (tz.empty()) {
      tz = "UTC";
      Report(Kind::kChanged, what, "timezone", "not set; houston uses UTC");
    }
    if (const json::object* owner = ObjAt(o, "ownerTeam"); owner && !owner->empty()) {
      Report(Kind::kDropped, what, "ownerTeam",
             fmt::format("houston schedules have no owner team (it was '{}'); the team's service "
                         "and escalation policy still page it",
                         Str(*owner, "name").empty() ? Str(*owner, "id") : Str(*owner, "name")));
    }
    if (!Bool(o, "enabled", true)) {
      Report(Kind::kChanged, what, "enabled",
             "disabled in Opsgenie; houston has no disabled schedules, so it pages wherever a "
             "policy targets it");
    }
    const json::array* rotations = ArrAt(o, "rotations");
    std::vector<const json::object*> rots;
    if (rotations) {
      for (const auto& v : *rotations) {
        if (v.is_object()) rots.push_back(&v.get_object());
      }
    }
    if (rots.empty()) {
      Report(Kind::kDropped, what, "rotations",
             "no rotations: nobody is ever on call; not imported");
      schedules_by_og_id_[Str(o, "id")] = {};
      schedules_by_name_[name] = {};
      return;
    }
    // Rotation (Opsgenie id or name) -> houston schedule index in org.schedules.
    std::map<std::string, size_t> by_rotation_id, by_rotation_name;
    std::vector<std::string> ids;
    for (size_t i = 0; i < rots.size(); ++i) {
      const json::object& r = *rots[i];
      std::string rname = Str(r, "name");
      if (rname.empty()) rname = fmt::format("rotation-{}", i + 1);
      std::string rwhat = fmt::format("{} rotation '{}'", what, rname);
      auto layer = MapRotation(r, rname, rwhat, origin, zone);
      if (!layer) continue;
      config::Schedule sched;
      sched.id = UniqueId(rots.size() == 1 ? name : name + "-" + rname, "schedule", schedule_ids_);
      sched.name = rots.size() == 1 ? name : fmt::format("{} / {}", name, rname);
      sched.timezone = tz;
      sched.layers.push_back(std::move(*layer));
      by_rotation_id[Str(r, "id")] = result_.org.schedules.size();
      by_rotation_name[rname] = result_.org.schedules.size();
      ids.push_back(sched.id);
      result_.org.schedules.push_back(std::move(sched));
    }
    if (ids.size() > 1) {
      Report(Kind::kChanged, what, "rotations",
             fmt::format("split into {} houston schedules ({}): Opsgenie pages everyone on call "
                         "in any rotation, houston pages one person per schedule, so each "
                         "rotation is its own schedule and every policy step that targeted '{}' "
                         "targets all of them",
                         ids.size(), fmt::join(ids, ", "), name));
    }
    schedules_by_og_id_[Str(o, "id")] = ids;
    schedules_by_name_[name] = ids;
    // Overrides.
    for (const auto& ov : src.overrides) {
      const auto& x = ov.value;
      auto start = TimeAt(x, "startDate");
      auto end = TimeAt(x, "endDate");
      std::string alias = Str(x, "alias");
      std::string owhat = fmt::format("{} override '{}'", what, alias);
      if (!start || !end) {
        Problem(ov.origin, fmt::format("override '{}' of schedule '{}' has no readable "
                                       "startDate/endDate",
                                       alias, name));
        continue;
      }
      if (*end <= *start) {
        Report(Kind::kDropped, owhat, "endDate", "ends before it starts; not imported");
        continue;
      }
      const json::object* who = ObjAt(x, "user");
      std::string span = fmt::format("{} .. {}", FormatRfc3339(*start), FormatRfc3339(*end));
      if (!who || Str(*who, "type") == "none") {
        Report(Kind::kDropped, owhat, "user",
               fmt::format("an override to nobody ({}): houston overrides name a user, so the "
                           "rotations' own users stay on call then; remove them by hand if "
                           "nobody should be paged",
                           span));
        continue;
      }
      if (Str(*who, "type") != "user") {
        Report(Kind::kDropped, owhat, "user",
               fmt::format("an override to {} ({}): houston overrides name one user",
                           DescribeRecipient(*who), span));
        continue;
      }
      auto uid = UserFor(*who);
      if (!uid) {
        Problem(ov.origin, fmt::format("override '{}' of schedule '{}': {} has no file in users/",
                                       alias, name, DescribeRecipient(*who)));
        continue;
      }
      std::vector<size_t> targets;
      const json::array* only = ArrAt(x, "rotations");
      if (!only || only->empty()) {
        for (const auto& [rid, idx] : by_rotation_id) targets.push_back(idx);
      } else {
        for (const auto& v : *only) {
          if (!v.is_object()) continue;
          const auto& rr = v.get_object();
          std::optional<size_t> found;
          if (auto it = by_rotation_id.find(Str(rr, "id")); it != by_rotation_id.end()) {
            found = it->second;
          } else if (auto jt = by_rotation_name.find(Str(rr, "name"));
                     jt != by_rotation_name.end()) {
            found = jt->second;
          }
          if (!found) {
            // Either the rotation does not exist or it was not imported (reported above).
            Report(Kind::kDropped, owhat, "rotations",
                   fmt::format("rotation {} is not among the imported rotations; the override "
                               "does not apply to it",
                               DescribeRecipient(rr)));
            continue;
          }
          targets.push_back(*found);
        }
      }
      if (targets.empty() && (!only || only->empty())) {
        Report(Kind::kDropped, owhat, "",
               fmt::format("no rotation of the schedule was imported; the override ({}) has "
                           "nothing to apply to",
                           span));
      }
      std::sort(targets.begin(), targets.end());
      targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
      for (size_t idx : targets) {
        result_.org.schedules[idx].overrides.push_back({*uid, *start, *end});
      }
    }
  }

  std::optional<config::ScheduleLayer> MapRotation(const json::object& r, const std::string& rname,
                                                   const std::string& what,
                                                   const std::string& origin,
                                                   const date::time_zone* zone) {
    config::ScheduleLayer layer;
    layer.name = rname;
    std::string type = Str(r, "type");
    if (type == "hourly") {
      layer.rotation.type = config::RotationType::kHourly;
    } else if (type == "daily") {
      layer.rotation.type = config::RotationType::kDaily;
    } else if (type == "weekly") {
      layer.rotation.type = config::RotationType::kWeekly;
    } else {
      Problem(origin, fmt::format("{}: unknown rotation type '{}'", what, type));
      return std::nullopt;
    }
    layer.rotation.length =
        static_cast<int>(std::max<std::int64_t>(1, Int(r, "length").value_or(1)));
    auto start = TimeAt(r, "startDate");
    if (!start) {
      Problem(origin, fmt::format("{}: no readable startDate", what));
      return std::nullopt;
    }
    auto local = [&](TimePoint t) {
      return date::zoned_time<std::chrono::seconds>(zone, date::floor<std::chrono::seconds>(t))
          .get_local_time();
    };
    layer.start_local = local(*start);
    layer.start = FormatLocal(layer.start_local);
    if (auto end = TimeAt(r, "endDate")) {
      if (*end <= *start) {
        Report(Kind::kDropped, what, "endDate",
               "ends before it starts: never on call; not imported");
        return std::nullopt;
      }
      layer.end_local = local(*end);
    }
    bool anyone = false;
    if (const json::array* ps = ArrAt(r, "participants")) {
      int pos = 0;
      for (const auto& v : *ps) {
        ++pos;
        if (!v.is_object()) continue;
        const auto& p = v.get_object();
        std::string ptype = Str(p, "type");
        if (ptype == "user") {
          auto uid = UserFor(p);
          if (!uid) {
            Problem(origin, fmt::format("{}: participant {} has no file in users/", what,
                                        DescribeRecipient(p)));
            layer.users.push_back("");
            continue;
          }
          layer.users.push_back(*uid);
          anyone = true;
        } else if (ptype == "none") {
          layer.users.push_back("");  // a turn with nobody on call, as in Opsgenie
        } else {
          layer.users.push_back("");
          Report(Kind::kChanged, what, fmt::format("participants[{}]", pos),
                 fmt::format("{} as a rotation turn: houston turns are users, so this turn has "
                             "nobody on call; page the {} from the escalation policy instead",
                             DescribeRecipient(p), ptype));
        }
      }
    }
    if (!anyone) {
      Report(Kind::kDropped, what, "participants",
             "no user participants: nobody is ever on call in it; not imported");
      return std::nullopt;
    }
    if (const json::object* tr = ObjAt(r, "timeRestriction")) {
      auto res = MapTimeRestriction(*tr);
      if (!res.problem.empty()) {
        Problem(origin, fmt::format("{}: timeRestriction: {}", what, res.problem));
        return std::nullopt;
      }
      layer.restrictions = std::move(res.windows);
    }
    return layer;
  }

  const std::vector<std::string>* SchedulesFor(const json::object& r) const {
    return Lookup(schedules_by_og_id_, schedules_by_name_, r);
  }

  // ---- escalations ----

  struct RuleTargets {
    std::vector<config::EscalationTarget> targets;
    bool round_robin = false;
  };

  // The targets an escalation rule's recipient resolves to; empty when it cannot be carried over
  // (reported).
  RuleTargets TargetsFor(const json::object& rule, const std::string& what,
                         const std::string& origin) {
    RuleTargets out;
    const json::object* r = ObjAt(rule, "recipient");
    if (!r) {
      Problem(origin, fmt::format("{}: rule without `recipient`", what));
      return out;
    }
    std::string type = Str(*r, "type");
    std::string notify = Str(rule, "notifyType");
    if (notify.empty()) notify = "default";
    std::string who = DescribeRecipient(*r);
    if (type == "user") {
      auto uid = UserFor(*r);
      if (!uid) {
        Problem(origin, fmt::format("{}: {} has no file in users/", what, who));
        return out;
      }
      out.targets.push_back({config::TargetType::kUser, *uid});
      return out;
    }
    if (type == "schedule") {
      const auto* ids = SchedulesFor(*r);
      if (!ids) {
        Problem(origin, fmt::format("{}: {} has no file in schedules/", what, who));
        return out;
      }
      if (ids->empty()) {
        Report(Kind::kDropped, what, "recipient",
               fmt::format("{} was not imported (see above): this rule pages nobody", who));
        return out;
      }
      for (const auto& id : *ids) out.targets.push_back({config::TargetType::kSchedule, id});
      if (notify == "next" || notify == "previous") {
        Report(
            Kind::kChanged, what, "notifyType",
            fmt::format("'{}' on-call of {}: houston pages whoever is on call now", notify, who));
      }
      return out;
    }
    if (type == "team") {
      const TeamInfo* team = TeamFor(*r);
      if (!team) {
        Problem(origin, fmt::format("{}: {} has no file in teams/", what, who));
        return out;
      }
      auto members_with = [&](std::string_view role) {
        for (const auto& [uid, rl] : team->members) {
          if (role.empty() || rl == role) out.targets.push_back({config::TargetType::kUser, uid});
        }
      };
      if (notify == "admins" || notify == "users") {
        members_with(notify == "admins" ? "admin" : "user");
        Report(Kind::kChanged, what, "notifyType",
               fmt::format("the {} of {} as of the import, listed as users: later membership "
                           "changes do not follow",
                           notify, who));
        if (!out.targets.empty()) return out;
      } else if (notify == "random") {
        members_with("");
        out.round_robin = true;
        Report(Kind::kChanged, what, "notifyType",
               fmt::format("a random member of {}: houston pages one member per incident in "
                           "turn (round robin)",
                           who));
        if (!out.targets.empty()) return out;
      } else if (notify == "default") {
        // Opsgenie hands an alert for a team to the team's routing rules.
        if (const auto* sched = DefaultRouteSchedules(*team)) {
          for (const auto& id : *sched) out.targets.push_back({config::TargetType::kSchedule, id});
          Report(Kind::kChanged, what, "recipient",
                 fmt::format("{}: Opsgenie applies the team's routing rules; houston pages the "
                             "schedules of its default rule",
                             who));
          return out;
        }
        Report(Kind::kChanged, what, "recipient",
               fmt::format("{}: Opsgenie applies the team's routing rules; houston pages every "
                           "member of the team",
                           who));
      }
      out.targets.clear();
      out.round_robin = false;
      out.targets.push_back({config::TargetType::kTeam, team->id});
      return out;
    }
    Report(Kind::kDropped, what, "recipient",
           fmt::format("{} cannot be an escalation target in houston (policies do not nest; "
                       "target its users or schedules instead)",
                       who));
    return out;
  }

  // The rotation schedules a team's default routing rule notifies, or nullptr when it notifies
  // something else.
  const std::vector<std::string>* DefaultRouteSchedules(const TeamInfo& team) const {
    const json::object* rule = DefaultRoutingRule(team);
    if (!rule) return nullptr;
    const json::object* n = ObjAt(*rule, "notify");
    if (!n || Str(*n, "type") != "schedule") return nullptr;
    const auto* ids = SchedulesFor(*n);
    return ids && !ids->empty() ? ids : nullptr;
  }

  static const json::object* DefaultRoutingRule(const TeamInfo& team) {
    for (const auto& r : team.source->routing_rules) {
      if (Bool(r, "isDefault", false)) return &r;
    }
    return nullptr;
  }

  void MapEscalations() {
    std::set<std::string> ids;
    for (const auto& e : data_.escalations) {
      const auto& o = e.value;
      std::string name = Str(o, "name");
      if (name.empty()) {
        Problem(e.origin, "escalation without `name`");
        continue;
      }
      std::string what = fmt::format("escalation '{}'", name);
      config::EscalationPolicy policy;
      policy.id = UniqueId(name, "escalation", ids);
      policy.name = name;
      // Rules fire `delay` after the alert was created; houston steps wait after the previous
      // step. Rules with equal delays become one step.
      struct Rule {
        std::int64_t at;
        RuleTargets t;
      };
      std::vector<Rule> rules;
      if (const json::array* list = ArrAt(o, "rules")) {
        int n = 0;
        for (const auto& v : *list) {
          ++n;
          if (!v.is_object()) continue;
          const auto& rule = v.get_object();
          bool exact = true;
          std::int64_t at = DurationMinutes(ObjAt(rule, "delay"), &exact);
          std::string rwhat = fmt::format(
              "{} rule {} ({} after {} min)", what, n,
              ObjAt(rule, "recipient") ? DescribeRecipient(*ObjAt(rule, "recipient")) : "?", at);
          if (!exact) {
            Report(Kind::kChanged, rwhat, "delay", "rounded up to whole minutes");
          }
          if (Str(rule, "condition") == "if-not-closed") {
            Report(Kind::kChanged, rwhat, "condition",
                   "if-not-closed: houston stops escalating once the incident is acknowledged "
                   "(set ack_timeout_minutes on the policy to re-page acknowledged incidents)");
          }
          auto t = TargetsFor(rule, rwhat, e.origin);
          if (t.targets.empty()) continue;
          rules.push_back({std::clamp<std::int64_t>(at, 0, 525600), std::move(t)});
        }
      }
      std::stable_sort(rules.begin(), rules.end(),
                       [](const Rule& a, const Rule& b) { return a.at < b.at; });
      std::int64_t prev = 0;
      for (auto& r : rules) {
        bool merge = !policy.steps.empty() && r.at == prev && !r.t.round_robin &&
                     !policy.steps.back().round_robin;
        if (merge) {
          auto& targets = policy.steps.back().targets;
          for (auto& t : r.t.targets) {
            bool dup = std::any_of(targets.begin(), targets.end(),
                                   [&](const auto& x) { return x.type == t.type && x.id == t.id; });
            if (!dup) targets.push_back(t);
          }
          continue;
        }
        config::EscalationStep step;
        step.delay_minutes = static_cast<int>(r.at - prev);
        step.targets = std::move(r.t.targets);
        step.round_robin = r.t.round_robin;
        policy.steps.push_back(std::move(step));
        prev = r.at;
      }
      if (policy.steps.empty()) {
        Report(Kind::kDropped, what, "rules",
               "no rule could be carried over (see above): not imported");
        continue;
      }
      MapRepeat(o, what, policy, prev);
      escalation_by_og_id_[Str(o, "id")] = policy.id;
      escalation_by_name_[name] = policy.id;
      escalation_owner_.emplace_back(policy.id, OwnerTeam(o) ? OwnerTeam(o)->id : "");
      result_.org.escalation_policies.push_back(std::move(policy));
    }
  }

  void MapRepeat(const json::object& o, const std::string& what, config::EscalationPolicy& policy,
                 std::int64_t last_rule_at) {
    const json::object* rep = ObjAt(o, "repeat");
    if (!rep) return;
    std::int64_t count = Int(*rep, "count").value_or(0);
    std::int64_t wait = Int(*rep, "waitInterval").value_or(0);
    if (count <= 0) return;
    policy.repeat = static_cast<int>(std::min<std::int64_t>(count, 1000));
    // When the first rule fires again: Opsgenie waits waitInterval after the last rule, then
    // runs the rules again from the start (so the first one after its own delay). houston's
    // first step of a repeat waits as long as the last step did (core::DelayBefore).
    std::int64_t og_gap = wait + policy.steps.front().delay_minutes;
    std::int64_t hou_gap = policy.steps.back().delay_minutes;
    if (hou_gap == 0) hou_gap = policy.steps.front().delay_minutes;
    if (hou_gap == 0) hou_gap = 5;
    (void)last_rule_at;
    if (og_gap != hou_gap) {
      Report(Kind::kChanged, what, "repeat.waitInterval",
             fmt::format("Opsgenie re-runs the rules {} min after the last one (waitInterval {} "
                         "+ first delay {}); houston re-runs the first step {} min after the "
                         "last step (the last step's wait)",
                         og_gap, wait, policy.steps.front().delay_minutes, hou_gap));
    }
    if (Bool(*rep, "resetRecipientStates", false)) {
      Report(Kind::kChanged, what, "repeat.resetRecipientStates",
             "houston pages every target again on each repeat; there is no per-recipient state "
             "to reset");
    }
    if (Bool(*rep, "closeAlertAfterAll", false)) {
      Report(Kind::kDropped, what, "repeat.closeAlertAfterAll",
             "houston does not close an incident when its escalation is exhausted");
    }
  }

  // ---- services: one per team, paging through the team's default routing ----

  void MapServices() {
    std::set<std::string> policy_ids;
    for (const auto& p : result_.org.escalation_policies) policy_ids.insert(p.id);
    std::set<std::string> service_ids;
    for (const auto& team : teams_) {
      std::string what = fmt::format("team '{}'", team.name);
      std::string policy;
      std::string how;
      for (const auto& r : team.source->routing_rules) {
        if (Bool(r, "isDefault", false)) continue;
        const json::object* n = ObjAt(r, "notify");
        Report(Kind::kDropped, fmt::format("{} routing rule '{}'", what, Str(r, "name")), "",
               fmt::format("routes matching alerts to {}: houston routes by the integration's "
                           "service; send those alerts to another service (a separate "
                           "integration) to keep this",
                           n ? DescribeRecipient(*n) : "nobody"));
      }
      if (const json::object* rule = DefaultRoutingRule(team)) {
        std::string rwhat = fmt::format("{} routing rule '{}'", what, Str(*rule, "name"));
        if (ObjAt(*rule, "timeRestriction")) {
          Report(Kind::kChanged, rwhat, "timeRestriction",
                 "houston services route at all times; the restriction is dropped");
        }
        const json::object* n = ObjAt(*rule, "notify");
        std::string ntype = n ? Str(*n, "type") : "";
        if (ntype == "escalation") {
          if (const auto* id = Lookup(escalation_by_og_id_, escalation_by_name_, *n)) {
            policy = *id;
            how = "default routing rule";
          }
        } else if (ntype == "schedule") {
          const auto* ids = SchedulesFor(*n);
          if (ids && !ids->empty()) {
            config::EscalationPolicy p;
            p.id = UniqueId(team.id + "-routing", "routing", policy_ids);
            p.name = fmt::format("{} default routing", team.name);
            config::EscalationStep step;
            for (const auto& id : *ids) step.targets.push_back({config::TargetType::kSchedule, id});
            p.steps.push_back(std::move(step));
            policy = p.id;
            result_.org.escalation_policies.push_back(std::move(p));
            how = "default routing rule (schedule)";
          }
        }
        if (policy.empty()) {
          Report(Kind::kChanged, rwhat, "notify",
                 fmt::format("notifies {}, which houston cannot page; the team's escalation is "
                             "used instead if there is one",
                             n ? DescribeRecipient(*n) : "nobody"));
        }
      }
      if (policy.empty()) {
        // Opsgenie names a team's own escalation "<team>_escalation".
        if (auto it = escalation_by_name_.find(team.name + "_escalation");
            it != escalation_by_name_.end()) {
          policy = it->second;
        } else {
          for (const auto& [pid, owner] : escalation_owner_) {
            if (owner == team.id) {
              policy = pid;
              break;
            }
          }
        }
        if (!policy.empty()) {
          Report(Kind::kChanged, what, "routing",
                 fmt::format("no usable default routing rule; the service pages the team's "
                             "escalation '{}'",
                             policy));
        }
      }
      if (policy.empty()) {
        Report(Kind::kDropped, what, "service",
               "no escalation or schedule to page: no service is created for the team, and its "
               "integrations and heartbeats are not imported");
        continue;
      }
      config::Service svc;
      svc.id = UniqueId(team.id, "service", service_ids);
      svc.name = team.name;
      svc.description = Str(team.source->team.value, "description");
      svc.team = team.id;
      svc.escalation_policy = policy;
      service_by_team_[team.id] = result_.org.services.size();
      result_.org.services.push_back(std::move(svc));
    }
  }

  // ---- integrations and heartbeats ----

  config::Service* ServiceFor(const json::object& o) {
    const TeamInfo* team = OwnerTeam(o);
    if (!team) return nullptr;
    auto it = service_by_team_.find(team->id);
    return it == service_by_team_.end() ? nullptr : &result_.org.services[it->second];
  }

  void MapIntegrations() {
    for (const auto& in : data_.integrations) {
      const auto& o = in.integration.value;
      std::string type = Str(o, "type");
      std::string name = Str(o, "name");
      std::string what = fmt::format("integration '{}' ({})", name, type);
      if (!Bool(o, "enabled", true)) {
        Report(Kind::kDropped, what, "enabled", "disabled in Opsgenie; not imported");
        continue;
      }
      bool alert_api = type == "API" || type == "Prometheus" || type == "Grafana";
      if (!alert_api) {
        std::string advice;
        if (type == "Email") {
          advice = "houston has no e-mail intake; have the sender call an HTTP integration";
        } else if (type == "Webhook" || type.find("Outgoing") != std::string::npos) {
          advice = "outgoing: use houston's `webhooks` (incident events) instead";
        } else {
          advice =
              "re-point the tool at a houston integration: the Opsgenie API endpoint if it "
              "can set its Opsgenie URL, else Events API v2, Alertmanager or a generic "
              "webhook";
        }
        Report(Kind::kDropped, what, "", advice);
        continue;
      }
      config::Service* svc = ServiceFor(o);
      if (!svc) {
        Report(Kind::kManualStep, what, "ownerTeam",
               "no owner team with a houston service (a global integration, or its team has "
               "none): add an `opsgenie` integration with this key to the right service by hand");
        continue;
      }
      config::Integration integ;
      integ.type = core::IntegrationType::kOpsgenie;
      integ.name = name;
      integ.service_id = svc->id;
      integ.priorities = config::kDefaultOpsgeniePriorities;
      std::string key = Str(o, "apiKey");
      if (ValidKey(key)) {
        integ.key = key;
      } else {
        integ.key = NewKey();
        Report(Kind::kManualStep, what, "apiKey",
               key.empty() ? "the source does not include the key (the backup tool does not "
                             "save it): senders must use the new key in org.yaml, or replace it "
                             "with the Opsgenie key (Integrations > " +
                                 name + " in Opsgenie)"
                           : "the Opsgenie key is not a valid houston key; a new key was made");
      }
      if (type != "API") {
        Report(Kind::kManualStep, what, "",
               fmt::format("keep the sender's Opsgenie settings and key; set its API URL "
                           "(Alertmanager: opsgenie_configs api_url; Grafana: the contact "
                           "point's Alert API URL) to houston's base URL",
                           type));
      }
      if (in.has_actions) {
        Report(Kind::kChanged, what, "integrationActions",
               "integration actions (filters, field mappings, tags) are not imported: houston "
               "takes the alert fields as the sender sends them");
      }
      if (const json::array* rs = ArrAt(o, "responders"); rs && !rs->empty()) {
        Report(Kind::kChanged, what, "responders",
               "alerts go to the owner team's service; the integration's own responders are "
               "dropped");
      }
      svc->integrations.push_back(std::move(integ));
    }
  }

  void MapHeartbeats() {
    for (const auto& hb : data_.heartbeats) {
      const auto& o = hb.value;
      std::string name = Str(o, "name");
      std::string what = fmt::format("heartbeat '{}'", name);
      if (name.empty()) {
        Problem(hb.origin, "heartbeat without `name`");
        continue;
      }
      if (!Bool(o, "enabled", true)) {
        Report(Kind::kDropped, what, "enabled", "disabled in Opsgenie; not imported");
        continue;
      }
      std::int64_t interval = Int(o, "interval").value_or(0);
      std::string unit = Str(o, "intervalUnit");
      std::int64_t minutes = unit == "hours"  ? interval * 60
                             : unit == "days" ? interval * 1440
                                              : interval;
      if (minutes < 1 || minutes > 525600) {
        Problem(hb.origin, fmt::format("heartbeat '{}' has interval {} {}", name, interval, unit));
        continue;
      }
      config::Service* svc = ServiceFor(o);
      if (!svc) {
        Report(Kind::kManualStep, what, "ownerTeam",
               "no owner team with a houston service: add a heartbeat integration named '" + name +
                   "' to the right service by hand");
        continue;
      }
      config::Integration integ;
      integ.type = core::IntegrationType::kHeartbeat;
      integ.name = name;
      integ.service_id = svc->id;
      integ.key = NewKey();
      integ.interval_minutes = static_cast<int>(minutes);
      svc->integrations.push_back(std::move(integ));
      Report(Kind::kManualStep, what, "",
             "pingers of Opsgenie's /v2/heartbeats/" + name +
                 "/ping: change only the base URL to houston's (the heartbeat keeps its name; "
                 "authenticate with an `opsgenie` integration key); anything else pings the new "
                 "URL /integrations/heartbeat/<key>");
    }
  }

  const OpsgenieData& data_;
  std::function<std::string()> new_key_;
  ImportResult result_;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> user_by_og_id_, user_by_username_;
  std::vector<TeamInfo> teams_;
  std::map<std::string, size_t> team_by_og_id_, team_by_name_;
  std::set<std::string> schedule_ids_;
  std::map<std::string, std::vector<std::string>> schedules_by_og_id_, schedules_by_name_;
  std::map<std::string, std::string> escalation_by_og_id_, escalation_by_name_;
  std::vector<std::pair<std::string, std::string>> escalation_owner_;  // (policy, team id)
  std::map<std::string, size_t> service_by_team_;
};

}  // namespace

Result<ImportResult> MapOpsgenie(const OpsgenieData& data,
                                 const std::function<std::string()>& new_key) {
  return Mapper(data, new_key).Run();
}

}  // namespace houston::migration
