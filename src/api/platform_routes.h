// The platform's own routes: probes, metrics, the root pages, people signing in
// (session_routes.cc) and the live change feed (live.cc).
#pragma once

#include <string_view>

#include "api/context.h"

namespace houston::api {

// Thread-safe.
class PlatformRoutes : public RouteGroup {
 public:
  explicit PlatformRoutes(Context& ctx) : RouteGroup(ctx), auth_(&ctx.authenticator()) {}
  void AddTo(RouteTable& table) override;

 private:
  void Health(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // 200 when the database answers, 503 with the reason when it does not (load balancers).
  void Ready(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void MetricsText(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /: what houston is and where to go from here (pages.cc).
  void Home(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /api/v1 (no token): what the API is, how to authenticate, its top-level resources.
  void ApiRoot(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /api/v1/live (live.cc): a WebSocket stream of the change feed, or a long poll.
  void Live(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Whether a browser page from `origin` may open a WebSocket here: the server's own origin only.
  bool SameOrigin(std::string_view origin, const http::HttpRequest& req) const;

  // People signing in (session_routes.cc). POST /api/v1/session: password -> session cookie.
  void SignIn(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /api/v1/session: who is calling (and the session's CSRF token).
  void WhoAmI(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // DELETE /api/v1/session: signs out (the session ends server-side; the cookie is cleared).
  void SignOut(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // DELETE /api/v1/users/{id}/sessions (admin): revokes every session of a user.
  void RevokeUserSessions(const http::HttpRequest& req, const auth::Principal* principal,
                          Respond respond);

  auth::Authenticator* auth_;
  const RouteTable* table_ = nullptr;  // the one the group was added to (the API root lists it)
};

}  // namespace houston::api
