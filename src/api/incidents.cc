// The REST resources for running incidents (declare, fields, roles, responders, notes, pins,
// suspects, status updates, merge, split) and the public status page.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "api/api.h"
#include "api/internal.h"
#include "api/status_page.h"
#include "core/json_util.h"
#include "core/time_util.h"
#include "engine/escalation_engine.h"
#include "engine/suspects.h"
#include "notify/notify.h"

namespace houston::api {

using http::HttpRequest;
using http::Response;
namespace json = boost::json;

namespace {

constexpr size_t kMaxTitle = 1024;
constexpr size_t kMaxText = 20000;
constexpr size_t kMaxTags = 50;

// Reads a JSON object body strictly: every problem is collected with the field's path, and
// fields nobody asked for are reported as unknown.
class Body {
 public:
  static Result<Body> Parse(std::string_view text, bool allow_empty = false) {
    Body b;
    if (allow_empty && text.find_first_not_of(" \t\r\n") == std::string_view::npos) return b;
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) {
      return std::unexpected(InvalidArgument("request body is not valid JSON: " + ec.message()));
    }
    if (!v.is_object())
      return std::unexpected(InvalidArgument("request body must be a JSON object"));
    b.obj_ = std::move(v.as_object());
    return b;
  }

  bool Has(std::string_view key) {
    seen_.insert(std::string(key));
    return obj_.contains(key);
  }
  const json::value* Get(std::string_view key) {
    seen_.insert(std::string(key));
    return obj_.if_contains(key);
  }
  bool IsNull(std::string_view key) {
    const json::value* v = Get(key);
    return v && v->is_null();
  }
  void Problem(std::string p) { problems_.push_back(std::move(p)); }

  std::optional<std::string> String(std::string_view key, bool required = false,
                                    size_t max_len = kMaxText, bool allow_empty = true) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) {
      if (required) Problem(fmt::format("'{}' is missing", key));
      return std::nullopt;
    }
    if (!v->is_string()) {
      Problem(fmt::format("'{}' must be a string", key));
      return std::nullopt;
    }
    std::string s(v->as_string());
    if (s.size() > max_len) {
      Problem(fmt::format("'{}' is longer than {} bytes", key, max_len));
      return std::nullopt;
    }
    if (!allow_empty && s.find_first_not_of(" \t\r\n") == std::string::npos) {
      Problem(fmt::format("'{}' must not be empty", key));
      return std::nullopt;
    }
    return s;
  }

  // A string, or a number written as one (for "sev": 2).
  std::optional<std::string> StringOrNumber(std::string_view key) {
    const json::value* v = Get(key);
    if (v && v->is_int64()) return std::to_string(v->as_int64());
    return String(key);
  }

  std::optional<std::vector<std::string>> StringList(std::string_view key, size_t max_items,
                                                     size_t max_len = 200) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_array()) {
      Problem(fmt::format("'{}' must be a list of strings", key));
      return std::nullopt;
    }
    if (v->as_array().size() > max_items) {
      Problem(fmt::format("'{}' lists more than {} items", key, max_items));
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < v->as_array().size(); ++i) {
      const auto& e = v->as_array()[i];
      if (!e.is_string() || e.as_string().empty() || e.as_string().size() > max_len) {
        Problem(fmt::format("'{}[{}]' must be a non-empty string of at most {} bytes", key, i,
                            max_len));
        return std::nullopt;
      }
      out.emplace_back(e.as_string());
    }
    return out;
  }

  std::optional<bool> Bool(std::string_view key) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_bool()) {
      Problem(fmt::format("'{}' must be true or false", key));
      return std::nullopt;
    }
    return v->as_bool();
  }

  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
      Problem(fmt::format("'{}' must be an integer from {} to {}", key, min, max));
      return std::nullopt;
    }
    return v->as_int64();
  }

  // An RFC 3339 time; `null` clears (outer optional set, inner empty).
  std::optional<std::optional<TimePoint>> TimeOrNull(std::string_view key) {
    const json::value* v = Get(key);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<TimePoint>();
    if (!v->is_string()) {
      Problem(fmt::format("'{}' must be an RFC 3339 time or null", key));
      return std::nullopt;
    }
    auto t = ParseRfc3339(std::string_view(v->as_string()));
    if (!t) {
      Problem(fmt::format("'{}': {}", key, t.error().message()));
      return std::nullopt;
    }
    return std::optional<TimePoint>(*t);
  }

  const json::object* Object(std::string_view key) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) {
      Problem(fmt::format("'{}' must be an object", key));
      return nullptr;
    }
    return &v->as_object();
  }

  // InvalidArgument listing every problem (and unknown fields), or OK.
  Status Finish() {
    for (const auto& [k, v] : obj_) {
      if (!seen_.contains(std::string(k))) Problem(fmt::format("unknown field '{}'", k));
    }
    if (problems_.empty()) return OkStatus();
    return InvalidArgument(problems_.size() == 1 ? problems_.front() : "invalid request body",
                           problems_);
  }

 private:
  json::object obj_;
  std::set<std::string, std::less<>> seen_;
  std::vector<std::string> problems_;
};

