#include "incidents/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "api/json_body.h"
#include "api/request.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "incidents/suspects.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"

namespace houston::incidents {

namespace bhttp = http::bhttp;
using api::ActorOf;
using api::AlertJson;
using api::ChangeJson;
using api::Field;
using api::ListResponse;
using api::Paging;
using api::PagingOf;
using api::ParseId;
using api::ParsePage;
using api::Raw;
using api::StoreError;
using api::Time;
using http::HttpRequest;
using store::Role;

using http::HttpRequest;
namespace json = boost::json;

namespace {

constexpr size_t kMaxTitle = 1024;
constexpr size_t kMaxText = api::kMaxBodyText;
constexpr size_t kMaxTags = 50;

// Reads {"commander": "alice", "scribe": null, ...} into (role, user) pairs.
std::vector<std::pair<std::string, std::string>> ReadRoles(api::JsonBody& body,
                                                           api::OrgCheck& check,
                                                           const json::object* roles) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!roles) return out;
  for (const auto& [k, v] : *roles) {
    std::string role(k);
    std::string field = "roles." + role;
    if (!check.Role(role, field)) continue;
    if (v.is_null()) {
      out.emplace_back(role, "");
    } else if (v.is_string() && !v.as_string().empty()) {
      std::string user(v.as_string());
      if (check.User(user, field)) out.emplace_back(role, user);
    } else {
      body.Problem(fmt::format("'{}' must be a user id, or null to unassign", field));
    }
  }
  return out;
}

std::vector<std::string> ValidServices(api::OrgCheck& check, const std::vector<std::string>& ids,
                                       std::string_view field) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!check.Service(ids[i], fmt::format("{}[{}]", field, i))) continue;
    if (std::find(out.begin(), out.end(), ids[i]) == out.end()) out.push_back(ids[i]);
  }
  return out;
}

std::string UpdateJson(const store::StatusUpdate& u) {
  json::array renderings;
  for (const auto& r : u.renderings) {
    renderings.push_back(
        json::object{{"audience", r.audience}, {"subject", r.subject}, {"text", r.text}});
  }
  json::object o{{"id", u.id},
                 {"incident_id", u.incident_id},
                 {"at", FormatRfc3339(u.at)},
                 {"author", u.author},
                 {"via", u.via},
                 {"phase", u.phase},
                 {"renderings", std::move(renderings)}};
  boost::system::error_code ec;
  auto fields = json::parse(u.fields_json, ec);
  o["fields"] = ec ? json::value(json::object()) : std::move(fields);
  return json::serialize(o);
}

}  // namespace

store::Callback<core::Incident> IncidentRoutes::AnswerIncident(Respond respond,
                                                               bhttp::status code) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  return [this, shared, code](Result<core::Incident> r) {
    if (!r) return (*shared)(StoreError(r.error()));
    Changed();
    (*shared)(http::JsonResponse(code, "{\"incident\":" + core::IncidentJson(*r) + "}"));
  };
}

// ---------------------------------------------------------------------------------------------
// Declare and change.

