// Loading Opsgenie objects: from a backup folder (opsgenie-configuration-backup's layout) or from
// the REST API v2. Both produce the same OpsgenieData.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "migration/http_get.h"
#include "migration/internal/json_fields.h"
#include "migration/opsgenie.h"

namespace houston::migration {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// Parses `text` as one JSON value; the error names `origin` and the line and column.
Result<json::value> ParseJson(std::string_view text, const std::string& origin) {
  json::stream_parser p;
  boost::system::error_code ec;
  size_t used = p.write(text.data(), text.size(), ec);
  if (!ec) p.finish(ec);
  if (ec) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < std::min(used, text.size()); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return std::unexpected(InvalidArgument(fmt::format(
        "{}: not valid JSON: {} (line {}, column {})", origin, ec.message(), line, col)));
  }
  return p.release();
}

Result<json::object> ParseObject(std::string_view text, const std::string& origin) {
  HOUSTON_ASSIGN_OR_RETURN(json::value v, ParseJson(text, origin));
  if (!v.is_object()) {
    return std::unexpected(InvalidArgument(fmt::format("{}: expected a JSON object", origin)));
  }
  return std::move(v.get_object());
}

// The objects of `list` (an array of objects); InvalidArgument naming `origin` otherwise.
Result<std::vector<json::object>> Objects(const json::array* list, const std::string& origin,
                                          std::string_view what) {
  std::vector<json::object> out;
  if (!list) return out;
  for (const auto& v : *list) {
    if (!v.is_object()) {
      return std::unexpected(
          InvalidArgument(fmt::format("{}: {} must be a list of objects", origin, what)));
    }
    out.push_back(v.get_object());
  }
  return out;
}

// ---- backup folder ----------------------------------------------------------------------------

Result<std::string> ReadSmallFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    return std::unexpected(
        InvalidArgument(fmt::format("{}: cannot read: {}", path.string(), ec.message())));
  }
  if (size > (64u << 20)) {
    return std::unexpected(
        InvalidArgument(fmt::format("{}: larger than 64 MiB; not a backup file", path.string())));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(InvalidArgument(fmt::format("{}: cannot open", path.string())));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The *.json files directly in `dir`, sorted by name; empty when `dir` does not exist.
std::vector<fs::path> JsonFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> SubDirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<json::object> ReadObjectFile(const fs::path& path) {
  HOUSTON_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return ParseObject(text, path.string());
}

Status NotShape(const fs::path& path, std::string_view expected) {
  return InvalidArgument(
      fmt::format("{}: not an Opsgenie backup file: expected {}", path.string(), expected));
}

// What each backup folder houston does not import holds.
const std::map<std::string, std::string, std::less<>>& SkippedFolders() {
  static const auto* kFolders = new std::map<std::string, std::string, std::less<>>{
      {"forwardings", "notification forwarding rules (recreate as schedule overrides)"},
      {"policies", "alert policies (houston: routing and silence rules in org.yaml)"},
      {"policiesV2", "alert policies (houston: routing and silence rules in org.yaml)"},
      {"orders", "the order of alert policies"},
      {"customUserRoles", "custom user roles (houston roles: admin, responder, viewer)"},
      {"maintenance", "maintenance windows (houston: maintenance_windows in org.yaml)"},
      {"deprecatedPolicies", "old alert policies"},
      {"deprecatedPolicyOrders", "the order of old alert policies"},
      {"groups", "user groups (houston: teams)"},
      {"teamRoutingRules", "team routing rules in the tool's old layout"},
  };
  return *kFolders;
}

}  // namespace

