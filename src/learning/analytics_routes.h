// The analytics resources of the REST API: incidents (counts and response times per group and
// interval), on-call load, alert noise, the weekly report and a person's record. Each handler
// validates the query strictly (400 naming the field), then runs its query on a pool of its own,
// never on the HTTP I/O thread nor on the API's workers, and answers from there (503 with
// Retry-After when the pool's queue is full).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "api/context.h"
#include "core/worker_pool.h"
#include "learning/analytics.h"

namespace houston::learning {

// Thread-safe.
class AnalyticsRoutes : public api::RouteGroup {
 public:
  explicit AnalyticsRoutes(api::Context& ctx,
                           WorkerPoolOptions pool = {.name = "analytics", .nice = api::kReadNice});
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
  WorkerPool pool_;  // last: its threads stop before the service goes
};

}  // namespace houston::learning
