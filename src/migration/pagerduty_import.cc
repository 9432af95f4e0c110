// The PagerDuty importer (see pagerduty_import.h and docs/migrate-from-pagerduty.md).

#include "migration/pagerduty_import.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/schedule.h"
#include "core/time_util.h"
#include "migration/http_get.h"
#include "migration/internal/json_fields.h"

namespace houston::migration {
namespace json = boost::json;

namespace {

constexpr uintmax_t kMaxFileBytes = uintmax_t{256} * 1024 * 1024;
constexpr int kPageLimit = 100;
constexpr int kMaxPages = 10'000;
constexpr int kMaxMinutes = 525'600;
constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kSecondsPerWeek = 604'800;
constexpr int kMinutesPerDay = 1440;
constexpr int kMinutesPerWeek = 10'080;

// The list documents and the key of their array.
constexpr std::array<std::string_view, 6> kCollections{
    "users", "teams", "schedules", "escalation_policies", "services", "overrides"};

// "users" for "users", "overrides" for "schedules/P1/overrides"; "" for a single object.
std::string_view CollectionOf(std::string_view name) {
  size_t slash = name.rfind('/');
  std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  if (std::find(kCollections.begin(), kCollections.end(), last) == kCollections.end()) return "";
  if (last == "schedules" && slash != std::string_view::npos) return "";
  return last;
}

// Parses `text` from `origin` (a file or URL, for messages) as a JSON object.
Result<json::object> ParseObject(std::string_view text, const std::string& origin) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    return std::unexpected(
        InvalidArgument(fmt::format("{} is not valid JSON: {}", origin, ec.message())));
  }
  if (!v.is_object()) {
    return std::unexpected(InvalidArgument(
        fmt::format("{} is not a PagerDuty API answer (expected a JSON object)", origin)));
  }
  return std::move(v.get_object());
}

// Appends the `collection` array of `page` (from `origin`) to `all`; returns `more`.
Result<bool> AppendPage(json::object& page, std::string_view collection, const std::string& origin,
                        json::array& all) {
  json::value* list = page.if_contains(collection);
  if (list == nullptr || !list->is_array()) {
    return std::unexpected(InvalidArgument(
        fmt::format("{} has no \"{}\" list; save the answer of the PagerDuty list endpoint "
                    "unchanged",
                    origin, collection)));
  }
  for (json::value& v : list->get_array()) all.push_back(std::move(v));
  const json::value* more = page.if_contains("more");
  return more != nullptr && more->is_bool() && more->get_bool() && !list->get_array().empty();
}

std::string ListText(std::string_view collection, json::array all) {
  json::object out;
  out[collection] = std::move(all);
  return json::serialize(out);
}

Result<std::string> ReadTextFile(const std::filesystem::path& path, const std::string& name) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::unexpected(NotFound(
        fmt::format("PagerDuty file '{}' is missing: save the answer of GET /{} there (see "
                    "docs/migrate-from-pagerduty.md)",
                    path.string(), name)));
  }
  if (ec || status.type() != std::filesystem::file_type::regular) {
    return std::unexpected(
        InvalidArgument(fmt::format("PagerDuty file '{}' is not a readable file", path.string())));
  }
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return std::unexpected(InvalidArgument(fmt::format(
        "PagerDuty file '{}' is {} bytes; the limit is {}", path.string(), size, kMaxFileBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return std::unexpected(
        InvalidArgument(fmt::format("cannot read PagerDuty file '{}'", path.string())));
  }
  return text.str();
}

// Percent-encodes a query value.
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<json::object> ApiGet(const std::string& url, const std::vector<std::string>& headers,
                            const HttpGetOptions& options) {
  HOUSTON_ASSIGN_OR_RETURN(HttpAnswer answer, HttpGet(url, headers, options));
  std::string excerpt = answer.body.substr(0, 300);
  if (answer.status == 401 || answer.status == 403) {
    return std::unexpected(Unauthenticated(fmt::format(
        "PagerDuty answered {} to GET {}: the API key was not accepted (use a REST API key from "
        "Integrations > API Access Keys that can read users, schedules, escalation policies and "
        "services): {}",
        answer.status, url, excerpt)));
  }
  if (answer.status == 404) {
    return std::unexpected(
        NotFound(fmt::format("PagerDuty answered 404 to GET {}: {}", url, excerpt)));
  }
  if (answer.status < 200 || answer.status > 299) {
    return std::unexpected(Unavailable(
        fmt::format("PagerDuty answered {} to GET {}: {}", answer.status, url, excerpt)));
  }
  return ParseObject(answer.body, "the answer to GET " + url);
}

// ---- reading JSON fields --------------------------------------------------------------------

std::optional<int64_t> Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return std::nullopt;
}

const json::array& Arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// The `id` of the reference at `key` ({"id": ..., "type": "..._reference"}), or "".
std::string RefId(const json::object& o, std::string_view key) {
  const json::object* ref = Obj(o, key);
  return ref == nullptr ? "" : Str(*ref, "id");
}

bool IsNull(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr || v->is_null();
}

// "user_reference" -> "user".
std::string BaseType(std::string type) {
  constexpr std::string_view kRef = "_reference";
  if (type.ends_with(kRef)) type.resize(type.size() - kRef.size());
  return type;
}

bool ValidPagerDutyId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
  });
}

Result<std::vector<json::object>> Objects(const FetchJson& fetch, const std::string& name) {
  HOUSTON_ASSIGN_OR_RETURN(std::string text, fetch(name));
  HOUSTON_ASSIGN_OR_RETURN(json::object doc, ParseObject(text, name));
  std::string_view collection = CollectionOf(name);
  const json::value* list = doc.if_contains(collection);
  if (list == nullptr || !list->is_array()) {
    return std::unexpected(InvalidArgument(
        fmt::format("PagerDuty document '{}' has no \"{}\" list", name, collection)));
  }
  std::vector<json::object> out;
  for (const json::value& v : list->get_array()) {
    if (!v.is_object()) {
      return std::unexpected(InvalidArgument(fmt::format(
          "PagerDuty document '{}': every entry of \"{}\" must be an object", name, collection)));
    }
    out.push_back(v.get_object());
  }
  return out;
}

// ---- ids, names, checks ---------------------------------------------------------------------

// A houston id from free text: lower case, runs of other characters as '-', at most 60
// characters (room for a "-2" suffix), starting and ending with a letter or digit.
std::string Sanitize(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 && c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if ((ch == '_' || ch == '.') && !out.empty()) {
      out += ch;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.size() > 60) out.resize(60);
  while (!out.empty() && std::isalnum(static_cast<unsigned char>(out.back())) == 0) out.pop_back();
  return out;
}