Result<OpsgenieData> LoadOpsgenieBackup(const std::string& dir) {
  std::error_code ec;
  fs::path root = dir;
  if (fs::is_directory(root / "OpsGenieBackups", ec)) root /= "OpsGenieBackups";
  if (!fs::is_directory(root, ec)) {
    return std::unexpected(NotFound(fmt::format("{}: no such folder", dir)));
  }
  if (!fs::is_directory(root / "users", ec)) {
    return std::unexpected(NotFound(fmt::format(
        "{}: no such folder: expected the OpsGenieBackups folder written by Opsgenie's backup "
        "tool (opsgenie-configuration-backup), or the folder that contains it",
        (root / "users").string())));
  }
  OpsgenieData data;
  auto origin = [](const fs::path& p) { return p.string(); };

  std::map<std::string, size_t> user_by_username;
  for (const auto& path : JsonFiles(root / "users")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    OpsgenieUser u;
    u.user.origin = origin(path);
    if (const json::object* user = ObjAt(o, "user")) {
      u.user.value = *user;
      HOUSTON_ASSIGN_OR_RETURN(u.notification_rules, Objects(ArrAt(o, "notificationRuleList"),
                                                             origin(path), "notificationRuleList"));
    } else if (o.contains("username")) {
      u.user.value = std::move(o);
    } else {
      return std::unexpected(NotShape(path, "{\"user\": {...}, \"notificationRuleList\": [...]}"));
    }
    if (Str(u.user.value, "username").empty()) {
      return std::unexpected(
          InvalidArgument(fmt::format("{}: user without `username`", origin(path))));
    }
    user_by_username[Str(u.user.value, "username")] = data.users.size();
    data.users.push_back(std::move(u));
  }
  // The old layout keeps notification rules apart: notifications/<username>/*.json.
  for (const auto& sub : SubDirs(root / "notifications")) {
    auto it = user_by_username.find(sub.filename().string());
    for (const auto& path : JsonFiles(sub)) {
      if (it == user_by_username.end()) {
        return std::unexpected(InvalidArgument(
            fmt::format("{}: no user '{}' in users/", origin(path), sub.filename().string())));
      }
      HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
      if (!o.contains("actionType")) {
        return std::unexpected(NotShape(path, "a notification rule (with `actionType`)"));
      }
      data.users[it->second].notification_rules.push_back(std::move(o));
    }
  }

  for (const auto& path : JsonFiles(root / "teams")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    OpsgenieTeam t;
    t.team.origin = origin(path);
    if (const json::object* team = ObjAt(o, "team")) {
      t.team.value = *team;
      HOUSTON_ASSIGN_OR_RETURN(
          t.routing_rules, Objects(ArrAt(o, "teamRoutingRules"), origin(path), "teamRoutingRules"));
    } else if (o.contains("name") && (o.contains("members") || o.contains("id"))) {
      t.team.value = std::move(o);
    } else {
      return std::unexpected(NotShape(path, "{\"team\": {...}, \"teamRoutingRules\": [...]}"));
    }
    data.teams.push_back(std::move(t));
  }

  std::map<std::string, size_t> schedule_by_name;
  for (const auto& path : JsonFiles(root / "schedules")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    OpsgenieSchedule s;
    s.schedule.origin = origin(path);
    if (const json::object* sched = ObjAt(o, "schedule")) {
      s.schedule.value = *sched;
      HOUSTON_ASSIGN_OR_RETURN(auto overrides, Objects(ArrAt(o, "scheduleOverrideList"),
                                                       origin(path), "scheduleOverrideList"));
      for (auto& ov : overrides) s.overrides.push_back({origin(path), std::move(ov)});
    } else if (o.contains("rotations") || o.contains("timezone")) {
      s.schedule.value = std::move(o);
    } else {
      return std::unexpected(
          NotShape(path, "{\"schedule\": {...}, \"scheduleOverrideList\": [...]}"));
    }
    schedule_by_name[Str(s.schedule.value, "name")] = data.schedules.size();
    data.schedules.push_back(std::move(s));
  }
  // Overrides saved apart: scheduleOverrides/<schedule name>/*.json.
  for (const auto& sub : SubDirs(root / "scheduleOverrides")) {
    auto it = schedule_by_name.find(sub.filename().string());
    for (const auto& path : JsonFiles(sub)) {
      if (it == schedule_by_name.end()) {
        return std::unexpected(InvalidArgument(fmt::format(
            "{}: no schedule named '{}' in schedules/", origin(path), sub.filename().string())));
      }
      HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
      if (!o.contains("startDate") || !o.contains("user")) {
        return std::unexpected(NotShape(path, "a schedule override (user, startDate, endDate)"));
      }
      data.schedules[it->second].overrides.push_back({origin(path), std::move(o)});
    }
  }

  for (const auto& path : JsonFiles(root / "escalations")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    if (!o.contains("rules") && !o.contains("name")) {
      return std::unexpected(NotShape(path, "an escalation (name, rules)"));
    }
    data.escalations.push_back({origin(path), std::move(o)});
  }

  for (const auto& path : JsonFiles(root / "integrations")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    OpsgenieIntegration in;
    in.integration.origin = origin(path);
    if (const json::object* integ = ObjAt(o, "integration")) {
      in.integration.value = *integ;
      if (const json::object* actions = ObjAt(o, "integrationActions")) {
        for (const auto& [k, v] : *actions) {
          if (v.is_array() && !v.get_array().empty()) in.has_actions = true;
        }
      }
    } else if (o.contains("type")) {
      in.integration.value = std::move(o);
    } else {
      return std::unexpected(
          NotShape(path, "{\"integration\": {...}, \"integrationActions\": {...}}"));
    }
    data.integrations.push_back(std::move(in));
  }

  for (const auto& path : JsonFiles(root / "heartbeats")) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, ReadObjectFile(path));
    if (!o.contains("name") || !o.contains("interval")) {
      return std::unexpected(NotShape(path, "a heartbeat (name, interval, intervalUnit)"));
    }
    data.heartbeats.push_back({origin(path), std::move(o)});
  }

  static const std::set<std::string, std::less<>> kRead = {
      "users",       "notifications", "teams",     "schedules", "scheduleOverrides",
      "escalations", "integrations",  "heartbeats"};
  for (const auto& sub : SubDirs(root)) {
    std::string name = sub.filename().string();
    if (kRead.count(name) || name.starts_with(".")) continue;
    size_t n = 0;
    std::error_code it_ec;
    for (auto it = fs::recursive_directory_iterator(sub, it_ec);
         !it_ec && it != fs::recursive_directory_iterator(); it.increment(it_ec)) {
      if (it->is_regular_file()) ++n;
    }
    if (n == 0) continue;
    auto known = SkippedFolders().find(name);
    data.skipped.push_back(
        {ReportEntry::Kind::kDropped, fmt::format("backup folder '{}'", name), "",
         fmt::format("{} file(s) of {}: not imported", n,
                     known == SkippedFolders().end() ? "an unknown kind" : known->second)});
  }
  return data;
}

