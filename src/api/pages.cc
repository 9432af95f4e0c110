// The web UI (web/): every page path answers with its one HTML page, which loads the build's
// immutable files from /ui/<build>/; the API root for programs.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/platform_routes.h"
#include "api/request.h"
#include "web/assets.h"

namespace houston::api {

using http::HttpRequest;
using http::Response;

namespace {

// The page's rules for the browser: its scripts, styles and connections come from this server
// only (no inline script, no other host), it is never framed, and it sends no Referer elsewhere.
constexpr std::string_view kUiPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

void SetPageHeaders(Response& r) {
  r.set("Content-Security-Policy", kUiPolicy);
  r.set("X-Frame-Options", "DENY");
  r.set("Referrer-Policy", "same-origin");
}

}  // namespace

const std::vector<std::string_view>& PlatformRoutes::UiPaths() {
  static const std::vector<std::string_view> paths = {
      "/",
      "/signin",
      "/alerts",
      "/incidents",
      "/incidents/{id}",
      "/incidents/{id}/postmortem",
      "/oncall",
      "/schedules/{id}",
      "/services",
      "/notifications",
      "/audit",
      "/org",
      "/tokens",
      "/postmortems",
      "/action-items",
      "/analytics",
      "/help",
  };
  return paths;
}

void PlatformRoutes::UiPage(const HttpRequest& req, const auth::Principal*, Respond respond) {
  const http::StaticAsset* index = http::FindAsset(web::Assets(), "index.html");
  HOUSTON_CHECK(index != nullptr);
  Response r = http::ServeAsset(req.raw, *index, http::AssetCaching::kRevalidate);
  SetPageHeaders(r);
  respond(std::move(r));
}

void PlatformRoutes::UiFile(const HttpRequest& req, const auth::Principal*, Respond respond) {
  const http::StaticAsset* asset = http::FindAsset(web::Assets(), req.Param("file"));
  if (asset == nullptr || asset->name == "index.html") {
    return respond(http::ErrorResponse(
        NotFound(fmt::format("no web UI file '{}' in this build", req.Param("file")))));
  }
  // A tab opened before an upgrade may still ask for its build's files: it gets this build's,
  // which it must not keep.
  bool current = req.Param("build") == web::BuildId();
  respond(http::ServeAsset(
      req.raw, *asset, current ? http::AssetCaching::kImmutable : http::AssetCaching::kRevalidate));
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