// A unique id in `used` from the first candidate that sanitizes to something.
std::string UniqueId(std::set<std::string>& used, std::initializer_list<std::string_view> texts) {
  std::string base;
  for (std::string_view t : texts) {
    base = Sanitize(t);
    if (!base.empty()) break;
  }
  if (base.empty()) base = "imported";
  std::string id = base;
  for (int n = 2; used.contains(id); ++n) id = fmt::format("{}-{}", base, n);
  used.insert(id);
  return id;
}

bool ValidEmail(std::string_view s) {
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view domain = s.substr(at + 1);
  size_t dot = domain.rfind('.');
  bool space = std::any_of(s.begin(), s.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0';
  });
  return !space && dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

bool ValidIntegrationKey(std::string_view s) {
  return s.size() >= 8 && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' ||
                  c == '.';
         });
}

std::string Describe(std::string_view kind, const json::object& o) {
  std::string name = Str(o, "name");
  if (name.empty()) name = Str(o, "summary");
  std::string id = Str(o, "id");
  if (name.empty()) return fmt::format("{} {}", kind, id);
  return fmt::format("{} '{}' ({})", kind, name, id);
}

// "09:00:00" -> seconds since midnight.
std::optional<int> ParseTimeOfDay(std::string_view s) {
  int h = 0;
  int m = 0;
  int sec = 0;
  auto digits = [&](size_t pos, int& out) {
    if (pos + 2 > s.size() || std::isdigit(static_cast<unsigned char>(s[pos])) == 0 ||
        std::isdigit(static_cast<unsigned char>(s[pos + 1])) == 0) {
      return false;
    }
    out = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
    return true;
  };
  if (!digits(0, h) || s.size() < 5 || s[2] != ':' || !digits(3, m)) return std::nullopt;
  if (s.size() >= 8 && (s[5] != ':' || !digits(6, sec))) return std::nullopt;
  if (s.size() != 5 && s.size() != 8) return std::nullopt;
  if (h > 23 || m > 59 || sec > 59) return std::nullopt;
  return h * 3600 + m * 60 + sec;
}

std::string Minutes(int64_t minutes) {
  if (minutes % 60 == 0 && minutes >= 60) return fmt::format("{} h", minutes / 60);
  return fmt::format("{} min", minutes);
}

// ---- the mapper -----------------------------------------------------------------------------

class Mapper {
 public:
  Mapper(const PagerDutyData& data, TimePoint now) : data_(data), now_(now) {}

  ImportResult Run() {
    for (const json::object& u : data_.users) MapUser(u);
    for (const json::object& t : data_.teams) MapTeam(t);
    for (const json::object& s : data_.schedules) MapSchedule(s);
    for (const json::object& p : data_.escalation_policies) MapPolicy(p);
    AckTimeouts();
    for (const json::object& s : data_.services) MapService(s);
    config::Org& org = result_.org;
    result_.counts["users"] = static_cast<int>(org.users.size());
    result_.counts["teams"] = static_cast<int>(org.teams.size());
    result_.counts["schedules"] = static_cast<int>(org.schedules.size());
    result_.counts["escalation_policies"] = static_cast<int>(org.escalation_policies.size());
    result_.counts["services"] = static_cast<int>(org.services.size());
    int integrations = 0;
    for (const config::Service& s : org.services) {
      integrations += static_cast<int>(s.integrations.size());
    }
    result_.counts["integrations"] = integrations;
    return std::move(result_);
  }

 private:
  void Report(ReportEntry::Kind kind, std::string object, std::string field, std::string reason) {
    result_.report.push_back({kind, std::move(object), std::move(field), std::move(reason)});
  }
  void Dropped(std::string object, std::string field, std::string reason) {
    Report(ReportEntry::Kind::kDropped, std::move(object), std::move(field), std::move(reason));
  }
  void Changed(std::string object, std::string field, std::string reason) {
    Report(ReportEntry::Kind::kChanged, std::move(object), std::move(field), std::move(reason));
  }
  void Manual(std::string object, std::string field, std::string reason) {
    Report(ReportEntry::Kind::kManualStep, std::move(object), std::move(field), std::move(reason));
  }

  std::optional<TimePoint> Time(const json::object& o, std::string_view key) {
    std::string s = Str(o, key);
    if (s.empty()) return std::nullopt;
    Result<TimePoint> t = ParseRfc3339(s);
    if (!t) return std::nullopt;
    return *t;
  }

  // ---- users ----

