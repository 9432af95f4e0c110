// Parsing and validation of org.yaml (see docs/config.md for the format).

#include "config/config.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
// g++ 12 with sanitizers reports a false -Wmaybe-uninitialized inside <regex>.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <set>
#include <sstream>

#include "config/internal/yaml_reader.h"
#include "core/template.h"
#include "core/time_util.h"

namespace houston::config {

using internal::AsEntries;
using internal::AsList;
using internal::AsString;
using internal::KeyValue;
using internal::MapReader;
using internal::Position;
using internal::Problems;
using internal::Value;

namespace {

constexpr int kMaxMinutes = 525'600;  // one year
constexpr int kMinutesPerDay = 1440;
constexpr int kMinutesPerWeek = 10'080;
constexpr int kMaxLookbackHours = 720;  // 30 days
constexpr int kMaxServiceTier = 5;
constexpr int kMaxPostmortemDueDays = 90;
constexpr int kMaxRemindEveryDays = 30;
constexpr int kMaxTeamAfterDays = 30;
constexpr int kMaxTeamGraceDays = 90;
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMinKeyLength = 8;
constexpr size_t kMaxKeyLength = 128;
constexpr uintmax_t kMaxFileBytes = uintmax_t{16} * 1024 * 1024;

constexpr std::array<std::pair<ContactMethodType, std::string_view>, 4> kContactMethodTypes{{
    {ContactMethodType::kWebhook, "webhook"},
    {ContactMethodType::kEmail, "email"},
    {ContactMethodType::kSlack, "slack"},
    {ContactMethodType::kSmsProvider, "sms_provider"},
}};
constexpr std::array<std::pair<RotationType, std::string_view>, 3> kRotationTypes{{
    {RotationType::kHourly, "hourly"},
    {RotationType::kDaily, "daily"},
    {RotationType::kWeekly, "weekly"},
}};
constexpr std::array<std::pair<TargetType, std::string_view>, 3> kTargetTypes{{
    {TargetType::kUser, "user"},
    {TargetType::kSchedule, "schedule"},
    {TargetType::kTeam, "team"},
}};
constexpr std::array<std::pair<MatchOp, std::string_view>, 4> kMatchOps{{
    {MatchOp::kEqual, "="},
    {MatchOp::kNotEqual, "!="},
    {MatchOp::kRegexMatch, "=~"},
    {MatchOp::kRegexNoMatch, "!~"},
}};
constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr std::array<std::string_view, 9> kMatcherFields{"service", "integration", "severity",
                                                         "summary", "source",      "component",
                                                         "group",   "class",       "dedup_key"};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}
template <typename E, size_t N>
std::optional<E> ValueOf(const std::array<std::pair<E, std::string_view>, N>& table,
                         std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsIdChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }

bool ValidId(std::string_view s) {
  return !s.empty() && s.size() <= kMaxIdLength && IsAlnum(s[0]) &&
         std::all_of(s.begin(), s.end(), IsIdChar);
}

// Postmortem section ids and contributing-factor tags: [a-z0-9_]+ (stored keys, counted by tag).
bool ValidSnakeId(std::string_view s) {
  return !s.empty() && s.size() <= kMaxIdLength && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool ValidIntegrationKey(std::string_view s) {
  return s.size() >= kMinKeyLength && s.size() <= kMaxKeyLength &&
         std::all_of(s.begin(), s.end(), IsIdChar);
}

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0';
  });
}

// Loose on purpose: something@something.tld, no spaces.
bool ValidEmail(std::string_view s) {
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view domain = s.substr(at + 1);
  size_t dot = domain.rfind('.');
  return !HasSpace(s) && dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// http:// or https:// followed by a host.
bool ValidUrl(std::string_view s) {
  std::string_view rest;
  if (StartsWithNoCase(s, "http://")) {
    rest = s.substr(7);
  } else if (StartsWithNoCase(s, "https://")) {
    rest = s.substr(8);
  } else {
    return false;
  }
  return !rest.empty() && rest[0] != '/' && !HasSpace(s);
}

// "a.b.c": non-empty segments, no spaces.
bool ValidDottedPath(std::string_view s) {
  if (s.empty() || HasSpace(s)) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    size_t end = dot == std::string_view::npos ? s.size() : dot;
    if (end == start) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// RFC 7230 token.
bool ValidHeaderName(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return IsAlnum(c) || kExtra.find(c) != std::string_view::npos;
  });
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// "HH:MM" (or "H:MM"), 00:00..24:00, as minutes since midnight.
std::optional<int> ParseClock(std::string_view s) {
  size_t colon = s.find(':');
  if (colon != 1 && colon != 2) return std::nullopt;
  int h = 0;
  int m = 0;
  if (!ReadDigits(s, 0, colon, h) || s.size() != colon + 3 || !ReadDigits(s, colon + 1, 2, m)) {
    return std::nullopt;
  }
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::optional<date::weekday> ParseDay(std::string_view s) {
  for (size_t i = 0; i < kDayNames.size(); ++i) {
    if (kDayNames[i] == s) return date::weekday(static_cast<unsigned>(i + 1));  // iso: mon = 1
  }
  return std::nullopt;
}

// "YYYY-MM-DDTHH:MM:SS" or "YYYY-MM-DDTHH:MM", local (no zone).
std::optional<date::local_seconds> ParseLocalDateTime(std::string_view s) {
  int y = 0;
  int mo = 0;
  int d = 0;
  int h = 0;
  int mi = 0;
  int sec = 0;
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  if (!ReadDigits(s, 0, 4, y) || s[4] != '-' || !ReadDigits(s, 5, 2, mo) || s[7] != '-' ||
      !ReadDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, h) || s[13] != ':' || !ReadDigits(s, 14, 2, mi)) {
    return std::nullopt;
  }
  if (s.size() == 19 && (s[16] != ':' || !ReadDigits(s, 17, 2, sec))) return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  return date::local_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(sec);
}

// date::locate_zone throws on unknown names; this is the adapter.
bool ZoneExists(const std::string& name) {
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::string ClosestZone(const std::string& name) {
  try {
    const date::tzdb& db = date::get_tzdb();
    std::vector<std::string_view> names;
    for (const date::time_zone& z : db.zones) names.push_back(z.name());
    return internal::ClosestMatch(name, names);
  } catch (const std::exception&) {
    return "";
  }
}

// std::regex throws on a bad pattern; this is the adapter. Returns the error, or "".
std::string RegexError(const std::string& pattern) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    return "";
  } catch (const std::regex_error& e) {
    return e.what();
  }
}

// A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool ValidLabelName(std::string_view s) {
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '_'; });
}

// An Alertmanager-style label matcher: `name="value"`, `name!="value"`, `name=~"regex"` or
// `name!~"regex"`; spaces around the parts are fine; the value may also be unquoted (the rest
// of the text, trimmed). A quoted value takes the escapes \\, \" and \n. Returns the matcher,
// or the reason it is invalid in `error`.
std::optional<LabelMatcher> ParseLabelMatcher(std::string_view text, std::string& error) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  std::string_view rest = trim(text);
  size_t name_end = 0;
  while (name_end < rest.size() && (IsAlnum(rest[name_end]) || rest[name_end] == '_')) ++name_end;
  LabelMatcher out;
  out.text = std::string(text);
  out.label = std::string(rest.substr(0, name_end));
  if (!ValidLabelName(out.label)) {
    error = "must start with a label name ([a-zA-Z_][a-zA-Z0-9_]*), e.g. service=\"billing\"";
    return std::nullopt;
  }
  rest = trim(rest.substr(name_end));
  // Longest operator first: "=~" before "=".
  static constexpr std::array<std::pair<std::string_view, MatchOp>, 4> kOps{{
      {"=~", MatchOp::kRegexMatch},
      {"!~", MatchOp::kRegexNoMatch},
      {"!=", MatchOp::kNotEqual},
      {"=", MatchOp::kEqual},
  }};
  bool found = false;
  for (const auto& [spelling, op] : kOps) {
    if (rest.starts_with(spelling)) {
      out.op = op;
      rest = trim(rest.substr(spelling.size()));
      found = true;
      break;
    }
  }
  if (!found) {
    error = fmt::format("expected one of =, !=, =~, !~ after '{}'", out.label);
    return std::nullopt;
  }
  if (rest.starts_with('"')) {
    size_t i = 1;
    for (; i < rest.size() && rest[i] != '"'; ++i) {
      if (rest[i] != '\\') {
        out.value += rest[i];
        continue;
      }
      if (++i == rest.size()) break;
      if (rest[i] == 'n') {
        out.value += '\n';
      } else if (rest[i] == '"' || rest[i] == '\\') {
        out.value += rest[i];
      } else {
        error = fmt::format("unknown escape '\\{}' in the quoted value (use \\\\, \\\" or \\n)",
                            rest[i]);
        return std::nullopt;
      }
    }
    if (i >= rest.size()) {
      error = "the quoted value has no closing '\"'";
      return std::nullopt;
    }
    if (!trim(rest.substr(i + 1)).empty()) {
      error = fmt::format("unexpected '{}' after the quoted value", trim(rest.substr(i + 1)));
      return std::nullopt;
    }
  } else {
    if (rest.find('"') != std::string_view::npos) {
      error = "a value with '\"' must be quoted as a whole: name=\"value\"";
      return std::nullopt;
    }
    out.value = std::string(rest);
  }
  if (out.op == MatchOp::kRegexMatch || out.op == MatchOp::kRegexNoMatch) {
    std::string regex_error = RegexError(out.value);
    if (!regex_error.empty()) {
      error = fmt::format("invalid regular expression '{}': {}", out.value, regex_error);
      return std::nullopt;
    }
  }
  return out;
}