// ---- REST API ---------------------------------------------------------------------------------

namespace {

std::string PathEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

class ApiReader {
 public:
  ApiReader(const OpsgenieGet& get, std::string base) : get_(get), base_(std::move(base)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  // GET base + path_and_query; the answer's JSON object.
  Result<json::object> Get(const std::string& path_and_query) {
    return GetUrl(base_ + path_and_query);
  }

  // The `data` object of GET path.
  Result<json::object> Data(const std::string& path) {
    HOUSTON_ASSIGN_OR_RETURN(json::object o, Get(path));
    const json::object* d = ObjAt(o, "data");
    if (!d) return std::unexpected(BadShape(path, "no `data` object"));
    return *d;
  }

  // Every element of a list endpoint's `data` array, following `paging.next`.
  Result<std::vector<json::object>> List(const std::string& path) {
    std::vector<json::object> out;
    std::string url = base_ + path;
    for (int page = 0; page < 10'000; ++page) {
      HOUSTON_ASSIGN_OR_RETURN(json::object o, GetUrl(url));
      HOUSTON_ASSIGN_OR_RETURN(auto items, Objects(ArrAt(o, "data"), "GET " + url, "data"));
      if (!ArrAt(o, "data")) return std::unexpected(BadShape(url, "no `data` list"));
      for (auto& i : items) out.push_back(std::move(i));
      const json::object* paging = ObjAt(o, "paging");
      std::string next = paging ? Str(*paging, "next") : "";
      if (next.empty() || items.empty()) return out;
      // Send the key only to the API it was given for: keep the path and query of `next`.
      if (!next.starts_with(base_ + "/")) {
        size_t v2 = next.find("/v2/");
        if (v2 == std::string::npos) return std::unexpected(BadShape(url, "odd paging.next"));
        next = base_ + next.substr(v2);
      }
      url = next;
    }
    return std::unexpected(BadShape(path, "more than 10000 pages"));
  }

  std::string Origin(const std::string& path) const { return "GET " + base_ + path; }

 private:
  Status BadShape(const std::string& url, std::string_view why) const {
    return InvalidArgument(fmt::format("GET {}: unexpected answer: {}",
                                       url.starts_with("http") ? url : base_ + url, why));
  }

  Result<json::object> GetUrl(const std::string& url) {
    HOUSTON_ASSIGN_OR_RETURN(std::string body, get_(url));
    return ParseObject(body, "GET " + url);
  }

  const OpsgenieGet& get_;
  std::string base_;
};

}  // namespace

OpsgenieGet OpsgenieHttpGet(const std::string& api_key, const HttpGetOptions& options) {
  return [api_key, options](const std::string& url) -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(
        HttpAnswer answer,
        HttpGet(url, {"Authorization: GenieKey " + api_key, "Accept: application/json"}, options));
    if (answer.status >= 200 && answer.status < 300) return std::move(answer.body);
    std::string message;
    if (auto v = ParseJson(answer.body, url); v && v->is_object()) {
      message = Str(v->get_object(), "message");
    }
    if (message.empty()) message = answer.body.substr(0, 200);
    if (answer.status == 401 || answer.status == 403) {
      return std::unexpected(Unauthenticated(fmt::format(
          "GET {}: HTTP {}: the API key was refused ({}); use the key of an API integration with "
          "read and configuration access",
          url, answer.status, message)));
    }
    return std::unexpected(
        Unavailable(fmt::format("GET {}: HTTP {}: {}", url, answer.status, message)));
  };
}

