// The HTTP resources of houston: intake endpoints (PagerDuty Events API v2, change events,
// Alertmanager, Grafana, generic webhooks, heartbeats) and the REST API under /api/v1, with
// authentication (bearer tokens and people's sessions, see auth/) and one table of which role
// may call which route.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/status_page.h"
#include "auth/auth.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/incident.h"
#include "core/schedule.h"
#include "http/http.h"
#include "incidents/incident_service.h"
#include "ingest/ingest.h"
#include "live/feed.h"
#include "store/store.h"

namespace houston::api {

// An integration as intake sees it.
struct IntegrationInfo {
  std::string key;
  std::string service_id;
  core::IntegrationType type = core::IntegrationType::kEventsV2;
  std::optional<double> rate_limit_per_second;
  ingest::GenericMapping mapping;
  std::string escalation_policy;                         // the service's
  std::optional<std::chrono::minutes> first_step_delay;  // of that policy
  std::chrono::minutes group_window{0};  // the service's time-window grouping (0: off)
  std::vector<std::string> group_by;     // its content-key fields
  bool fanout = true;                    // the org has incident rules or incident webhooks
};

// Fills in what routing adds to an inbound event: its service, the escalation policy, and the
// service's grouping window and content key.
void Route(core::AlertEvent& ev, const IntegrationInfo& info);

// The org as request handlers see it: immutable, replaced whole on reload.
struct OrgView {
  std::shared_ptr<const config::Org> org;
  std::unordered_map<std::string, IntegrationInfo> integrations;  // by key
};
std::shared_ptr<const OrgView> MakeOrgView(std::shared_ptr<const config::Org> org);

// A token bucket per integration key: it refills at `per_second` events per second and holds
// at most Burst(per_second) of them. Every event counts, so a batch (an Alertmanager or Grafana
// request with many alerts) takes one token per alert, and passes whole or not at all.
// Thread-safe.
class RateLimiter {
 public:
  struct Verdict {
    bool allowed = true;
    int retry_after = 0;  // when refused: whole seconds (>= 1) until the batch would pass
    bool never = false;   // refused because the batch is larger than the bucket can ever hold
  };
  explicit RateLimiter(Clock& clock) : clock_(clock) {}
  // Takes `events` tokens from `key`'s bucket if it holds them all now; otherwise takes none.
  Verdict Take(const std::string& key, double per_second, size_t events = 1);
  // One event: true if it may pass now; otherwise sets `retry_after` (whole seconds, >= 1).
  bool Allow(const std::string& key, double per_second, int& retry_after) {
    Verdict v = Take(key, per_second, 1);
    if (!v.allowed) retry_after = v.retry_after;
    return v.allowed;
  }
  // How many events the bucket of a `per_second` limit holds: one second's worth, at least 1.
  static double Burst(double per_second) { return std::max(1.0, per_second); }

 private:
  struct Bucket {
    double tokens;
    SteadyPoint last;
  };
  Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

struct ApiOptions {
  size_t max_event_bytes = core::kMaxEventBodyBytes;
  std::string version = "dev";
  // HMAC key of the signed acknowledge/resolve links in notifications ("" disables them).
  std::string link_key;
  // Called after any alert or incident state change was committed (wakes the engine).
  std::function<void()> on_change;
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
};

// Thread-safe.
class Api {
 public:
  Api(store::Store& store, http::Metrics& metrics, Clock& clock, ApiOptions options = {});
  void SetOrg(std::shared_ptr<const config::Org> org);
  // The base of links for requests that name no Host (HTTP/1.0), when no base_url is set:
  // the address the server listens on. Call before serving.
  void set_listen_url(std::string url) { listen_url_ = std::move(url); }
  std::shared_ptr<const OrgView> org() const;
  // How many times the status page was built rather than served from its cache (tests, bench).
  uint64_t status_page_builds() const { return status_cache_.builds(); }
  // Adds every route to `router`.
  void Register(http::Router& router);
  // Errors raised before a handler runs, in the shape the path's clients expect.
  http::Response RenderError(std::string_view path, const Status& status) const;

  using Respond = http::Responder;
  // A route handler; `principal` is the caller on authenticated routes, else nullptr.
  using Method = void (Api::*)(const http::HttpRequest& req, const auth::Principal* principal,
                               Respond respond);
  // The one route table: method, path, the minimum role (nullopt: no principal needed; intake
  // authenticates by its integration key, sign-in by a password) and the handler.
  struct RouteSpec {
    http::bhttp::verb method;
    std::string pattern;
    std::optional<store::Role> min_role;
    Method handler;
  };
  static const std::vector<RouteSpec>& Routes();

