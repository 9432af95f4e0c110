#include "api/api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/platform_routes.h"
#include "audit/routes.h"
#include "core/json_util.h"
#include "incidents/routes.h"
#include "intake/opsgenie_routes.h"
#include "intake/routes.h"
#include "learning/analytics_routes.h"
#include "learning/routes.h"
#include "paging/routes.h"

namespace houston::api {

namespace bhttp = http::bhttp;
using http::HttpRequest;
using http::Response;
using store::Role;

namespace {

// The refusal of a route that states no access decision (RouteSpec::decided).
Status Undecided(const RouteSpec& spec) {
  return PermissionDenied(fmt::format("route {} {} has no access decision; it serves nobody",
                                      std::string_view(bhttp::to_string(spec.method)),
                                      spec.pattern));
}

}  // namespace

Api::Api(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options)
    : ctx_(store, metrics, clock, std::move(options)),
      platform_(std::make_unique<PlatformRoutes>(ctx_)),
      intake_(std::make_unique<intake::IntakeRoutes>(ctx_)),
      opsgenie_(std::make_unique<intake::OpsgenieRoutes>(ctx_)),
      incidents_(std::make_unique<incidents::IncidentRoutes>(ctx_)),
      paging_(std::make_unique<paging::PagingRoutes>(ctx_)),
      links_(std::make_unique<paging::LinkRoutes>(ctx_)),
      audit_(std::make_unique<audit::AuditRoutes>(ctx_)),
      learning_(std::make_unique<learning::LearningRoutes>(ctx_)),
      analytics_(std::make_unique<learning::AnalyticsRoutes>(ctx_)) {
  platform_->AddTo(table_);
  intake_->AddTo(table_);
  opsgenie_->AddTo(table_);
  incidents_->AddTo(table_);
  paging_->AddTo(table_);
  links_->AddTo(table_);
  audit_->AddTo(table_);
  learning_->AddTo(table_);
  analytics_->AddTo(table_);
  if (ctx_.options().workers > 0) {
    workers_ =
        std::make_unique<WorkerPool>(WorkerPoolOptions{.threads = ctx_.options().workers,
                                                       .capacity = ctx_.options().worker_queue,
                                                       .name = "api",
                                                       .nice = kReadNice});
  }
}

Api::~Api() { Stop(); }

void Api::Stop() {
  if (workers_) workers_->Stop();
}

bool RunsOnIoThread(const RouteSpec& spec) {
  if (spec.open == Open::kProbe || spec.open == Open::kWebUi) return true;
  return spec.open == Open::kIntegrationKey && spec.method != bhttp::verb::get;
}

void Api::SetOrg(std::shared_ptr<const config::Org> org) {
  intake_->SetOrg(org);
  opsgenie_->SetOrg(org);
  ctx_.SetOrg(std::move(org));
}

uint64_t Api::status_page_builds() const { return incidents_->status_page_builds(); }

void Api::Register(http::Router& router) {
  for (const auto& spec : table_.routes()) {
    http::PreBodyCheck check;
    if (!spec.decided()) {
      // Deny by default: a route that states no access decision serves nobody.
      check = [&spec](const HttpRequest&) -> std::optional<Response> {
        return http::ErrorResponse(Undecided(spec));
      };
    } else if (spec.min_role) {
      // Refuses a body (and 100 Continue) to callers without the role.
      check = [this, &spec](const HttpRequest& req) -> std::optional<Response> {
        auto principal = Authorize(spec, req);
        if (!principal) return http::ErrorResponse(principal.error());
        // The handler gets this principal: the request is authenticated once.
        req.checked = std::make_shared<const auth::Principal>(std::move(*principal));
        return std::nullopt;
      };
    }
    // Intake takes the server's body limit (alert batches); every other route small JSON.
    size_t max_body = spec.open == Open::kIntegrationKey ? 0 : ctx_.options().max_api_body_bytes;
    http::Handler handler;
    if (workers_ && !RunsOnIoThread(spec)) {
      handler = [this, &spec](const HttpRequest& req, http::Responder respond) {
        // `req` stays valid until the Responder is called, and the task holds the Responder.
        RunOnPool(*workers_, "API requests", std::move(respond),
                  [this, &spec, &req](std::shared_ptr<http::Responder> shared) {
                    auto answer = [shared](Response r) { (*shared)(std::move(r)); };
                    try {
                      Dispatch(spec, req, std::move(answer));
                    } catch (const std::exception& e) {
                      // As on the I/O thread (http::Server): an escaped library exception is a
                      // bug, answered 500 rather than taking the server down.
                      spdlog::error("handler for {} threw: {}", spec.pattern, e.what());
                      (*shared)(http::ErrorResponse(Internal("internal error")));
                    }
                  });
      };
    } else {
      handler = [this, &spec](const HttpRequest& req, http::Responder respond) {
        Dispatch(spec, req, std::move(respond));
      };
    }
    router.Add(spec.method, spec.pattern, std::move(handler), std::move(check), max_body);
  }
}

Result<auth::Principal> Api::Authorize(const RouteSpec& spec, const HttpRequest& req) {
  HOUSTON_ASSIGN_OR_RETURN(
      auth::Principal principal,
      ctx_.authenticator().Authenticate(auth::Credentials{
          .authorization = req.Header("Authorization"), .cookie = req.Header("Cookie")}));
  if (principal.role < *spec.min_role) {
    return std::unexpected(PermissionDenied(fmt::format(
        "this needs the {} role; {} '{}' has the {} role", store::ToString(*spec.min_role),
        principal.method == auth::Method::kToken ? "token" : "user", principal.id,
        store::ToString(principal.role))));
  }
  HOUSTON_RETURN_IF_ERROR(auth::CheckCsrf(principal, ctx_.SiteOf(req)));
  return principal;
}

void Api::Dispatch(const RouteSpec& spec, const HttpRequest& req, http::Responder respond) {
  if (!spec.decided()) return respond(http::ErrorResponse(Undecided(spec)));
  if (spec.open) return spec.handler(req, nullptr, std::move(respond));
  if (req.checked) {  // authorized by the pre-body check (Register), before the body was read
    return spec.handler(req, static_cast<const auth::Principal*>(req.checked.get()),
                        std::move(respond));
  }
  auto principal = Authorize(spec, req);
  if (!principal) {
    Response r = http::ErrorResponse(principal.error());
    // A session cookie that no longer works is of no use to the browser: it forgets it.
    if (principal.error().code() == StatusCode::kUnauthenticated &&
        req.Header("Authorization").empty() && !req.Header("Cookie").empty()) {
      r.set(bhttp::field::set_cookie,
            auth::ClearSessionCookie(ctx_.authenticator().options().secure_cookie));
    }
    return respond(std::move(r));
  }
  spec.handler(req, &*principal, std::move(respond));
}

Response Api::RenderError(std::string_view path, const Status& status) const {
  // Opsgenie's paths first: they are under /v2/ too, where PagerDuty's shape is the default.
  if (auto r = intake::OpsgenieRoutes::RenderError(path, status)) return std::move(*r);
  if (auto r = intake::IntakeRoutes::RenderError(path, status)) return std::move(*r);
  return http::ErrorResponse(status);
}

// ---------------------------------------------------------------------------------------------
// The platform's own routes.

void PlatformRoutes::AddTo(RouteTable& t) {
  using V = bhttp::verb;
  using R = PlatformRoutes;
  table_ = &t;
  // The web UI: open pages that sign the browser in themselves, and their files.
  for (std::string_view path : UiPaths())
    t.Add(V::get, std::string(path), Open::kWebUi, this, &R::UiPage);
  t.Add(V::get, "/ui/{build}/{file}", Open::kWebUi, this, &R::UiFile);
  t.Add(V::get, "/api/v1", Open::kWebUi, this, &R::ApiRoot);
  t.Add(V::get, "/healthz", Open::kProbe, this, &R::Health);
  t.Add(V::get, "/readyz", Open::kProbe, this, &R::Ready);
  t.Add(V::get, "/metrics", Open::kProbe, this, &R::MetricsText);
  t.Add(V::get, "/api/v1/live", Role::kViewer, this, &R::Live);
  // People signing in (session_routes.cc); sign-in itself is checked by password.
  t.Add(V::post, "/api/v1/session", Open::kPassword, this, &R::SignIn);
  t.Add(V::get, "/api/v1/session", Role::kViewer, this, &R::WhoAmI);
  t.Add(V::delete_, "/api/v1/session", Role::kViewer, this, &R::SignOut);
  t.Add(V::delete_, "/api/v1/users/{id}/sessions", Role::kAdmin, this, &R::RevokeUserSessions);
  // Administration (token_routes.cc, org_routes.cc).
  t.Add(V::get, "/api/v1/tokens", Role::kAdmin, this, &R::ListTokens);
  t.Add(V::post, "/api/v1/tokens", Role::kAdmin, this, &R::CreateToken);
  t.Add(V::delete_, "/api/v1/tokens/{id}", Role::kAdmin, this, &R::RevokeToken);
  t.Add(V::get, "/api/v1/org", Role::kAdmin, this, &R::GetOrg);
}

void PlatformRoutes::Health(const HttpRequest&, const auth::Principal*, Respond respond) {
  respond(http::JsonResponse(bhttp::status::ok, R"({"status":"ok"})"));
}

void PlatformRoutes::Ready(const HttpRequest&, const auth::Principal*, Respond respond) {
  Status st = store_.Ready();
  if (st.ok()) return respond(http::JsonResponse(bhttp::status::ok, R"({"status":"ready"})"));
  Response r =
      http::JsonResponse(bhttp::status::service_unavailable,
                         R"({"status":"unavailable","reason":)" + JsonQuote(st.message()) + "}");
  r.set(bhttp::field::retry_after, "1");
  respond(std::move(r));
}

void PlatformRoutes::MetricsText(const HttpRequest&, const auth::Principal*, Respond respond) {
  Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  r.body() = metrics_.Render();
  respond(std::move(r));
}

}  // namespace houston::api