void IncidentRoutes::DeclareIncident(const HttpRequest& req, const auth::Principal* principal,
                                     Respond respond) {
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  const config::Org* org = view->org.get();
  api::OrgCheck check(org, *body);
  store::NewIncident n;
  if (auto t = body->String("title", /*required=*/true, kMaxTitle, /*allow_empty=*/false)) {
    n.title = *t;
  }
  if (auto sev = body->StringOrNumber("sev")) {
    if (auto s = check.Sev(*sev, "sev")) n.sev = *s;
  } else if (!body->Has("sev")) {
    body->Problem(
        fmt::format("'sev' is missing: declare a severity ({})", api::KnownIds(check.Levels())));
  }
  std::vector<std::string> services;
  if (auto s = body->String("service"); s && check.Service(*s, "service")) {
    services.push_back(*s);
  }
  if (auto list = body->StringList("services", 50)) {
    for (const auto& s : ValidServices(check, *list, "services")) {
      if (std::find(services.begin(), services.end(), s) == services.end()) services.push_back(s);
    }
  }
  n.services = services;
  if (!body->Has("service") && !body->Has("services")) {
    body->Problem("'service' is missing: name the affected service");
  }
  if (auto s = body->String("summary")) n.summary = *s;
  if (auto s = body->String("public_title", false, kMaxTitle)) n.public_title = *s;
  if (auto s = body->String("severity")) {
    if (auto v = core::ParseSeverity(*s)) {
      n.severity = *v;
    } else {
      body->Problem("'severity' must be one of critical, error, warning, info");
    }
  }
  if (auto tags = body->StringList("tags", kMaxTags)) n.tags = *tags;
  if (auto c = body->String("commander")) {
    if (check.User(*c, "commander")) n.roles.emplace_back("commander", *c);
  }
  for (auto& r : ReadRoles(*body, check, body->Object("roles"))) {
    if (!r.second.empty()) n.roles.push_back(std::move(r));
  }
  if (auto list = body->StringList("responders", 100)) {
    for (size_t i = 0; i < list->size(); ++i) {
      if (check.User((*list)[i], fmt::format("responders[{}]", i))) {
        n.responders.push_back((*list)[i]);
      }
    }
  }
  if (auto t = body->TimeOrNull("impact_started_at"); t && *t) {
    if (**t > clock_.Now() + std::chrono::minutes(5)) {
      body->Problem("'impact_started_at' is in the future");
    }
    n.impact_started_at = *t;
  }
  if (auto p = body->Bool("page")) n.page = *p;
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  if (org && !n.services.empty()) {
    Paging paging = PagingOf(*org, n.services.front());
    n.escalation_policy = paging.policy;
    n.first_step_delay = paging.first_step_delay;
  }
  incidents_.Declare(std::move(n), ActorOf(req, *principal),
                     AnswerIncident(std::move(respond), bhttp::status::created));
}

void IncidentRoutes::Patch(core::IncidentId id, store::IncidentPatch patch, store::Actor actor,
                           Respond respond) {
  incidents_.Patch(id, std::move(patch), std::move(actor), AnswerIncident(std::move(respond)));
}

void IncidentRoutes::PatchIncident(const HttpRequest& req, const auth::Principal* principal,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  api::OrgCheck check(view->org.get(), *body);
  store::IncidentPatch p;
  p.title = body->String("title", false, kMaxTitle, /*allow_empty=*/false);
  if (auto sev = body->StringOrNumber("sev")) p.sev = check.Sev(*sev, "sev");
  p.summary = body->String("summary");
  p.public_title = body->String("public_title", false, kMaxTitle);
  if (auto list = body->StringList("services", 50)) {
    if (list->empty()) body->Problem("'services' must list at least one service");
    p.services = ValidServices(check, *list, "services");
  }
  if (auto tags = body->StringList("tags", kMaxTags)) {
    // Replaces the tags (decided on the stored ones, inside the write); with remove_tags too,
    // only those named there are removed.
    if (body->Has("remove_tags")) {
      p.add_tags = *tags;
    } else {
      p.tags = *tags;
    }
  }
  if (auto tags = body->StringList("add_tags", kMaxTags)) {
    p.add_tags.insert(p.add_tags.end(), tags->begin(), tags->end());
  }
  if (auto tags = body->StringList("remove_tags", kMaxTags)) p.remove_tags = *tags;
  p.set_roles = ReadRoles(*body, check, body->Object("roles"));
  if (auto list = body->StringList("add_responders", 100)) {
    for (size_t i = 0; i < list->size(); ++i) {
      if (check.User((*list)[i], fmt::format("add_responders[{}]", i))) {
        p.add_responders.push_back((*list)[i]);
      }
    }
  }
  if (auto list = body->StringList("remove_responders", 100)) p.remove_responders = *list;
  p.impact_started_at = body->TimeOrNull("impact_started_at");
  p.detected_at = body->TimeOrNull("detected_at");
  p.mitigated_at = body->TimeOrNull("mitigated_at");
  p.resolved_at = body->TimeOrNull("resolved_at");
  if (p.impact_started_at && !*p.impact_started_at) {
    body->Problem("'impact_started_at' cannot be cleared");
  }
  if (p.detected_at && !*p.detected_at) body->Problem("'detected_at' cannot be cleared");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  Patch(*id, std::move(p), ActorOf(req, *principal), std::move(respond));
}

