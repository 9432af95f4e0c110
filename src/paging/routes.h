// The paging resources of the REST API: notifications, users, escalation policies, schedules
// (who is on call, shifts, iCalendar feeds), overrides, swaps and cover requests; and the signed
// acknowledge/resolve links that notifications carry.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "api/context.h"
#include "core/incident.h"
#include "incidents/incident_service.h"

namespace houston::paging {

// Thread-safe.
class PagingRoutes : public api::RouteGroup {
 public:
  explicit PagingRoutes(api::Context& ctx) : RouteGroup(ctx) {}
  void AddTo(api::RouteTable& table) override;

 private:
  void ListNotifications(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListUsers(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListEscalationPolicies(const http::HttpRequest& req, const auth::Principal*,
                              Respond respond);
  void ListSchedules(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ScheduleOnCall(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ScheduleShifts(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Who is on call now (or ?at=) for every schedule, until when and who is next; and whom each
  // step of every escalation policy reaches.
  void OnCallNow(const http::HttpRequest& req, const auth::Principal*, Respond respond);
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
};

// Signed links from notifications (link_routes.cc): GET shows a confirmation page, POST acts
// through the incidents domain's service. Thread-safe.
class LinkRoutes : public api::RouteGroup {
 public:
  explicit LinkRoutes(api::Context& ctx) : RouteGroup(ctx), incidents_(ctx.store()) {}
  void AddTo(api::RouteTable& table) override;

 private:
  void ActionPage(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ActionPost(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // The incidents of a bundled message (its batch id), oldest first; `earlier_episode` when the
  // incident was reopened after the message was made (its link no longer acts on it).
  struct BatchIncident {
    core::Incident incident;
    bool earlier_episode = false;
  };
  Result<std::vector<BatchIncident>> BatchIncidents(int64_t batch_id);
  // The page a "view" link opens: the incident read-only, with acknowledge/resolve buttons
  // (signed for `user_id`, until `expires`) when the link is for its current episode.
  Result<http::Response> IncidentPage(const core::Incident& inc, std::string_view user_id,
                                      TimePoint expires, int64_t link_episode);
  // Where the web UI shows `inc`: with ?ack=1 (Acknowledge focused) while a link for
  // `link_episode` may still acknowledge it. A signed-in browser following a view link goes there.
  static std::string AppIncidentPath(const core::Incident& inc, int64_t link_episode);
  // The answer to a link made for an earlier episode of `inc` than its current one: says so,
  // and when that episode was resolved; nothing is done.
  http::Response EarlierEpisodePage(const core::Incident& inc, int64_t link_episode, bool acting);
  // The incident a signed link names, or the "No such incident" page to answer instead.
  std::expected<core::Incident, http::Response> LinkedIncident(core::IncidentId id);
  // When the incident was last reopened (nullopt if never): pages sent before belong to an
  // earlier episode.
  Result<std::optional<TimePoint>> LastReopened(core::IncidentId id);

  incidents::IncidentService incidents_;
};

}  // namespace houston::paging
