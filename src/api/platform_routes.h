// The platform's own routes: probes, metrics, the root pages, people signing in
// (session_routes.cc), the live change feed (live.cc), API tokens (token_routes.cc) and the org
// as applied (org_routes.cc).
#pragma once

#include <string_view>
#include <vector>

#include "api/context.h"

namespace houston::api {

// Thread-safe.
class PlatformRoutes : public RouteGroup {
 public:
  explicit PlatformRoutes(Context& ctx) : RouteGroup(ctx), auth_(&ctx.authenticator()) {}
  void AddTo(RouteTable& table) override;
  // The paths of the web UI's pages (web/ui/app.js routes the same ones).
  static const std::vector<std::string_view>& UiPaths();

 private:
  void Health(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // 200 when the database answers, 503 with the reason when it does not (load balancers).
  void Ready(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void MetricsText(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // The web UI (pages.cc): its one HTML page for each of UiPaths() (which signs the browser in
  // if need be; the data comes from the API) ...
  void UiPage(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // ... and GET /ui/{build}/{file}: its scripts and styles, immutable per build.
  void UiFile(const http::HttpRequest& req, const auth::Principal*, Respond respond);
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

  // API tokens (token_routes.cc; admins). GET /api/v1/tokens: every token, never a secret.
  void ListTokens(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // POST /api/v1/tokens {name, role}: 201 {token, secret}; the secret is answered only here.
  void CreateToken(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // DELETE /api/v1/tokens/{id}: revokes it (404 unknown, 409 already revoked).
  void RevokeToken(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // GET /api/v1/org (org_routes.cc; admins): the org as applied, per object and whole, with its
  // secrets masked.
  void GetOrg(const http::HttpRequest& req, const auth::Principal*, Respond respond);

  auth::Authenticator* auth_;
  const RouteTable* table_ = nullptr;  // the one the group was added to (the API root lists it)
};

}  // namespace houston::api
