// The foundation every domain's routes stand on: the one route table (method, path, minimum role,
// handler), the context the handlers share (store, metrics, clock, options, the current org, the
// authenticator), and RouteGroup, the base of a domain's routes. A domain adds its routes in its
// own folder (intake/routes.cc, paging/routes.cc, incidents/routes.cc, audit/routes.cc); api::Api
// composes them and authorizes every request before its handler runs.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/schedule.h"
#include "core/worker_pool.h"
#include "http/http.h"
#include "store/store.h"

namespace houston::live {
class Feed;
}  // namespace houston::live

namespace houston::api {

// What is added to the nice value of the threads that serve reads: the API's workers and the
// analytics and postmortem pools. When the CPU is short, intake and paging come first: at +10 a
// reading thread gets about a tenth of the CPU against a busy thread at the process's priority
// (CFS weights 110 and 1024), so a flood of reads cannot slow intake down, and reads still
// progress.
inline constexpr int kReadNice = 10;

struct ApiOptions {
  size_t max_event_bytes = core::kMaxEventBodyBytes;
  // The largest request body of every route but intake's (which take the server's
  // max_body_bytes): API calls, sign-in, signed links. Larger: 413 before the body is read.
  size_t max_api_body_bytes = 256 * 1024;
  std::string version = "dev";
  // HMAC key of the signed acknowledge/resolve links in notifications ("" disables them).
  std::string link_key;
  // Called after any alert or incident state change was committed (wakes the engine).
  std::function<void()> on_change;
  // Called instead when intake opened incidents that page at once and changed nothing else: only
  // the paging engines have work (the learning reminders do not). Unset: on_change.
  std::function<void()> on_incidents_opened;
  // Who is on call for a schedule at an instant (wired to the schedule resolver).
  std::function<Result<std::vector<std::string>>(const config::Org&, const std::string&, TimePoint)>
      on_call;
  // The compiled schedule (for timelines and calendars), or nullptr if unknown.
  std::function<const core::CompiledSchedule*(const config::Org&, const std::string&)> schedule;
  std::string base_url;  // for calendar links; "" = from the request's Host header
  bool tls = false;      // the server speaks HTTPS (for links built from Host)
  // Called after an API override, swap or cover request changed (recompile the schedules).
  std::function<void()> on_overrides_changed;
  // How long a rendered status page may be served after it was built. Within this server a
  // commit to the store or a new org rebuilds it at once; this bounds how late it shows what
  // only time changes (a maintenance window starting) and, on PostgreSQL, other servers' writes.
  std::chrono::milliseconds status_page_max_age{1000};
  // People's sessions: lifetimes, cookie, sign-in throttle (secure_cookie is also set when
  // `tls` is, or `base_url` is https).
  auth::SessionOptions sessions;
  // The live feed (GET /api/v1/live); nullptr: the route answers 503.
  live::Feed* live = nullptr;
  http::WebSocketOptions live_socket;  // its streams' send buffer bound and timeouts
  // Threads that run the handlers of every route but intake's writes, the probes and the UI's
  // files (api::RunsOnIoThread), so that a slow read or a sign-in never holds up the HTTP I/O
  // thread that also answers intake. 0: every handler runs on the I/O thread (tests).
  int workers = 0;
  // Requests waiting for a worker at most; more are answered 503 with Retry-After. The workers
  // run at kReadNice.
  size_t worker_queue = 1024;
};

// The org as handlers see it: immutable, replaced whole on reload.
struct OrgView {
  std::shared_ptr<const config::Org> org;
};

// What every route handler shares. Thread-safe.
class Context {
 public:
  Context(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options);

  store::Store& store() const { return store_; }
  http::Metrics& metrics() const { return metrics_; }
  Clock& clock() const { return clock_; }
  const ApiOptions& options() const { return options_; }
  auth::Authenticator& authenticator() const { return *auth_; }

  void SetOrg(std::shared_ptr<const config::Org> org);
  std::shared_ptr<const OrgView> org() const;
  // Bumped by every SetOrg (the status page shows the org).
  uint64_t org_version() const { return org_version_.load(); }
  // The current org's role of `user_id` (nullopt: no such user).
  std::optional<store::Role> UserRole(std::string_view user_id) const;

  // The base of links for requests that name no Host (HTTP/1.0), when no base_url is set: the
  // address the server listens on. Set before serving.
  void set_listen_url(std::string url) { listen_url_ = std::move(url); }
  // The base URL for links: --base-url, else the request's Host.
  std::string BaseUrl(const http::HttpRequest& req) const;
  // What the CSRF/Origin rule looks at in `req` (views into it).
  auth::RequestSite SiteOf(const http::HttpRequest& req) const;
  // After an alert or incident change was committed: wakes the engines.
  void Changed() const;
  // New incidents that page at once, nothing else (ApiOptions::on_incidents_opened).
  void IncidentsOpened() const;

