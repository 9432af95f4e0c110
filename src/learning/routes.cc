#include "learning/routes.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/json_body.h"
#include "api/request.h"
#include "core/json_util.h"
#include "core/time_util.h"
#include "learning/analytics.h"
#include "learning/analytics_routes.h"

namespace houston::learning {

namespace bhttp = http::bhttp;
namespace json = boost::json;
using api::ActorOf;
using api::ParseId;
using http::HttpRequest;
using store::Role;

namespace {

// The org handlers decide with (an empty one before any org is loaded).
std::shared_ptr<const config::Org> OrgOf(const std::shared_ptr<const api::OrgView>& view) {
  static const auto kEmpty = std::make_shared<const config::Org>();
  return view && view->org ? view->org : kEmpty;
}

// An optional instant in the query: RFC 3339, or a date (its midnight UTC).
Result<std::optional<TimePoint>> QueryTime(const HttpRequest& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<TimePoint>();
  auto t = ParseInstant(*v, nullptr, name);
  if (!t) return std::unexpected(t.error());
  return std::optional<TimePoint>(*t);
}

}  // namespace

std::string ActionItemJson(const store::ActionItem& a, TimePoint now) {
  bool overdue = !store::IsClosed(a.status) && a.overdue_at <= now;
  json::object o{
      {"id", a.id},
      {"incident_id", a.incident_id},
      {"service", a.service_id},
      {"title", a.title},
      {"owner", a.owner},
      {"due", a.due},
      {"overdue_at", FormatRfc3339(a.overdue_at)},
      {"overdue", overdue},
      {"priority", a.priority},
      {"status", store::ToString(a.status)},
      {"ticket_url", a.ticket_url},
      {"created_at", FormatRfc3339(a.created_at)},
      {"created_by", a.created_by},
      {"updated_at", FormatRfc3339(a.updated_at)},
      {"closed_at", a.closed_at ? json::value(FormatRfc3339(*a.closed_at)) : json::value(nullptr)},
      {"closed_by", a.closed_by},
      {"reminders_sent", a.reminders},
      {"next_reminder_at", a.next_reminder_at ? json::value(FormatRfc3339(*a.next_reminder_at))
                                              : json::value(nullptr)}};
  return json::serialize(o);
}

LearningRoutes::LearningRoutes(api::Context& ctx, WorkerPoolOptions pool)
    : RouteGroup(ctx), learning_(ctx.store(), ctx.clock()), pool_(std::move(pool)) {}

void LearningRoutes::Offload(Respond respond, std::function<void(std::shared_ptr<Respond>)> work) {
  api::RunOnPool(pool_, "postmortem builds", std::move(respond), std::move(work));
}

void LearningRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  using R = LearningRoutes;
  t.Add(V::get, "/api/v1/incidents/{id}/postmortem", Role::kViewer, this, &R::GetPostmortem);
  t.Add(V::put, "/api/v1/incidents/{id}/postmortem", Role::kResponder, this, &R::PutPostmortem);
  t.Add(V::post, "/api/v1/incidents/{id}/postmortem/publish", Role::kResponder, this,
        &R::PublishPostmortem);
  t.Add(V::post, "/api/v1/incidents/{id}/postmortem/reopen", Role::kResponder, this,
        &R::ReopenPostmortem);
  t.Add(V::get, "/api/v1/incidents/{id}/postmortem.md", Role::kViewer, this,
        &R::GetPostmortemMarkdown);
  t.Add(V::get, "/api/v1/postmortems", Role::kViewer, this, &R::ListPostmortems);
  t.Add(V::get, "/api/v1/postmortem-template", Role::kViewer, this, &R::GetTemplate);
  t.Add(V::post, "/api/v1/action-items", Role::kResponder, this, &R::CreateActionItem);
  t.Add(V::get, "/api/v1/action-items", Role::kViewer, this, &R::ListActionItems);
  t.Add(V::get, "/api/v1/action-items/{id}", Role::kViewer, this, &R::GetActionItem);
  t.Add(V::patch, "/api/v1/action-items/{id}", Role::kResponder, this, &R::PatchActionItem);
}

store::Callback<store::Postmortem> LearningRoutes::AnswerPostmortem(Respond respond,
                                                                    bhttp::status code) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  return [this, shared, code](Result<store::Postmortem> r) {
    if (!r) return (*shared)(api::StoreError(r.error()));
    Changed();  // wakes the reminder loop
    (*shared)(
        http::JsonResponse(code, "{\"postmortem\":" + PostmortemJson(*r, r->computed_json) + "}"));
  };
}