std::string Known(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 20; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > 20) out += ", ...";
  return out.empty() ? "none defined" : out;
}

// Checks ids against the org, naming the field and the choices.
class OrgCheck {
 public:
  OrgCheck(const config::Org* org, Body& body) : org_(org), body_(body) {}

  bool User(const std::string& id, std::string_view field) {
    if (!org_ || config::FindUser(*org_, id)) return true;
    std::vector<std::string> ids;
    for (const auto& u : org_->users) ids.push_back(u.id);
    body_.Problem(fmt::format("'{}': unknown user '{}' (users: {})", field, id, Known(ids)));
    return false;
  }
  bool Service(const std::string& id, std::string_view field) {
    if (!org_ || config::FindService(*org_, id)) return true;
    std::vector<std::string> ids;
    for (const auto& s : org_->services) ids.push_back(s.id);
    body_.Problem(fmt::format("'{}': unknown service '{}' (services: {})", field, id, Known(ids)));
    return false;
  }
  bool Role(const std::string& id, std::string_view field) {
    auto roles = org_ ? config::AllIncidentRoles(*org_) : config::BuiltinIncidentRoles();
    if (config::FindIncidentRole(roles, id)) return true;
    std::vector<std::string> ids;
    for (const auto& r : roles) ids.push_back(r.id);
    body_.Problem(fmt::format("'{}': unknown role '{}' (roles: {})", field, id, Known(ids)));
    return false;
  }
  std::optional<std::string> Sev(const std::string& input, std::string_view field) {
    auto sev = core::NormalizeSev(input, Levels());
    if (!sev) {
      body_.Problem(fmt::format("'{}': {}", field, sev.error().message()));
      return std::nullopt;
    }
    return *sev;
  }
  std::vector<std::string> Levels() const {
    return org_ ? config::SevLevels(*org_) : core::DefaultSevLevels();
  }

 private:
  const config::Org* org_;
  Body& body_;
};