void IncidentRoutes::AssignRole(const HttpRequest& req, const auth::Principal* principal,
                                Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  api::OrgCheck check(view->org.get(), *body);
  auto role = body->String("role", true);
  std::string user;
  if (body->IsNull("user")) {
    // unassign
  } else if (auto u = body->String("user", true)) {
    if (check.User(*u, "user")) user = *u;
  }
  if (role) check.Role(*role, "role");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  incidents_.AssignRole(*id, *role, std::move(user), ActorOf(req, *principal),
                        AnswerIncident(std::move(respond)));
}

void IncidentRoutes::AddResponder(const HttpRequest& req, const auth::Principal* principal,
                                  Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  api::OrgCheck check(view->org.get(), *body);
  auto user = body->String("user", true);
  if (user) check.User(*user, "user");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  incidents_.AddResponder(*id, *user, ActorOf(req, *principal), AnswerIncident(std::move(respond)));
}

void IncidentRoutes::RemoveResponder(const HttpRequest& req, const auth::Principal* principal,
                                     Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  incidents_.RemoveResponder(*id, std::string(req.Param("user")), ActorOf(req, *principal),
                             AnswerIncident(std::move(respond)));
}

// ---------------------------------------------------------------------------------------------
// Timeline: notes, pins, linked changes, suspects.

void IncidentRoutes::AddNote(const HttpRequest& req, const auth::Principal* principal,
                             Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto text = body->String("text", true, kMaxText, /*allow_empty=*/false);
  auto pin = body->Bool("pinned");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  auto shared = std::make_shared<Respond>(std::move(respond));
  incidents_.AddNote(*id, *text, pin.value_or(false), ActorOf(req, *principal), [shared](auto r) {
    if (!r) return (*shared)(StoreError(r.error()));
    const store::AuditRecord& rec = r->record;
    (*shared)(http::JsonResponse(
        bhttp::status::created,
        fmt::format(R"({{"entry":{{"id":{},"at":{},"action":{},"actor":{},)"
                    R"("details":{},"pinned":{}}}}})",
                    rec.id, JsonQuote(FormatRfc3339(rec.at)), JsonQuote(rec.action),
                    JsonQuote(rec.actor.type + ":" + rec.actor.id), rec.details_json, r->pinned)));
  });
}