store::Callback<store::ActionItem> LearningRoutes::AnswerActionItem(Respond respond,
                                                                    bhttp::status code) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  return [this, shared, code](Result<store::ActionItem> r) {
    if (!r) return (*shared)(api::StoreError(r.error()));
    Changed();  // wakes the reminder loop
    (*shared)(
        http::JsonResponse(code, "{\"action_item\":" + ActionItemJson(*r, clock_.Now()) + "}"));
  };
}

// ---------------------------------------------------------------------------------------------
// Postmortems.

void LearningRoutes::GetPostmortem(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  Offload(std::move(respond), [this, id = *id, org_ptr = OrgOf(org())](auto respond) {
    auto view = learning_.GetPostmortem(*org_ptr, id);
    if (!view) return (*respond)(http::ErrorResponse(view.error()));
    (*respond)(http::JsonResponse(
        bhttp::status::ok,
        "{\"postmortem\":" + PostmortemJson(view->postmortem, view->computed_json) + "}"));
  });
}

void LearningRoutes::GetPostmortemMarkdown(const HttpRequest& req, const auth::Principal*,
                                           Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  Offload(std::move(respond), [this, id = *id, org_ptr = OrgOf(org())](auto respond) {
    auto view = learning_.GetPostmortem(*org_ptr, id);
    if (!view) return (*respond)(http::ErrorResponse(view.error()));
    http::Response res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/markdown; charset=utf-8");
    // People's text: never sniffed into HTML by a browser that opens it.
    res.set("X-Content-Type-Options", "nosniff");
    res.set(bhttp::field::content_disposition,
            fmt::format("inline; filename=\"postmortem-{}.md\"", id));
    res.body() = PostmortemMarkdown(view->postmortem, view->computed_json);
    res.prepare_payload();
    (*respond)(std::move(res));
  });
}

void LearningRoutes::PutPostmortem(const HttpRequest& req, const auth::Principal* principal,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto org_ptr = OrgOf(org());
  store::PostmortemEdit edit;
  if (auto v = body->Int("version", 0, INT64_MAX)) edit.expected_version = *v;
  if (body->Has("owner")) {
    if (body->IsNull("owner")) {
      edit.owner = "";
    } else if (auto o = body->String("owner", false, 200)) {
      edit.owner = *o;
    }
  }
  if (const json::object* sections = body->Object("sections")) {
    for (const auto& [k, v] : *sections) {
      if (!v.is_string()) {
        body->Problem(fmt::format("'sections.{}' must be a string (the section's text)",
                                  std::string_view(k)));
        continue;
      }
      if (v.as_string().size() > 100000) {
        body->Problem(
            fmt::format("'sections.{}' is longer than 100000 bytes", std::string_view(k)));
        continue;
      }
      edit.sections.emplace_back(std::string(k), std::string(v.as_string()));
    }
  }
  if (auto f = body->StringList("factors", 50, 64)) edit.factors = *f;
  if (auto s = body->String("status")) {
    auto st = store::ParsePostmortemStatus(*s);
    if (!st || *st == store::PostmortemStatus::kPublished) {
      body->Problem(
          fmt::format("'status' must be draft or in_review, not '{}' (publish with POST "
                      "/api/v1/incidents/{}/postmortem/publish)",
                      *s, *id));
    } else {
      edit.status = *st;
    }
  }
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Offload(std::move(respond), [this, id = *id, org_ptr, edit = std::move(edit),
                               actor = ActorOf(req, *principal)](auto shared) mutable {
    // The computed part as the edit's answer shows it (an edit changes only the human part).
    auto facts = learning_.ComputeFacts(*org_ptr, id);
    if (!facts) return (*shared)(http::ErrorResponse(facts.error()));
    learning_.EditPostmortem(
        *org_ptr, id, std::move(edit), std::move(actor),
        [this, shared, facts = std::move(*facts)](Result<store::Postmortem> r) {
          if (!r) return (*shared)(api::StoreError(r.error()));
          Changed();  // wakes the reminder loop
          const std::string& computed = r->computed_json.empty() ? facts : r->computed_json;
          (*shared)(http::JsonResponse(bhttp::status::ok,
                                       "{\"postmortem\":" + PostmortemJson(*r, computed) + "}"));
        });
  });
}

void LearningRoutes::PublishPostmortem(const HttpRequest& req, const auth::Principal* principal,
                                       Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body(), /*allow_empty=*/true);
  if (!body) return respond(http::ErrorResponse(body.error()));
  std::optional<int64_t> version = body->Int("version", 0, INT64_MAX);
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Offload(std::move(respond), [this, id = *id, org_ptr = OrgOf(org()), version,
                               actor = ActorOf(req, *principal)](auto shared) mutable {
    learning_.Publish(*org_ptr, id, version, std::move(actor),
                      AnswerPostmortem([shared](http::Response r) { (*shared)(std::move(r)); },
                                       bhttp::status::ok));
  });
}