// Reads {"commander": "alice", "scribe": null, ...} into (role, user) pairs.
std::vector<std::pair<std::string, std::string>> ReadRoles(Body& body, OrgCheck& check,
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

std::vector<std::string> ValidServices(OrgCheck& check, const std::vector<std::string>& ids,
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

// Whether a service's incident touches a public component, and which ones.
std::vector<const config::StatusComponent*> ComponentsOf(const config::Org& org,
                                                         const core::Incident& inc) {
  std::vector<const config::StatusComponent*> out;
  if (!org.status_page) return out;
  for (const auto& c : org.status_page->components) {
    for (const auto& s : c.services) {
      if (std::find(inc.services.begin(), inc.services.end(), s) != inc.services.end()) {
        out.push_back(&c);
        break;
      }
    }
  }
  return out;
}

}  // namespace

std::string Api::BaseUrl(const HttpRequest& req) const {
  std::string base = options_.base_url;
  if (base.empty() && !req.Header("Host").empty()) {
    base = fmt::format("{}://{}", options_.tls ? "https" : "http", req.Header("Host"));
  }
  if (base.empty()) base = listen_url_;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

store::Callback<core::Incident> Api::AnswerIncident(Respond respond, bhttp::status code) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  return [this, shared, code](Result<core::Incident> r) {
    if (!r) return (*shared)(StoreError(r.error()));
    Changed();
    (*shared)(http::JsonResponse(code, "{\"incident\":" + core::IncidentJson(*r) + "}"));
  };
}

// ---------------------------------------------------------------------------------------------
// Declare and change.

void Api::DeclareIncident(const HttpRequest& req, const auth::Principal* principal,
                          Respond respond) {
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  const config::Org* org = view->org.get();
  OrgCheck check(org, *body);
  store::NewIncident n;
  if (auto t = body->String("title", /*required=*/true, kMaxTitle, /*allow_empty=*/false)) {
    n.title = *t;
  }
  if (auto sev = body->StringOrNumber("sev")) {
    if (auto s = check.Sev(*sev, "sev")) n.sev = *s;
  } else if (!body->Has("sev")) {
    body->Problem(fmt::format("'sev' is missing: declare a severity ({})", Known(check.Levels())));
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

void Api::Patch(core::IncidentId id, store::IncidentPatch patch, store::Actor actor,
                Respond respond) {
  incidents_.Patch(id, std::move(patch), std::move(actor), AnswerIncident(std::move(respond)));
}

void Api::PatchIncident(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  OrgCheck check(view->org.get(), *body);
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

void Api::AssignRole(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  OrgCheck check(view->org.get(), *body);
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

void Api::AddResponder(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  OrgCheck check(view->org.get(), *body);
  auto user = body->String("user", true);
  if (user) check.User(*user, "user");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  incidents_.AddResponder(*id, *user, ActorOf(req, *principal), AnswerIncident(std::move(respond)));
}

void Api::RemoveResponder(const HttpRequest& req, const auth::Principal* principal,
                          Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  incidents_.RemoveResponder(*id, std::string(req.Param("user")), ActorOf(req, *principal),
                             AnswerIncident(std::move(respond)));
}

// ---------------------------------------------------------------------------------------------
// Timeline: notes, pins, linked changes, suspects.

void Api::AddNote(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
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

void Api::PinEntry(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
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

void Api::UnpinEntry(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
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

void Api::Suspects(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto inc = store_.GetIncident(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  auto view = org();
  if (!view->org) return respond(http::JsonResponse(bhttp::status::ok, R"({"suspects":[]})"));
  auto suspects = engine::FindSuspects(store_, *view->org, *inc, 20);
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

void Api::LinkChange(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
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

void Api::ListUpdates(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  if (auto inc = store_.GetIncident(*id); !inc) return respond(http::ErrorResponse(inc.error()));
  auto updates = store_.ListStatusUpdates({.incident_id = *id, .limit = 1000});
  if (!updates) return respond(http::ErrorResponse(updates.error()));
  respond(ListResponse("updates", *updates, 1000, UpdateJson));
}

void Api::PublishUpdate(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  // The update is composed from the incident as read now; the service publishes it only if the
  // incident is still so when the write runs (else 409: compose it again).
  auto inc = incidents_.Get(*id);
  if (!inc) return respond(http::ErrorResponse(inc.error()));
  auto body = Body::Parse(req.raw.body());
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
          fmt::format("'audiences': unknown audience '{}' (audiences: {})", a, Known(ids)));
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
    if (auto suspects = engine::FindSuspects(store_, *org, *inc, 3)) {
      for (const auto& s : *suspects) ctx.suspects.push_back(engine::SuspectLine(s));
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

void Api::MergeIncident(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto into = body->Int("into", 1, INT64_MAX);
  if (!into && !body->Has("into")) body->Problem("'into' is missing: the incident to merge into");
  if (Status st = body->Finish(); !st.ok()) return respond(http::ErrorResponse(st));
  incidents_.Merge(*id, *into, ActorOf(req, *principal), AnswerIncident(std::move(respond)));
}

void Api::SplitIncident(const HttpRequest& req, const auth::Principal* principal, Respond respond) {
  auto id = ParseId(req.Param("id"), "incident id");
  if (!id) return respond(http::ErrorResponse(id.error()));
  auto body = Body::Parse(req.raw.body());
  if (!body) return respond(http::ErrorResponse(body.error()));
  auto view = org();
  const config::Org* org = view->org.get();
  OrgCheck check(org, *body);
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

void Api::ListIncidentRoles(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto view = org();
  auto roles = view->org ? config::AllIncidentRoles(*view->org) : config::BuiltinIncidentRoles();
  json::array out;
  for (const auto& r : roles) {
    out.push_back(json::object{{"id", r.id}, {"name", r.name}, {"description", r.description}});
  }
  respond(http::JsonResponse(bhttp::status::ok,
                             json::serialize(json::object{{"roles", std::move(out)}})));
}

void Api::ListSeverities(const HttpRequest&, const auth::Principal*, Respond respond) {
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

// ---------------------------------------------------------------------------------------------
// The public status page.

namespace {
constexpr std::string_view kResolvedText = "This incident has been resolved.";
}  // namespace

Result<StatusPageModel> Api::BuildStatusPage(const HttpRequest& req) {
  StatusPageModel m;
  TimePoint now = clock_.Now();
  m.generated_at = now;
  m.url = BaseUrl(req) + "/status";
  auto view = org();
  const config::Org* org = view->org.get();
  if (!org || !org->status_page) return m;
  m.title = org->status_page->title;
  auto levels = config::SevLevels(*org);
  std::map<std::string, core::ComponentState> state;  // by component id
  for (const auto& c : org->status_page->components)
    state[c.id] = core::ComponentState::kOperational;
  // Maintenance: windows in progress, and those starting within a week.
  for (const auto& w : org->maintenance_windows) {
    PublicMaintenance pm;
    pm.id = w.id;
    pm.start = w.start;
    pm.end = w.end;
    pm.active = engine::InMaintenance(w, now);
    if (w.recurring) {
      std::string days;
      static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      for (auto d : w.recurring->window.days)
        days += (days.empty() ? "" : ", ") + std::string(kDays[d.c_encoding()]);
      pm.recurrence = fmt::format(
          "every {} {:02}:{:02}-{:02}:{:02} ({})", days, w.recurring->window.start_minute / 60,
          w.recurring->window.start_minute % 60, w.recurring->window.end_minute / 60,
          w.recurring->window.end_minute % 60, w.recurring->timezone);
    }
    bool upcoming = w.start && w.end && *w.end > now && *w.start < now + std::chrono::days(7);
    if (!pm.active && !upcoming && !w.recurring) continue;
    for (const auto& c : org->status_page->components) {
      bool hit = false;
      for (const auto& s : c.services) {
        hit = hit || std::find(w.services.begin(), w.services.end(), s) != w.services.end();
      }
      if (!hit) continue;
      pm.components.push_back(c.name);
      if (pm.active)
        state[c.id] = core::Worse(state[c.id], core::ComponentState::kUnderMaintenance);
    }
    if (!pm.components.empty()) m.maintenance.push_back(std::move(pm));
  }
  // Incidents open now or resolved within the history window that touch a component.
  HOUSTON_ASSIGN_OR_RETURN(
      auto incidents,
      store_.ListIncidents({.limit = 1000,
                            .declared_only = true,
                            .active_since = now - std::chrono::days(m.history_days)}));
  HOUSTON_ASSIGN_OR_RETURN(
      auto updates, store_.ListStatusUpdates(
                        {.since = now - std::chrono::days(m.history_days + 30), .limit = 1000}));
  std::map<core::IncidentId, std::vector<PublicUpdate>> public_updates;
  for (const auto& u : updates) {  // newest first
    for (const auto& r : u.renderings) {
      if (r.audience != core::kPublicAudience) continue;
      public_updates[u.incident_id].push_back(PublicUpdate{u.id, u.at, u.phase, r.text});
    }
  }
  for (const auto& inc : incidents) {
    auto comps = ComponentsOf(*org, inc);
    if (comps.empty()) continue;
    auto rank = core::SevRank(inc.sev, levels).value_or(static_cast<int>(levels.size()));
    const config::SeverityLevel* level = config::FindSeverity(*org, inc.sev);
    // What the incident does to its components at its worst, and now.
    core::ComponentState worst =
        level && level->component_state
            ? *level->component_state
            : core::StateForIncident(rank, core::IncidentStatus::kTriggered);
    core::ComponentState impact = worst;
    if (inc.status == core::IncidentStatus::kMitigated &&
        worst != core::ComponentState::kOperational) {
      impact = core::ComponentState::kDegradedPerformance;  // impact stopped, not yet over
    }
    auto& ups = public_updates[inc.id];
    // Only what customers would notice, or what has been told to them, is shown.
    if (worst == core::ComponentState::kOperational && ups.empty()) continue;
    PublicIncident pi;
    pi.id = inc.id;
    std::vector<std::string> names;
    for (const auto* c : comps) names.push_back(c->name);
    pi.title = core::PublicTitle(inc, names);
    pi.components = names;
    pi.started_at = inc.impact_started_at.value_or(inc.created_at);
    pi.updates = ups;
    if (core::IsOpen(inc.status)) {
      pi.impact = impact;
      pi.phase = ups.empty() ? std::string(core::DefaultPhase(inc.status)) : ups.front().phase;
      for (const auto* c : comps) state[c->id] = core::Worse(state[c->id], impact);
      m.open.push_back(std::move(pi));
    } else {
      pi.impact = worst;
      pi.phase = "resolved";
      pi.resolved_at = inc.resolved_at;
      // Resolved without a last public word: close the story, so that the newest text is not
      // one that promises another update.
      if (inc.resolved_at && (pi.updates.empty() || pi.updates.front().phase != "resolved")) {
        pi.updates.insert(pi.updates.begin(), PublicUpdate{0, *inc.resolved_at, "resolved",
                                                           std::string(kResolvedText)});
      }
      m.history.push_back(std::move(pi));
    }
  }
  for (const auto& c : org->status_page->components) {
    m.components.push_back(PublicComponent{c.id, c.name, c.description, state[c.id]});
    m.overall = core::Worse(m.overall, state[c.id]);
  }
  return m;
}

namespace {
Response Public(std::string content_type, std::string body) {
  Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, std::move(content_type));
  r.set(bhttp::field::cache_control, "public, max-age=30");
  r.set("Access-Control-Allow-Origin", "*");
  r.body() = std::move(body);
  return r;
}
}  // namespace

void Api::StatusPage(StatusPageCache::Format format, const HttpRequest& req, Respond respond) {
  // The page changes when the store commits (anything: cheap to count, and never stale) or the
  // org is replaced; other servers' commits and the passing of time within max_age.
  StatusPageCache::Version version{store_.Stats().commits, org_version_.load()};
  auto body = status_cache_.Get(format, version, BaseUrl(req), clock_.Now(),
                                options_.status_page_max_age, [&] { return BuildStatusPage(req); });
  if (!body) return respond(http::ErrorResponse(body.error()));
  using F = StatusPageCache::Format;
  std::string type = format == F::kHtml   ? "text/html; charset=utf-8"
                     : format == F::kJson ? "application/json"
                     : format == F::kAtom ? "application/atom+xml; charset=utf-8"
                                          : "application/rss+xml; charset=utf-8";
  respond(Public(std::move(type), std::move(*body)));
}

void Api::StatusHtml(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kHtml, req, std::move(respond));
}

void Api::StatusJson(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kJson, req, std::move(respond));
}

void Api::StatusAtom(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kAtom, req, std::move(respond));
}

void Api::StatusRss(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kRss, req, std::move(respond));
}

}  // namespace houston::api
