// API tokens through the API (admins): list (never a secret), create (the secret is answered
// once and only its hash is stored), revoke. The store audits token.created / token.revoked in
// the same transaction as the change, like `houston token create/revoke`.
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/platform_routes.h"
#include "api/request.h"
#include "core/json_util.h"

namespace houston::api {

namespace {

using http::HttpRequest;
using http::Response;

constexpr size_t kMaxTokenNameBytes = 100;
// The part of a new token kept to recognise it in listings: "hou_" and four characters.
constexpr size_t kTokenPrefixLength = 8;

// One token without its secret (the store never had it).
std::string TokenJson(const store::Token& t) {
  std::string o = "{";
  Raw(o, "id", std::to_string(t.id));
  Field(o, "name", t.name);
  Field(o, "role", core::ToString(t.role));
  Field(o, "prefix", t.prefix);
  Time(o, "created_at", t.created_at);
  Time(o, "revoked_at", t.revoked_at);
  Raw(o, "revoked", t.revoked_at ? "true" : "false");
  o += '}';
  return o;
}

}  // namespace

void PlatformRoutes::ListTokens(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto tokens = store_.ListTokens();
  if (!tokens) return respond(StoreError(tokens.error()));
  std::string body = "{\"tokens\":[";
  for (size_t i = 0; i < tokens->size(); ++i) {
    if (i) body += ',';
    body += TokenJson((*tokens)[i]);
  }
  body += "]}";
  respond(NoStore(http::JsonResponse(bhttp::status::ok, std::move(body))));
}

void PlatformRoutes::CreateToken(const HttpRequest& req, const auth::Principal* principal,
                                 Respond respond) {
  auto body = JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto name = body->String("name", /*required=*/true, kMaxTokenNameBytes, /*allow_empty=*/false);
  auto role_name = body->String("role", /*required=*/true);
  std::optional<store::Role> role;
  if (role_name) {
    role = store::ParseRole(*role_name);
    if (!role) {
      body->Problem(
          fmt::format("'role' must be one of admin, responder, viewer, not '{}'", *role_name));
    }
  }
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  std::string secret = NewApiToken();
  std::string prefix = secret.substr(0, kTokenPrefixLength);
  std::string hash = TokenHash(secret);  // before `secret` moves into the callback
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.CreateToken(*name, *role, std::move(hash), std::move(prefix), ActorOf(req, *principal),
                     [shared, secret = std::move(secret)](Result<store::Token> t) {
                       if (!t) return (*shared)(StoreError(t.error()));
                       std::string o = "{";
                       Raw(o, "token", TokenJson(*t));
                       Field(o, "secret", secret);
                       o += '}';
                       (*shared)(NoStore(http::JsonResponse(bhttp::status::created, o)));
                     });
}

void PlatformRoutes::RevokeToken(const HttpRequest& req, const auth::Principal* principal,
                                 Respond respond) {
  auto id = ParseId(req.Param("id"), "token id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto shared = std::make_shared<Respond>(std::move(respond));
  store_.RevokeToken(*id, ActorOf(req, *principal), [shared](Result<store::Token> t) {
    if (!t) return (*shared)(StoreError(t.error()));
    (*shared)(http::JsonResponse(bhttp::status::ok, "{\"token\":" + TokenJson(*t) + "}"));
  });
}

}  // namespace houston::api
