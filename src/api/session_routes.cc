// People signing in: the /api/v1/session resource and revoking a user's sessions. The rules
// (passwords, sessions, throttle, CSRF) live in auth/; these handlers translate HTTP.
#include <fmt/format.h>

#include <algorithm>

#include "api/platform_routes.h"
#include "api/request.h"
#include "core/json_util.h"
#include "core/time_util.h"

namespace houston::api {

namespace {

using http::HttpRequest;
using http::Response;

constexpr size_t kMaxUserIdBytes = 256;

// `org`: for a signed-in person, their name and teams (the web UI's "my teams").
std::string PrincipalJson(const auth::Principal& p, const config::Org* org) {
  std::string o = "{";
  if (p.method == auth::Method::kSession) {
    Field(o, "user", p.id);
  } else {
    Field(o, "token", p.id);
  }
  Field(o, "role", core::ToString(p.role));
  Field(o, "method", auth::ToString(p.method));
  if (p.method == auth::Method::kSession) {
    Field(o, "csrf_token", p.csrf_token);
    Time(o, "expires_at", p.expires_at);
    const config::User* user = org ? config::FindUser(*org, p.id) : nullptr;
    Field(o, "name", user ? user->name : p.id);
    o += ",\"teams\":[";
    bool first = true;
    for (const auto& team : org ? org->teams : std::vector<config::Team>{}) {
      if (std::ranges::find(team.members, p.id) == team.members.end()) continue;
      if (!first) o += ',';
      first = false;
      AppendJsonString(o, team.id);
    }
    o += ']';
  }
  o += '}';
  return o;
}

}  // namespace

void PlatformRoutes::SignIn(const HttpRequest& req, const auth::Principal*, Respond respond) {
  // A foreign page must not sign a browser in (login CSRF), not even as someone else.
  if (Status st = auth::CheckOrigin(ctx_.SiteOf(req)); !st.ok()) {
    return respond(http::ErrorResponse(st));
  }
  auto fields = StringFields(req.raw.body(), {"user", "password"});
  if (!fields) return respond(http::ErrorResponse(fields.error()));
  std::vector<std::string> problems;
  if (!fields->contains("user") || (*fields)["user"].empty()) {
    problems.push_back("'user' is required: the user's id in org.yaml");
  } else if ((*fields)["user"].size() > kMaxUserIdBytes) {
    problems.push_back(fmt::format("'user' is longer than {} bytes", kMaxUserIdBytes));
  }
  if (!fields->contains("password") || (*fields)["password"].empty()) {
    problems.push_back("'password' is required");
  } else if ((*fields)["password"].size() > auth::kMaxPasswordLength) {
    problems.push_back(fmt::format("'password' is longer than {} bytes", auth::kMaxPasswordLength));
  }
  if (!problems.empty()) {
    return respond(http::ErrorResponse(InvalidArgument("invalid request body", problems)));
  }
  auto shared = std::make_shared<Respond>(std::move(respond));
  auth_->SignIn(auth::SignInRequest{.user = std::move((*fields)["user"]),
                                    .password = std::move((*fields)["password"]),
                                    .client = req.remote},
                [shared, view = org()](auth::SignInResult r) {
                  if (!r) {
                    Response err = http::ErrorResponse(r.error().status);
                    if (r.error().retry_after > 0) {
                      err.set(bhttp::field::retry_after, std::to_string(r.error().retry_after));
                    }
                    return (*shared)(NoStore(std::move(err)));
                  }
                  Response ok = http::JsonResponse(bhttp::status::ok,
                                                   PrincipalJson(r->principal, view->org.get()));
                  ok.set(bhttp::field::set_cookie, r->set_cookie);
                  (*shared)(NoStore(std::move(ok)));
                });
}

void PlatformRoutes::WhoAmI(const HttpRequest&, const auth::Principal* principal, Respond respond) {
  respond(
      NoStore(http::JsonResponse(bhttp::status::ok, PrincipalJson(*principal, org()->org.get()))));
}

void PlatformRoutes::SignOut(const HttpRequest&, const auth::Principal* principal,
                             Respond respond) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  bool secure = auth_->options().secure_cookie;
  auth_->SignOut(*principal, [shared, secure](Result<store::Session> r) {
    if (!r) {
      // Already gone (signed out elsewhere at the same moment): signed out all the same.
      if (r.error().code() != StatusCode::kNotFound) return (*shared)(StoreError(r.error()));
    }
    Response ok = http::JsonResponse(bhttp::status::ok, R"({"signed_out":true})");
    ok.set(bhttp::field::set_cookie, auth::ClearSessionCookie(secure));
    (*shared)(NoStore(std::move(ok)));
  });
}

void PlatformRoutes::RevokeUserSessions(const HttpRequest& req, const auth::Principal* principal,
                                        Respond respond) {
  std::string user = req.Param("id");
  auto shared = std::make_shared<Respond>(std::move(respond));
  auth_->RevokeSessions(user, ActorOf(req, *principal), [shared, user](Result<int> r) {
    if (!r) return (*shared)(StoreError(r.error()));
    std::string o = "{";
    Field(o, "user", user);
    Raw(o, "revoked", std::to_string(*r));
    (*shared)(http::JsonResponse(bhttp::status::ok, o + "}"));
  });
}

}  // namespace houston::api
