// What every domain's handlers use to read requests and write answers: JSON field writers, id
// and paging parsing, list and error responses, strict body readers, the JSON renderings of
// alerts and changes, and who the caller is as an actor.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.h"
#include "config/config.h"
#include "core/json_util.h"
#include "core/status.h"
#include "core/types.h"
#include "http/http.h"
#include "store/store.h"

namespace houston::api {

namespace bhttp = http::bhttp;

// Appends "name":value to an object being built in `out` (which ends in '{' or a value).
void Field(std::string& out, std::string_view name, std::string_view value);   // a string
void Raw(std::string& out, std::string_view name, std::string_view raw_json);  // JSON as is
void Time(std::string& out, std::string_view name, const std::optional<TimePoint>& t);

// The escalation policy a new incident of `service` starts, and its first step's delay ("" and
// nullopt when the service is unknown or its policy has no steps).
struct Paging {
  std::string policy;
  std::optional<std::chrono::minutes> first_step_delay;
};
Paging PagingOf(const config::Org& org, std::string_view service);

// `r` marked never to be stored by a cache (answers private to the caller: sessions, secrets).
http::Response NoStore(http::Response r);

// A small self-contained HTML page for people (signed links): inline CSS, no
// scripts (a Content-Security-Policy forbids them, and framing), never cached. `body_html` is
// inserted as is (escape what it quotes with notify::HtmlEscape); `title` is escaped.
http::Response HtmlPage(bhttp::status code, std::string_view title, std::string_view body_html);

// The store's error as an API error (an overloaded store is 503 with Retry-After).
http::Response StoreError(const Status& st);
// A positive integer id, or InvalidArgument naming `what`.
Result<int64_t> ParseId(std::string_view s, std::string_view what);

struct Page {
  int limit = 100;
  int64_t before_id = 0;
  std::optional<TimePoint> since;
};
// ?limit=&cursor=&since= of a list request.
Result<Page> ParsePage(const http::HttpRequest& req);

// A JSON object body with exactly the allowed keys, all strings.
Result<std::map<std::string, std::string>> StringFields(
    std::string_view body, std::initializer_list<std::string_view> allowed);

// {"<name>":[items...],"next_cursor":"id"|null}
template <typename T, typename F>
http::Response ListResponse(std::string_view name, const std::vector<T>& items, int limit,
                            F render) {
  std::string body = "{";
  AppendJsonString(body, name);
  body += ":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body += ',';
    body += render(items[i]);
  }
  body += "],\"next_cursor\":";
  if (static_cast<int>(items.size()) == limit && !items.empty()) {
    AppendJsonString(body, std::to_string(items.back().id));
  } else {
    body += "null";
  }
  body += '}';
  return http::JsonResponse(bhttp::status::ok, std::move(body));
}

// JSON renderings used by the API and the CLI's --json output (incidents: core::IncidentJson).
std::string AlertJson(const core::Alert& a);
std::string ChangeJson(const core::Change& c);

// Who did something through the API: a token, by api or (X-Houston-Client: cli) the CLI; or a
// signed-in person (auth::Principal::Actor).
store::Actor ActorOf(const http::HttpRequest& req, const auth::Principal& principal);

// A new API token: "hou_" + 43 base62 characters. Store only its hash (TokenHash).
std::string NewApiToken();
std::string TokenHash(std::string_view token);

}  // namespace houston::api
