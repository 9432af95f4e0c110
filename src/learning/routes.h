// The postmortem and action-item resources of the REST API:
//   GET|PUT /api/v1/incidents/{id}/postmortem, POST .../postmortem/publish|reopen,
//   GET /api/v1/incidents/{id}/postmortem.md, GET /api/v1/postmortems,
//   GET /api/v1/postmortem-template (the org's sections and contributing-factor vocabulary),
//   POST|GET /api/v1/action-items, GET|PATCH /api/v1/action-items/{id}.
// Each handler reads the request, calls one LearningService function and writes the answer.
// Building a postmortem's computed part reads the incident's whole timeline: that runs on the
// group's own query thread, never on an HTTP I/O thread (503 with Retry-After when it is busy).
#pragma once

#include <functional>

#include "api/context.h"
#include "core/worker_pool.h"
#include "learning/learning_service.h"

namespace houston::learning {

// Thread-safe.
class LearningRoutes : public api::RouteGroup {
 public:
  explicit LearningRoutes(api::Context& ctx, WorkerPoolOptions pool = {.threads = 1,
                                                                       .capacity = 32,
                                                                       .name = "postmortems",
                                                                       .nice = api::kReadNice});
  void AddTo(api::RouteTable& table) override;

 private:
  void GetPostmortem(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void GetPostmortemMarkdown(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void PutPostmortem(const http::HttpRequest& req, const auth::Principal* principal,
                     Respond respond);
  void PublishPostmortem(const http::HttpRequest& req, const auth::Principal* principal,
                         Respond respond);
  void ReopenPostmortem(const http::HttpRequest& req, const auth::Principal* principal,
                        Respond respond);
  void ListPostmortems(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // The org's postmortem template: {"sections": [{id, title, prompt}], "contributing_factors",
  // "required_severities", "due_days"} (what an editor offers before anything is written).
  void GetTemplate(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void CreateActionItem(const http::HttpRequest& req, const auth::Principal* principal,
                        Respond respond);
  void PatchActionItem(const http::HttpRequest& req, const auth::Principal* principal,
                       Respond respond);
  void GetActionItem(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void ListActionItems(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // A store callback answering {"postmortem": ...} (with its computed part) or the error.
  store::Callback<store::Postmortem> AnswerPostmortem(Respond respond, http::bhttp::status code);
  store::Callback<store::ActionItem> AnswerActionItem(Respond respond, http::bhttp::status code);

  // Runs `work` on the query pool; it answers through the Respond it is given. 503 with
  // Retry-After when the pool is full or stopping.
  void Offload(Respond respond, std::function<void(std::shared_ptr<Respond>)> work);

  LearningService learning_;
  WorkerPool pool_;  // last: its threads stop before the service goes
};

// The JSON of an action item (API and CLI).
std::string ActionItemJson(const store::ActionItem& a, TimePoint now);

}  // namespace houston::learning