 private:
  void Dispatch(const RouteSpec& spec, const http::HttpRequest& req, Respond respond);
  // The caller, from a bearer token or a session cookie (auth::Authenticator::Authenticate).
  Result<auth::Principal> Authenticate(const http::HttpRequest& req);
  // The caller on a route that needs a role: Unauthenticated, or PermissionDenied when the role
  // is too low or a cookie-authenticated change fails the CSRF/Origin rule (auth::CheckCsrf).
  Result<auth::Principal> Authorize(const RouteSpec& spec, const http::HttpRequest& req);
  // What the CSRF/Origin rule looks at in `req` (views into it).
  auth::RequestSite SiteOf(const http::HttpRequest& req) const;

  void Health(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // 200 when the database answers, 503 with the reason when it does not (load balancers).
  void Ready(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void MetricsText(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Intake.
  void EventsV2(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  template <typename Event, typename Parse>
  std::optional<std::pair<Event, IntegrationInfo>> PagerDutyEvent(std::string_view type,
                                                                  const http::HttpRequest& req,
                                                                  Parse parse, Respond& respond);
  void ChangeEvent(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AlertmanagerIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GrafanaIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GenericIntake(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void WebhookIntake(core::IntegrationType type, const http::HttpRequest& req, Respond respond);
  void Heartbeat(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Applies parsed events; answers with `on_success(outcomes)` once they are durable.
  void Submit(std::vector<core::AlertEvent> events, std::string integration_type,
              std::function<http::Response(const std::vector<store::EventOutcome>&)> on_success,
              std::function<http::Response(const Status&)> on_error, Respond respond);
  // Checks the per-integration rate limit for `events` events; false after answering 429 (or
  // 400 when the batch is larger than the limit's bucket, so that it can never pass).
  bool CheckRate(const IntegrationInfo& info, size_t events, Respond& respond,
                 bool pagerduty_shape);

  // REST.
  void ListAlerts(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GetAlert(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AcknowledgeAlert(const http::HttpRequest& req, const auth::Principal* principal,
                        Respond respond);
  void ResolveAlert(const http::HttpRequest& req, const auth::Principal* principal,
                    Respond respond);
  void AlertAction(bool acknowledge, const http::HttpRequest& req, const auth::Principal& principal,
                   Respond respond);
  void ListIncidents(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GetIncident(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListServices(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListChanges(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListAudit(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AcknowledgeIncident(const http::HttpRequest& req, const auth::Principal* principal,
                           Respond respond);
  void ResolveIncident(const http::HttpRequest& req, const auth::Principal* principal,
                       Respond respond);
  void MitigateIncident(const http::HttpRequest& req, const auth::Principal* principal,
                        Respond respond);
  void ReopenIncident(const http::HttpRequest& req, const auth::Principal* principal,
                      Respond respond);
  void IncidentAction(core::IncidentAction action, const http::HttpRequest& req,
                      const auth::Principal& principal, Respond respond);
  void TransitionIncident(core::IncidentAction action, core::IncidentId id, store::Actor actor,
                          Respond respond);
  void IncidentTimeline(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Running incidents (api/incidents.cc).
  void DeclareIncident(const http::HttpRequest& req, const auth::Principal* principal,
                       Respond respond);
  void PatchIncident(const http::HttpRequest& req, const auth::Principal* principal,
                     Respond respond);
  void AssignRole(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void AddResponder(const http::HttpRequest& req, const auth::Principal* principal,
                    Respond respond);
  void RemoveResponder(const http::HttpRequest& req, const auth::Principal* principal,
                       Respond respond);
  void AddNote(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void PinEntry(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void UnpinEntry(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void Suspects(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void LinkChange(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void ListUpdates(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void PublishUpdate(const http::HttpRequest& req, const auth::Principal* principal,
                     Respond respond);
  void MergeIncident(const http::HttpRequest& req, const auth::Principal* principal,
                     Respond respond);
  void SplitIncident(const http::HttpRequest& req, const auth::Principal* principal,
                     Respond respond);
  void ListIncidentRoles(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListSeverities(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Patch(core::IncidentId id, store::IncidentPatch patch, store::Actor actor, Respond respond);
  // A store callback that answers {"incident": ...} with `code` (and wakes the engines), or the
  // store's error.
  store::Callback<core::Incident> AnswerIncident(
      Respond respond, http::bhttp::status code = http::bhttp::status::ok);
  // The public status page (api/incidents.cc): no token, public facts only.
  void StatusHtml(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusJson(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusAtom(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusRss(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  Result<StatusPageModel> BuildStatusPage(const http::HttpRequest& req);
  // Answers with one rendering of the status page, from the cache when it is current.
  void StatusPage(StatusPageCache::Format format, const http::HttpRequest& req, Respond respond);
  // The base URL for links: --base-url, else the request's Host.
  std::string BaseUrl(const http::HttpRequest& req) const;
  // GET /api/v1/live (api/live.cc): a WebSocket stream of the change feed, or a long poll.
  void Live(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Whether a browser page from `origin` may open a WebSocket here: the server's own origin only.
  bool SameOrigin(std::string_view origin, const http::HttpRequest& req) const;
  void ListNotifications(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListUsers(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListEscalationPolicies(const http::HttpRequest& req, const auth::Principal*,
                              Respond respond);
  void ListSchedules(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ScheduleOnCall(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ScheduleShifts(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListOverrides(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void CreateOverride(const http::HttpRequest& req, const auth::Principal* principal,
                      Respond respond);
  void CreateSwap(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void CreateCoverRequest(const http::HttpRequest& req, const auth::Principal* principal,
                          Respond respond);
  void ListCoverRequests(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void AcceptCover(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  void CancelOverride(const http::HttpRequest& req, const auth::Principal* principal,
                      Respond respond);
  void SubmitOverrides(std::vector<store::ScheduleOverride> overrides, store::Actor actor,
                       Respond respond);
  // iCalendar feeds, authenticated by a signed URL (calendar apps cannot send tokens).
  void Calendar(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  std::string CalendarUrl(std::string_view kind, std::string_view id,
                          const http::HttpRequest& req) const;
  // The incidents of a bundled message (its batch id), oldest first; `earlier_episode` when the
  // incident was reopened after the message was made (its link no longer acts on it).
  struct BatchIncident {
    core::Incident incident;
    bool earlier_episode = false;
  };
  Result<std::vector<BatchIncident>> BatchIncidents(int64_t batch_id);
  // Signed links from notifications: GET shows a confirmation page, POST acts.
  void ActionPage(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ActionPost(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Pages for people (api/pages.cc). GET /: what houston is and where to go from here.
  void Home(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /api/v1 (no token): what the API is, how to authenticate, its top-level resources.
  void ApiRoot(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // The page a "view" link opens: the incident read-only, with acknowledge/resolve buttons
  // (signed for `user_id`, until `expires`) when the link is for its current episode.
  Result<http::Response> IncidentPage(const core::Incident& inc, std::string_view user_id,
                                      TimePoint expires, int64_t link_episode);
  // The answer to a link made for an earlier episode of `inc` than its current one: says so,
  // and when that episode was resolved; nothing is done.
  http::Response EarlierEpisodePage(const core::Incident& inc, int64_t link_episode, bool acting);
  // The incident a signed link names, or the "No such incident" page to answer instead.
  std::expected<core::Incident, http::Response> LinkedIncident(core::IncidentId id);
  // When the incident was last reopened (nullopt if never): pages sent before belong to an
  // earlier episode.
  Result<std::optional<TimePoint>> LastReopened(core::IncidentId id);
  void Changed();

  // People signing in (api/session_routes.cc). POST /api/v1/session: password -> session cookie.
  void SignIn(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // GET /api/v1/session: who is calling (and the session's CSRF token).
  void WhoAmI(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // DELETE /api/v1/session: signs out (the session ends server-side; the cookie is cleared).
  void SignOut(const http::HttpRequest& req, const auth::Principal* principal, Respond respond);
  // DELETE /api/v1/users/{id}/sessions (admin): revokes every session of a user.
  void RevokeUserSessions(const http::HttpRequest& req, const auth::Principal* principal,
                          Respond respond);
  // The current org's role of `user_id` (nullopt: no such user).
  std::optional<store::Role> UserRole(std::string_view user_id) const;

  void CountEvent(std::string_view type, std::string_view result, uint64_t n = 1);

  store::Store& store_;
  incidents::IncidentService incidents_;  // the incident rules; handlers call it
  http::Metrics& metrics_;
  Clock& clock_;
  ApiOptions options_;
  RateLimiter limiter_;
  mutable std::mutex org_mu_;
  std::shared_ptr<const OrgView> org_;    // guarded by org_mu_
  std::atomic<uint64_t> org_version_{0};  // bumped by SetOrg (the status page shows the org)
  std::string listen_url_;
  StatusPageCache status_cache_;
  std::unique_ptr<auth::Authenticator> auth_;
};

// JSON renderings used by the API and the CLI's --json output (incidents: core::IncidentJson).
std::string AlertJson(const core::Alert& a);
std::string ChangeJson(const core::Change& c);

// Who did something through the API: a token, by api or (X-Houston-Client: cli) the CLI; or a
// signed-in person (auth::Principal::Actor).
store::Actor ActorOf(const http::HttpRequest& req, const auth::Principal& principal);

// A new API token: "hou_" + 43 base62 characters. Store only its hash (TokenHash).
std::string NewApiToken();
std::string TokenHash(std::string_view token);

}  // namespace houston::api
