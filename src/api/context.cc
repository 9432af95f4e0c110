#include "api/context.h"

#include <fmt/format.h>

namespace houston::api {

Context::Context(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options)
    : store_(store),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)),
      org_(std::make_shared<OrgView>()) {
  auth::SessionOptions sessions = options_.sessions;
  sessions.secure_cookie =
      sessions.secure_cookie || options_.tls || options_.base_url.starts_with("https://");
  auth_ = std::make_unique<auth::Authenticator>(
      store_, clock_, std::move(sessions),
      [this](std::string_view user_id) { return UserRole(user_id); });
}

void Context::SetOrg(std::shared_ptr<const config::Org> org) {
  auto view = std::make_shared<OrgView>();
  view->org = std::move(org);
  std::lock_guard lock(org_mu_);
  org_ = std::move(view);
  ++org_version_;
}

std::shared_ptr<const OrgView> Context::org() const {
  std::lock_guard lock(org_mu_);
  return org_;
}

std::optional<store::Role> Context::UserRole(std::string_view user_id) const {
  auto view = org();
  if (!view->org) return std::nullopt;
  for (const auto& u : view->org->users) {
    if (u.id == user_id) return u.role;
  }
  return std::nullopt;
}

std::string Context::BaseUrl(const http::HttpRequest& req) const {
  std::string base = options_.base_url;
  if (base.empty() && !req.Header("Host").empty()) {
    base = fmt::format("{}://{}", options_.tls ? "https" : "http", req.Header("Host"));
  }
  if (base.empty()) base = listen_url_;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

auth::RequestSite Context::SiteOf(const http::HttpRequest& req) const {
  return auth::RequestSite{.method = req.raw.method_string(),
                           .csrf_token = req.Header("X-CSRF-Token"),
                           .origin = req.Header("Origin"),
                           .host = req.Header("Host"),
                           .tls = options_.tls,
                           .base_url = options_.base_url};
}

void Context::Changed() const {
  if (options_.on_change) options_.on_change();
}

void Context::IncidentsOpened() const {
  if (options_.on_incidents_opened) return options_.on_incidents_opened();
  Changed();
}

std::string_view ToString(Open why) {
  switch (why) {
    case Open::kIntegrationKey:
      return "integration key";
    case Open::kSignedLink:
      return "signed link";
    case Open::kPassword:
      return "password";
    case Open::kProbe:
      return "probe";
    case Open::kPublicPage:
      return "public page";
    case Open::kWebUi:
      return "web UI";
  }
  return "?";
}

void RouteTable::Add(http::bhttp::verb method, std::string pattern, Access access,
                     Handler handler) {
  HOUSTON_CHECK(!(access.min_role && access.open));
  routes_.push_back(
      RouteSpec{method, std::move(pattern), access.min_role, std::move(handler), access.open});
}

void RunOnPool(WorkerPool& pool, std::string_view what, http::Responder respond,
               std::function<void(std::shared_ptr<http::Responder>)> work) {
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  pool.SubmitOrRefuse([shared, work = std::move(work)] { work(shared); }, what,
                      [shared](Status why) {
                        http::Response r = http::ErrorResponse(std::move(why));
                        r.set(http::bhttp::field::retry_after, "1");
                        (*shared)(std::move(r));
                      });
}

}  // namespace houston::api