void IncidentRoutes::PinEntry(const HttpRequest& req, const auth::Principal* principal,
                              Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  auto entry = ParseId(req.Param("entry"), "timeline entry id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  if (!entry) return respond(http::ErrorResponse(entry.error()));
  auto shared = std::make_shared<Respond>(std::move(respond));
  incidents_.Pin(*id, *entry, true, ActorOf(req, *principal), [shared](auto r) {
    if (!r) return (*shared)(StoreError(r.error()));
    (*shared)(http::JsonResponse(bhttp::status::ok,
                                 fmt::format(R"({{"entry_id":{},"pinned":true}})", r->record.id)));
  });
}

void IncidentRoutes::UnpinEntry(const HttpRequest& req, const auth::Principal* principal,
                                Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  auto entry = ParseId(req.Param("entry"), "timeline entry id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  if (!entry) return respond(http::ErrorResponse(entry.error()));
  auto shared = std::make_shared<Respond>(std::move(respond));
  incidents_.Pin(*id, *entry, false, ActorOf(req, *principal), [shared](auto r) {
    if (!r) return (*shared)(StoreError(r.error()));
    (*shared)(http::JsonResponse(bhttp::status::ok,
                                 fmt::format(R"({{"entry_id":{},"pinned":false}})", r->record.id)));
  });
}

void IncidentRoutes::Suspects(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto inc = store_.GetIncident(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  auto view = org();
  if (!view->org) return respond(http::JsonResponse(bhttp::status::ok, R"({"suspects":[]})"));
  auto suspects = incidents::FindSuspects(store_, *view->org, *inc, 20);
  if (!suspects) return respond(http::ErrorResponse(suspects.error()));
  std::string out;
  for (const auto& s : *suspects) {
    if (!out.empty()) out += ',';
    out +=
        fmt::format(R"({{"change":{},"score":{:.3f},"hops":{},"via":{},"minutes_before_impact":{},)"
                    R"("reason":{}}})",
                    ChangeJson(s.change), s.score, s.hops, JsonQuote(s.via), s.before.count() / 60,
                    JsonQuote(s.reason));
  }
  TimePoint start = inc->impact_started_at.value_or(inc->created_at);
  respond(http::JsonResponse(
      bhttp::status::ok,
      fmt::format(R"({{"incident_id":{},"impact_started_at":{},"lookback_hours":{},)"
                  R"("suspects":[{}]}})",
                  inc->id, JsonQuote(FormatRfc3339(start)),
                  config::SettingsOf(*view->org).suspect_lookback_hours, out)));
}

void IncidentRoutes::LinkChange(const HttpRequest& req, const auth::Principal* principal,
                                Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto change = body->Int("change_id", 1, INT64_MAX);
  if (!change && !body->Has("change_id")) body->Problem("'change_id' is missing");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  auto shared = std::make_shared<Respond>(std::move(respond));
  incidents_.LinkChange(*id, *change, ActorOf(req, *principal), [shared](auto r) {
    if (!r) return (*shared)(StoreError(r.error()));
    (*shared)(http::JsonResponse(bhttp::status::ok, "{\"linked\":" + ChangeJson(*r) + "}"));
  });
}

// ---------------------------------------------------------------------------------------------
// Status updates.

void IncidentRoutes::ListUpdates(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  if (auto inc = store_.GetIncident(*id); !inc) return respond(http::ErrorResponse(inc.error()));
  auto updates = store_.ListStatusUpdates({.incident_id = *id, .limit = 1000});
  if (!updates) return respond(http::ErrorResponse(updates.error()));
  respond(ListResponse("updates", *updates, 1000, UpdateJson));
}

void IncidentRoutes::PublishUpdate(const HttpRequest& req, const auth::Principal* principal,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  // The update is composed from the incident as read now; the service publishes it only if the
  // incident is still so when the write runs (else 409: compose it again).
  auto inc = incidents_.Get(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  const config::Org* org = view->org.get();
  core::UpdateFields u;
  u.phase = body->String("phase").value_or(incidents::IncidentService::DefaultPhase(*inc));
  if (auto problem = incidents::IncidentService::PhaseProblem(*inc, u.phase)) {
    body->Problem(std::move(*problem));
  }
  u.message = body->String("message").value_or("");
  u.impact = body->String("impact").value_or("");
  u.customer_effect = body->String("customer_effect").value_or("");
  u.eta = body->String("eta", false, 200).value_or("");
  u.support_guidance = body->String("support_guidance").value_or("");
  u.public_message = body->String("public_message").value_or("");
  const config::SeverityLevel* level = org ? config::FindSeverity(*org, inc->sev) : nullptr;
  if (auto n = body->Int("next_update_minutes", 1, 1440)) {
    u.next_update_in = std::chrono::minutes(*n);
  } else if (level && level->update_every_minutes && core::IsOpen(inc->status)) {
    u.next_update_in = std::chrono::minutes(*level->update_every_minutes);
  }
  if (u.message.empty() && u.impact.empty() && u.customer_effect.empty() &&
      u.public_message.empty() && u.support_guidance.empty() && !body->Has("phase")) {
    body->Problem(
        "an update needs something to say: one or more of message, impact, customer_effect, "
        "support_guidance, public_message (or a new phase)");
  }
  // Which audiences: as asked, else every well-known one and every one the org defines.
  std::vector<std::string> audiences;
  if (auto list = body->StringList("audiences", 50)) {
    audiences = *list;
    if (audiences.empty()) body->Problem("'audiences' must name at least one audience");
  } else {
    for (auto a : core::kWellKnownAudiences) audiences.emplace_back(a);
    if (org) {
      for (const auto& a : org->audiences) audiences.push_back(a.id);
    }
  }
  std::vector<std::string> unique;
  for (const auto& a : audiences) {
    bool known =
        std::find(std::begin(core::kWellKnownAudiences), std::end(core::kWellKnownAudiences), a) !=
            std::end(core::kWellKnownAudiences) ||
        (org && config::FindAudience(*org, a));
    if (!known) {
      std::vector<std::string> ids;
      for (auto w : core::kWellKnownAudiences) ids.emplace_back(w);
      if (org) {
        for (const auto& x : org->audiences) ids.push_back(x.id);
      }
      body->Problem(
          fmt::format("'audiences': unknown audience '{}' (audiences: {})", a, api::KnownIds(ids)));
    } else if (std::find(unique.begin(), unique.end(), a) == unique.end()) {
      unique.push_back(a);
    }
  }
  bool dry_run = body->Bool("dry_run").value_or(false) || req.Query("dry_run") == "true";
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));

  // Render for every audience now: a template problem is an answer to the author, never a
  // failure at send time.
  core::AudienceContext ctx;
  ctx.incident = *inc;
  ctx.now = clock_.Now();
  ctx.author = principal->id;
  ctx.incident_url = notify::IncidentPageUrl(BaseUrl(req), options_.link_key, inc->id, inc->episode,
                                             clock_.Now() + notify::kViewLinkLifetime);
  ctx.status_page_url = BaseUrl(req) + "/status";
  if (level) ctx.sev_description = level->description;
  if (org) {
    for (const auto& s : inc->services) {
      const auto* svc = config::FindService(*org, s);
      ctx.services.emplace_back(s, svc ? svc->name : s);
    }
    auto roles = config::AllIncidentRoles(*org);
    for (const auto& [role, user] : inc->roles) {
      const auto* def = config::FindIncidentRole(roles, role);
      const auto* person = config::FindUser(*org, user);
      ctx.roles.push_back({role, def ? def->name : role, person ? person->name : user});
    }
    for (const auto* c : ComponentsOf(*org, *inc)) ctx.components.push_back(c->name);
    if (auto suspects = incidents::FindSuspects(store_, *org, *inc, 3)) {
      for (const auto& s : *suspects) ctx.suspects.push_back(incidents::SuspectLine(s));
    }
  }
  store::StatusUpdate update;
  update.incident_id = inc->id;
  update.author = principal->id;
  update.via = ActorOf(req, *principal).method;
  update.phase = u.phase;
  for (const auto& a : unique) {
    const config::Audience* aud = org ? config::FindAudience(*org, a) : nullptr;
    auto r = core::RenderUpdate(a, aud ? aud->subject_template : "", aud ? aud->body_template : "",
                                ctx, u);
    if (!r) return respond(http::ErrorResponse(r.error()));
    update.renderings.push_back(std::move(*r));
  }
  json::object fields{{"phase", u.phase},
                      {"message", u.message},
                      {"impact", u.impact},
                      {"customer_effect", u.customer_effect},
                      {"eta", u.eta},
                      {"support_guidance", u.support_guidance},
                      {"public_message", u.public_message}};
  fields["next_update_minutes"] =
      u.next_update_in ? json::value(u.next_update_in->count()) : json::value(nullptr);
  update.fields_json = json::serialize(fields);
  if (dry_run) {
    update.at = clock_.Now();
    return respond(http::JsonResponse(bhttp::status::ok,
                                      "{\"dry_run\":true,\"update\":" + UpdateJson(update) + "}"));
  }
  auto shared = std::make_shared<Respond>(std::move(respond));
  incidents_.PublishUpdate(
      std::move(update), *inc, ActorOf(req, *principal), [this, shared](auto r) {
        if (!r) return (*shared)(StoreError(r.error()));
        Changed();
        (*shared)(
            http::JsonResponse(bhttp::status::created, "{\"update\":" + UpdateJson(*r) + "}"));
      });
}

// ---------------------------------------------------------------------------------------------
// Merge and split.

void IncidentRoutes::MergeIncident(const HttpRequest& req, const auth::Principal* principal,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto into = body->Int("into", 1, INT64_MAX);
  if (!into && !body->Has("into")) body->Problem("'into' is missing: the incident to merge into");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  incidents_.Merge(*id, *into, ActorOf(req, *principal), AnswerIncident(std::move(respond)));
}

void IncidentRoutes::SplitIncident(const HttpRequest& req, const auth::Principal* principal,
                                   Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = api::JsonBody::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  const config::Org* org = view->org.get();
  api::OrgCheck check(org, *body);
  std::vector<core::AlertId> alerts;
  const json::value* list = body->Get("alerts");
  if (!list || !list->is_array() || list->as_array().empty()) {
    body->Problem("'alerts' must list the ids of the alerts to split off");
  } else {
    for (size_t i = 0; i < list->as_array().size(); ++i) {
      const auto& v = list->as_array()[i];
      if (!v.is_int64() || v.as_int64() <= 0) {
        body->Problem(fmt::format("'alerts[{}]' must be a positive alert id", i));
      } else {
        alerts.push_back(v.as_int64());
      }
    }
  }
  store::NewIncident n;
  n.title = body->String("title", false, kMaxTitle, false).value_or("");
  if (auto sev = body->StringOrNumber("sev")) {
    if (auto s = check.Sev(*sev, "sev")) n.sev = *s;
  }
  if (auto s = body->String("service"); s && check.Service(*s, "service")) n.services = {*s};
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  // The new incident pages its (first alert's) service's policy when it is triggered.
  if (org) {
    std::string service = n.services.empty() ? "" : n.services.front();
    if (service.empty()) {
      if (auto a = store_.GetAlert(alerts.front())) service = a->service_id;
    }
    Paging paging = PagingOf(*org, service);
    n.escalation_policy = paging.policy;
    n.first_step_delay = paging.first_step_delay;
  }
  incidents_.Split(*id, std::move(alerts), std::move(n), ActorOf(req, *principal),
                   AnswerIncident(std::move(respond), bhttp::status::created));
}

// ---------------------------------------------------------------------------------------------
// Reference lists.

void IncidentRoutes::ListIncidentRoles(const HttpRequest&, const auth::Principal*,
                                       Respond respond) {
  auto view = org();
  auto roles = view->org ? config::AllIncidentRoles(*view->org) : config::BuiltinIncidentRoles();
  json::array out;
  for (const auto& r : roles) {
    out.push_back(json::object{{"id", r.id}, {"name", r.name}, {"description", r.description}});
  }
  respond(http::JsonResponse(bhttp::status::ok,
                             json::serialize(json::object{{"roles", std::move(out)}})));
}

void IncidentRoutes::ListSeverities(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto view = org();
  auto levels = view->org ? config::SevLevels(*view->org) : core::DefaultSevLevels();
  json::array out;
  for (size_t i = 0; i < levels.size(); ++i) {
    const config::SeverityLevel* l =
        view->org ? config::FindSeverity(*view->org, levels[i]) : nullptr;
    json::object o{{"id", levels[i]}, {"rank", i + 1}};
    o["description"] = l ? l->description : "";
    o["update_every_minutes"] =
        l && l->update_every_minutes ? json::value(*l->update_every_minutes) : json::value(nullptr);
    out.push_back(std::move(o));
  }
  respond(http::JsonResponse(bhttp::status::ok,
                             json::serialize(json::object{{"severities", std::move(out)}})));
}

void IncidentRoutes::ListIncidents(const HttpRequest& req, const auth::Principal*,
                                   Respond respond) {
  auto page = ParsePage(req);
  if (!page) return respond(http::ErrorResponse(page.error()));
  store::IncidentFilter f;
  f.limit = page->limit;
  f.before_id = page->before_id;
  f.since = page->since;
  if (auto s = req.Query("status")) {
    auto st = core::ParseIncidentStatus(*s);
    if (!st) {
      return respond(http::ErrorResponse(InvalidArgument(fmt::format(
          "query parameter 'status' must be triggered, acknowledged, mitigated or resolved, not "
          "'{}'",
          *s))));
    }
    f.status = st;
  }
  if (auto s = req.Query("service")) f.service_id = *s;
  if (auto s = req.Query("open")) {
    if (*s != "true" && *s != "false") {
      return respond(http::ErrorResponse(InvalidArgument(
          fmt::format("query parameter 'open' must be true or false, not '{}'", *s))));
    }
    f.open_only = *s == "true";
  }
  if (auto s = req.Query("sev")) {
    auto view = org();
    auto sev = core::NormalizeSev(
        *s, view->org ? config::SevLevels(*view->org) : core::DefaultSevLevels());
    if (!sev) {
      return respond(
          http::ErrorResponse(InvalidArgument("query parameter 'sev': " + sev.error().message())));
    }
    f.sev = *sev;
  }
  auto incidents = store_.ListIncidents(f);
  if (!incidents) return respond(http::ErrorResponse(incidents.error()));
  respond(ListResponse("incidents", *incidents, f.limit,
                       [](const core::Incident& i) { return core::IncidentJson(i); }));
}

void IncidentRoutes::GetIncident(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto inc = store_.GetIncident(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  // Its alerts: grouped incidents can have many; list the newest 1000.
  std::string body = "{\"incident\":" + core::IncidentJson(*inc) + ",\"alerts\":[";
  auto alerts = store_.ListAlerts({.incident_id = inc->id, .limit = 1000});
  if (!alerts) return respond(http::ErrorResponse(alerts.error()));
  for (size_t i = 0; i < alerts->size(); ++i) {
    if (i) body += ',';
    body += AlertJson((*alerts)[i]);
  }
  // What may have caused it, as one line each (GET .../suspects has the detail).
  body += "],\"suspects\":[";
  if (auto view = org(); view->org) {
    auto suspects = incidents::FindSuspects(store_, *view->org, *inc, 5);
    if (!suspects) return respond(http::ErrorResponse(suspects.error()));
    for (size_t i = 0; i < suspects->size(); ++i) {
      if (i) body += ',';
      AppendJsonString(body, incidents::SuspectLine((*suspects)[i]));
    }
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

void IncidentRoutes::TransitionIncident(core::IncidentAction action, core::IncidentId id,
                                        store::Actor actor, Respond respond) {
  incidents_.Transition(id, action, std::move(actor), AnswerIncident(std::move(respond)));
}

void IncidentRoutes::IncidentAction(core::IncidentAction action, const HttpRequest& req,
                                    const auth::Principal& principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  TransitionIncident(action, *id, ActorOf(req, principal), std::move(respond));
}

void IncidentRoutes::AcknowledgeIncident(const HttpRequest& req, const auth::Principal* principal,
                                         Respond respond) {
  IncidentAction(core::IncidentAction::kAcknowledge, req, *principal, std::move(respond));
}

void IncidentRoutes::MitigateIncident(const HttpRequest& req, const auth::Principal* principal,
                                      Respond respond) {
  IncidentAction(core::IncidentAction::kMitigate, req, *principal, std::move(respond));
}

void IncidentRoutes::ResolveIncident(const HttpRequest& req, const auth::Principal* principal,
                                     Respond respond) {
  IncidentAction(core::IncidentAction::kResolve, req, *principal, std::move(respond));
}

void IncidentRoutes::ReopenIncident(const HttpRequest& req, const auth::Principal* principal,
                                    Respond respond) {
  IncidentAction(core::IncidentAction::kReopen, req, *principal, std::move(respond));
}

void IncidentRoutes::IncidentTimeline(const HttpRequest& req, const auth::Principal*,
                                      Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  bool pinned_only = req.Query("pinned") == std::optional<std::string_view>("true");
  auto entries = store_.ListTimeline(*id);
  if (!entries) return respond(http::ErrorResponse(entries.error()));
  // The incident's own records and its alerts', plus every notification about it (pages, role
  // pages, reminders, status updates, webhooks) at the time it was sent or gave up.
  struct Item {
    TimePoint at;
    int order;  // records before notifications at the same instant
    int64_t seq;
    std::string json;
  };
  std::vector<Item> items;
  for (const auto& e : *entries) {
    if (pinned_only && !e.pinned) continue;
    const auto& r = e.record;
    std::string o = "{";
    Raw(o, "id", std::to_string(r.id));
    Time(o, "at", r.at);
    Field(o, "action", r.action);
    Field(o, "resource", r.resource_type + "/" + r.resource_id);
    Field(o, "actor", r.actor.type + ":" + r.actor.id);
    Field(o, "via", r.actor.method);
    Raw(o, "details", r.details_json.empty() ? "{}" : r.details_json);
    Raw(o, "pinned", e.pinned ? "true" : "false");
    items.push_back({r.at, 0, r.id, o + "}"});
  }
  if (!pinned_only) {
    auto notes = store_.ListNotifications({.incident_id = *id, .limit = 1000});
    if (!notes) return respond(http::ErrorResponse(notes.error()));
    for (const auto& n : *notes) {
      if (n.state == core::NotificationState::kPending ||
          n.state == core::NotificationState::kSending) {
        continue;
      }
      TimePoint at = n.sent_at.value_or(std::max(n.not_before, n.created_at));
      std::string o = "{";
      Raw(o, "id", "null");
      Time(o, "at", at);
      Field(o, "action", fmt::format("notification.{}", core::ToString(n.state)));
      Field(o, "resource", fmt::format("notification/{}", n.id));
      Field(o, "actor", "system:notification-dispatcher");
      Field(o, "via", "system");
      Raw(o, "details",
          fmt::format(R"({{"kind":{},"user":{},"contact_method":{},"channel":{},"target":{},)"
                      R"("attempts":{},"last_error":{}}})",
                      JsonQuote(n.kind), JsonQuote(n.user_id), JsonQuote(n.contact_method_id),
                      JsonQuote(n.channel_type), JsonQuote(n.target), n.attempts,
                      JsonQuote(n.last_error)));
      Raw(o, "pinned", "false");
      items.push_back({at, 1, n.id, o + "}"});
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.at, a.order, a.seq) < std::tie(b.at, b.order, b.seq);
  });
  std::string body = "{\"incident_id\":" + std::to_string(*id) + ",\"timeline\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body += ',';
    body += items[i].json;
  }
  body += "]}";
  respond(http::JsonResponse(bhttp::status::ok, std::move(body)));
}

IncidentRoutes::IncidentRoutes(api::Context& ctx) : RouteGroup(ctx), incidents_(ctx.store()) {}

void IncidentRoutes::AddTo(api::RouteTable& t) {
  using V = bhttp::verb;
  using R = IncidentRoutes;
  t.Add(V::get, "/api/v1/incidents", Role::kViewer, this, &R::ListIncidents);
  t.Add(V::get, "/api/v1/incidents/{id}", Role::kViewer, this, &R::GetIncident);
  t.Add(V::post, "/api/v1/incidents", Role::kResponder, this, &R::DeclareIncident);
  t.Add(V::patch, "/api/v1/incidents/{id}", Role::kResponder, this, &R::PatchIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/acknowledge", Role::kResponder, this,
        &R::AcknowledgeIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/mitigate", Role::kResponder, this, &R::MitigateIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/resolve", Role::kResponder, this, &R::ResolveIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/reopen", Role::kResponder, this, &R::ReopenIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/roles", Role::kResponder, this, &R::AssignRole);
  t.Add(V::post, "/api/v1/incidents/{id}/responders", Role::kResponder, this, &R::AddResponder);
  t.Add(V::delete_, "/api/v1/incidents/{id}/responders/{user}", Role::kResponder, this,
        &R::RemoveResponder);
  t.Add(V::post, "/api/v1/incidents/{id}/notes", Role::kResponder, this, &R::AddNote);
  t.Add(V::get, "/api/v1/incidents/{id}/timeline", Role::kViewer, this, &R::IncidentTimeline);
  t.Add(V::post, "/api/v1/incidents/{id}/timeline/{entry}/pin", Role::kResponder, this,
        &R::PinEntry);
  t.Add(V::delete_, "/api/v1/incidents/{id}/timeline/{entry}/pin", Role::kResponder, this,
        &R::UnpinEntry);
  t.Add(V::get, "/api/v1/incidents/{id}/suspects", Role::kViewer, this, &R::Suspects);
  t.Add(V::post, "/api/v1/incidents/{id}/changes", Role::kResponder, this, &R::LinkChange);
  t.Add(V::get, "/api/v1/incidents/{id}/updates", Role::kViewer, this, &R::ListUpdates);
  t.Add(V::post, "/api/v1/incidents/{id}/updates", Role::kResponder, this, &R::PublishUpdate);
  t.Add(V::post, "/api/v1/incidents/{id}/merge", Role::kResponder, this, &R::MergeIncident);
  t.Add(V::post, "/api/v1/incidents/{id}/split", Role::kResponder, this, &R::SplitIncident);
  t.Add(V::get, "/api/v1/incident-roles", Role::kViewer, this, &R::ListIncidentRoles);
  t.Add(V::get, "/api/v1/severities", Role::kViewer, this, &R::ListSeverities);
  // The public status page: no principal, public facts only.
  t.Add(V::get, "/status", api::Open::kPublicPage, this, &R::StatusHtml);
  t.Add(V::get, "/status.json", api::Open::kPublicPage, this, &R::StatusJson);
  t.Add(V::get, "/status/feed.atom", api::Open::kPublicPage, this, &R::StatusAtom);
  t.Add(V::get, "/status/feed.rss", api::Open::kPublicPage, this, &R::StatusRss);
}

}  // namespace houston::incidents