void LearningRoutes::ReopenPostmortem(const HttpRequest& req, const auth::Principal* principal,
                                      Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body(), /*allow_empty=*/true);
  if (!body) return respond(http::ErrorResponse(body.error()));
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Offload(std::move(respond), [this, id = *id, org_ptr = OrgOf(org()),
                               actor = ActorOf(req, *principal)](auto shared) mutable {
    auto facts = learning_.ComputeFacts(*org_ptr, id);
    if (!facts) return (*shared)(http::ErrorResponse(facts.error()));
    learning_.Reopen(
        id, std::move(actor),
        [this, shared, facts = std::move(*facts)](Result<store::Postmortem> r) {
          if (!r) return (*shared)(api::StoreError(r.error()));
          Changed();  // wakes the reminder loop
          (*shared)(http::JsonResponse(bhttp::status::ok,
                                       "{\"postmortem\":" + PostmortemJson(*r, facts) + "}"));
        });
  });
}

void LearningRoutes::ListPostmortems(const HttpRequest& req, const auth::Principal*,
                                     Respond respond) {
  auto page = api::ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::PostmortemFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  if (auto s = req.Query("status")) {
    auto st = store::ParsePostmortemStatus(*s);
    if (!st) {
      return respond(http::ErrorResponse(InvalidArgument(fmt::format(
          "query parameter 'status' must be draft, in_review or published, not '{}'", *s))));
    }
    f.status = st;
  }
  if (auto s = req.Query("service")) {
    auto org_ptr = OrgOf(org());
    if (!org_ptr->services.empty() && !config::FindService(*org_ptr, *s)) {
      return respond(http::ErrorResponse(
          InvalidArgument(fmt::format("query parameter 'service': unknown service '{}'", *s))));
    }
    f.service = *s;
  }
  auto from = QueryTime(req, "from");
  if (!from) return respond(http::ErrorResponse(from.error()));
  auto to = QueryTime(req, "to");
  if (!to) return respond(http::ErrorResponse(to.error()));
  if (*from && *to && **from > **to) {
    return respond(
        http::ErrorResponse(InvalidArgument("query parameters 'from' and 'to': from is after to")));
  }
  f.from = *from;
  f.to = *to;
  auto list = store_.ListPostmortems(f);
  if (!list) return respond(http::ErrorResponse(list.error()));
  TimePoint now = clock_.Now();
  std::string out = "{\"postmortems\":[";
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& p = (*list)[i];
    if (i) out += ',';
    bool overdue = p.status != store::PostmortemStatus::kPublished && p.due_at && *p.due_at <= now;
    json::array factors;
    for (const auto& x : p.factors) factors.push_back(json::string(x));
    out += json::serialize(json::object{
        {"incident_id", p.incident_id},
        {"title", p.title},
        {"sev", p.sev},
        {"service", p.service_id},
        {"status", store::ToString(p.status)},
        {"required", p.required},
        {"owner", p.owner},
        {"resolved_at",
         p.resolved_at ? json::value(FormatRfc3339(*p.resolved_at)) : json::value(nullptr)},
        {"due_at", p.due_at ? json::value(FormatRfc3339(*p.due_at)) : json::value(nullptr)},
        {"overdue", overdue},
        {"published_at",
         p.published_at ? json::value(FormatRfc3339(*p.published_at)) : json::value(nullptr)},
        {"factors", std::move(factors)},
        {"version", p.version}});
  }
  out += "],\"next_cursor\":";
  if (static_cast<int>(list->size()) == f.limit && !list->empty()) {
    AppendJsonString(out, std::to_string(list->back().incident_id));
  } else {
    out += "null";
  }
  out += '}';
  respond(http::JsonResponse(bhttp::status::ok, std::move(out)));
}

void LearningRoutes::GetTemplate(const HttpRequest&, const auth::Principal*, Respond respond) {
  config::PostmortemPolicy policy = config::PostmortemPolicyOf(*OrgOf(org()));
  json::array sections;
  for (const auto& s : policy.sections) {
    sections.push_back(json::object{{"id", s.id}, {"title", s.title}, {"prompt", s.prompt}});
  }
  json::array factors, severities;
  for (const auto& f : policy.contributing_factors) factors.push_back(json::string(f));
  for (const auto& s : policy.required_severities) severities.push_back(json::string(s));
  respond(http::JsonResponse(bhttp::status::ok, json::serialize(json::object{
                                                    {"sections", std::move(sections)},
                                                    {"contributing_factors", std::move(factors)},
                                                    {"required_severities", std::move(severities)},
                                                    {"due_days", policy.due_days}})));
}