  void MapUser(const json::object& u) {
    std::string what = Describe("user", u);
    std::string pd_id = Str(u, "id");
    std::string email = Str(u, "email");
    std::string name = Str(u, "name");
    config::User user;
    user.id = UniqueId(user_ids_, {email.substr(0, email.find('@')), name, pd_id});
    user.name = name.empty() ? user.id : name;
    if (!email.empty()) {
      if (ValidEmail(email)) {
        user.email = email;
      } else {
        Dropped(what, "email", fmt::format("'{}' is not an e-mail address houston accepts", email));
      }
    }
    if (std::string tz = Str(u, "time_zone"); !tz.empty()) {
      if (core::LocateTimeZone(tz)) {
        user.timezone = tz;
      } else {
        Changed(
            what, "time_zone",
            fmt::format("'{}' is not a tz database name; UTC is used (set timezone by hand)", tz));
      }
    }
    MapRole(what, Str(u, "role"), user);
    if (std::string title = Str(u, "job_title"); !title.empty()) {
      Dropped(what, "job_title", fmt::format("houston users have no job title ('{}')", title));
    }
    if (std::string description = Str(u, "description"); !description.empty()) {
      Dropped(what, "description", "houston users have no description");
    }

    // Contact methods, then the rules that use them.
    std::map<std::string, std::string> methods;   // PagerDuty id -> houston id
    std::map<std::string, std::string> unmapped;  // PagerDuty id -> what it was, for rules
    std::map<std::string, int> per_type;
    for (const json::value& v : Arr(u, "contact_methods")) {
      if (!v.is_object()) continue;
      const json::object& cm = v.get_object();
      std::string type = Str(cm, "type");
      std::string cm_id = Str(cm, "id");
      std::string address = Str(cm, "address");
      std::string label = Str(cm, "label");
      std::string field =
          fmt::format("contact method '{}' ({})", label.empty() ? cm_id : label, BaseType(type));
      if (type.ends_with("_reference")) {
        Manual(what, field,
               "saved without its address (the users were read without "
               "include[]=contact_methods); add it by hand or import again with the include");
        unmapped[cm_id] = field;
        continue;
      }
      if (type == "email_contact_method") {
        if (!ValidEmail(address)) {
          Dropped(what, field, fmt::format("'{}' is not an e-mail address", address));
          unmapped[cm_id] = field;
          continue;
        }
        int n = ++per_type["email"];
        config::ContactMethod method;
        method.id = n == 1 ? "email" : fmt::format("email-{}", n);
        method.type = config::ContactMethodType::kEmail;
        method.address = address;
        methods[cm_id] = method.id;
        user.contact_methods.push_back(std::move(method));
        if (const json::value* s = cm.if_contains("send_short_email");
            s != nullptr && s->is_bool() && s->get_bool()) {
          Changed(what, field + ".send_short_email",
                  "houston sends one e-mail format (subject and body with the incident)");
        }
        continue;
      }
      unmapped[cm_id] = field;
      std::string number = address;
      if (auto cc = Int(cm, "country_code")) number = fmt::format("+{} {}", *cc, address);
      if (type == "phone_contact_method" || type == "sms_contact_method" ||
          type == "whatsapp_contact_method") {
        Manual(what, field,
               fmt::format("houston has no built-in phone, SMS or WhatsApp: add an sms_provider "
                           "contact method posting to your SMS/voice provider's webhook URL for "
                           "{}, and a notification rule for it (see docs/config.md, "
                           "contact_methods)",
                           number));
      } else if (type == "push_notification_contact_method") {
        Dropped(what, field,
                "houston has no mobile app for push notifications; use a webhook to a push "
                "service (e.g. ntfy, Pushover), Slack or e-mail");
      } else {
        Dropped(what, field, fmt::format("unknown contact method type '{}'", type));
      }
    }

    for (const json::value& v : Arr(u, "notification_rules")) {
      if (!v.is_object()) continue;
      const json::object& rule = v.get_object();
      std::string urgency = Str(rule, "urgency");
      int64_t delay =
          std::clamp<int64_t>(Int(rule, "start_delay_in_minutes").value_or(0), 0, kMaxMinutes);
      std::string cm_id = RefId(rule, "contact_method");
      const json::object* cm_ref = Obj(rule, "contact_method");
      std::string cm_type = cm_ref != nullptr ? BaseType(Str(*cm_ref, "type")) : "";
      if (cm_type.ends_with("_contact_method")) cm_type.resize(cm_type.size() - 15);
      std::string field = fmt::format("notification rule ({}, {} urgency, after {})", cm_type,
                                      urgency.empty() ? "high" : urgency, Minutes(delay));
      if (urgency == "low") {
        Dropped(what, field,
                "houston has no low urgency: every page follows the high-urgency rules; use a "
                "longer delay or a quieter contact method if that is what you want");
        continue;
      }
      auto it = methods.find(cm_id);
      if (it == methods.end()) {
        auto un = unmapped.find(cm_id);
        Dropped(what, field,
                un != unmapped.end()
                    ? fmt::format("its {} is not imported (see that entry)", un->second)
                    : std::string("it names a contact method the user does not have"));
        continue;
      }
      user.notification_rules.push_back({it->second, static_cast<int>(delay)});
    }
    std::stable_sort(
        user.notification_rules.begin(), user.notification_rules.end(),
        [](const auto& a, const auto& b) { return a.delay_minutes < b.delay_minutes; });
    if (user.contact_methods.empty()) {
      Manual(what, "contact_methods",
             "no contact method houston can use was imported: add a webhook, email, slack or "
             "sms_provider contact method, or this user is never notified");
    } else if (user.notification_rules.empty()) {
      Changed(what, "notification_rules",
              "no high-urgency rule uses an imported contact method; houston notifies every "
              "contact method at once");
      for (const config::ContactMethod& c : user.contact_methods) {
        user.notification_rules.push_back({c.id, 0});
      }
    }
    for (const json::value& v : Arr(u, "teams")) {
      if (v.is_object()) team_members_[Str(v.get_object(), "id")].push_back(user.id);
    }
    users_[pd_id] = user.id;
    result_.org.users.push_back(std::move(user));
  }

  void MapRole(const std::string& what, const std::string& role, config::User& user) {
    if (role == "owner" || role == "admin" || role == "account_owner") {
      user.role = core::Role::kAdmin;
    } else if (role == "user" || role.empty()) {
      user.role = core::Role::kResponder;
    } else if (role == "limited_user") {
      user.role = core::Role::kResponder;
      Changed(what, "role",
              "limited_user is a responder in houston (responders may act on every incident)");
    } else if (role == "observer" || role == "read_only_user" || role == "read_only_limited_user" ||
               role == "restricted_access") {
      user.role = core::Role::kViewer;
      if (role != "observer" && role != "read_only_user") {
        Changed(what, "role",
                fmt::format("{} is a viewer in houston (viewers may read everything)", role));
      }
    } else {
      user.role = core::Role::kResponder;
      Changed(what, "role", fmt::format("unknown role '{}'; imported as responder", role));
    }
  }

  // ---- teams ----

  void MapTeam(const json::object& t) {
    std::string what = Describe("team", t);
    std::string pd_id = Str(t, "id");
    config::Team team;
    team.id = UniqueId(team_ids_, {Str(t, "name"), pd_id});
    team.name = Str(t, "name").empty() ? team.id : Str(t, "name");
    for (const std::string& member : team_members_[pd_id]) {
      if (std::find(team.members.begin(), team.members.end(), member) == team.members.end()) {
        team.members.push_back(member);
      }
    }
    if (!Str(t, "description").empty()) {
      Dropped(what, "description", "houston teams have no description");
    }
    if (!IsNull(t, "parent")) {
      Dropped(what, "parent",
              fmt::format("houston teams are not nested (parent team {})", RefId(t, "parent")));
    }
    teams_[pd_id] = team.id;
    result_.org.teams.push_back(std::move(team));
  }

  // ---- schedules ----