 private:
  store::Store& store_;
  http::Metrics& metrics_;
  Clock& clock_;
  const ApiOptions options_;
  mutable std::mutex org_mu_;
  std::shared_ptr<const OrgView> org_;  // guarded by org_mu_
  std::atomic<uint64_t> org_version_{0};
  std::string listen_url_;
  std::unique_ptr<auth::Authenticator> auth_;
};

// A route handler; `principal` is the caller on routes that need a role, else nullptr.
using Handler = std::function<void(const http::HttpRequest& req, const auth::Principal* principal,
                                   http::Responder respond)>;

// Why a route needs no role: it authenticates its callers itself, or is public by design.
enum class Open {
  kIntegrationKey,  // intake: an integration key (in the path, a header or the body) is the secret
  kSignedLink,      // a signed URL is the credential (notification links, calendar feeds)
  kPassword,        // signing in: checked by the person's password
  kProbe,           // /healthz, /readyz, /metrics: for load balancers and scrapers
  kPublicPage,      // the public status page and its feeds
  kWebUi,           // the web UI's page and files, and the API root: no data in them
};
std::string_view ToString(Open why);

// A route's access decision: a minimum role (a bearer token's or a session's), or open for a
// stated reason. Every route must make one: a default-constructed Access decides nothing, and
// such a route is refused to everyone (403) by Api, and fails the role-per-route test.
struct Access {
  Access() = default;
  Access(store::Role role) : min_role(role) {}  // NOLINT: implicit, so routes read "Role::kViewer"
  Access(Open why) : open(why) {}               // NOLINT: implicit, "Open::kIntegrationKey"
  bool decided() const { return min_role.has_value() != open.has_value(); }
  std::optional<store::Role> min_role;
  std::optional<Open> open;
};

// One route: method, path, access decision and handler. Exactly one of `min_role` (the caller
// needs a principal with at least this role) and `open` (no principal; the reason) is set for a
// route that decided; neither for one that did not (denied to everyone).
struct RouteSpec {
  http::bhttp::verb method;
  std::string pattern;
  std::optional<store::Role> min_role;
  Handler handler;
  std::optional<Open> open;
  bool decided() const { return min_role.has_value() != open.has_value(); }
};

// The one route table every domain adds to. Not thread-safe: filled before serving.
// Every route states its Access; a route added with both a role and a reason to be open is a
// programming error (checked).
class RouteTable {
 public:
  void Add(http::bhttp::verb method, std::string pattern, Access access, Handler handler);
  // A member function of a route group as the handler.
  template <typename Group>
  void Add(http::bhttp::verb method, std::string pattern, Access access, Group* group,
           void (Group::*member)(const http::HttpRequest&, const auth::Principal*,
                                 http::Responder)) {
    Add(method, std::move(pattern), access,
        [group, member](const http::HttpRequest& req, const auth::Principal* principal,
                        http::Responder respond) {
          (group->*member)(req, principal, std::move(respond));
        });
  }
  const std::vector<RouteSpec>& routes() const { return routes_; }

 private:
  std::vector<RouteSpec> routes_;
};

// Runs `work` on `pool`; it answers through the Responder it is given. 503 with Retry-After,
// at once, when the pool is full ("too many <what> are waiting") or has stopped ("shutting
// down"; then also for work that was queued and had not started). Slow work uses it to stay off the
// I/O threads.
void RunOnPool(WorkerPool& pool, std::string_view what, http::Responder respond,
               std::function<void(std::shared_ptr<http::Responder>)> work);

// The base of a domain's routes: its handlers see the shared context under short names.
class RouteGroup {
 public:
  using Respond = http::Responder;
  virtual ~RouteGroup() = default;
  RouteGroup(const RouteGroup&) = delete;
  RouteGroup& operator=(const RouteGroup&) = delete;
  // Adds the group's routes to `table`.
  virtual void AddTo(RouteTable& table) = 0;

 protected:
  explicit RouteGroup(Context& ctx)
      : ctx_(ctx),
        store_(ctx.store()),
        metrics_(ctx.metrics()),
        clock_(ctx.clock()),
        options_(ctx.options()) {}
  std::shared_ptr<const OrgView> org() const { return ctx_.org(); }
  std::string BaseUrl(const http::HttpRequest& req) const { return ctx_.BaseUrl(req); }
  void Changed() const { ctx_.Changed(); }
  void IncidentsOpened() const { ctx_.IncidentsOpened(); }

  Context& ctx_;
  store::Store& store_;
  http::Metrics& metrics_;
  Clock& clock_;
  const ApiOptions& options_;
};

}  // namespace houston::api