Result<OpsgenieData> LoadOpsgenieApi(const OpsgenieGet& get, const std::string& base_url) {
  ApiReader api(get, base_url);
  OpsgenieData data;

  HOUSTON_ASSIGN_OR_RETURN(auto users, api.List("/v2/users?limit=100&offset=0"));
  for (const auto& meta : users) {
    std::string id = PathEscape(Str(meta, "id"));
    std::string path = "/v2/users/" + id + "?expand=contact";
    OpsgenieUser u;
    u.user.origin = api.Origin(path);
    HOUSTON_ASSIGN_OR_RETURN(u.user.value, api.Data(path));
    HOUSTON_ASSIGN_OR_RETURN(auto rules, api.List("/v2/users/" + id + "/notification-rules"));
    for (const auto& r : rules) {
      HOUSTON_ASSIGN_OR_RETURN(
          json::object full,
          api.Data("/v2/users/" + id + "/notification-rules/" + PathEscape(Str(r, "id"))));
      u.notification_rules.push_back(std::move(full));
    }
    data.users.push_back(std::move(u));
  }

  HOUSTON_ASSIGN_OR_RETURN(auto teams, api.List("/v2/teams"));
  for (const auto& meta : teams) {
    std::string id = PathEscape(Str(meta, "id"));
    OpsgenieTeam t;
    t.team.origin = api.Origin("/v2/teams/" + id);
    HOUSTON_ASSIGN_OR_RETURN(t.team.value, api.Data("/v2/teams/" + id));
    HOUSTON_ASSIGN_OR_RETURN(t.routing_rules, api.List("/v2/teams/" + id + "/routing-rules"));
    data.teams.push_back(std::move(t));
  }

  HOUSTON_ASSIGN_OR_RETURN(auto schedules, api.List("/v2/schedules?expand=rotation"));
  for (auto& sched : schedules) {
    std::string id = PathEscape(Str(sched, "id"));
    OpsgenieSchedule s;
    s.schedule.origin = api.Origin("/v2/schedules?expand=rotation");
    HOUSTON_ASSIGN_OR_RETURN(auto overrides, api.List("/v2/schedules/" + id + "/overrides"));
    for (const auto& ov : overrides) {
      // The list may leave out `rotations`; the single override has them.
      std::string path = "/v2/schedules/" + id + "/overrides/" + PathEscape(Str(ov, "alias"));
      HOUSTON_ASSIGN_OR_RETURN(json::object full, api.Data(path));
      s.overrides.push_back({api.Origin(path), std::move(full)});
    }
    s.schedule.value = std::move(sched);
    data.schedules.push_back(std::move(s));
  }

  HOUSTON_ASSIGN_OR_RETURN(auto escalations, api.List("/v2/escalations"));
  for (auto& e : escalations)
    data.escalations.push_back({api.Origin("/v2/escalations"), std::move(e)});

  HOUSTON_ASSIGN_OR_RETURN(auto integrations, api.List("/v2/integrations"));
  for (const auto& meta : integrations) {
    std::string path = "/v2/integrations/" + PathEscape(Str(meta, "id"));
    OpsgenieIntegration in;
    in.integration.origin = api.Origin(path);
    HOUSTON_ASSIGN_OR_RETURN(in.integration.value, api.Data(path));
    // The full object may leave out what the list said about the owner team.
    if (!in.integration.value.contains("ownerTeam") && !Str(meta, "teamId").empty()) {
      in.integration.value["teamId"] = Str(meta, "teamId");
    }
    if (!in.integration.value.contains("id")) in.integration.value["id"] = Str(meta, "id");
    data.integrations.push_back(std::move(in));
  }

  HOUSTON_ASSIGN_OR_RETURN(json::object hb, api.Data("/v2/heartbeats"));
  HOUSTON_ASSIGN_OR_RETURN(
      auto heartbeats,
      Objects(ArrAt(hb, "heartbeats"), api.Origin("/v2/heartbeats"), "data.heartbeats"));
  for (auto& h : heartbeats)
    data.heartbeats.push_back({api.Origin("/v2/heartbeats"), std::move(h)});
  return data;
}

}  // namespace houston::migration