  // PagerDuty restrictions as houston windows (wall-clock, in the schedule's zone).
  std::vector<config::DailyWindow> MapRestrictions(const std::string& what,
                                                   const json::array& restrictions) {
    // (start, end) -> days; the days of one entry are distinct.
    std::vector<std::tuple<int, int, std::vector<int>>> windows;
    auto add = [&](int day, int start, int end) {
      for (auto& [s, e, days] : windows) {
        if (s == start && e == end && std::find(days.begin(), days.end(), day) == days.end()) {
          days.push_back(day);
          return;
        }
      }
      windows.push_back({start, end, {day}});
    };
    for (const json::value& v : restrictions) {
      if (!v.is_object()) continue;
      const json::object& r = v.get_object();
      std::string type = Str(r, "type");
      std::string tod = Str(r, "start_time_of_day");
      std::optional<int> start_s = ParseTimeOfDay(tod);
      std::optional<int64_t> duration_s = Int(r, "duration_seconds");
      std::string field = fmt::format("restriction ({} from {})", type, tod);
      if (!start_s || !duration_s || *duration_s <= 0) {
        Dropped(what, field,
                "not a valid restriction (start_time_of_day HH:MM:SS and a positive "
                "duration_seconds); the layer is imported without it");
        continue;
      }
      int start = *start_s / 60;
      int64_t duration = *duration_s / 60;
      if (duration == 0) {
        Dropped(what, field, "shorter than a minute; the layer is imported without it");
        continue;
      }
      if (*start_s % 60 != 0 || *duration_s % 60 != 0) {
        Changed(what, field, "houston restrictions are whole minutes; seconds are rounded down");
      }
      if (type == "daily_restriction") {
        if (duration >= kMinutesPerDay) {
          if (duration > kMinutesPerDay) Changed(what, field, "longer than a day: covers all days");
          for (int d = 0; d < 7; ++d) add(d, 0, kMinutesPerDay);
          continue;
        }
        int end = static_cast<int>((start + duration) % kMinutesPerDay);
        if (end == 0) end = kMinutesPerDay;
        for (int d = 0; d < 7; ++d) add(d, start, end);
      } else if (type == "weekly_restriction") {
        std::optional<int64_t> day = Int(r, "start_day_of_week");
        if (!day || *day < 1 || *day > 7) {
          Dropped(what, field,
                  "start_day_of_week must be 1 (Monday) to 7 (Sunday); the layer is "
                  "imported without this restriction");
          continue;
        }
        if (duration > kMinutesPerWeek) {
          Changed(what, field, "longer than a week: covers the whole week");
          duration = kMinutesPerWeek;
        }
        // Split at local midnights into per-day windows; together they are exactly the span.
        int64_t pos = (*day - 1) * kMinutesPerDay + start;
        int64_t end = pos + duration;
        while (pos < end) {
          int64_t day_start = pos / kMinutesPerDay * kMinutesPerDay;
          int64_t piece_end = std::min(end, day_start + kMinutesPerDay);
          add(static_cast<int>((pos / kMinutesPerDay) % 7), static_cast<int>(pos - day_start),
              static_cast<int>(piece_end - day_start));
          pos = piece_end;
        }
      } else {
        Dropped(what, field,
                fmt::format("unknown restriction type '{}'; the layer is imported "
                            "without it",
                            type));
      }
    }
    std::vector<config::DailyWindow> out;
    for (auto& [start, end, days] : windows) {
      std::sort(days.begin(), days.end());
      config::DailyWindow w;
      for (int d : days) w.days.push_back(date::weekday(static_cast<unsigned>(d + 1)));
      w.start_minute = start;
      w.end_minute = end;
      out.push_back(std::move(w));
    }
    return out;
  }

  // One PagerDuty layer as houston layers (one, or two when a future start falls inside a turn).
  // Appends to `out`.
  void MapLayer(const std::string& schedule_what, const json::object& l, size_t position,
                const date::time_zone* zone, std::vector<config::ScheduleLayer>& out) {
    std::string name = Str(l, "name");
    if (name.empty()) name = fmt::format("layer-{}", position + 1);
    std::string what = fmt::format("{} layer '{}'", schedule_what, name);
    std::optional<TimePoint> start = Time(l, "start");
    std::optional<TimePoint> virtual_start = Time(l, "rotation_virtual_start");
    std::optional<TimePoint> end = Time(l, "end");
    std::optional<int64_t> turn = Int(l, "rotation_turn_length_seconds");
    if (!start || !virtual_start || !turn || *turn <= 0) {
      Dropped(what, "",
              "missing or invalid start, rotation_virtual_start or rotation_turn_length_seconds");
      return;
    }
    if (!IsNull(l, "end") && !end) {
      Dropped(what, "end", fmt::format("'{}' is not a timestamp", Str(l, "end")));
      return;
    }
    if (end && *end <= now_) {
      Dropped(what, "",
              fmt::format("the layer ended at {}, before the import: it puts nobody on call any "
                          "more",
                          FormatRfc3339(*end)));
      return;
    }
    if (end && *end <= *start) {
      Dropped(what, "", "the layer ends before it starts");
      return;
    }

    // Rotation: whole weeks, days or hours of wall-clock time.
    config::Rotation rotation;
    int64_t turn_s = *turn;
    if (turn_s % kSecondsPerWeek == 0) {
      rotation = {config::RotationType::kWeekly, static_cast<int>(turn_s / kSecondsPerWeek)};
    } else if (turn_s % kSecondsPerDay == 0) {
      rotation = {config::RotationType::kDaily, static_cast<int>(turn_s / kSecondsPerDay)};
    } else {
      int64_t hours = std::max<int64_t>(1, (turn_s + kSecondsPerHour / 2) / kSecondsPerHour);
      if (turn_s % kSecondsPerHour != 0) {
        Changed(what, "rotation_turn_length_seconds",
                fmt::format("turns of {} s are not whole hours; houston rotates every {} h", turn_s,
                            hours));
      }
      rotation = {config::RotationType::kHourly, static_cast<int>(hours)};
    }

    std::vector<std::string> users;
    for (const json::value& v : Arr(l, "users")) {
      if (!v.is_object()) continue;
      std::string pd_user = RefId(v.get_object(), "user");
      auto it = users_.find(pd_user);
      if (it == users_.end()) {
        Changed(what, "users",
                fmt::format("user {} is not among the imported users (deleted?): their turns "
                            "have nobody on call (an earlier layer shows through)",
                            pd_user));
        users.emplace_back();
      } else {
        users.push_back(it->second);
      }
    }
    if (std::none_of(users.begin(), users.end(), [](const auto& u) { return !u.empty(); })) {
      Dropped(what, "", "no imported user is in the rotation");
      return;
    }
    std::vector<config::DailyWindow> restrictions = MapRestrictions(what, Arr(l, "restrictions"));
    if (restrictions.empty() && !Arr(l, "restrictions").empty()) {
      Dropped(what, "",
              "none of its restrictions could be imported, and without them the layer would put "
              "someone on call all the time; add it by hand");
      return;
    }

    // Handoffs happen every turn from the virtual start, in wall-clock time of the schedule's
    // zone. houston's rotation begins at its start, so the start is moved to the last handoff at
    // or before the layer's start, with the rotation order turned to match.
    using std::chrono::seconds;
    auto to_local = [&](TimePoint t) { return zone->to_local(std::chrono::floor<seconds>(t)); };
    int64_t unit = rotation.type == config::RotationType::kHourly  ? kSecondsPerHour
                   : rotation.type == config::RotationType::kDaily ? kSecondsPerDay
                                                                   : kSecondsPerWeek;
    int64_t period = unit * rotation.length;
    date::local_seconds v_local = to_local(*virtual_start);
    date::local_seconds s_local = to_local(*start);
    int64_t diff = (s_local - v_local).count();
    int64_t k = diff >= 0 ? diff / period : -((-diff + period - 1) / period);
    date::local_seconds anchor = v_local + seconds(k * period);
    int64_t n = static_cast<int64_t>(users.size());
    auto rotated = [&](int64_t first) {
      std::vector<std::string> r;
      for (int64_t i = 0; i < n; ++i)
        r.push_back(users[static_cast<size_t>(((first + i) % n + n) % n)]);
      return r;
    };
    std::optional<date::local_seconds> end_local;
    if (end) end_local = to_local(*end);

    config::ScheduleLayer layer;
    layer.name = name;
    layer.rotation = rotation;
    layer.restrictions = restrictions;
    if (end_local && *end_local <= s_local) {
      // Only in a repeated (fall-back) hour can a later instant have an earlier local time.
      Dropped(what, "end",
              "the layer starts and ends within the hour repeated by a DST change; houston "
              "layers start and end at local times, which cannot express it");
      return;
    }
    if (anchor == s_local || *start <= now_) {
      // Aligned, or started already (only the time before the import would differ).
      layer.start_local = anchor;
      layer.users = rotated(k);
      layer.end_local = end_local;
      out.push_back(std::move(layer));
      return;
    }
    // A future start inside a turn: the first, partial turn is a layer of its own until the
    // next handoff, then the rotation continues.
    date::local_seconds next = anchor + seconds(period);
    config::ScheduleLayer first = layer;
    first.name = name + " (first turn)";
    first.start_local = s_local;
    first.users = {users[static_cast<size_t>(((k % n) + n) % n)]};
    first.end_local = end_local && *end_local < next ? *end_local : next;
    if (first.users[0].empty()) {
      // An empty turn: nobody until the next handoff, which is what "no layer" means.
    } else {
      out.push_back(std::move(first));
    }
    if (end_local && *end_local <= next) return;
    layer.start_local = next;
    layer.users = rotated(k + 1);
    layer.end_local = end_local;
    out.push_back(std::move(layer));
  }

