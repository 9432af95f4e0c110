// The incidents resources of the REST API (declare, list, lifecycle, PATCH, roles, responders,
// notes and pins, timeline, suspects, linked changes, status updates, merge and split) and the
// public status page. Each handler reads the request, calls one IncidentService function and
// writes the answer.
#pragma once

#include <memory>
#include <string>

#include "api/context.h"
#include "core/incident.h"
#include "incidents/incident_service.h"
#include "incidents/status_page.h"

namespace houston::incidents {

// Thread-safe.
class IncidentRoutes : public api::RouteGroup {
 public:
  explicit IncidentRoutes(api::Context& ctx);
  void AddTo(api::RouteTable& table) override;
  // How many times the status page was built rather than served from its cache (tests, bench).
  uint64_t status_page_builds() const { return status_cache_.builds(); }

 private:
  void ListIncidents(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GetIncident(const http::HttpRequest& req, const auth::Principal*, Respond respond);
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

  // The public status page (status_page_routes.cc): no token, public facts only.
  void StatusHtml(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusJson(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusAtom(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void StatusRss(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  Result<StatusPageModel> BuildStatusPage(const http::HttpRequest& req);
  // Answers with one rendering of the status page, from the cache when it is current.
  void StatusPage(StatusPageCache::Format format, const http::HttpRequest& req, Respond respond);

  IncidentService incidents_;  // the incident rules; handlers call it
  StatusPageCache status_cache_;
};

}  // namespace houston::incidents