bool ValidMatcherField(std::string_view f) {
  if (std::find(kMatcherFields.begin(), kMatcherFields.end(), f) != kMatcherFields.end()) {
    return true;
  }
  constexpr std::string_view kDetails = "details.";
  return f.starts_with(kDetails) && ValidDottedPath(f.substr(kDetails.size()));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The data audience templates are test-rendered with when the file is loaded: every field set,
// so that every section of a template is rendered.
const core::AudienceContext& SampleAudienceContext() {
  static const core::AudienceContext kContext = [] {
    core::AudienceContext ctx;
    TimePoint start = ParseRfc3339("2026-01-05T09:00:00Z").value_or(TimePoint{});
    core::Incident& i = ctx.incident;
    i.id = 42;
    i.service_id = "checkout";
    i.title = "Checkout errors";
    i.sev = "SEV1";
    i.summary = "Payments time out";
    i.public_title = "Checkout is failing";
    i.services = {"checkout"};
    i.created_at = start;
    i.impact_started_at = start;
    i.detected_at = start;
    ctx.sev_description = "Customers cannot buy";
    ctx.services = {{"checkout", "Checkout API"}};
    ctx.roles = {{"commander", "Commander", "Alice"},
                 {"communications_lead", "Communications lead", "Bob"}};
    ctx.suspects = {"Deploy 1.2.3 on checkout, 12 min before impact started"};
    ctx.components = {"Checkout"};
    ctx.incident_url = "https://houston.example.com/incidents/42";
    ctx.status_page_url = "https://houston.example.com/status";
    ctx.author = "Bob";
    ctx.now = start + std::chrono::minutes(30);
    return ctx;
  }();
  return kContext;
}

const core::UpdateFields& SampleUpdateFields() {
  static const core::UpdateFields kFields = [] {
    core::UpdateFields u;
    u.phase = "identified";
    u.message = "A bad deploy; rolling back";
    u.impact = "No orders for 30 minutes";
    u.customer_effect = "Checkout fails";
    u.eta = "within the hour";
    u.support_guidance = "Ask customers to retry later";
    u.public_message = "Checkout is failing; we are rolling back a change";
    u.next_update_in = std::chrono::minutes(30);
    return u;
  }();
  return kFields;
}

enum class Kind { kUser, kTeam, kSchedule, kPolicy, kService, kCount };

constexpr std::array<std::string_view, 5> kKindNames{"user", "team", "schedule",
                                                     "escalation policy", "service"};
constexpr std::array<std::string_view, 5> kKindSections{"users", "teams", "schedules",
                                                        "escalation_policies", "services"};

std::string_view KindName(Kind k) { return kKindNames[static_cast<size_t>(k)]; }

// Walks the document once, filling an Org and collecting problems; references are checked at
// the end, when every id is known.
class OrgParser {
 public:
  explicit OrgParser(Problems& problems) : problems_(problems) {}

  Org Parse(const YAML::Node& root) {
    if (root.IsNull()) return std::move(org_);
    Value top{root, internal::PositionOf(root.Mark()), ""};
    if (!root.IsMap()) {
      problems_.Add(top.pos, "",
                    fmt::format("the top level must be a mapping with keys such as users: and "
                                "services:, got {}",
                                internal::Describe(root)));
      return std::move(org_);
    }
    MapReader m(
        top,
        {"users", "teams", "schedules", "escalation_policies", "services", "maintenance_windows",
         "silences", "status_page", "severities", "settings", "incident_roles", "incident_rules",
         "audiences", "webhooks", "postmortems", "action_items"},
        problems_);
    for (const Value& v : m.List("users")) ParseUser(v);
    for (const Value& v : m.List("teams")) ParseTeam(v);
    for (const Value& v : m.List("schedules")) ParseSchedule(v);
    for (const Value& v : m.List("escalation_policies")) ParsePolicy(v);
    for (const Value& v : m.List("services")) ParseService(v);
    for (const Value& v : m.List("maintenance_windows")) ParseMaintenanceWindow(v);
    for (const Value& v : m.List("silences")) ParseSilence(v);
    if (auto v = m.Get("status_page")) ParseStatusPage(*v);
    ParseSeverities(m.List("severities"));
    if (auto v = m.Get("settings")) ParseSettings(*v);
    for (const Value& v : m.List("incident_roles")) ParseIncidentRole(v);
    for (const Value& v : m.List("incident_rules")) ParseIncidentRule(v);
    for (const Value& v : m.List("audiences")) ParseAudience(v);
    for (const Value& v : m.List("webhooks")) ParseWebhook(v);
    if (auto v = m.Get("postmortems")) ParsePostmortems(*v);
    if (auto v = m.Get("action_items")) ParseActionItems(*v);
    CheckReferences();
    CheckSevLevels();
    CheckDependencyCycles();
    return std::move(org_);
  }

 private:
  struct PendingRef {
    Kind kind;
    std::string id;
    Position pos;
    std::string path;
  };
  // A value that must be one of the org's SEV levels, checked once severities are known.
  struct PendingSev {
    std::string id;
    Position pos;
    std::string path;
  };
  struct DependencyEdge {
    std::string from;
    std::string to;
    Position pos;
    std::string path;
  };

  // ---- shared field helpers ----

  // Reads and checks `id`; registers it as an object of `kind` (reporting duplicates), if given.
  std::string ParseId(MapReader& m, std::optional<Kind> kind) {
    std::optional<std::string> id = m.String("id", /*required=*/true);
    if (!id) return "";
    if (!ValidId(*id)) {
      problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                    fmt::format("invalid id '{}': use 1 to {} letters, digits, '_', '-' or '.', "
                                "starting with a letter or digit",
                                *id, kMaxIdLength));
      return *id;
    }
    if (kind) {
      auto& defined = defined_[static_cast<size_t>(*kind)];
      auto [it, inserted] = defined.emplace(*id, m.PositionOfKey("id"));
      if (!inserted) {
        problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                      fmt::format("duplicate {} id '{}' (first defined at line {}); ids must be "
                                  "unique",
                                  KindName(*kind), *id, it->second.line));
      }
    }
    return *id;
  }

  // For ids unique within a smaller scope (contact methods, components, severities).
  void CheckLocalDuplicate(std::map<std::string, Position>& seen, const std::string& id,
                           MapReader& m, std::string_view what) {
    if (id.empty()) return;
    auto [it, inserted] = seen.emplace(id, m.PositionOfKey("id"));
    if (!inserted) {
      problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                    fmt::format("duplicate {} id '{}' (first defined at line {})", what, id,
                                it->second.line));
    }
  }

  void Reference(Kind kind, std::string id, Position pos, std::string path) {
    refs_.push_back(PendingRef{kind, std::move(id), pos, std::move(path)});
  }

  // A string field naming an object of `kind`.
  std::string ParseRef(MapReader& m, std::string_view key, Kind kind, bool required) {
    std::optional<std::string> id = m.String(key, required);
    if (!id) return "";
    Reference(kind, *id, m.PositionOfKey(key), m.PathOf(key));
    return *id;
  }

  // A list of ids of `kind`.
  std::vector<std::string> ParseRefList(MapReader& m, std::string_view key, Kind kind,
                                        bool required_non_empty, bool allow_duplicates) {
    std::vector<Value> values = m.List(key, required_non_empty);
    if (required_non_empty && values.empty() && m.Has(key)) {
      problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                    fmt::format("must list at least one {}", KindName(kind)));
    }
    std::vector<std::string> ids;
    for (const Value& v : values) {
      std::optional<std::string> id = AsString(v, problems_);
      if (!id) continue;
      if (id->empty()) {
        problems_.Add(v.pos, v.path, fmt::format("empty {} id", KindName(kind)));
        continue;
      }
      if (!allow_duplicates && std::find(ids.begin(), ids.end(), *id) != ids.end()) {
        problems_.Add(v.pos, v.path, fmt::format("'{}' is listed twice", *id));
        continue;
      }
      Reference(kind, *id, v.pos, v.path);
      ids.push_back(*id);
    }
    return ids;
  }

  // A string field naming a SEV level.
  std::string ParseSevRef(MapReader& m, std::string_view key, bool required) {
    std::optional<std::string> id = m.String(key, required);
    if (!id) return "";
    sev_refs_.push_back(PendingSev{*id, m.PositionOfKey(key), m.PathOf(key)});
    return *id;
  }

  // Reports and returns false unless `field` names an alert field as silence matchers do.
  bool CheckMatcherField(Position pos, const std::string& path, const std::string& field) {
    if (ValidMatcherField(field)) return true;
    problems_.Add(pos, path,
                  fmt::format("unknown field '{}' (use {} or details.<path>)", field,
                              fmt::join(kMatcherFields, ", ")));
    return false;
  }

  std::string ParseTimezone(MapReader& m, std::string_view key) {
    std::optional<std::string> tz = m.String(key);
    if (!tz) return "UTC";
    if (!ZoneExists(*tz)) {
      std::string closest = ClosestZone(*tz);
      std::string hint = closest.empty() ? "use a tz database name such as America/New_York"
                                         : fmt::format("did you mean '{}'?", closest);
      problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                    fmt::format("unknown time zone '{}' ({})", *tz, hint));
    }
    return *tz;
  }

  std::string ParseUrl(MapReader& m, std::string_view key, bool required) {
    std::optional<std::string> url = m.String(key, required);
    if (!url) return "";
    if (!ValidUrl(*url)) {
      problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                    fmt::format("invalid URL '{}': it must start with http:// or https:// and "
                                "contain no spaces",
                                *url));
    }
    return *url;
  }

  std::optional<TimePoint> ParseTime(MapReader& m, std::string_view key) {
    std::optional<std::string> s = m.String(key, /*required=*/true);
    if (!s) return std::nullopt;
    Result<TimePoint> t = ParseRfc3339(*s);
    if (!t) {
      problems_.Add(m.PositionOfKey(key), m.PathOf(key), t.error().message());
      return std::nullopt;
    }
    return *t;
  }

  void CheckOrder(MapReader& m, const std::optional<TimePoint>& start,
                  const std::optional<TimePoint>& end) {
    if (start && end && !(*start < *end)) {
      problems_.Add(m.PositionOfKey("end"), m.PathOf("end"),
                    fmt::format("end ({}) must be after start ({})", FormatRfc3339(*end),
                                FormatRfc3339(*start)));
    }
  }

  std::optional<int> ParseClockField(MapReader& m, std::string_view key) {
    std::optional<std::string> s = m.String(key, /*required=*/true);
    if (!s) return std::nullopt;
    std::optional<int> minute = ParseClock(*s);
    if (!minute) {
      problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                    fmt::format("invalid time of day '{}': use HH:MM between 00:00 and 24:00", *s));
    }
    return minute;
  }

  // days/start/end of a restriction or a recurring maintenance window.
  DailyWindow ParseDailyWindow(MapReader& m) {
    DailyWindow w;
    std::vector<Value> days = m.List("days", /*required=*/true);
    if (days.empty() && m.Has("days")) {
      problems_.Add(m.PositionOfKey("days"), m.PathOf("days"),
                    "must list at least one day (mon, tue, wed, thu, fri, sat, sun)");
    }
    for (const Value& v : days) {
      std::optional<std::string> s = AsString(v, problems_);
      if (!s) continue;
      std::optional<date::weekday> day = ParseDay(*s);
      if (!day) {
        problems_.Add(
            v.pos, v.path,
            fmt::format("unknown day '{}' (use mon, tue, wed, thu, fri, sat or sun)", *s));
        continue;
      }
      if (std::find(w.days.begin(), w.days.end(), *day) != w.days.end()) {
        problems_.Add(v.pos, v.path, fmt::format("'{}' is listed twice", *s));
        continue;
      }
      w.days.push_back(*day);
    }
    std::sort(w.days.begin(), w.days.end(),
              [](date::weekday a, date::weekday b) { return a.iso_encoding() < b.iso_encoding(); });
    std::optional<int> start = ParseClockField(m, "start");
    std::optional<int> end = ParseClockField(m, "end");
    if (start && *start == 24 * 60) {
      problems_.Add(m.PositionOfKey("start"), m.PathOf("start"),
                    "a window cannot start at 24:00; use 00:00");
      start.reset();
    }
    if (end && *end == 0) end = 24 * 60;  // midnight ending the day
    if (start && end && *start == *end) {
      problems_.Add(m.PositionOfKey("end"), m.PathOf("end"),
                    "start and end are equal; use start 00:00 and end 24:00 for the whole day");
    }
    w.start_minute = start.value_or(0);
    w.end_minute = end.value_or(24 * 60);
    return w;
  }

  // ---- users and teams ----

  void ParseUser(const Value& v) {
    MapReader m(
        v, {"id", "name", "email", "timezone", "role", "contact_methods", "notification_rules"},
        problems_);
    if (!m.ok()) return;
    User u;
    u.id = ParseId(m, Kind::kUser);
    u.name = m.String("name").value_or(u.id);
    if (auto email = m.String("email")) {
      if (!ValidEmail(*email)) {
        problems_.Add(m.PositionOfKey("email"), m.PathOf("email"),
                      fmt::format("invalid email address '{}': expected name@example.com", *email));
      }
      u.email = *email;
    }
    u.timezone = ParseTimezone(m, "timezone");
    if (auto role = m.String("role")) {
      if (auto parsed = core::ParseRole(*role)) {
        u.role = *parsed;
      } else {
        problems_.Add(m.PositionOfKey("role"), m.PathOf("role"),
                      fmt::format("unknown role '{}': use admin, responder or viewer (the default "
                                  "is responder)",
                                  *role));
      }
    }

    std::map<std::string, Position> method_ids;
    for (const Value& cv : m.List("contact_methods")) {
      MapReader cm = ContactMethodReader(cv);
      if (!cm.ok()) continue;
      // Kept even when it has problems (the org is rejected then anyway), so that the
      // notification rules naming it do not report a second, misleading problem.
      ContactMethod method = ParseContactMethod(cm, /*id_required=*/true);
      CheckLocalDuplicate(method_ids, method.id, cm, "contact method");
      u.contact_methods.push_back(std::move(method));
    }

    for (const Value& rv : m.List("notification_rules")) {
      MapReader rm(rv, {"contact_method", "delay_minutes"}, problems_);
      if (!rm.ok()) continue;
      NotificationRule rule;
      if (auto cm = rm.String("contact_method", /*required=*/true)) {
        if (!method_ids.contains(*cm)) {
          std::vector<std::string> names;
          for (const auto& [name, pos] : method_ids) names.push_back(name);
          std::string defined = names.empty() ? std::string("this user has no contact_methods")
                                              : fmt::format("defined: {}", fmt::join(names, ", "));
          problems_.Add(
              rm.PositionOfKey("contact_method"), rm.PathOf("contact_method"),
              fmt::format("unknown contact method '{}' of user '{}' ({})", *cm, u.id, defined));
        }
        rule.contact_method = *cm;
      }
      rule.delay_minutes = static_cast<int>(rm.Int("delay_minutes", 0, kMaxMinutes).value_or(0));
      u.notification_rules.push_back(std::move(rule));
    }
    if (u.notification_rules.empty()) {
      for (const ContactMethod& cm : u.contact_methods) {
        u.notification_rules.push_back(NotificationRule{cm.id, 0});
      }
    }
    org_.users.push_back(std::move(u));
  }

  void NotUsedBy(MapReader& m, std::string_view key, std::string_view type) {
    if (m.Has(key)) {
      problems_.Add(
          m.PositionOfKey(key), m.PathOf(key),
          fmt::format("'{}' is not used by contact methods of type {}; remove it", key, type));
    }
  }

  MapReader ContactMethodReader(const Value& v) {
    return MapReader(v, {"id", "type", "url", "address", "secret", "template", "headers"},
                     problems_);
  }

  // A user's contact method or an audience's subscriber. Without `id_required` an absent id is
  // left empty for the caller to fill in.
  ContactMethod ParseContactMethod(MapReader& m, bool id_required) {
    ContactMethod c;
    std::optional<std::string> id = m.String("id", id_required);
    if (id && !ValidId(*id)) {
      problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                    fmt::format("invalid id '{}': use 1 to {} letters, digits, '_', '-' or '.', "
                                "starting with a letter or digit",
                                *id, kMaxIdLength));
    }
    c.id = id.value_or("");
    std::optional<std::string> type = m.String("type", /*required=*/true);
    if (!type) return c;
    std::optional<ContactMethodType> t = ParseContactMethodType(*type);
    if (!t) {
      problems_.Add(m.PositionOfKey("type"), m.PathOf("type"),
                    fmt::format("unknown contact method type '{}' (use webhook, email, slack or "
                                "sms_provider)",
                                *type));
      return c;
    }
    c.type = *t;
    switch (c.type) {
      case ContactMethodType::kWebhook:
        c.url = ParseUrl(m, "url", /*required=*/true);
        NotUsedBy(m, "address", *type);
        NotUsedBy(m, "template", *type);
        break;
      case ContactMethodType::kEmail:
        if (auto address = m.String("address", /*required=*/true)) {
          if (!ValidEmail(*address)) {
            problems_.Add(
                m.PositionOfKey("address"), m.PathOf("address"),
                fmt::format("invalid email address '{}': expected name@example.com", *address));
          }
          c.address = *address;
        }
        NotUsedBy(m, "url", *type);
        NotUsedBy(m, "secret", *type);
        NotUsedBy(m, "template", *type);
        NotUsedBy(m, "headers", *type);
        break;
      case ContactMethodType::kSlack:
        c.url = ParseUrl(m, "url", /*required=*/true);
        NotUsedBy(m, "address", *type);
        NotUsedBy(m, "secret", *type);
        NotUsedBy(m, "template", *type);
        NotUsedBy(m, "headers", *type);
        break;
      case ContactMethodType::kSmsProvider:
        c.url = ParseUrl(m, "url", /*required=*/true);
        c.address = m.String("address").value_or("");
        c.body_template = m.String("template").value_or("");
        break;
    }
    if (c.type == ContactMethodType::kWebhook || c.type == ContactMethodType::kSmsProvider) {
      c.secret = m.String("secret").value_or("");
      if (auto headers = m.Get("headers")) c.headers = ParseHeaders(*headers);
    }
    return c;
  }

  std::map<std::string, std::string> ParseHeaders(const Value& v) {
    std::map<std::string, std::string> headers;
    std::optional<std::vector<KeyValue>> entries = AsEntries(v, problems_);
    if (!entries) return headers;
    std::set<std::string> lower_names;
    for (const KeyValue& kv : *entries) {
      if (!ValidHeaderName(kv.key)) {
        problems_.Add(kv.key_pos, kv.value.path,
                      "invalid header name: use letters, digits and - (e.g. X-Api-Key)");
        continue;
      }
      std::string lower = kv.key;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (!lower_names.insert(lower).second) {
        problems_.Add(kv.key_pos, kv.value.path,
                      "header given twice (header names are case-insensitive)");
        continue;
      }
      std::optional<std::string> value =
          kv.value.node.IsNull() ? std::optional<std::string>("") : AsString(kv.value, problems_);
      if (!value) continue;
      if (value->find_first_of("\r\n") != std::string::npos) {
        problems_.Add(kv.value.pos, kv.value.path, "header values cannot contain line breaks");
        continue;
      }
      headers.emplace(kv.key, *value);
    }
    return headers;
  }

  void ParseTeam(const Value& v) {
    MapReader m(v, {"id", "name", "members"}, problems_);
    if (!m.ok()) return;
    Team t;
    t.id = ParseId(m, Kind::kTeam);
    t.name = m.String("name").value_or(t.id);
    t.members = ParseRefList(m, "members", Kind::kUser, /*required_non_empty=*/false,
                             /*allow_duplicates=*/false);
    org_.teams.push_back(std::move(t));
  }

  // ---- schedules ----

  void ParseSchedule(const Value& v) {
    MapReader m(v, {"id", "name", "timezone", "layers", "overrides"}, problems_);
    if (!m.ok()) return;
    Schedule s;
    s.id = ParseId(m, Kind::kSchedule);
    s.name = m.String("name").value_or(s.id);
    s.timezone = ParseTimezone(m, "timezone");
    std::vector<Value> layers = m.List("layers", /*required=*/true);
    if (layers.empty() && m.Has("layers")) {
      problems_.Add(m.PositionOfKey("layers"), m.PathOf("layers"), "must have at least one layer");
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      if (auto layer = ParseLayer(layers[i], i)) s.layers.push_back(std::move(*layer));
    }
    for (const Value& ov : m.List("overrides")) {
      MapReader om(ov, {"user", "start", "end"}, problems_);
      if (!om.ok()) continue;
      ScheduleOverride o;
      o.user = ParseRef(om, "user", Kind::kUser, /*required=*/true);
      std::optional<TimePoint> start = ParseTime(om, "start");
      std::optional<TimePoint> end = ParseTime(om, "end");
      CheckOrder(om, start, end);
      o.start = start.value_or(TimePoint{});
      o.end = end.value_or(TimePoint{});
      s.overrides.push_back(std::move(o));
    }
    org_.schedules.push_back(std::move(s));
  }

  std::optional<ScheduleLayer> ParseLayer(const Value& v, size_t index) {
    MapReader m(v, {"name", "start", "end", "rotation", "users", "restrictions"}, problems_);
    if (!m.ok()) return std::nullopt;
    ScheduleLayer layer;
    layer.name = m.String("name").value_or(fmt::format("layer-{}", index + 1));
    if (auto start = m.String("start", /*required=*/true)) {
      layer.start = *start;
      if (auto local = ParseLocalDateTime(*start)) {
        layer.start_local = *local;
      } else if (ParseRfc3339(*start).has_value()) {
        problems_.Add(m.PositionOfKey("start"), m.PathOf("start"),
                      fmt::format("'{}' has a zone; a layer start is local time in the schedule's "
                                  "timezone: write it as YYYY-MM-DDTHH:MM:SS without Z or offset",
                                  *start));
      } else {
        problems_.Add(m.PositionOfKey("start"), m.PathOf("start"),
                      fmt::format("invalid start '{}': use local time YYYY-MM-DDTHH:MM:SS, e.g. "
                                  "2026-01-05T09:00:00",
                                  *start));
      }
    }
    if (m.Require("rotation")) {
      MapReader rm(*m.Get("rotation"), {"type", "length"}, problems_);
      if (auto type = rm.String("type", /*required=*/true)) {
        if (auto t = ValueOf(kRotationTypes, *type)) {
          layer.rotation.type = *t;
        } else {
          problems_.Add(
              rm.PositionOfKey("type"), rm.PathOf("type"),
              fmt::format("unknown rotation type '{}' (use hourly, daily or weekly)", *type));
        }
      }
      layer.rotation.length = static_cast<int>(rm.Int("length", 1, kMaxInt).value_or(1));
    }
    if (auto end = m.String("end")) {
      if (auto local = ParseLocalDateTime(*end)) {
        layer.end_local = *local;
        if (!layer.start.empty() && *local <= layer.start_local) {
          problems_.Add(
              m.PositionOfKey("end"), m.PathOf("end"),
              fmt::format("end '{}' is not after the layer's start '{}'", *end, layer.start));
        }
      } else {
        problems_.Add(m.PositionOfKey("end"), m.PathOf("end"),
                      fmt::format("invalid end '{}': use local time YYYY-MM-DDTHH:MM:SS in the "
                                  "schedule's timezone, e.g. 2026-06-01T09:00:00",
                                  *end));
      }
    }
    // Rotation order; `~` (null) is a turn with nobody on call in this layer.
    std::vector<Value> users = m.List("users", /*required=*/true);
    bool someone = false;
    for (const Value& uv : users) {
      if (uv.node.IsNull()) {
        layer.users.emplace_back();
        continue;
      }
      std::optional<std::string> id = AsString(uv, problems_);
      if (!id) continue;
      if (id->empty()) {
        problems_.Add(uv.pos, uv.path, "empty user id (write ~ for a turn with nobody on call)");
        continue;
      }
      Reference(Kind::kUser, *id, uv.pos, uv.path);
      layer.users.push_back(*id);
      someone = true;
    }
    if (!someone && m.Has("users")) {
      problems_.Add(m.PositionOfKey("users"), m.PathOf("users"), "must list at least one user");
    }
    for (const Value& rv : m.List("restrictions")) {
      MapReader rm(rv, {"days", "start", "end"}, problems_);
      if (!rm.ok()) continue;
      layer.restrictions.push_back(ParseDailyWindow(rm));
    }
    return layer;
  }

  // ---- escalation policies ----

  void ParsePolicy(const Value& v) {
    MapReader m(v, {"id", "name", "repeat", "steps", "ack_timeout_minutes"}, problems_);
    if (!m.ok()) return;
    EscalationPolicy p;
    p.id = ParseId(m, Kind::kPolicy);
    p.name = m.String("name").value_or(p.id);
    p.repeat = static_cast<int>(m.Int("repeat", 0, kMaxInt).value_or(0));
    if (auto t = m.Int("ack_timeout_minutes", 1, kMaxMinutes)) {
      p.ack_timeout_minutes = static_cast<int>(*t);
    }
    std::vector<Value> steps = m.List("steps", /*required=*/true);
    if (steps.empty() && m.Has("steps")) {
      problems_.Add(m.PositionOfKey("steps"), m.PathOf("steps"), "must have at least one step");
    }
    for (const Value& sv : steps) {
      MapReader sm(sv, {"delay_minutes", "targets", "round_robin"}, problems_);
      if (!sm.ok()) continue;
      EscalationStep step;
      step.delay_minutes = static_cast<int>(sm.Int("delay_minutes", 0, kMaxMinutes).value_or(0));
      step.round_robin = sm.Bool("round_robin").value_or(false);
      std::vector<Value> targets = sm.List("targets", /*required=*/true);
      if (targets.empty() && sm.Has("targets")) {
        problems_.Add(sm.PositionOfKey("targets"), sm.PathOf("targets"),
                      "must list at least one target ({user: ID}, {schedule: ID} or {team: ID})");
      }
      for (const Value& tv : targets) {
        if (auto target = ParseTarget(tv)) step.targets.push_back(std::move(*target));
      }
      p.steps.push_back(std::move(step));
    }
    org_.escalation_policies.push_back(std::move(p));
  }

  std::optional<EscalationTarget> ParseTarget(const Value& v) {
    MapReader m(v, {"user", "schedule", "team"}, problems_);
    if (!m.ok()) return std::nullopt;
    std::vector<std::string_view> present;
    for (const auto& [type, name] : kTargetTypes) {
      if (m.Has(name)) present.push_back(name);
    }
    if (present.size() != 1) {
      problems_.Add(v.pos, v.path,
                    present.empty()
                        ? std::string("a target needs one of user, schedule or team, e.g. "
                                      "{schedule: primary}")
                        : fmt::format("a target names exactly one of user, schedule or team, got "
                                      "{}; write one target per entry",
                                      fmt::join(present, " and ")));
      return std::nullopt;
    }
    EscalationTarget t;
    t.type = *ValueOf(kTargetTypes, present[0]);
    Kind kind = t.type == TargetType::kUser       ? Kind::kUser
                : t.type == TargetType::kSchedule ? Kind::kSchedule
                                                  : Kind::kTeam;
    t.id = ParseRef(m, present[0], kind, /*required=*/true);
    return t;
  }

  // ---- services and integrations ----

  void ParseService(const Value& v) {
    MapReader m(v,
                {"id", "name", "description", "team", "tier", "runbook_url", "escalation_policy",
                 "depends_on", "integrations", "grouping"},
                problems_);
    if (!m.ok()) return;
    Service s;
    s.id = ParseId(m, Kind::kService);
    s.name = m.String("name").value_or(s.id);
    s.description = m.String("description").value_or("");
    s.team = ParseRef(m, "team", Kind::kTeam, /*required=*/false);
    if (auto tier = m.Int("tier", 1, kMaxServiceTier)) s.tier = static_cast<int>(*tier);
    s.runbook_url = ParseUrl(m, "runbook_url", /*required=*/false);
    s.escalation_policy = ParseRef(m, "escalation_policy", Kind::kPolicy, /*required=*/true);
    for (const Value& dv : m.List("depends_on")) {
      std::optional<std::string> dep = AsString(dv, problems_);
      if (!dep) continue;
      if (*dep == s.id) {
        problems_.Add(dv.pos, dv.path, "a service cannot depend on itself; remove this entry");
        continue;
      }
      if (std::find(s.depends_on.begin(), s.depends_on.end(), *dep) != s.depends_on.end()) {
        problems_.Add(dv.pos, dv.path, fmt::format("'{}' is listed twice", *dep));
        continue;
      }
      Reference(Kind::kService, *dep, dv.pos, dv.path);
      deps_.push_back(DependencyEdge{s.id, *dep, dv.pos, dv.path});
      s.depends_on.push_back(*dep);
    }
    for (const Value& iv : m.List("integrations")) {
      if (auto integration = ParseIntegration(iv, s.id)) {
        s.integrations.push_back(std::move(*integration));
      }
    }
    if (auto gv = m.Get("grouping")) s.grouping = ParseGrouping(*gv);
    org_.services.push_back(std::move(s));
  }

  std::optional<Grouping> ParseGrouping(const Value& v) {
    MapReader m(v, {"window_minutes", "by"}, problems_);
    if (!m.ok()) return std::nullopt;
    Grouping g;
    g.window_minutes =
        static_cast<int>(m.Int("window_minutes", 1, kMinutesPerDay, /*required=*/true).value_or(0));
    for (const Value& fv : m.List("by")) {
      std::optional<std::string> field = AsString(fv, problems_);
      if (!field || !CheckMatcherField(fv.pos, fv.path, *field)) continue;
      if (std::find(g.by.begin(), g.by.end(), *field) != g.by.end()) {
        problems_.Add(fv.pos, fv.path, fmt::format("'{}' is listed twice", *field));
        continue;
      }
      g.by.push_back(*field);
    }
    return g;
  }

  std::optional<Integration> ParseIntegration(const Value& v, const std::string& service_id) {
    MapReader m(v,
                {"type", "key", "name", "rate_limit_per_second", "interval_minutes",
                 "grace_minutes", "mapping", "priorities", "routes", "group_by",
                 "resolve_timeout_minutes", "require_bearer"},
                problems_);
    if (!m.ok()) return std::nullopt;
    Integration in;
    in.service_id = service_id;
    if (auto key = m.String("key", /*required=*/true)) {
      in.key = *key;
      if (!ValidIntegrationKey(*key)) {
        problems_.Add(m.PositionOfKey("key"), m.PathOf("key"),
                      fmt::format("invalid integration key '{}': use {} to {} letters, digits, "
                                  "'_', '-' or '.'",
                                  *key, kMinKeyLength, kMaxKeyLength));
      } else if (auto [it, inserted] = integration_keys_.emplace(*key, m.PositionOfKey("key"));
                 !inserted) {
        problems_.Add(m.PositionOfKey("key"), m.PathOf("key"),
                      fmt::format("duplicate integration key '{}' (first used at line {}); keys "
                                  "must be unique across the whole org",
                                  *key, it->second.line));
      }
    }
    in.rate_limit_per_second = m.PositiveDouble("rate_limit_per_second");
    std::optional<std::string> type = m.String("type", /*required=*/true);
    if (!type) return std::nullopt;
    std::optional<core::IntegrationType> t = core::ParseIntegrationType(*type);
    if (!t) {
      problems_.Add(m.PositionOfKey("type"), m.PathOf("type"),
                    fmt::format("unknown integration type '{}' (use events_v2, alertmanager, "
                                "grafana, generic, heartbeat, opsgenie or prometheus)",
                                *type));
      return std::nullopt;
    }
    in.type = *t;
    in.name = m.String("name").value_or(std::string(core::ToString(in.type)));
    bool heartbeat = in.type == core::IntegrationType::kHeartbeat;
    if (heartbeat) {
      if (auto i = m.Int("interval_minutes", 1, kMaxMinutes, /*required=*/true)) {
        in.interval_minutes = static_cast<int>(*i);
      }
      if (auto g = m.Int("grace_minutes", 0, kMaxMinutes)) in.grace_minutes = static_cast<int>(*g);
    } else {
      for (std::string_view key : {"interval_minutes", "grace_minutes"}) {
        if (m.Has(key)) {
          problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                        fmt::format("only heartbeat integrations take {}; remove it", key));
        }
      }
    }
    if (in.type == core::IntegrationType::kGeneric) {
      in.mapping = GenericMapping{};
      if (auto mapping = m.Get("mapping")) in.mapping = ParseMapping(*mapping);
    } else if (m.Has("mapping")) {
      problems_.Add(m.PositionOfKey("mapping"), m.PathOf("mapping"),
                    "only generic integrations take a mapping; remove it");
    }
    if (in.type == core::IntegrationType::kOpsgenie) {
      in.priorities = kDefaultOpsgeniePriorities;
      if (auto p = m.Get("priorities")) ParsePriorities(*p, *in.priorities);
    } else if (m.Has("priorities")) {
      problems_.Add(m.PositionOfKey("priorities"), m.PathOf("priorities"),
                    "only opsgenie integrations take priorities; remove it");
    }
    if (in.type == core::IntegrationType::kPrometheus) {
      in.prometheus = ParsePrometheusOptions(m);
    } else {
      for (std::string_view key :
           {"routes", "group_by", "resolve_timeout_minutes", "require_bearer"}) {
        if (m.Has(key)) {
          problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                        fmt::format("only prometheus integrations take {}; remove it", key));
        }
      }
    }
    return in;
  }

  // A prometheus integration's routes, group_by, resolve_timeout_minutes and require_bearer.
  PrometheusOptions ParsePrometheusOptions(MapReader& m) {
    PrometheusOptions p;
    for (const Value& rv : m.List("routes")) {
      MapReader rm(rv, {"match", "service"}, problems_);
      if (!rm.ok()) continue;
      PrometheusRoute route;
      std::vector<Value> matchers = rm.List("match", /*required=*/true);
      if (matchers.empty() && rm.Has("match")) {
        problems_.Add(rm.PositionOfKey("match"), rm.PathOf("match"),
                      "must list at least one matcher, e.g. 'service=\"billing\"'");
      }
      for (const Value& mv : matchers) {
        std::optional<std::string> text = AsString(mv, problems_);
        if (!text) continue;
        std::string error;
        if (auto matcher = ParseLabelMatcher(*text, error)) {
          route.match.push_back(std::move(*matcher));
        } else {
          problems_.Add(mv.pos, mv.path, fmt::format("invalid matcher '{}': {}", *text, error));
        }
      }
      route.service = ParseRef(rm, "service", Kind::kService, /*required=*/true);
      p.routes.push_back(std::move(route));
    }
    if (m.Has("group_by")) {
      p.group_by.clear();
      for (const Value& gv : m.List("group_by")) {
        std::optional<std::string> label = AsString(gv, problems_);
        if (!label) continue;
        if (*label == "...") {
          p.group_by_all = true;
        } else if (!ValidLabelName(*label)) {
          problems_.Add(gv.pos, gv.path,
                        fmt::format("invalid label name '{}' (use [a-zA-Z_][a-zA-Z0-9_]*, or "
                                    "'...' alone for every label)",
                                    *label));
        } else if (std::find(p.group_by.begin(), p.group_by.end(), *label) != p.group_by.end()) {
          problems_.Add(gv.pos, gv.path, fmt::format("'{}' is listed twice", *label));
        } else {
          p.group_by.push_back(*label);
        }
      }
      if (p.group_by_all && !p.group_by.empty()) {
        problems_.Add(m.PositionOfKey("group_by"), m.PathOf("group_by"),
                      "'...' already groups by every label; list it alone");
      }
    }
    if (auto t = m.Int("resolve_timeout_minutes", 0, kMaxMinutes)) {
      p.resolve_timeout_minutes = static_cast<int>(*t);
    }
    if (auto b = m.Bool("require_bearer")) p.require_bearer = *b;
    return p;
  }

  // `priorities: {P1: critical, ...}`: overrides entries of `out`.
  void ParsePriorities(const Value& v, std::array<core::Severity, 5>& out) {
    for (const KeyValue& kv : AsEntries(v, problems_).value_or(std::vector<KeyValue>{})) {
      std::optional<std::string> s = AsString(kv.value, problems_);
      if (!s) continue;
      if (kv.key.size() != 2 || kv.key[0] != 'P' || kv.key[1] < '1' || kv.key[1] > '5') {
        problems_.Add(
            kv.key_pos, kv.value.path,
            fmt::format("unknown Opsgenie priority '{}' (use P1, P2, P3, P4 or P5)", kv.key));
        continue;
      }
      if (auto severity = core::ParseSeverity(*s)) {
        out[kv.key[1] - '1'] = *severity;
      } else {
        problems_.Add(kv.value.pos, kv.value.path,
                      fmt::format("unknown severity '{}' for {} (use critical, error, warning "
                                  "or info)",
                                  *s, kv.key));
      }
    }
  }

  GenericMapping ParseMapping(const Value& v) {
    GenericMapping g;
    MapReader m(v,
                {"summary", "severity", "dedup_key", "action", "source", "details", "action_values",
                 "severity_values"},
                problems_);
    if (!m.ok()) return g;
    const std::array<std::pair<std::string_view, std::string*>, 6> paths{{
        {"summary", &g.summary},
        {"severity", &g.severity},
        {"dedup_key", &g.dedup_key},
        {"action", &g.action},
        {"source", &g.source},
        {"details", &g.details},
    }};
    for (const auto& [key, field] : paths) {
      std::optional<std::string> path = m.String(key);
      if (!path) continue;
      if (!ValidDottedPath(*path)) {
        problems_.Add(m.PositionOfKey(key), m.PathOf(key),
                      fmt::format("invalid field path '{}': use dot-separated names, e.g. "
                                  "alert.labels.severity",
                                  *path));
        continue;
      }
      *field = *path;
    }
    if (auto av = m.Get("action_values")) {
      for (const KeyValue& kv : AsEntries(*av, problems_).value_or(std::vector<KeyValue>{})) {
        std::optional<std::string> s = AsString(kv.value, problems_);
        if (!s) continue;
        if (auto action = core::ParseEventAction(*s)) {
          g.action_values.emplace(kv.key, *action);
        } else {
          problems_.Add(
              kv.value.pos, kv.value.path,
              fmt::format("unknown action '{}' (use trigger, acknowledge or resolve)", *s));
        }
      }
    }
    if (auto sv = m.Get("severity_values")) {
      for (const KeyValue& kv : AsEntries(*sv, problems_).value_or(std::vector<KeyValue>{})) {
        std::optional<std::string> s = AsString(kv.value, problems_);
        if (!s) continue;
        if (auto severity = core::ParseSeverity(*s)) {
          g.severity_values.emplace(kv.key, *severity);
        } else {
          problems_.Add(kv.value.pos, kv.value.path,
                        fmt::format("unknown severity '{}' (use critical, error, warning or "
                                    "info)",
                                    *s));
        }
      }
    }
    return g;
  }

  // ---- maintenance windows and silences ----

  void ParseMaintenanceWindow(const Value& v) {
    MapReader m(v, {"id", "services", "start", "end", "recurring", "description"}, problems_);
    if (!m.ok()) return;
    MaintenanceWindow w;
    w.id = ParseId(m, std::nullopt);
    CheckLocalDuplicate(window_ids_, w.id, m, "maintenance window");
    w.description = m.String("description").value_or("");
    w.services = ParseRefList(m, "services", Kind::kService, /*required_non_empty=*/true,
                              /*allow_duplicates=*/false);
    bool once = m.Has("start") || m.Has("end");
    if (auto rv = m.Get("recurring")) {
      if (once) {
        problems_.Add(m.PositionOfKey("recurring"), m.PathOf("recurring"),
                      "use either start and end (a one-off window) or recurring, not both");
      }
      MapReader rm(*rv, {"days", "start", "end", "timezone"}, problems_);
      if (rm.ok()) {
        RecurringWindow r;
        r.window = ParseDailyWindow(rm);
        r.timezone = ParseTimezone(rm, "timezone");
        w.recurring = std::move(r);
      }
    } else if (once) {
      w.start = ParseTime(m, "start");
      w.end = ParseTime(m, "end");
      CheckOrder(m, w.start, w.end);
    } else {
      problems_.Add(m.self().pos, m.path(),
                    "a maintenance window needs start and end (RFC 3339), or recurring");
    }
    org_.maintenance_windows.push_back(std::move(w));
  }

  void ParseSilence(const Value& v) {
    MapReader m(v, {"id", "matchers", "expires_at", "comment", "created_by"}, problems_);
    if (!m.ok()) return;
    Silence s;
    s.id = ParseId(m, std::nullopt);
    CheckLocalDuplicate(silence_ids_, s.id, m, "silence");
    std::vector<Value> matchers = m.List("matchers", /*required=*/true);
    if (matchers.empty() && m.Has("matchers")) {
      problems_.Add(m.PositionOfKey("matchers"), m.PathOf("matchers"),
                    "must list at least one matcher");
    }
    for (const Value& mv : matchers) {
      MapReader mm(mv, {"field", "op", "value"}, problems_);
      if (!mm.ok()) continue;
      Matcher matcher;
      if (auto field = mm.String("field", /*required=*/true)) {
        CheckMatcherField(mm.PositionOfKey("field"), mm.PathOf("field"), *field);
        matcher.field = *field;
      }
      if (auto op = mm.String("op")) {
        if (auto o = ValueOf(kMatchOps, *op)) {
          matcher.op = *o;
        } else {
          problems_.Add(mm.PositionOfKey("op"), mm.PathOf("op"),
                        fmt::format("unknown operator '{}' (use =, !=, =~ or !~)", *op));
        }
      }
      if (mm.Require("value")) {
        Value value = *mm.Get("value");
        if (auto s = AsString(value, problems_)) {
          matcher.value = *s;
          if (matcher.op == MatchOp::kRegexMatch || matcher.op == MatchOp::kRegexNoMatch) {
            std::string error = RegexError(*s);
            if (!error.empty()) {
              problems_.Add(value.pos, value.path,
                            fmt::format("invalid regular expression '{}': {}", *s, error));
            }
          }
        }
      }
      s.matchers.push_back(std::move(matcher));
    }
    s.expires_at = ParseTime(m, "expires_at").value_or(TimePoint{});
    s.comment = m.String("comment").value_or("");
    s.created_by = m.String("created_by").value_or("");
    org_.silences.push_back(std::move(s));
  }

  // ---- status page, severities, settings ----

  void ParseStatusPage(const Value& v) {
    MapReader m(v, {"title", "components"}, problems_);
    if (!m.ok()) return;
    StatusPage page;
    page.title = m.String("title").value_or("Status");
    std::map<std::string, Position> ids;
    for (const Value& cv : m.List("components")) {
      MapReader cm(cv, {"id", "name", "description", "services"}, problems_);
      if (!cm.ok()) continue;
      StatusComponent c;
      c.id = ParseId(cm, std::nullopt);
      CheckLocalDuplicate(ids, c.id, cm, "component");
      c.name = cm.String("name").value_or(c.id);
      c.description = cm.String("description").value_or("");
      c.services = ParseRefList(cm, "services", Kind::kService, /*required_non_empty=*/false,
                                /*allow_duplicates=*/false);
      page.components.push_back(std::move(c));
    }
    org_.status_page = std::move(page);
  }

  void ParseSeverities(const std::vector<Value>& values) {
    std::map<std::string, Position> ids;
    for (const Value& v : values) {
      MapReader m(v, {"id", "description", "update_every_minutes", "component_state"}, problems_);
      if (!m.ok()) continue;
      SeverityLevel level;
      level.id = ParseId(m, std::nullopt);
      CheckLocalDuplicate(ids, level.id, m, "severity");
      level.description = m.String("description").value_or("");
      if (auto every = m.Int("update_every_minutes", 1, kMinutesPerDay)) {
        level.update_every_minutes = static_cast<int>(*every);
      }
      if (auto state = m.String("component_state")) {
        constexpr std::string_view kStates =
            "use operational, degraded_performance, partial_outage or major_outage";
        std::optional<core::ComponentState> s = core::ParseComponentState(*state);
        if (!s) {
          problems_.Add(m.PositionOfKey("component_state"), m.PathOf("component_state"),
                        fmt::format("unknown component state '{}' ({})", *state, kStates));
        } else if (*s == core::ComponentState::kUnderMaintenance) {
          problems_.Add(m.PositionOfKey("component_state"), m.PathOf("component_state"),
                        fmt::format("under_maintenance comes from maintenance windows, not from "
                                    "incidents ({})",
                                    kStates));
        } else {
          level.component_state = *s;
        }
      }
      org_.severities.push_back(std::move(level));
    }
  }

  void ParseSettings(const Value& v) {
    MapReader m(v, {"base_url", "suspect_lookback_hours"}, problems_);
    if (!m.ok()) return;
    Settings s;
    s.base_url = ParseUrl(m, "base_url", /*required=*/false);
    s.suspect_lookback_hours = static_cast<int>(
        m.Int("suspect_lookback_hours", 1, kMaxLookbackHours).value_or(s.suspect_lookback_hours));
    org_.settings = std::move(s);
  }

  // ---- incident roles, rules, audiences, webhooks ----

  void ParseIncidentRole(const Value& v) {
    MapReader m(v, {"id", "name", "description"}, problems_);
    if (!m.ok()) return;
    IncidentRole r;
    r.id = ParseId(m, std::nullopt);
    if (FindIncidentRole(BuiltinIncidentRoles(), r.id) != nullptr) {
      std::vector<std::string_view> builtin;
      for (const IncidentRole& b : BuiltinIncidentRoles()) builtin.push_back(b.id);
      problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                    fmt::format("'{}' is a built-in incident role and always exists; choose "
                                "another id (built-in: {})",
                                r.id, fmt::join(builtin, ", ")));
    } else {
      CheckLocalDuplicate(role_ids_, r.id, m, "incident role");
    }
    r.name = m.String("name").value_or(r.id);
    r.description = m.String("description").value_or("");
    org_.incident_roles.push_back(std::move(r));
  }

  void ParseIncidentRule(const Value& v) {
    MapReader m(v,
                {"id", "services", "max_service_tier", "alert_severity", "alert_count",
                 "window_minutes", "severity"},
                problems_);
    if (!m.ok()) return;
    IncidentRule r;
    r.id = ParseId(m, std::nullopt);
    CheckLocalDuplicate(rule_ids_, r.id, m, "incident rule");
    r.services = ParseRefList(m, "services", Kind::kService, /*required_non_empty=*/false,
                              /*allow_duplicates=*/false);
    if (auto tier = m.Int("max_service_tier", 1, kMaxServiceTier)) {
      r.max_service_tier = static_cast<int>(*tier);
    }
    if (auto s = m.String("alert_severity")) {
      if (auto severity = core::ParseSeverity(*s)) {
        r.alert_severity = *severity;
      } else {
        problems_.Add(m.PositionOfKey("alert_severity"), m.PathOf("alert_severity"),
                      fmt::format("unknown alert severity '{}' (use critical, error, warning or "
                                  "info)",
                                  *s));
      }
    }
    if (auto count = m.Int("alert_count", 1, kMaxInt)) r.alert_count = static_cast<int>(*count);
    if (auto window = m.Int("window_minutes", 1, kMinutesPerWeek)) {
      r.window_minutes = static_cast<int>(*window);
    }
    if (m.Has("window_minutes") && !m.Has("alert_count")) {
      problems_.Add(m.PositionOfKey("window_minutes"), m.PathOf("window_minutes"),
                    "window_minutes is the window of alert_count; add alert_count or remove it");
    }
    // Whether a condition is written, valid or not: an invalid one is reported on its own.
    std::optional<Value> services = m.Get("services");
    bool has_services = services && (!services->node.IsSequence() || services->node.size() > 0);
    if (!has_services && !m.Has("max_service_tier") && !m.Has("alert_severity") &&
        !m.Has("alert_count")) {
      problems_.Add(m.self().pos, m.path(),
                    "a rule needs at least one condition (services, max_service_tier, "
                    "alert_severity or alert_count)");
    }
    r.severity = ParseSevRef(m, "severity", /*required=*/true);
    org_.incident_rules.push_back(std::move(r));
  }

  void ParseAudience(const Value& v) {
    MapReader m(v, {"id", "name", "template", "subject", "min_severity", "subscribers"}, problems_);
    if (!m.ok()) return;
    Audience a;
    a.id = ParseId(m, std::nullopt);
    CheckLocalDuplicate(audience_ids_, a.id, m, "audience");
    a.name = m.String("name").value_or(a.id);
    a.subject_template = ParseUpdateTemplate(m, "subject", a.id);
    a.body_template = ParseUpdateTemplate(m, "template", a.id);
    a.min_severity = ParseSevRef(m, "min_severity", /*required=*/false);
    std::map<std::string, Position> subscriber_ids;
    std::vector<Value> subscribers = m.List("subscribers");
    for (size_t i = 0; i < subscribers.size(); ++i) {
      MapReader cm = ContactMethodReader(subscribers[i]);
      if (!cm.ok()) continue;
      ContactMethod c = ParseContactMethod(cm, /*id_required=*/false);
      if (c.id.empty()) c.id = fmt::format("{}-{}", ToString(c.type), i + 1);
      CheckLocalDuplicate(subscriber_ids, c.id, cm, "subscriber");
      a.subscribers.push_back(std::move(c));
    }
    org_.audiences.push_back(std::move(a));
  }

  // A subject (`key` "subject") or body ("template") template of `audience`. Checked for syntax,
  // then rendered with sample data, so that errors that only show while rendering surface now.
  std::string ParseUpdateTemplate(MapReader& m, std::string_view key, const std::string& audience) {
    std::optional<std::string> text = m.String(key);
    if (!text) return "";
    if (Status valid = core::ValidateTemplate(*text); !valid.ok()) {
      problems_.Add(m.PositionOfKey(key), m.PathOf(key), valid.message());
      return *text;
    }
    bool subject = key == "subject";
    Result<core::Rendering> rendered =
        core::RenderUpdate(audience, subject ? *text : "", subject ? "" : *text,
                           SampleAudienceContext(), SampleUpdateFields());
    if (!rendered) {
      // RenderUpdate names the audience and the template; the path already does.
      std::string message = rendered.error().message();
      std::string prefix = fmt::format("audience '{}' {}: ", audience, key);
      if (message.starts_with(prefix)) message.erase(0, prefix.size());
      problems_.Add(m.PositionOfKey(key), m.PathOf(key), std::move(message));
    }
    return *text;
  }

  void ParseWebhook(const Value& v) {
    MapReader m(v, {"id", "url", "secret", "headers", "events", "services"}, problems_);
    if (!m.ok()) return;
    OutboundWebhook w;
    w.id = ParseId(m, std::nullopt);
    CheckLocalDuplicate(webhook_ids_, w.id, m, "webhook");
    w.url = ParseUrl(m, "url", /*required=*/true);
    w.secret = m.String("secret").value_or("");
    if (auto headers = m.Get("headers")) w.headers = ParseHeaders(*headers);
    const std::vector<std::string>& names = WebhookEventNames();
    for (const Value& ev : m.List("events")) {
      std::optional<std::string> event = AsString(ev, problems_);
      if (!event) continue;
      if (std::find(names.begin(), names.end(), *event) == names.end()) {
        problems_.Add(ev.pos, ev.path,
                      fmt::format("unknown event '{}' (use {})", *event, fmt::join(names, ", ")));
        continue;
      }
      if (std::find(w.events.begin(), w.events.end(), *event) != w.events.end()) {
        problems_.Add(ev.pos, ev.path, fmt::format("'{}' is listed twice", *event));
        continue;
      }
      w.events.push_back(*event);
    }
    w.services = ParseRefList(m, "services", Kind::kService, /*required_non_empty=*/false,
                              /*allow_duplicates=*/false);
    org_.webhooks.push_back(std::move(w));
  }

  // ---- learning: postmortems and action items ----

  // Starts from the defaults (the org's SEV levels are known: severities are parsed first) and
  // overrides each key that is written.
  void ParsePostmortems(const Value& v) {
    MapReader m(v,
                {"required_severities", "due_days", "remind_every_days", "team_after_days",
                 "sections", "contributing_factors"},
                problems_);
    if (!m.ok()) return;
    PostmortemPolicy p = DefaultPostmortemPolicy(SevLevels(org_));
    if (m.Has("required_severities")) {
      p.required_severities.clear();
      for (const Value& sv : m.List("required_severities")) {
        std::optional<std::string> sev = AsString(sv, problems_);
        if (!sev) continue;
        if (std::find(p.required_severities.begin(), p.required_severities.end(), *sev) !=
            p.required_severities.end()) {
          problems_.Add(sv.pos, sv.path, fmt::format("'{}' is listed twice", *sev));
          continue;
        }
        sev_refs_.push_back(PendingSev{*sev, sv.pos, sv.path});
        p.required_severities.push_back(*sev);
      }
    }
    p.due_days = static_cast<int>(m.Int("due_days", 1, kMaxPostmortemDueDays).value_or(p.due_days));
    p.remind_every_days = static_cast<int>(
        m.Int("remind_every_days", 1, kMaxRemindEveryDays).value_or(p.remind_every_days));
    p.team_after_days = static_cast<int>(
        m.Int("team_after_days", 1, kMaxTeamAfterDays).value_or(p.team_after_days));
    if (m.Has("sections")) {
      std::vector<Value> sections = m.List("sections");
      if (sections.empty()) {
        problems_.Add(m.PositionOfKey("sections"), m.PathOf("sections"),
                      "must list at least one section; remove the key for the built-in template");
      }
      p.sections.clear();
      std::map<std::string, Position> ids;
      for (const Value& sv : sections) {
        MapReader sm(sv, {"id", "title", "prompt"}, problems_);
        if (!sm.ok()) continue;
        PostmortemSection section;
        section.id = ParseSnakeId(sm, "section");
        CheckLocalDuplicate(ids, section.id, sm, "section");
        section.title = sm.String("title", /*required=*/true).value_or("");
        section.prompt = sm.String("prompt").value_or("");
        p.sections.push_back(std::move(section));
      }
    }
    if (m.Has("contributing_factors")) {
      std::vector<Value> factors = m.List("contributing_factors");
      if (factors.empty()) {
        problems_.Add(m.PositionOfKey("contributing_factors"), m.PathOf("contributing_factors"),
                      "must list at least one factor; remove the key for the built-in list");
      }
      p.contributing_factors.clear();
      for (const Value& fv : factors) {
        std::optional<std::string> factor = AsString(fv, problems_);
        if (!factor) continue;
        if (!ValidSnakeId(*factor)) {
          problems_.Add(fv.pos, fv.path,
                        fmt::format("invalid factor '{}': use 1 to {} lowercase letters, digits "
                                    "and '_', e.g. config_change",
                                    *factor, kMaxIdLength));
          continue;
        }
        if (std::find(p.contributing_factors.begin(), p.contributing_factors.end(), *factor) !=
            p.contributing_factors.end()) {
          problems_.Add(fv.pos, fv.path, fmt::format("'{}' is listed twice", *factor));
          continue;
        }
        p.contributing_factors.push_back(*factor);
      }
    }
    org_.postmortems = std::move(p);
  }

  // The required `id` of a postmortem section: [a-z0-9_]+.
  std::string ParseSnakeId(MapReader& m, std::string_view what) {
    std::optional<std::string> id = m.String("id", /*required=*/true);
    if (!id) return "";
    if (!ValidSnakeId(*id)) {
      problems_.Add(m.PositionOfKey("id"), m.PathOf("id"),
                    fmt::format("invalid {} id '{}': use 1 to {} lowercase letters, digits and "
                                "'_', e.g. what_happened",
                                what, *id, kMaxIdLength));
    }
    return *id;
  }

  void ParseActionItems(const Value& v) {
    MapReader m(v, {"remind_every_days", "team_grace_days", "working_hours"}, problems_);
    if (!m.ok()) return;
    ActionItemPolicy p;
    p.remind_every_days = static_cast<int>(
        m.Int("remind_every_days", 1, kMaxRemindEveryDays).value_or(p.remind_every_days));
    p.team_grace_days = static_cast<int>(
        m.Int("team_grace_days", 0, kMaxTeamGraceDays).value_or(p.team_grace_days));
    if (auto wv = m.Get("working_hours")) {
      // The same shape and rules as a schedule layer's restriction.
      MapReader wm(*wv, {"days", "start", "end"}, problems_);
      if (wm.ok()) p.working_hours = ParseDailyWindow(wm);
    }
    org_.action_items = std::move(p);
  }

  // ---- cross-object checks ----

  void CheckReferences() {
    for (const PendingRef& ref : refs_) {
      const auto& defined = defined_[static_cast<size_t>(ref.kind)];
      if (defined.contains(ref.id)) continue;
      std::string list;
      constexpr size_t kMaxListed = 10;
      if (defined.empty()) {
        list = fmt::format("none defined; add it under {}:",
                           kKindSections[static_cast<size_t>(ref.kind)]);
      } else if (defined.size() <= kMaxListed) {
        std::vector<std::string_view> names;
        for (const auto& [id, pos] : defined) names.push_back(id);
        list = fmt::format("defined: {}", fmt::join(names, ", "));
      } else {
        std::vector<std::string_view> names;
        for (const auto& [id, pos] : defined) names.push_back(id);
        std::string closest = internal::ClosestMatch(ref.id, names);
        names.resize(kMaxListed);
        list = fmt::format("{}defined: {}, and {} more",
                           closest.empty() ? "" : fmt::format("did you mean '{}'? ", closest),
                           fmt::join(names, ", "), defined.size() - kMaxListed);
      }
      problems_.Add(ref.pos, ref.path,
                    fmt::format("unknown {} '{}' ({})", KindName(ref.kind), ref.id, list));
    }
  }

  // Exact ids only: a rule or audience naming "sev1" would silently never match in the engine.
  void CheckSevLevels() {
    std::vector<std::string> levels = SevLevels(org_);
    for (const PendingSev& ref : sev_refs_) {
      if (std::find(levels.begin(), levels.end(), ref.id) != levels.end()) continue;
      std::string hint;
      for (const std::string& level : levels) {
        if (EqualsIgnoreCase(level, ref.id)) {
          hint = fmt::format("did you mean '{}'? levels are case-sensitive; ", level);
        }
      }
      problems_.Add(ref.pos, ref.path,
                    fmt::format("unknown SEV level '{}' ({}use one of {})", ref.id, hint,
                                fmt::join(levels, ", ")));
    }
  }

  // depends_on must form a DAG; each back edge found by a depth-first search is one cycle.
  void CheckDependencyCycles() {
    std::map<std::string, std::vector<const DependencyEdge*>> out;
    for (const DependencyEdge& e : deps_) out[e.from].push_back(&e);
    enum class Color { kWhite, kGray, kBlack };
    std::map<std::string, Color> color;
    std::vector<std::string> stack;
    auto visit = [&](auto& self, const std::string& node) -> void {
      color[node] = Color::kGray;
      stack.push_back(node);
      for (const DependencyEdge* e : out[node]) {
        Color c = color[e->to];
        if (c == Color::kGray) {
          auto begin = std::find(stack.begin(), stack.end(), e->to);
          std::vector<std::string> cycle(begin, stack.end());
          cycle.push_back(e->to);
          problems_.Add(e->pos, e->path,
                        fmt::format("dependency cycle {} (remove one of these depends_on entries)",
                                    fmt::join(cycle, " -> ")));
        } else if (c == Color::kWhite && out.contains(e->to)) {
          self(self, e->to);
        }
      }
      stack.pop_back();
      color[node] = Color::kBlack;
    };
    for (const Service& s : org_.services) {
      if (color[s.id] == Color::kWhite) visit(visit, s.id);
    }
  }

  Problems& problems_;
  Org org_;
  std::array<std::map<std::string, Position>, static_cast<size_t>(Kind::kCount)> defined_;
  std::map<std::string, Position> integration_keys_;
  std::map<std::string, Position> window_ids_;
  std::map<std::string, Position> silence_ids_;
  std::map<std::string, Position> role_ids_;
  std::map<std::string, Position> rule_ids_;
  std::map<std::string, Position> audience_ids_;
  std::map<std::string, Position> webhook_ids_;
  std::vector<PendingRef> refs_;
  std::vector<PendingSev> sev_refs_;
  std::vector<DependencyEdge> deps_;
};

