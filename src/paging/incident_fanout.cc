#include "paging/incident_fanout.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "core/json_util.h"
#include "core/time_util.h"
#include "notify/notify.h"

namespace houston::paging {

namespace json = boost::json;

namespace {

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

std::string ActorJson(const store::Actor& a) {
  return fmt::format(R"({{"type":{},"id":{},"via":{}}})", JsonQuote(a.type), JsonQuote(a.id),
                     JsonQuote(a.method));
}

}  // namespace

// The decisions of one batch, with the incidents it read (kept current as decisions are
// planned, so that later records in the batch see earlier decisions).
class IncidentFanout::Pass {
 public:
  Pass(IncidentFanout& f, const config::Org& org, TimePoint now)
      : f_(f), org_(org), now_(now), levels_(config::SevLevels(org)) {}

  store::FanoutWork work;

  void Handle(const store::AuditRecord& r) {
    work.processed.push_back(r.id);
    // New alerts matter to the incident rules and, when they open an incident, to webhooks.
    if (r.action == store::ToString(store::AuditAction::kAlertTriggered) &&
        org_.incident_rules.empty() && org_.webhooks.empty()) {
      return;
    }
    core::Incident* inc = Incident(r.incident_id);
    if (!inc) return;
    json::object details;
    {
      boost::system::error_code ec;
      auto v = json::parse(r.details_json, ec);
      if (!ec && v.is_object()) details = std::move(v.as_object());
    }
    const std::string& a = r.action;
    if (a == store::ToString(store::AuditAction::kAlertTriggered)) {
      // A new alert's incident is announced by the alert's own record.
      const auto* created = details.if_contains("incident_created");
      if (created && created->is_bool() && created->as_bool()) {
        Webhooks(*inc, "incident.triggered", r, "");
      }
      ApplyRules(*inc, details, r);
    } else if (a == "incident.triggered" || a == "incident.acknowledged" ||
               a == "incident.mitigated" || a == "incident.resolved" || a == "incident.reopened") {
      Webhooks(*inc, a, r, "");
      // A new (or reopened) incident owes its first update a cadence from now.
      if (a == "incident.triggered" || a == "incident.reopened") SetDue(*inc, r.at, false);
    } else if (a == "incident.updated") {
      Webhooks(*inc, a, r, "");
      const auto* changes = details.if_contains("changes");
      if (changes && changes->is_object() && changes->as_object().contains("sev")) {
        SetDue(*inc, r.at);
      }
    } else if (a == "incident.role_assigned" || a == "incident.responder_added") {
      std::string role = Str(details, "role");
      std::string via = role.empty() ? "responder" : "role:" + role;
      std::string role_name = role.empty() ? "Responder" : role;
      auto roles = config::AllIncidentRoles(org_);
      if (const auto* def = config::FindIncidentRole(roles, role)) role_name = def->name;
      Page(*inc, Str(details, "user"), "role", via, fmt::format("audit:{}", r.id),
           fmt::format(R"({{"role":{},"role_name":{},"assigned_by":{}}})", JsonQuote(role),
                       JsonQuote(role_name), ActorJson(r.actor)),
           r.at);
      Webhooks(*inc, "incident.updated", r, "");
    } else if (a == "status_update.published") {
      PublishUpdate(*inc, Int(details, "update_id"), r);
    }
  }

