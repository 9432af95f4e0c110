#include "api/request.h"

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

namespace houston::api {

namespace bhttp = http::bhttp;
using http::HttpRequest;
using http::Response;

Paging PagingOf(const config::Org& org, std::string_view service) {
  Paging p;
  const auto* svc = config::FindService(org, service);
  if (!svc) return p;
  p.policy = svc->escalation_policy;
  const auto* policy = config::FindEscalationPolicy(org, svc->escalation_policy);
  if (policy && !policy->steps.empty()) {
    p.first_step_delay = std::chrono::minutes(policy->steps.front().delay_minutes);
  }
  return p;
}

std::string NewApiToken() { return "hou_" + RandomBase62(32); }
std::string TokenHash(std::string_view token) { return auth::TokenHash(token); }

// ---------------------------------------------------------------------------------------------
// JSON renderings.

void Field(std::string& out, std::string_view name, std::string_view value) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}
void Raw(std::string& out, std::string_view name, std::string_view raw_json) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  out += raw_json;
}
void Time(std::string& out, std::string_view name, const std::optional<TimePoint>& t) {
  if (t) {
    Field(out, name, FormatRfc3339(*t));
  } else {
    Raw(out, name, "null");
  }
}

std::string AlertJson(const core::Alert& a) {
  std::string o = "{";
  Raw(o, "id", std::to_string(a.id));
  Field(o, "service", a.service_id);
  Raw(o, "incident_id", std::to_string(a.incident_id));
  Field(o, "dedup_key", a.dedup_key);
  Field(o, "status", core::ToString(a.status));
  Field(o, "summary", a.summary);
  Field(o, "severity", core::ToString(a.severity));
  Field(o, "source", a.source);
  Field(o, "component", a.component);
  Field(o, "group", a.group);
  Field(o, "class", a.klass);
  Raw(o, "custom_details", a.details_json.empty() ? "{}" : a.details_json);
  Raw(o, "links", a.links_json.empty() ? "[]" : a.links_json);
  Raw(o, "images", a.images_json.empty() ? "[]" : a.images_json);
  Field(o, "client", a.client);
  Field(o, "client_url", a.client_url);
  Field(o, "group_key", a.group_key);
  Raw(o, "event_count", std::to_string(a.event_count));
  Time(o, "created_at", a.created_at);
  Time(o, "last_event_at", a.last_event_at);
  Time(o, "event_timestamp", a.event_timestamp);
  Time(o, "acknowledged_at", a.acknowledged_at);
  Time(o, "resolved_at", a.resolved_at);
  o += '}';
  return o;
}

std::string ChangeJson(const core::Change& c) {
  std::string o = "{";
  Raw(o, "id", std::to_string(c.id));
  Field(o, "service", c.service_id);
  Field(o, "summary", c.summary);
  Field(o, "source", c.source);
  Time(o, "timestamp", c.timestamp);
  Time(o, "received_at", c.received_at);
  Raw(o, "custom_details", c.details_json.empty() ? "{}" : c.details_json);
  Raw(o, "links", c.links_json.empty() ? "[]" : c.links_json);
  o += '}';
  return o;
}

Response StoreError(const Status& st) {
  Response r = http::ErrorResponse(st.code() == StatusCode::kResourceExhausted
                                       ? Unavailable("houston is overloaded: " + st.message() +
                                                     "; nothing was stored, retry later")
                                       : st);
  if (r.result() == bhttp::status::service_unavailable) r.set(bhttp::field::retry_after, "1");
  return r;
}

Result<int64_t> ParseId(std::string_view s, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    return std::unexpected(
        InvalidArgument(fmt::format("{} '{}' is not a positive integer", what, s)));
  }
  return v;
}

Result<Page> ParsePage(const HttpRequest& req) {
  Page p;
  if (auto l = req.Query("limit")) {
    HOUSTON_ASSIGN_OR_RETURN(int64_t v, ParseId(*l, "query parameter 'limit'"));
    if (v > 1000) {
      return std::unexpected(InvalidArgument("query parameter 'limit' must be at most 1000"));
    }
    p.limit = static_cast<int>(v);
  }
  if (auto c = req.Query("cursor")) {
    HOUSTON_ASSIGN_OR_RETURN(p.before_id, ParseId(*c, "query parameter 'cursor'"));
  }
  if (auto s = req.Query("since")) {
    auto t = ParseRfc3339(*s);
    if (!t) {
      return std::unexpected(InvalidArgument("query parameter 'since': " + t.error().message()));
    }
    p.since = *t;
  }
  return p;
}

Result<std::map<std::string, std::string>> StringFields(
    std::string_view body, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec)
    return std::unexpected(InvalidArgument("request body is not valid JSON: " + ec.message()));
  if (!v.is_object()) return std::unexpected(InvalidArgument("request body must be a JSON object"));
  std::map<std::string, std::string> out;
  std::vector<std::string> problems;
  for (const auto& [k, val] : v.as_object()) {
    std::string key(k);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      problems.push_back(fmt::format("unknown field '{}'", key));
    } else if (!val.is_string()) {
      problems.push_back(fmt::format("'{}' must be a string", key));
    } else {
      out[key] = std::string(val.as_string());
    }
  }
  if (!problems.empty()) return std::unexpected(InvalidArgument("invalid request body", problems));
  return out;
}

store::Actor ActorOf(const HttpRequest& req, const auth::Principal& principal) {
  return principal.Actor(req.Header("X-Houston-Client") == "cli" ? "cli" : "api");
}

Response NoStore(Response r) {
  r.set(bhttp::field::cache_control, "no-store");
  return r;
}

Response HtmlPage(bhttp::status code, std::string_view title, std::string_view body_html) {
  Response r{code, 11};
  r.set(bhttp::field::content_type, "text/html; charset=utf-8");
  r.set(bhttp::field::cache_control, "no-store");
  r.set("Referrer-Policy", "no-referrer");
  // Defence in depth behind the escaping: no script runs and no other site frames the page (its
  // buttons act), and its forms post only here.
  r.set("Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'");
  r.set("X-Content-Type-Options", "nosniff");
  r.body() = fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>{0} - houston</title><style>body{{font-family:"
      "system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}}"
      "button{{font-size:1.1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:"
      "#1f6feb;color:#fff;cursor:pointer}}.muted{{color:#57606a}}form{{display:inline-block;"
      "margin:0 .5rem .5rem 0}}table{{border-collapse:collapse;width:100%}}th,td{{text-align:"
      "left;vertical-align:top;padding:.25rem .75rem .25rem 0}}th{{font-weight:600;white-space:"
      "nowrap}}</style></head><body><h1>{0}</h1>{1}</body></html>",
      notify::HtmlEscape(title), body_html);
  return r;
}

}  // namespace houston::api
