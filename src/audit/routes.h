// The audit domain: GET /api/v1/audit, who did what and when (admins only).
#pragma once

#include "api/context.h"

namespace houston::audit {

// Thread-safe.
class AuditRoutes : public api::RouteGroup {
 public:
  explicit AuditRoutes(api::Context& ctx) : RouteGroup(ctx) {}
  void AddTo(api::RouteTable& table) override;

 private:
  void ListAudit(const http::HttpRequest& req, const auth::Principal*, Respond respond);
};

}  // namespace houston::audit