template <typename T>
const T* FindById(const std::vector<T>& items, std::string_view id) {
  for (const T& item : items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

}  // namespace

std::string_view ToString(ContactMethodType t) { return NameOf(kContactMethodTypes, t); }
std::optional<ContactMethodType> ParseContactMethodType(std::string_view s) {
  return ValueOf(kContactMethodTypes, s);
}
std::string_view ToString(RotationType t) { return NameOf(kRotationTypes, t); }
std::string_view ToString(TargetType t) { return NameOf(kTargetTypes, t); }
std::string_view ToString(MatchOp op) { return NameOf(kMatchOps, op); }

const User* FindUser(const Org& org, std::string_view id) { return FindById(org.users, id); }
const Team* FindTeam(const Org& org, std::string_view id) { return FindById(org.teams, id); }
const Schedule* FindSchedule(const Org& org, std::string_view id) {
  return FindById(org.schedules, id);
}
const EscalationPolicy* FindEscalationPolicy(const Org& org, std::string_view id) {
  return FindById(org.escalation_policies, id);
}
const Service* FindService(const Org& org, std::string_view id) {
  return FindById(org.services, id);
}

const std::vector<std::string>& WebhookEventNames() {
  static const std::vector<std::string> kNames = {
      "incident.triggered", "incident.acknowledged", "incident.mitigated",      "incident.resolved",
      "incident.reopened",  "incident.updated",      "status_update_published",
  };
  return kNames;
}

std::vector<std::string> SevLevels(const Org& org) {
  if (org.severities.empty()) return core::DefaultSevLevels();
  std::vector<std::string> levels;
  for (const SeverityLevel& level : org.severities) levels.push_back(level.id);
  return levels;
}

const SeverityLevel* FindSeverity(const Org& org, std::string_view id) {
  return FindById(org.severities, id);
}

const Audience* FindAudience(const Org& org, std::string_view id) {
  return FindById(org.audiences, id);
}

std::string KnownIds(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 20; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > 20) out += ", ...";
  return out.empty() ? "none defined" : out;
}