  void Remind(const core::Incident& due) {
    core::Incident* inc = Incident(due.id);
    if (!inc || !inc->update_due_at) return;
    const config::SeverityLevel* level = config::FindSeverity(org_, inc->sev);
    if (!level || !level->update_every_minutes || !core::IsOpen(inc->status)) {
      Due(*inc, std::nullopt, "", "{}");
      return;
    }
    std::string who;
    for (const auto& [role, user] : inc->roles) {
      if (role == "communications_lead") who = user;
    }
    for (const auto& [role, user] : inc->roles) {
      if (role == "commander" && who.empty()) who = user;
    }
    auto cadence = std::chrono::minutes(*level->update_every_minutes);
    auto overdue = std::chrono::duration_cast<std::chrono::minutes>(now_ - *inc->update_due_at);
    std::string ref = fmt::format("reminder:{}", inc->update_due_at->time_since_epoch().count());
    Page(
        *inc, who, "reminder", "reminder:status-update", ref,
        fmt::format(R"({{"sev":{},"cadence_minutes":{},"overdue_minutes":{},"last_update_at":{}}})",
                    JsonQuote(inc->sev), cadence.count(), overdue.count(),
                    inc->last_update_at ? JsonQuote(FormatRfc3339(*inc->last_update_at))
                                        : std::string("null")),
        now_);
    Due(*inc, now_ + std::min(cadence, f_.options_.max_reminder_interval),
        "incident.update_overdue",
        fmt::format(R"({{"due_at":{},"cadence_minutes":{},"reminded":{}}})",
                    JsonQuote(FormatRfc3339(*inc->update_due_at)), cadence.count(),
                    who.empty() ? std::string("null") : JsonQuote(who)));
  }

 private:
  core::Incident* Incident(core::IncidentId id) {
    if (id == 0) return nullptr;
    auto it = incidents_.find(id);
    if (it != incidents_.end()) return &it->second;
    auto inc = f_.store_.GetIncident(id);
    if (!inc) return nullptr;
    return &incidents_.emplace(id, std::move(*inc)).first->second;
  }

