// The analytics resources of the REST API: incidents (counts and response times per group and
// interval), on-call load, alert noise, the weekly report and a person's record. Each handler
// validates the query strictly (400 naming the field), then runs its query on the QueryPool,
// never on the HTTP I/O thread, and answers from there (503 with Retry-After when the pool's
// queue is full).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "api/context.h"
#include "learning/analytics.h"
#include "learning/query_pool.h"

namespace houston::learning {

// Runs `work` on `pool`; it answers through the Responder it is given. 503 with Retry-After,
// at once, when the pool is full ("too many <what> are running") or stopping. Heavy reads use it
// to stay off the I/O threads.
void RunOnPool(QueryPool& pool, std::string_view what, http::Responder respond,
               std::function<void(std::shared_ptr<http::Responder>)> work);

// Thread-safe.
class AnalyticsRoutes : public api::RouteGroup {
 public:
  explicit AnalyticsRoutes(api::Context& ctx, QueryPoolOptions pool = {});
  void AddTo(api::RouteTable& table) override;

 private:
  void Incidents(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void OncallLoad(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Noise(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Weekly(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  void Record(const http::HttpRequest& req, const auth::Principal*, Respond respond);
  // Runs `work` on the query pool and answers with what it returns (an error as the API's error);
  // 503 with Retry-After when the pool is full.
  void Run(Respond respond, std::function<Result<std::string>()> work);

  AnalyticsService service_;
  QueryPool pool_;  // last: its threads stop before the service goes
};

}  // namespace houston::learning
