// GET /api/v1/live: the change feed, as a WebSocket stream or a long poll (live/feed.h).
#include <fmt/format.h>

#include <charconv>

#include "api/platform_routes.h"
#include "api/request.h"
#include "live/feed.h"

namespace houston::api {

namespace {

constexpr int64_t kMaxWaitSeconds = 60;

// A whole number in [0, max], or InvalidArgument naming query parameter `name`.
Result<int64_t> NonNegative(std::string_view s, std::string_view name, int64_t max,
                            std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > max) {
    return std::unexpected(
        InvalidArgument(fmt::format("query parameter '{}' must be {} (got '{}')", name, what, s)));
  }
  return v;
}

// "scheme://host[:port]" of a URL.
std::string_view OriginOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  auto path = url.find('/', scheme + 3);
  return path == std::string_view::npos ? url : url.substr(0, path);
}

}  // namespace

bool PlatformRoutes::SameOrigin(std::string_view origin, const http::HttpRequest& req) const {
  if (!options_.base_url.empty() && http::EqualsIgnoringCase(origin, OriginOf(options_.base_url))) {
    return true;
  }
  std::string_view host = req.Header("Host");
  return !host.empty() &&
         http::EqualsIgnoringCase(origin,
                                  fmt::format("{}://{}", options_.tls ? "https" : "http", host));
}

void PlatformRoutes::Live(const http::HttpRequest& req, const auth::Principal*, Respond respond) {
  if (!options_.live) {
    return respond(http::ErrorResponse(Unavailable("the live feed is not running")));
  }
  std::optional<int64_t> since;
  if (auto s = req.Query("since")) {
    auto v = NonNegative(*s, "since", std::numeric_limits<int64_t>::max(),
                         "a sequence number (a whole number >= 0)");
    if (!v) return respond(http::ErrorResponse(v.error()));
    since = *v;
  }
  if (req.accept_websocket) {
    // A browser sends Origin with every WebSocket handshake, and a page from anywhere may open
    // one; only the server's own pages may (clients that are not browsers send none).
    std::string_view origin = req.Header("Origin");
    if (!origin.empty() && !SameOrigin(origin, req)) {
      return respond(http::ErrorResponse(PermissionDenied(fmt::format(
          "a WebSocket from origin '{}' is refused: only this server's own pages may open one",
          origin))));
    }
    req.accept_websocket(options_.live_socket,
                         [feed = options_.live, since](std::shared_ptr<http::WebSocket> ws) {
                           feed->AddStream(std::move(ws), since);
                         });
    return;
  }
  std::chrono::seconds wait{0};
  if (auto w = req.Query("wait")) {
    auto v = NonNegative(*w, "wait", kMaxWaitSeconds,
                         fmt::format("a whole number of seconds from 0 to {}", kMaxWaitSeconds));
    if (!v) return respond(http::ErrorResponse(v.error()));
    wait = std::chrono::seconds(*v);
  }
  options_.live->Poll(since, wait, [respond = std::move(respond)](Result<live::Page> page) mutable {
    if (!page) return respond(StoreError(page.error()));
    respond(http::JsonResponse(bhttp::status::ok, live::Feed::PageJson(*page)));
  });
}

}  // namespace houston::api