Settings SettingsOf(const Org& org) { return org.settings.value_or(Settings{}); }

PostmortemPolicy DefaultPostmortemPolicy(const std::vector<std::string>& sev_levels) {
  PostmortemPolicy p;
  for (size_t i = 0; i < sev_levels.size() && i < 2; ++i)
    p.required_severities.push_back(sev_levels[i]);
  p.sections = {
      {"what_happened", "What happened",
       "The story in plain words: what users saw, what responders saw, and how it ended."},
      {"contributing_factors", "Contributing factors",
       "The conditions that together made this possible. Systems and circumstances, not people."},
      {"what_went_well", "What went well", "What helped: detection, tools, people, runbooks."},
      {"where_we_got_lucky", "Where we got lucky",
       "What could have made it worse and did not, this time."},
      {"what_we_will_change", "What we will change",
       "The changes that make a repeat less likely or less harmful; each one an action item."},
  };
  p.contributing_factors = {"deploy",   "config_change", "capacity",   "dependency",
                            "data",     "migration",     "monitoring", "process",
                            "hardware", "network",       "security",   "third_party"};
  return p;
}

PostmortemPolicy PostmortemPolicyOf(const Org& org) {
  if (org.postmortems) return *org.postmortems;
  return DefaultPostmortemPolicy(SevLevels(org));
}

