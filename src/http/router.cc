#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/json_util.h"
#include "http/http.h"

namespace houston::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string HttpRequest::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    if (key == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  auto it = raw.find(name);
  if (it == raw.end()) return {};
  auto v = it->value();
  return std::string_view(v.data(), v.size());
}

void Router::Add(bhttp::verb method, std::string pattern, Handler handler, PreBodyCheck check,
                 size_t max_body_bytes) {
  Route r{method, pattern, {}, std::move(handler), std::move(check), max_body_bytes};
  for (auto seg : Split(pattern)) {
    if (seg.size() > 3 && seg.front() == '{' && seg.ends_with("*}")) {
      HOUSTON_CHECK(r.rest < 0);  // at most one {name*} segment per pattern
      r.rest = static_cast<int>(r.segments.size());
    }
    r.segments.emplace_back(seg);
  }
  routes_.push_back(std::move(r));
}

bool Router::Matches(const Route& r, const std::vector<std::string>& segs,
                     std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  const size_t n = r.segments.size();
  // Without a {name*} segment, one path segment per pattern segment. With one, it takes what
  // the segments before and after it leave (zero or more).
  const size_t fixed = r.rest < 0 ? n : n - 1;
  if (r.rest < 0 ? segs.size() != n : segs.size() < fixed) return false;
  const size_t rest_len = segs.size() - fixed;
  size_t at = 0;  // the path segment the next pattern segment matches
  for (size_t i = 0; i < n; ++i) {
    const std::string& want = r.segments[i];
    if (static_cast<int>(i) == r.rest) {
      std::string joined;
      for (size_t k = 0; k < rest_len; ++k) {
        if (k) joined += '/';
        joined += segs[at + k];
      }
      params.emplace_back(want.substr(1, want.size() - 3), std::move(joined));
      at += rest_len;
      continue;
    }
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      params.emplace_back(want.substr(1, want.size() - 2), segs[at]);
    } else if (want != segs[at]) {
      return false;
    }
    ++at;
  }
  return true;
}

Router::Match Router::Find(bhttp::verb method, std::string_view path) const {
  Match m;
  std::vector<std::string> segs;
  for (std::string_view seg : Split(path)) segs.push_back(PercentDecode(seg));
  std::vector<bhttp::verb> allowed;
  std::vector<std::pair<std::string, std::string>> params;
  // Routes with a {name*} segment only see paths that no route without one knows, so that a
  // fixed route keeps its 405 (and its own path) even where a wildcard route would match.
  for (bool wildcard : {false, true}) {
    if (wildcard && m.path_known) break;
    for (const auto& r : routes_) {
      if ((r.rest >= 0) != wildcard || !Matches(r, segs, params)) continue;
      m.path_known = true;
      if (r.method == method || (method == bhttp::verb::head && r.method == bhttp::verb::get)) {
        m.handler = &r.handler;
        m.check = r.check ? &r.check : nullptr;
        m.pattern = &r.pattern;
        m.max_body_bytes = r.max_body_bytes;
        m.params = std::move(params);
        return m;
      }
      allowed.push_back(r.method);
      if (r.method == bhttp::verb::get) allowed.push_back(bhttp::verb::head);
    }
  }
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (std::find(allowed.begin(), allowed.begin() + i, allowed[i]) != allowed.begin() + i) {
      continue;
    }
    if (!m.allow.empty()) m.allow += ", ";
    auto name = bhttp::to_string(allowed[i]);
    m.allow.append(name.data(), name.size());
  }
  return m;
}

bhttp::status HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return bhttp::status::ok;
    case StatusCode::kInvalidArgument:
      return bhttp::status::bad_request;
    case StatusCode::kNotFound:
      return bhttp::status::not_found;
    case StatusCode::kAlreadyExists:
      return bhttp::status::conflict;
    case StatusCode::kFailedPrecondition:
      return bhttp::status::conflict;
    case StatusCode::kUnauthenticated:
      return bhttp::status::unauthorized;
    case StatusCode::kPermissionDenied:
      return bhttp::status::forbidden;
    case StatusCode::kResourceExhausted:
      return bhttp::status::too_many_requests;
    case StatusCode::kUnavailable:
      return bhttp::status::service_unavailable;
    case StatusCode::kInternal:
      return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

Response JsonResponse(bhttp::status code, std::string body) {
  Response res{code, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response ErrorResponse(const Status& status) {
  std::string code(StatusCodeName(status.code()));
  std::transform(code.begin(), code.end(), code.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(body, code);
  body += ",\"message\":";
  AppendJsonString(body, status.message());
  if (!status.details().empty()) {
    body += ",\"details\":[";
    for (size_t i = 0; i < status.details().size(); ++i) {
      if (i) body += ',';
      AppendJsonString(body, status.details()[i]);
    }
    body += ']';
  }
  body += "}}";
  Response res = JsonResponse(HttpStatusFor(status.code()), std::move(body));
  if (status.code() == StatusCode::kUnauthenticated) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"houston\"");
  }
  return res;
}

}  // namespace houston::http