  void MapSchedule(const json::object& s) {
    std::string what = Describe("schedule", s);
    std::string pd_id = Str(s, "id");
    config::Schedule schedule;
    schedule.id = UniqueId(schedule_ids_, {Str(s, "name"), pd_id});
    schedule.name = Str(s, "name").empty() ? schedule.id : Str(s, "name");
    std::string tz = Str(s, "time_zone");
    const date::time_zone* zone = nullptr;
    if (auto z = core::LocateTimeZone(tz.empty() ? "UTC" : tz)) {
      zone = *z;
      schedule.timezone = tz.empty() ? "UTC" : tz;
    } else {
      Changed(what, "time_zone",
              fmt::format("'{}' is not a tz database name; UTC is used, so handoffs and "
                          "restrictions move: set timezone by hand",
                          tz));
      zone = *core::LocateTimeZone("UTC");
    }
    // The API lists the layers with the one that wins first (the highest layer); houston lets
    // later layers win, so they are read in reverse.
    const json::array& layers = Arr(s, "schedule_layers");
    for (size_t i = layers.size(); i-- > 0;) {
      if (!layers[i].is_object()) continue;
      MapLayer(what, layers[i].get_object(), layers.size() - 1 - i, zone, schedule.layers);
    }
    if (!Str(s, "description").empty()) {
      Dropped(what, "description", "houston schedules have no description");
    }
    if (!Arr(s, "teams").empty()) {
      Dropped(what, "teams", "houston schedules belong to no team (their policies' services do)");
    }
    int ended = 0;
    auto found = data_.overrides.find(pd_id);
    if (found != data_.overrides.end()) {
      for (const json::object& o : found->second) {
        std::optional<TimePoint> start = Time(o, "start");
        std::optional<TimePoint> end = Time(o, "end");
        std::string pd_user = RefId(o, "user");
        std::string field =
            fmt::format("override {} ({} to {})", Str(o, "id"), Str(o, "start"), Str(o, "end"));
        if (!start || !end || *end <= *start) {
          Dropped(what, field, "invalid start or end");
          continue;
        }
        if (*end <= now_) {
          ++ended;
          continue;
        }
        auto it = users_.find(pd_user);
        if (it == users_.end()) {
          Dropped(what, field, fmt::format("user {} is not among the imported users", pd_user));
          continue;
        }
        schedule.overrides.push_back({it->second, *start, *end});
      }
    }
    if (ended > 0) {
      Dropped(what, "overrides",
              fmt::format("{} override(s) ended before the import and are left out", ended));
    }
    if (schedule.layers.empty()) {
      Dropped(what, "",
              "no layer could be imported (see the layers above), so the schedule is left out; "
              "escalation rules that target it lose that target");
      return;
    }
    schedules_[pd_id] = schedule.id;
    result_.org.schedules.push_back(std::move(schedule));
  }

  // ---- escalation policies ----