ActionItemPolicy ActionItemPolicyOf(const Org& org) {
  return org.action_items.value_or(ActionItemPolicy{});
}

const std::vector<IncidentRole>& BuiltinIncidentRoles() {
  static const std::vector<IncidentRole> kRoles = {
      {"commander", "Commander", "Leads the response and makes the decisions"},
      {"communications_lead", "Communications lead",
       "Writes the status updates for every audience"},
      {"scribe", "Scribe", "Keeps the timeline and notes"},
  };
  return kRoles;
}

std::vector<IncidentRole> AllIncidentRoles(const Org& org) {
  std::vector<IncidentRole> roles = BuiltinIncidentRoles();
  roles.insert(roles.end(), org.incident_roles.begin(), org.incident_roles.end());
  return roles;
}

const IncidentRole* FindIncidentRole(const std::vector<IncidentRole>& roles, std::string_view id) {
  return FindById(roles, id);
}

const Service* FindServiceByIntegrationKey(const Org& org, std::string_view key) {
  for (const Service& s : org.services) {
    for (const Integration& i : s.integrations) {
      if (i.key == key) return &s;
    }
  }
  return nullptr;
}

IntegrationIndex IndexIntegrations(const Org& org) {
  IntegrationIndex index;
  for (const Service& s : org.services) {
    for (const Integration& i : s.integrations) index.emplace(i.key, i);
  }
  return index;
}

