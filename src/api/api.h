// The HTTP surface of houston: the one route table, filled by every domain's routes (intake/,
// paging/, incidents/, audit/) and by the platform's own (probes, metrics, the API root, people
// signing in, the live feed), and the authorization of every request against it: bearer tokens
// and people's sessions (see auth/), with one minimum role per route.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/context.h"
#include "api/request.h"
#include "http/http.h"

namespace houston::intake {
class IntakeRoutes;
class OpsgenieRoutes;
}  // namespace houston::intake
namespace houston::incidents {
class IncidentRoutes;
}
namespace houston::paging {
class PagingRoutes;
class LinkRoutes;
}  // namespace houston::paging
namespace houston::audit {
class AuditRoutes;
}
namespace houston::learning {
class LearningRoutes;
class AnalyticsRoutes;
}  // namespace houston::learning

namespace houston::api {

class PlatformRoutes;

// Whether a route's handler runs on the HTTP I/O thread that read its request, rather than on the
// API's workers (ApiOptions::workers): the probes and the web UI's files (answered from memory)
// and intake's writes (parsed there and handed to the store's writer, which answers after its
// commit). Every other handler may read at length, sign someone in or wait, and runs on a
// worker; so do intake's reads (Opsgenie's alert list).
bool RunsOnIoThread(const RouteSpec& spec);

// Thread-safe.
class Api {
 public:
  Api(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options = {});
  // Stop().
  ~Api();
  // Stops the workers: requests still waiting for one are answered 503, those running finish.
  // Call after the HTTP server has shut down (it lets in-flight requests finish first), before
  // the store shuts down.
  void Stop();
  void SetOrg(std::shared_ptr<const config::Org> org);
  // The base of links for requests that name no Host (HTTP/1.0), when no base_url is set:
  // the address the server listens on. Call before serving.
  void set_listen_url(std::string url) { ctx_.set_listen_url(std::move(url)); }
  std::shared_ptr<const OrgView> org() const { return ctx_.org(); }
  // Requests waiting for a worker or running on one (tests, metrics).
  size_t worker_requests() const { return workers_ ? workers_->pending() : 0; }
  // How many times the status page was built rather than served from its cache (tests, bench).
  uint64_t status_page_builds() const;
  // Adds every route to `router`; a route with a minimum role is authorized before its body is
  // read, and again (with the CSRF/Origin rule for cookies) before its handler runs.
  void Register(http::Router& router);
  // Errors raised before a handler runs, in the shape the path's clients expect.
  http::Response RenderError(std::string_view path, const Status& status) const;
  // The one route table: every route of every domain.
  const std::vector<RouteSpec>& routes() const { return table_.routes(); }
  // The table itself, for tests that add a route of their own before Register.
  RouteTable& table_for_testing() { return table_; }

 private:
  void Dispatch(const RouteSpec& spec, const http::HttpRequest& req, http::Responder respond);
  // The caller on a route that needs a role: Unauthenticated, or PermissionDenied when the role
  // is too low or a cookie-authenticated change fails the CSRF/Origin rule (auth::CheckCsrf).
  Result<auth::Principal> Authorize(const RouteSpec& spec, const http::HttpRequest& req);

  Context ctx_;
  std::unique_ptr<PlatformRoutes> platform_;
  std::unique_ptr<intake::IntakeRoutes> intake_;
  std::unique_ptr<intake::OpsgenieRoutes> opsgenie_;
  std::unique_ptr<incidents::IncidentRoutes> incidents_;
  std::unique_ptr<paging::PagingRoutes> paging_;
  std::unique_ptr<paging::LinkRoutes> links_;
  std::unique_ptr<audit::AuditRoutes> audit_;
  std::unique_ptr<learning::LearningRoutes> learning_;
  std::unique_ptr<learning::AnalyticsRoutes> analytics_;
  RouteTable table_;
  std::unique_ptr<WorkerPool> workers_;  // null: handlers run on the I/O threads; last: stops first
};

}  // namespace houston::api