  void MapPolicy(const json::object& p) {
    std::string what = Describe("escalation policy", p);
    std::string pd_id = Str(p, "id");
    struct Rule {
      int64_t delay = 0;  // escalation_delay_in_minutes: until the next rule
      config::EscalationStep step;
    };
    std::vector<Rule> rules;
    const json::array& pd_rules = Arr(p, "escalation_rules");
    for (size_t i = 0; i < pd_rules.size(); ++i) {
      if (!pd_rules[i].is_object()) continue;
      const json::object& r = pd_rules[i].get_object();
      std::string rule_what = fmt::format("rule {}", i + 1);
      Rule rule;
      rule.delay =
          std::clamp<int64_t>(Int(r, "escalation_delay_in_minutes").value_or(0), 0, kMaxMinutes);
      for (const json::value& tv : Arr(r, "targets")) {
        if (!tv.is_object()) continue;
        const json::object& t = tv.get_object();
        std::string type = BaseType(Str(t, "type"));
        std::string id = Str(t, "id");
        std::string target_what = fmt::format("{} target {} {}", rule_what, type, id);
        if (type == "user") {
          if (auto it = users_.find(id); it != users_.end()) {
            rule.step.targets.push_back({config::TargetType::kUser, it->second});
          } else {
            Dropped(what, target_what, "the user is not among the imported users");
          }
        } else if (type == "schedule") {
          if (auto it = schedules_.find(id); it != schedules_.end()) {
            rule.step.targets.push_back({config::TargetType::kSchedule, it->second});
          } else {
            Dropped(what, target_what, "the schedule was not imported (see its entry)");
          }
        } else {
          Dropped(what, target_what,
                  fmt::format("houston escalates to users, schedules and teams; '{}' targets "
                              "are not imported",
                              type));
        }
      }
      std::string strategy;
      if (const json::value* s = r.if_contains("escalation_rule_assignment_strategy")) {
        if (s->is_string()) strategy = std::string(s->get_string());
        if (s->is_object()) strategy = Str(s->get_object(), "type");
      }
      rule.step.round_robin = strategy == "round_robin";
      if (rule.step.targets.empty()) {
        Dropped(what, rule_what,
                "no target of this rule was imported, so the rule is left out (its delay is kept "
                "between the rules around it)");
      }
      rules.push_back(std::move(rule));
    }

    // houston delays count from the previous step; PagerDuty's from this rule to the next. A
    // left-out rule's waits add up into the next kept step's delay.
    std::vector<config::EscalationStep> steps;
    int64_t wait = 0;          // since the last kept step (or the start)
    int64_t leading_wait = 0;  // before the first kept step
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!rules[i].step.targets.empty()) {
        config::EscalationStep step = rules[i].step;
        step.delay_minutes = static_cast<int>(std::min<int64_t>(wait, kMaxMinutes));
        if (steps.empty()) leading_wait = wait;
        steps.push_back(std::move(step));
        wait = 0;
      }
      wait += rules[i].delay;
    }
    if (steps.empty()) {
      Dropped(what, "",
              "no rule has a target houston could import, so the policy is left out; "
              "services using it are left out too");
      return;
    }
    config::EscalationPolicy policy;
    policy.id = UniqueId(policy_ids_, {Str(p, "name"), pd_id});
    policy.name = Str(p, "name").empty() ? policy.id : Str(p, "name");
    int64_t loops = std::clamp<int64_t>(Int(p, "num_loops").value_or(0), 0, 1000);
    // After the last kept step PagerDuty waits the rest of the rules' delays, then starts again.
    int64_t pd_gap = wait + leading_wait;
    int64_t houston_gap = steps.back().delay_minutes > 0    ? steps.back().delay_minutes
                          : steps.front().delay_minutes > 0 ? steps.front().delay_minutes
                                                            : 5;
    if (loops == 0 || pd_gap == houston_gap) {
      policy.repeat = static_cast<int>(loops);
      policy.steps = std::move(steps);
    } else {
      // houston repeats a policy after the last step's own delay; PagerDuty after the last
      // rule's. Writing the loops out keeps every page at PagerDuty's time.
      for (int64_t loop = 0; loop <= loops; ++loop) {
        for (size_t i = 0; i < steps.size(); ++i) {
          config::EscalationStep step = steps[i];
          if (loop > 0 && i == 0)
            step.delay_minutes = static_cast<int>(std::min<int64_t>(pd_gap, kMaxMinutes));
          policy.steps.push_back(std::move(step));
        }
      }
      Changed(what, "num_loops",
              fmt::format("the {} loop(s) are written out as {} copies of the steps (repeat: 0): "
                          "houston starts a repeat after the last step's delay ({}), PagerDuty "
                          "after the last rule's ({}); every page keeps PagerDuty's timing",
                          loops, loops + 1, Minutes(houston_gap), Minutes(pd_gap)));
    }
    if (!Str(p, "description").empty()) {
      Dropped(what, "description", "houston escalation policies have no description");
    }
    if (!Arr(p, "teams").empty()) {
      Dropped(what, "teams", "houston escalation policies belong to no team");
    }
    if (std::string handoff = Str(p, "on_call_handoff_notifications"); !handoff.empty()) {
      Dropped(what, "on_call_handoff_notifications",
              fmt::format("'{}': houston does not notify people when their on-call shift starts "
                          "or ends",
                          handoff));
    }
    policies_[pd_id] = result_.org.escalation_policies.size();
    result_.org.escalation_policies.push_back(std::move(policy));
  }

  // acknowledgement_timeout is per service in PagerDuty and per policy in houston: set it on a
  // policy when every service using the policy has the same one.
  void AckTimeouts() {
    std::map<std::string, std::set<std::optional<int64_t>>> per_policy;
    for (const json::object& s : data_.services) {
      std::string policy = RefId(s, "escalation_policy");
      if (!policies_.contains(policy) || Str(s, "status") == "disabled") continue;
      std::optional<int64_t> timeout = Int(s, "acknowledgement_timeout");
      if (timeout && *timeout <= 0) timeout.reset();
      per_policy[policy].insert(timeout);
    }
    for (const auto& [pd_policy, timeouts] : per_policy) {
      if (timeouts.size() != 1 || !*timeouts.begin()) continue;
      int64_t seconds = **timeouts.begin();
      config::EscalationPolicy& policy = result_.org.escalation_policies[policies_[pd_policy]];
      policy.ack_timeout_minutes =
          static_cast<int>(std::clamp<int64_t>((seconds + 59) / 60, 1, kMaxMinutes));
      ack_timeout_set_.insert(pd_policy);
      if (seconds % 60 != 0) {
        Changed(fmt::format("escalation policy '{}'", policy.name), "ack_timeout_minutes",
                fmt::format("the services' acknowledgement_timeout of {} s is rounded up to {} "
                            "min",
                            seconds, *policy.ack_timeout_minutes));
      }
    }
  }

  // ---- services ----

  void MapIntegration(const std::string& what, const json::object& in, config::Service& service) {
    std::string type = Str(in, "type");
    std::string name = Str(in, "name");
    if (name.empty()) name = Str(in, "summary");
    std::string field = fmt::format("integration '{}' ({})", name, BaseType(type));
    std::string key = Str(in, "integration_key");
    if (type.find("email") != std::string::npos) {
      Dropped(what, field,
              fmt::format("houston has no e-mail intake{}: send these alerts through the Events "
                          "API v2, Alertmanager, Grafana or a generic webhook integration",
                          Str(in, "integration_email").empty()
                              ? ""
                              : fmt::format(" ({})", Str(in, "integration_email"))));
      return;
    }
    if (key.empty()) {
      if (type.ends_with("_reference")) {
        Manual(what, field,
               "saved without its integration_key (the services were read without "
               "include[]=integrations): add it by hand as an events_v2 integration with the "
               "key from PagerDuty, or import again with the include");
      } else {
        Dropped(what, field,
                "it has no integration_key, so there is nothing senders use that houston could "
                "keep; add an integration of the right type by hand");
      }
      return;
    }
    if (!ValidIntegrationKey(key)) {
      Dropped(what, field,
              "its integration_key is not 8 to 128 letters, digits, '_', '-' or '.'; add an "
              "events_v2 integration with a new key and give it to the senders");
      return;
    }
    if (!integration_keys_.insert(key).second) {
      Dropped(what, field, "its integration_key is already used by another imported integration");
      return;
    }
    config::Integration integration;
    integration.type = core::IntegrationType::kEventsV2;
    integration.key = key;
    integration.name = name.empty() ? "events_v2" : name;
    integration.service_id = service.id;
    service.integrations.push_back(std::move(integration));
    if (type == "events_api_v2_inbound_integration") return;
    if (type == "generic_events_api_inbound_integration") {
      Manual(what, field,
             "an Events API v1 integration: houston answers the Events API v2 only. Imported as "
             "events_v2 with the same key; senders must post v2 events to houston's /v2/enqueue");
      return;
    }
    Manual(what, field,
           fmt::format("a '{}' integration: imported as events_v2 with the same key. If the tool "
                       "posts to a PagerDuty endpoint other than the Events API v2, point it at "
                       "houston's /v2/enqueue, or use houston's alertmanager, grafana or generic "
                       "integration instead",
                       type));
  }

  // PagerDuty alert grouping -> houston grouping.
  void MapGrouping(const std::string& what, const json::object& s, config::Service& service) {
    const json::object* params = Obj(s, "alert_grouping_parameters");
    std::string type = params != nullptr ? Str(*params, "type") : "";
    const json::object* cfg = params != nullptr ? Obj(*params, "config") : nullptr;
    std::optional<int64_t> timeout = cfg != nullptr ? Int(*cfg, "timeout") : std::nullopt;
    if (type.empty()) {  // the older fields
      type = Str(s, "alert_grouping");
      timeout = Int(s, "alert_grouping_timeout");
    }
    if (type.empty()) return;
    if (type == "time") {
      int64_t window = timeout.value_or(0);
      if (window <= 0) window = 24 * 60;  // 0: until the incident resolves; houston's longest
      window = std::clamp<int64_t>(window, 1, kMinutesPerDay);
      service.grouping = config::Grouping{static_cast<int>(window), {}};
      Changed(what, "alert_grouping",
              fmt::format("time-based grouping: houston groups a new alert into the newest open "
                          "incident whose last alert came within {} (PagerDuty counts from the "
                          "incident's first alert; 0 = until it resolves, at most 24 h here)",
                          Minutes(window)));
      return;
    }
    if (type == "content_based" && cfg != nullptr) {
      std::vector<std::string> by;
      bool ok = Str(*cfg, "aggregate") != "any";
      for (const json::value& f : Arr(*cfg, "fields")) {
        if (!f.is_string()) continue;
        std::string field(f.get_string());
        constexpr std::string_view kCustom = "custom_details.";
        if (field == "summary" || field == "source" || field == "component" || field == "group" ||
            field == "class" || field == "severity") {
          by.push_back(field);
        } else if (field.starts_with(kCustom)) {
          by.push_back("details." + field.substr(kCustom.size()));
        } else {
          ok = false;
        }
      }
      int64_t window = Int(*cfg, "time_window").value_or(0);
      if (window <= 0) window = kMinutesPerDay;
      window = std::clamp<int64_t>(window, 1, kMinutesPerDay);
      if (ok) {
        service.grouping = config::Grouping{static_cast<int>(window), std::move(by)};
        Changed(what, "alert_grouping",
                fmt::format("content-based grouping on the same fields, within {} of the "
                            "incident's last alert",
                            Minutes(window)));
        return;
      }
    }
    Dropped(what, "alert_grouping",
            fmt::format("'{}' grouping has no houston equivalent; each alert opens its own "
                        "incident unless you add grouping (docs/config.md, grouping)",
                        type));
  }

  void MapService(const json::object& s) {
    std::string what = Describe("service", s);
    std::string status = Str(s, "status");
    if (status == "disabled") {
      Dropped(what, "",
              "disabled in PagerDuty; left out so that its keys page nobody (houston answers 400 "
              "to events with an unknown key). Add it by hand when you enable it");
      return;
    }
    std::string pd_policy = RefId(s, "escalation_policy");
    auto policy = policies_.find(pd_policy);
    if (policy == policies_.end()) {
      Dropped(what, "",
              fmt::format("its escalation policy {} was not imported (see its entry); a houston "
                          "service needs one",
                          pd_policy));
      return;
    }
    config::Service service;
    service.id = UniqueId(service_ids_, {Str(s, "name"), Str(s, "id")});
    service.name = Str(s, "name").empty() ? service.id : Str(s, "name");
    service.description = Str(s, "description");
    service.escalation_policy = result_.org.escalation_policies[policy->second].id;
    const json::array& teams = Arr(s, "teams");
    for (const json::value& tv : teams) {
      if (!tv.is_object()) continue;
      std::string pd_team = Str(tv.get_object(), "id");
      auto it = teams_.find(pd_team);
      if (it == teams_.end()) {
        Dropped(what, "teams", fmt::format("team {} was not imported", pd_team));
      } else if (service.team.empty()) {
        service.team = it->second;
      } else {
        Dropped(what, "teams",
                fmt::format("a houston service has one owning team; '{}' is kept, '{}' is not",
                            service.team, it->second));
      }
    }
    if (status == "maintenance") {
      Dropped(what, "status",
              "in maintenance in PagerDuty: add a maintenance window (docs/config.md, "
              "maintenance_windows) if it should stay quiet");
    }
    std::optional<int64_t> ack = Int(s, "acknowledgement_timeout");
    if (ack && *ack > 0 && !ack_timeout_set_.contains(pd_policy)) {
      Dropped(what, "acknowledgement_timeout",
              fmt::format("{} s: houston keeps the timeout on the escalation policy, and '{}' is "
                          "shared by services with different timeouts; copy the policy per "
                          "service and set ack_timeout_minutes on each",
                          *ack, service.escalation_policy));
    }
    if (auto resolve = Int(s, "auto_resolve_timeout"); resolve && *resolve > 0) {
      Dropped(what, "auto_resolve_timeout",
              fmt::format("{}: houston does not resolve incidents by themselves; they resolve "
                          "when their alerts do, or by hand",
                          Minutes(*resolve / 60)));
    }
    if (const json::object* rule = Obj(s, "incident_urgency_rule")) {
      std::string type = Str(*rule, "type");
      std::string urgency = Str(*rule, "urgency");
      if (!(type == "constant" && (urgency == "high" || urgency.empty())) && !type.empty()) {
        Changed(what, "incident_urgency_rule",
                fmt::format("'{}'{}: houston has no urgencies; every incident pages with the "
                            "users' rules",
                            type, urgency.empty() ? "" : fmt::format(" ({})", urgency)));
      }
    }
    if (!IsNull(s, "support_hours")) {
      Dropped(what, "support_hours",
              "houston has no support hours; incidents page at any time (a recurring maintenance "
              "window silences paging outside hours if that is what you want)");
    }
    if (!Arr(s, "scheduled_actions").empty()) {
      Dropped(what, "scheduled_actions", "houston has no scheduled urgency changes");
    }
    MapGrouping(what, s, service);
    for (const json::value& iv : Arr(s, "integrations")) {
      if (iv.is_object()) MapIntegration(what, iv.get_object(), service);
    }
    if (service.integrations.empty()) {
      Manual(what, "integrations",
             "no integration was imported: senders have no key for this service yet; add one "
             "(docs/config.md, integrations)");
    }
    result_.org.services.push_back(std::move(service));
  }

  const PagerDutyData& data_;
  TimePoint now_;
  ImportResult result_;
  std::set<std::string> user_ids_, team_ids_, schedule_ids_, policy_ids_, service_ids_;
  std::set<std::string> integration_keys_;
  std::map<std::string, std::string> users_, teams_, schedules_;  // PagerDuty id -> houston id
  std::map<std::string, size_t> policies_;  // PagerDuty id -> index in org.escalation_policies
  std::set<std::string> ack_timeout_set_;   // PagerDuty policy ids
  std::map<std::string, std::vector<std::string>> team_members_;  // PagerDuty team id -> users
};

}  // namespace