Result<Org> ParseOrg(std::string_view yaml_text, std::string_view filename) {
  Problems problems{std::string(filename)};
  YAML::Node document;
  // yaml-cpp reports syntax errors by throwing; this is the adapter. Not YAML::LoadAll, which
  // never returns on some malformed input (internal::ScanDocuments).
  try {
    std::string text(yaml_text);
    internal::StreamShape shape = internal::ScanDocuments(text);
    if (shape.stuck_at) {
      problems.Add(internal::PositionOf(*shape.stuck_at), "",
                   "YAML syntax error: cannot read past this point (a stray ',', ']' or '}'?)");
      return std::unexpected(problems.ToStatus());
    }
    if (shape.second_document) {
      problems.Add(internal::PositionOf(*shape.second_document), "",
                   "only one YAML document is allowed; remove the second '---'");
    }
    document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    problems.Add(internal::PositionOf(e.mark), "", fmt::format("YAML syntax error: {}", e.msg));
    return std::unexpected(problems.ToStatus());
  }
  Org org;
  try {
    OrgParser parser(problems);
    org = parser.Parse(document);
  } catch (const YAML::Exception& e) {
    problems.Add(internal::PositionOf(e.mark), "", fmt::format("cannot read YAML: {}", e.msg));
  }
  if (!problems.empty()) return std::unexpected(problems.ToStatus());
  return org;
}

Result<Org> LoadOrgFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::unexpected(NotFound(fmt::format("org file '{}' does not exist", path)));
  }
  if (ec) {
    return std::unexpected(
        InvalidArgument(fmt::format("cannot read org file '{}': {}", path, ec.message())));
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return std::unexpected(InvalidArgument(
        fmt::format("'{}' is a directory; pass the path of an org.yaml file", path)));
  }
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return std::unexpected(InvalidArgument(fmt::format(
        "org file '{}' is {} bytes; the limit is {} bytes", path, size, kMaxFileBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(
        InvalidArgument(fmt::format("cannot open org file '{}': {}", path, std::strerror(errno))));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return std::unexpected(InvalidArgument(fmt::format("cannot read org file '{}'", path)));
  }
  return ParseOrg(text.str(), path);
}

}  // namespace houston::config
