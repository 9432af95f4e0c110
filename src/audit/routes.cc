#include "audit/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "api/request.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "incidents/suspects.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"

namespace houston::audit {

namespace bhttp = http::bhttp;
using api::Field;
using api::ListResponse;
using api::ParsePage;
using api::Raw;
using api::Time;
using http::HttpRequest;
using store::Role;

void AuditRoutes::ListAudit(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::AuditFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  if (auto s = req.Query("resource_type")) f.resource_type = *s;
  if (auto s = req.Query("resource_id")) f.resource_id = *s;
  auto records = store_.ListAudit(f);
  if (!records) return respond(http::ErrorResponse(records.error()));
  respond(ListResponse("audit", *records, f.limit, [](const store::AuditRecord& r) {
    std::string o = "{";
    Raw(o, "id", std::to_string(r.id));
    Time(o, "at", r.at);
    std::string actor = "{";
    Field(actor, "type", r.actor.type);
    Field(actor, "id", r.actor.id);
    actor += '}';
    Raw(o, "actor", actor);
    Field(o, "method", r.actor.method);
    Field(o, "action", r.action);
    Field(o, "resource_type", r.resource_type);
    Field(o, "resource_id", r.resource_id);
    Raw(o, "details", r.details_json.empty() ? "{}" : r.details_json);
    o += '}';
    return o;
  }));
}

void AuditRoutes::AddTo(api::RouteTable& t) {
  t.Add(bhttp::verb::get, "/api/v1/audit", Role::kAdmin, this, &AuditRoutes::ListAudit);
}

}  // namespace houston::audit