FetchJson PagerDutyDirSource(const std::string& dir) {
  return [dir](const std::string& name) -> Result<std::string> {
    std::filesystem::path base = std::filesystem::path(dir) / name;
    std::filesystem::path first = base;
    first += ".json";
    HOUSTON_ASSIGN_OR_RETURN(std::string text, ReadTextFile(first, name));
    std::string_view collection = CollectionOf(name);
    if (collection.empty()) {
      HOUSTON_ASSIGN_OR_RETURN(json::object doc, ParseObject(text, first.string()));
      return json::serialize(doc);
    }
    json::array all;
    std::filesystem::path path = first;
    for (int page = 1;; ++page) {
      if (page > 1) {
        path = base;
        path += fmt::format(".{}.json", page);
        HOUSTON_ASSIGN_OR_RETURN(text, ReadTextFile(path, fmt::format("{} (page {})", name, page)));
      }
      HOUSTON_ASSIGN_OR_RETURN(json::object doc, ParseObject(text, path.string()));
      HOUSTON_ASSIGN_OR_RETURN(bool more, AppendPage(doc, collection, path.string(), all));
      if (!more || page >= kMaxPages) break;
    }
    return ListText(collection, std::move(all));
  };
}

FetchJson PagerDutyApiSource(const std::string& api_url, const std::string& api_key, TimePoint now,
                             const HttpGetOptions& options) {
  std::string base = api_url;
  while (base.ends_with('/')) base.pop_back();
  std::vector<std::string> headers = {
      "Authorization: Token token=" + api_key,
      "Accept: application/vnd.pagerduty+json;version=2",
  };
  return [base, headers, now, options](const std::string& name) -> Result<std::string> {
    std::string query;
    if (name == "users") {
      query = "include%5B%5D=contact_methods&include%5B%5D=notification_rules";
    } else if (name == "services") {
      query = "include%5B%5D=integrations";
    } else if (name.ends_with("/overrides")) {
      query = fmt::format("since={}&until={}", UrlEncode(FormatRfc3339(now)),
                          UrlEncode(FormatRfc3339(now + std::chrono::days(365))));
    }
    std::string_view collection = CollectionOf(name);
    if (collection.empty()) {
      std::string url = fmt::format("{}/{}{}{}", base, name, query.empty() ? "" : "?", query);
      HOUSTON_ASSIGN_OR_RETURN(json::object doc, ApiGet(url, headers, options));
      return json::serialize(doc);
    }
    json::array all;
    for (int page = 0, offset = 0; page < kMaxPages; ++page) {
      std::string url = fmt::format("{}/{}?{}{}limit={}&offset={}", base, name, query,
                                    query.empty() ? "" : "&", kPageLimit, offset);
      HOUSTON_ASSIGN_OR_RETURN(json::object doc, ApiGet(url, headers, options));
      size_t before = all.size();
      HOUSTON_ASSIGN_OR_RETURN(bool more,
                               AppendPage(doc, collection, "the answer to GET " + url, all));
      if (!more) break;
      offset += static_cast<int>(all.size() - before);
    }
    return ListText(collection, std::move(all));
  };
}

