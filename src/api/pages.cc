// Pages for people until the web UI lands: the root page, and the read-only incident page that
// the links in notifications open (a signed "view" link, no API token needed).
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "api/platform_routes.h"
#include "api/request.h"
#include "core/time_util.h"
#include "notify/notify.h"

namespace houston::api {

using http::HttpRequest;
using http::Response;

namespace {

std::string Esc(std::string_view s) { return notify::HtmlEscape(s); }

}  // namespace

void PlatformRoutes::Home(const HttpRequest& req, const auth::Principal*, Respond respond) {
  std::string base = BaseUrl(req);
  std::string body = fmt::format(
      "<p>houston is a self-hosted incident-response server: it takes alerts from the monitoring "
      "you run, pages whoever is on call until someone acknowledges, and runs the incident "
      "(SEV, roles, timeline, status updates, public status page). This server runs version "
      "{0}; a web UI comes later.</p>"
      "<h2>Here</h2><table>"
      "<tr><th><a href=\"/status\">/status</a></th><td>the public status page "
      "(<a href=\"/status.json\">/status.json</a>, <a href=\"/status/feed.atom\">Atom</a>, "
      "<a href=\"/status/feed.rss\">RSS</a>)</td></tr>"
      "<tr><th><a href=\"/healthz\">/healthz</a></th><td>liveness "
      "(<a href=\"/readyz\">/readyz</a>: the database answers)</td></tr>"
      "<tr><th><a href=\"/metrics\">/metrics</a></th><td>Prometheus metrics</td></tr>"
      "<tr><th><a href=\"/api/v1\">/api/v1</a></th><td>the REST API: every call needs "
      "<code>Authorization: Bearer &lt;token&gt;</code> (make one with <code>houston token create "
      "--role viewer --name me</code>)</td></tr></table>"
      "<h2>The command line</h2><p><code>export HOUSTON_URL={1} HOUSTON_TOKEN=&lt;token&gt;</code>"
      "<br><code>houston incident list</code></p>"
      "<h2>Documentation</h2><p>In the houston source tree: <code>README.md</code> (the tour, "
      "pointing monitoring at houston, the CLI), <code>docs/config.md</code> (every key of "
      "org.yaml), <code>docs/architecture.md</code>, <code>docs/BENCHMARKS.md</code>.</p>"
      "<p class=\"muted\">Notifications link to a page for each incident; those links are signed "
      "and need no token.</p>",
      Esc(options_.version), Esc(base.empty() ? "http://HOST:PORT" : base));
  respond(HtmlPage(bhttp::status::ok, "houston", body));
}

void PlatformRoutes::ApiRoot(const HttpRequest&, const auth::Principal*, Respond respond) {
  boost::json::array resources;
  for (const auto& r : table_->routes()) {
    if (r.method != bhttp::verb::get || !r.pattern.starts_with("/api/v1/")) continue;
    std::string_view rest = std::string_view(r.pattern).substr(8);
    if (rest.find('/') != std::string_view::npos) continue;
    resources.emplace_back(r.pattern);
  }
  boost::json::object o{{"name", "houston"},
                        {"version", options_.version},
                        {"authentication", "Authorization: Bearer <token> (houston token create)"},
                        {"resources", std::move(resources)}};
  respond(http::JsonResponse(bhttp::status::ok, boost::json::serialize(o)));
}

}  // namespace houston::api