  std::string Base() const {
    std::string base = f_.options_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  // The incident's page for people (a signed view link; the API's address without a key).
  std::string Url(const core::Incident& inc) const {
    return notify::IncidentPageUrl(Base(), f_.options_.link_key, inc.id, inc.episode,
                                   now_ + notify::kViewLinkLifetime);
  }
  // The incident's public title, naming the status page components it affects.
  std::string PublicTitleOf(const core::Incident& inc) const {
    std::vector<std::string> names;
    if (org_.status_page) {
      for (const auto& c : org_.status_page->components) {
        bool hit = false;
        for (const auto& s : c.services) {
          hit = hit || std::find(inc.services.begin(), inc.services.end(), s) != inc.services.end();
        }
        if (hit) names.push_back(c.name);
      }
    }
    return core::PublicTitle(inc, names);
  }

  // Declares or raises the incident's SEV when a rule matches the new alert.
  void ApplyRules(core::Incident& inc, const json::object& details, const store::AuditRecord& r) {
    if (org_.incident_rules.empty() || !core::IsOpen(inc.status)) return;
    std::string service = Str(details, "service");
    auto alert_severity = core::ParseSeverity(Str(details, "severity"));
    const config::Service* svc = config::FindService(org_, service);
    const config::IncidentRule* best = nullptr;
    std::optional<int> best_rank;
    for (const auto& rule : org_.incident_rules) {
      if (!rule.services.empty() &&
          std::find(rule.services.begin(), rule.services.end(), service) == rule.services.end()) {
        continue;
      }
      if (rule.max_service_tier && (!svc || !svc->tier || *svc->tier > *rule.max_service_tier)) {
        continue;
      }
      // Severity counts down: critical is the smallest value.
      if (rule.alert_severity && (!alert_severity || *alert_severity > *rule.alert_severity)) {
        continue;
      }
      if (rule.alert_count) {
        int64_t count = inc.alert_count;
        if (rule.window_minutes) {
          // The incident's own alerts that arrived within the window (docs/config.md).
          store::AlertFilter f;
          f.incident_id = inc.id;
          f.since = r.at - std::chrono::minutes(*rule.window_minutes);
          f.limit = std::min(1000, std::max(1, *rule.alert_count));
          auto alerts = f_.store_.ListAlerts(f);
          count = alerts ? static_cast<int64_t>(alerts->size()) : 0;
        }
        if (count < *rule.alert_count) continue;
      }
      auto rank = core::SevRank(rule.severity, levels_);
      if (rank && (!best_rank || *rank < *best_rank)) {
        best = &rule;
        best_rank = rank;
      }
    }
    if (!best) return;
    auto current = core::SevRank(inc.sev, levels_);
    if (current && *current <= *best_rank) return;  // never lowers, nothing to raise
    work.sev_raises.push_back(
        {inc.id, inc.sev, best->severity,
         fmt::format("rule '{}' matched alert {} on {}", best->id, r.resource_id, service)});
    inc.sev = best->severity;
  }

  // Pages `user_id` through their notification rules.
  void Page(const core::Incident& inc, const std::string& user_id, const std::string& kind,
            const std::string& via, const std::string& ref, const std::string& payload,
            TimePoint at) {
    const config::User* user = config::FindUser(org_, user_id);
    if (!user) return;
    for (auto& p : PagesForUser(*user, at, via)) {
      store::OutboxMessage m;
      m.incident_id = inc.id;
      m.kind = kind;
      m.ref = ref;
      m.user_id = p.user_id;
      m.contact_method_id = p.contact_method_id;
      m.channel_type = p.channel_type;
      m.target = p.target;
      m.rule = p.rule;
      m.not_before = p.not_before;
      m.payload_json = payload;
      work.messages.push_back(std::move(m));
    }
  }

  void Webhooks(const core::Incident& inc, std::string_view event, const store::AuditRecord& r,
                std::string_view extra_members) {
    for (const auto& wh : org_.webhooks) {
      if (!wh.events.empty() &&
          std::find(wh.events.begin(), wh.events.end(), event) == wh.events.end()) {
        continue;
      }
      if (!wh.services.empty()) {
        bool hit = false;
        for (const auto& s : inc.services) {
          hit = hit || std::find(wh.services.begin(), wh.services.end(), s) != wh.services.end();
        }
        if (!hit) continue;
      }
      std::string service_name = inc.service_id;
      if (const auto* svc = config::FindService(org_, inc.service_id)) service_name = svc->name;
      std::string payload = fmt::format(
          R"({{"event":{},"event_id":"evt-{}","occurred_at":{},"incident":{},"actor":{},"details":{}{}{}}})",
          JsonQuote(event), r.id, JsonQuote(FormatRfc3339(r.at)),
          core::IncidentJson(inc, fmt::format(R"("service_name":{},"url":{})",
                                              JsonQuote(service_name), JsonQuote(Url(inc)))),
          ActorJson(r.actor), r.details_json.empty() ? "{}" : r.details_json,
          extra_members.empty() ? "" : ",", extra_members);
      store::OutboxMessage m;
      m.incident_id = inc.id;
      m.kind = "webhook";
      m.ref = fmt::format("audit:{}:{}", r.id, event);
      m.contact_method_id = "webhook:" + wh.id;
      m.channel_type = "webhook";
      m.target = "webhook:" + wh.id;
      m.not_before = now_;
      m.payload_json = std::move(payload);
      work.messages.push_back(std::move(m));
    }
  }

  void PublishUpdate(core::Incident& inc, int64_t update_id, const store::AuditRecord& r) {
    auto updates = f_.store_.ListStatusUpdates({.incident_id = inc.id, .limit = 1000});
    const store::StatusUpdate* u = nullptr;
    if (updates) {
      for (const auto& x : *updates) {
        if (x.id == update_id) u = &x;
      }
    }
    if (!u) return;
    json::array renderings;
    for (const auto& rendering : u->renderings) {
      renderings.push_back(json::object{{"audience", rendering.audience},
                                        {"subject", rendering.subject},
                                        {"text", rendering.text}});
      const config::Audience* aud = config::FindAudience(org_, rendering.audience);
      if (!aud) continue;
      if (!aud->min_severity.empty()) {
        auto have = core::SevRank(inc.sev, levels_);
        auto need = core::SevRank(aud->min_severity, levels_);
        if (!have || !need || *have > *need) continue;
      }
      for (const auto& sub : aud->subscribers) {
        store::OutboxMessage m;
        m.incident_id = inc.id;
        m.kind = "update";
        m.ref = fmt::format("update:{}", u->id);
        m.contact_method_id = "audience:" + aud->id + "/" + sub.id;
        m.channel_type = std::string(config::ToString(sub.type));
        m.target = "audience:" + aud->id;
        m.not_before = now_;
        json::object payload{{"audience", aud->id},          {"audience_name", aud->name},
                             {"subject", rendering.subject}, {"text", rendering.text},
                             {"update_id", u->id},           {"phase", u->phase}};
        if (aud->id == core::kPublicAudience) {
          // What the public may know of the incident: its public title and status page entry.
          payload["public_title"] = PublicTitleOf(inc);
          payload["status_url"] = fmt::format("{}/status#incident-{}", Base(), inc.id);
        }
        m.payload_json = json::serialize(payload);
        work.messages.push_back(std::move(m));
      }
    }
    json::object update{{"id", u->id},
                        {"phase", u->phase},
                        {"author", u->author},
                        {"at", FormatRfc3339(u->at)},
                        {"renderings", std::move(renderings)}};
    Webhooks(inc, "status_update_published", r, "\"status_update\":" + json::serialize(update));
    inc.last_update_at = u->at;
    SetDue(inc, u->at);
  }

  // The next update is due a cadence after the last one (with `from_last_update`, and if there
  // was one), else a cadence after `at`.
  void SetDue(core::Incident& inc, TimePoint at, bool from_last_update = true) {
    const config::SeverityLevel* level = config::FindSeverity(org_, inc.sev);
    std::optional<TimePoint> due;
    if (level && level->update_every_minutes && core::IsOpen(inc.status)) {
      TimePoint base = from_last_update ? inc.last_update_at.value_or(at) : at;
      due = base + std::chrono::minutes(*level->update_every_minutes);
    }
    if (due != inc.update_due_at) Due(inc, due, "", "{}");
  }

  void Due(core::Incident& inc, std::optional<TimePoint> due, std::string action,
           std::string details) {
    work.dues.push_back({inc.id, inc.update_due_at, due, std::move(action), std::move(details)});
    inc.update_due_at = due;
  }

  IncidentFanout& f_;
  const config::Org& org_;
  TimePoint now_;
  std::vector<std::string> levels_;
  std::map<core::IncidentId, core::Incident> incidents_;
};

IncidentFanout::IncidentFanout(store::Store& store, Clock& clock, OrgProvider org,
                               FanoutOptions options)
    : store_(store), clock_(clock), org_(std::move(org)), options_(std::move(options)) {}

Result<std::optional<TimePoint>> IncidentFanout::RunOnce() {
  TimePoint now = clock_.Now();
  auto org = org_();
  if (!org) return store_.NextReminderDue();
  bool created = false;
  // Decisions can make more records pending (a raised SEV is an incident.updated): bounded
  // passes until nothing is left.
  for (int pass = 0; pass < 64; ++pass) {
    HOUSTON_ASSIGN_OR_RETURN(auto records, store_.ListPendingFanout(options_.batch));
    std::vector<core::Incident> due;
    if (pass == 0) {
      HOUSTON_ASSIGN_OR_RETURN(due, store_.ListDueReminders(now, options_.batch));
    }
    if (records.empty() && due.empty()) break;
    Pass p(*this, *org, now);
    for (const auto& r : records) p.Handle(r);
    for (const auto& inc : due) p.Remind(inc);
    created = created || !p.work.messages.empty();
    HOUSTON_ASSIGN_OR_RETURN(
        int done, store::Wait<int>([&](auto cb) { store_.ApplyFanout(std::move(p.work), cb); }));
    if (done == 0 && due.empty()) break;  // someone else handled them: do not spin
  }
  if (created && on_messages_) on_messages_();
  return store_.NextReminderDue();
}

}  // namespace houston::paging