Result<PagerDutyData> LoadPagerDuty(const FetchJson& fetch) {
  PagerDutyData data;
  HOUSTON_ASSIGN_OR_RETURN(data.users, Objects(fetch, "users"));
  HOUSTON_ASSIGN_OR_RETURN(data.teams, Objects(fetch, "teams"));
  HOUSTON_ASSIGN_OR_RETURN(std::vector<json::object> schedules, Objects(fetch, "schedules"));
  for (json::object& s : schedules) {
    std::string id = Str(s, "id");
    if (!ValidPagerDutyId(id)) {
      return std::unexpected(InvalidArgument(fmt::format(
          "PagerDuty document 'schedules': schedule id '{}' is not letters and digits", id)));
    }
    if (!s.contains("schedule_layers")) {
      std::string name = "schedules/" + id;
      HOUSTON_ASSIGN_OR_RETURN(std::string text, fetch(name));
      HOUSTON_ASSIGN_OR_RETURN(json::object doc, ParseObject(text, name));
      const json::object* full = Obj(doc, "schedule");
      if (full == nullptr) {
        return std::unexpected(InvalidArgument(
            fmt::format("PagerDuty document '{}' has no \"schedule\" object", name)));
      }
      s = *full;
    }
    HOUSTON_ASSIGN_OR_RETURN(data.overrides[id], Objects(fetch, "schedules/" + id + "/overrides"));
    data.schedules.push_back(std::move(s));
  }
  HOUSTON_ASSIGN_OR_RETURN(data.escalation_policies, Objects(fetch, "escalation_policies"));
  HOUSTON_ASSIGN_OR_RETURN(data.services, Objects(fetch, "services"));
  return data;
}

ImportResult MapPagerDuty(const PagerDutyData& data, TimePoint now) {
  return Mapper(data, now).Run();
}

}  // namespace houston::migration