// ---------------------------------------------------------------------------------------------
// Action items.

void LearningRoutes::CreateActionItem(const HttpRequest& req, const auth::Principal* principal,
                                      Respond respond) {
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  NewActionItem n;
  if (auto v = body->Int("incident", 1, INT64_MAX)) {
    n.incident_id = *v;
  } else if (!body->Has("incident")) {
    body->Problem("'incident' is missing: the id of the incident it follows up");
  }
  if (auto v = body->String("title", true, 500, false)) n.title = *v;
  if (auto v = body->String("owner", true, 200, false)) n.owner = *v;
  if (auto v = body->String("due", true, 10)) n.due = *v;
  if (auto v = body->String("priority", false, 2)) n.priority = *v;
  if (auto v = body->String("ticket_url", false, 2000)) n.ticket_url = *v;
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  learning_.CreateActionItem(*OrgOf(org()), std::move(n), ActorOf(req, *principal),
                             AnswerActionItem(std::move(respond), bhttp::status::created));
}

void LearningRoutes::PatchActionItem(const HttpRequest& req, const auth::Principal* principal,
                                     Respond respond) {
  auto id = ParseId(req.Param("id"), "action item id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  store::ActionItemPatch patch;
  if (auto s = body->String("status")) {
    auto st = store::ParseActionItemStatus(*s);
    if (!st) {
      body->Problem(
          fmt::format("'status' must be open, in_progress, done or wont_do, not '{}'", *s));
    } else {
      patch.status = *st;
    }
  }
  if (auto v = body->String("owner", false, 200, false)) patch.owner = *v;
  if (auto v = body->String("due", false, 10)) patch.due = *v;
  if (auto v = body->String("title", false, 500, false)) patch.title = *v;
  if (auto v = body->String("priority", false, 2)) patch.priority = *v;
  if (auto v = body->String("ticket_url", false, 2000)) patch.ticket_url = *v;
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  learning_.UpdateActionItem(*OrgOf(org()), *id, std::move(patch), ActorOf(req, *principal),
                             AnswerActionItem(std::move(respond), bhttp::status::ok));
}

void LearningRoutes::GetActionItem(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "action item id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto item = store_.GetActionItem(*id);
  if (!item) return respond(http::ErrorResponse(item.error()));
  respond(http::JsonResponse(bhttp::status::ok,
                             "{\"action_item\":" + ActionItemJson(*item, clock_.Now()) + "}"));
}

void LearningRoutes::ListActionItems(const HttpRequest& req, const auth::Principal*,
                                     Respond respond) {
  auto page = api::ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::ActionItemFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  auto org_ptr = OrgOf(org());
  if (auto s = req.Query("owner")) {
    if (!org_ptr->users.empty() && !config::FindUser(*org_ptr, *s)) {
      return respond(http::ErrorResponse(
          InvalidArgument(fmt::format("query parameter 'owner': unknown user '{}'", *s))));
    }
    f.owner = *s;
  }
  if (auto s = req.Query("status")) {
    auto st = store::ParseActionItemStatus(*s);
    if (!st) {
      return respond(http::ErrorResponse(InvalidArgument(fmt::format(
          "query parameter 'status' must be open, in_progress, done or wont_do, not '{}'", *s))));
    }
    f.status = st;
  }
  if (auto s = req.Query("overdue")) {
    if (*s != "true" && *s != "false") {
      return respond(http::ErrorResponse(InvalidArgument(
          fmt::format("query parameter 'overdue' must be true or false, not '{}'", *s))));
    }
    if (*s == "true") f.overdue_at = clock_.Now();
  }
  if (auto s = req.Query("incident")) {
    auto inc = ParseId(*s, "query parameter 'incident'");
    if (!inc) return respond(http::ErrorResponse(inc.error()));
    f.incident = *inc;
  }
  if (auto s = req.Query("service")) {
    if (!org_ptr->services.empty() && !config::FindService(*org_ptr, *s)) {
      return respond(http::ErrorResponse(
          InvalidArgument(fmt::format("query parameter 'service': unknown service '{}'", *s))));
    }
    f.service = *s;
  }
  auto list = store_.ListActionItems(f);
  if (!list) return respond(http::ErrorResponse(list.error()));
  TimePoint now = clock_.Now();
  respond(api::ListResponse("action_items", *list, f.limit,
                            [now](const store::ActionItem& a) { return ActionItemJson(a, now); }));
}

}  // namespace houston::learning
