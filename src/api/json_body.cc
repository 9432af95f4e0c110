#include "api/json_body.h"

#include <fmt/format.h>

#include "core/incident.h"
#include "core/time_util.h"

namespace houston::api {

namespace json = boost::json;

Result<JsonBody> JsonBody::Parse(std::string_view text, bool allow_empty) {
  JsonBody b;
  if (allow_empty && text.find_first_not_of(" \t\r\n") == std::string_view::npos) return b;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) {
    return std::unexpected(InvalidArgument("request body is not valid JSON: " + ec.message()));
  }
  if (!v.is_object()) return std::unexpected(InvalidArgument("request body must be a JSON object"));
  b.obj_ = std::move(v.as_object());
  return b;
}

bool JsonBody::Has(std::string_view key) {
  seen_.insert(std::string(key));
  return obj_.contains(key);
}

const json::value* JsonBody::Get(std::string_view key) {
  seen_.insert(std::string(key));
  return obj_.if_contains(key);
}

bool JsonBody::IsNull(std::string_view key) {
  const json::value* v = Get(key);
  return v && v->is_null();
}

void JsonBody::Problem(std::string p) { problems_.push_back(std::move(p)); }

std::optional<std::string> JsonBody::String(std::string_view key, bool required, size_t max_len,
                                            bool allow_empty) {
  const json::value* v = Get(key);
  if (!v || v->is_null()) {
    if (required) Problem(fmt::format("'{}' is missing", key));
    return std::nullopt;
  }
  if (!v->is_string()) {
    Problem(fmt::format("'{}' must be a string", key));
    return std::nullopt;
  }
  std::string s(v->as_string());
  if (s.size() > max_len) {
    Problem(fmt::format("'{}' is longer than {} bytes", key, max_len));
    return std::nullopt;
  }
  if (!allow_empty && s.find_first_not_of(" \t\r\n") == std::string::npos) {
    Problem(fmt::format("'{}' must not be empty", key));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> JsonBody::StringOrNumber(std::string_view key) {
  const json::value* v = Get(key);
  if (v && v->is_int64()) return std::to_string(v->as_int64());
  return String(key);
}

std::optional<std::vector<std::string>> JsonBody::StringList(std::string_view key, size_t max_items,
                                                             size_t max_len) {
  const json::value* v = Get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) {
    Problem(fmt::format("'{}' must be a list of strings", key));
    return std::nullopt;
  }
  if (v->as_array().size() > max_items) {
    Problem(fmt::format("'{}' lists more than {} items", key, max_items));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const auto& e = v->as_array()[i];
    if (!e.is_string() || e.as_string().empty() || e.as_string().size() > max_len) {
      Problem(
          fmt::format("'{}[{}]' must be a non-empty string of at most {} bytes", key, i, max_len));
      return std::nullopt;
    }
    out.emplace_back(e.as_string());
  }
  return out;
}

std::optional<bool> JsonBody::Bool(std::string_view key) {
  const json::value* v = Get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_bool()) {
    Problem(fmt::format("'{}' must be true or false", key));
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<int64_t> JsonBody::Int(std::string_view key, int64_t min, int64_t max) {
  const json::value* v = Get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
    Problem(fmt::format("'{}' must be an integer from {} to {}", key, min, max));
    return std::nullopt;
  }
  return v->as_int64();
}

std::optional<std::optional<TimePoint>> JsonBody::TimeOrNull(std::string_view key) {
  const json::value* v = Get(key);
  if (!v) return std::nullopt;
  if (v->is_null()) return std::optional<TimePoint>();
  if (!v->is_string()) {
    Problem(fmt::format("'{}' must be an RFC 3339 time or null", key));
    return std::nullopt;
  }
  auto t = ParseRfc3339(std::string_view(v->as_string()));
  if (!t) {
    Problem(fmt::format("'{}': {}", key, t.error().message()));
    return std::nullopt;
  }
  return std::optional<TimePoint>(*t);
}

const json::object* JsonBody::Object(std::string_view key) {
  const json::value* v = Get(key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) {
    Problem(fmt::format("'{}' must be an object", key));
    return nullptr;
  }
  return &v->as_object();
}

Status JsonBody::Finish() {
  for (const auto& [k, v] : obj_) {
    if (!seen_.contains(std::string(k))) Problem(fmt::format("unknown field '{}'", k));
  }
  if (problems_.empty()) return OkStatus();
  return InvalidArgument(problems_.size() == 1 ? problems_.front() : "invalid request body",
                         problems_);
}

bool OrgCheck::User(const std::string& id, std::string_view field) {
  if (!org_ || config::FindUser(*org_, id)) return true;
  std::vector<std::string> ids;
  for (const auto& u : org_->users) ids.push_back(u.id);
  body_.Problem(fmt::format("'{}': unknown user '{}' (users: {})", field, id, KnownIds(ids)));
  return false;
}

bool OrgCheck::Team(const std::string& id, std::string_view field) {
  if (!org_ || config::FindTeam(*org_, id)) return true;
  std::vector<std::string> ids;
  for (const auto& t : org_->teams) ids.push_back(t.id);
  body_.Problem(fmt::format("'{}': unknown team '{}' (teams: {})", field, id, KnownIds(ids)));
  return false;
}

bool OrgCheck::Service(const std::string& id, std::string_view field) {
  if (!org_ || config::FindService(*org_, id)) return true;
  std::vector<std::string> ids;
  for (const auto& s : org_->services) ids.push_back(s.id);
  body_.Problem(fmt::format("'{}': unknown service '{}' (services: {})", field, id, KnownIds(ids)));
  return false;
}

bool OrgCheck::Role(const std::string& id, std::string_view field) {
  auto roles = org_ ? config::AllIncidentRoles(*org_) : config::BuiltinIncidentRoles();
  if (config::FindIncidentRole(roles, id)) return true;
  std::vector<std::string> ids;
  for (const auto& r : roles) ids.push_back(r.id);
  body_.Problem(fmt::format("'{}': unknown role '{}' (roles: {})", field, id, KnownIds(ids)));
  return false;
}

std::optional<std::string> OrgCheck::Sev(const std::string& input, std::string_view field) {
  auto sev = core::NormalizeSev(input, Levels());
  if (!sev) {
    body_.Problem(fmt::format("'{}': {}", field, sev.error().message()));
    return std::nullopt;
  }
  return *sev;
}

std::vector<std::string> OrgCheck::Levels() const {
  return org_ ? config::SevLevels(*org_) : core::DefaultSevLevels();
}

}  // namespace houston::api
