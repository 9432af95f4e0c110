// SqliteStore: running incidents (declare, status, fields, roles, notes, pins, status updates,
// merge and split) and the incident fan-out's writes and reads.
#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/json_util.h"
#include "core/time_util.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

using core::Alert;
using core::AlertStatus;
using core::Incident;
using core::IncidentStatus;

namespace {

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string OptTimeJson(const std::optional<TimePoint>& t) {
  return t ? JsonQuote(FormatRfc3339(*t)) : "null";
}

// Applies `patch` to `inc` and records each change on the timeline. Returns whether anything
// changed.
Result<bool> ApplyPatch(Db& db, const Incident& inc, const IncidentPatch& patch, TimePoint now,
                        const Actor& actor) {
  Incident next = inc;
  std::string changes;  // "field":[old,new],...
  auto note = [&changes](std::string_view field, const std::string& from, const std::string& to) {
    if (!changes.empty()) changes += ',';
    changes += fmt::format("{}:[{},{}]", JsonQuote(field), from, to);
  };
  auto text = [&](std::string_view field, const std::optional<std::string>& v, std::string& dst) {
    if (!v || *v == dst) return;
    note(field, JsonQuote(dst), JsonQuote(*v));
    dst = *v;
  };
  text("title", patch.title, next.title);
  text("sev", patch.sev, next.sev);
  text("summary", patch.summary, next.summary);
  text("public_title", patch.public_title, next.public_title);
  if (patch.services && !patch.services->empty() && *patch.services != next.services) {
    note("services", StringListJson(next.services), StringListJson(*patch.services));
    next.services = *patch.services;
    next.service_id = next.services.front();
  }
  if (patch.tags || !patch.add_tags.empty() || !patch.remove_tags.empty()) {
    std::vector<std::string> tags = patch.tags ? *patch.tags : next.tags;
    tags.insert(tags.end(), patch.add_tags.begin(), patch.add_tags.end());
    tags = SortedUnique(std::move(tags));
    std::erase_if(tags, [&](const std::string& t) {
      return std::find(patch.remove_tags.begin(), patch.remove_tags.end(), t) !=
             patch.remove_tags.end();
    });
    if (tags != next.tags) {
      note("tags", StringListJson(next.tags), StringListJson(tags));
      next.tags = std::move(tags);
    }
  }
  auto time = [&](std::string_view field, const std::optional<std::optional<TimePoint>>& v,
                  std::optional<TimePoint>& dst) {
    if (!v || *v == dst) return;
    note(field, OptTimeJson(dst), OptTimeJson(*v));
    dst = *v;
  };
  time("impact_started_at", patch.impact_started_at, next.impact_started_at);
  time("detected_at", patch.detected_at, next.detected_at);
  time("mitigated_at", patch.mitigated_at, next.mitigated_at);
  time("resolved_at", patch.resolved_at, next.resolved_at);

  // The impact window must make sense.
  if (patch.resolved_at && next.status != IncidentStatus::kResolved && next.resolved_at) {
    return std::unexpected(InvalidArgument(
        fmt::format("'resolved_at' can only be set on a resolved incident (#{} is {})", inc.id,
                    core::ToString(next.status))));
  }
  if (patch.resolved_at && !next.resolved_at && next.status == IncidentStatus::kResolved) {
    return std::unexpected(
        InvalidArgument("'resolved_at' cannot be cleared while the incident is resolved"));
  }
  if (patch.mitigated_at && next.mitigated_at && next.status != IncidentStatus::kMitigated &&
      next.status != IncidentStatus::kResolved) {
    return std::unexpected(InvalidArgument(
        fmt::format("'mitigated_at' can only be set on a mitigated or resolved incident (#{} is "
                    "{})",
                    inc.id, core::ToString(next.status))));
  }
  if (next.impact_started_at) {
    for (auto [name, t] :
         {std::pair{"detected_at", next.detected_at}, std::pair{"mitigated_at", next.mitigated_at},
          std::pair{"resolved_at", next.resolved_at}}) {
      if (t && *t < *next.impact_started_at) {
        return std::unexpected(InvalidArgument(fmt::format(
            "'{}' ({}) is before 'impact_started_at' ({}): impact cannot be {} before it "
            "started",
            name, FormatRfc3339(*t), FormatRfc3339(*next.impact_started_at),
            std::string_view(name) == "detected_at" ? "detected" : "over")));
      }
    }
  }
  if (next.mitigated_at && next.resolved_at && *next.resolved_at < *next.mitigated_at) {
    return std::unexpected(InvalidArgument(
        fmt::format("'resolved_at' ({}) is before 'mitigated_at' ({})",
                    FormatRfc3339(*next.resolved_at), FormatRfc3339(*next.mitigated_at))));
  }

  // Roles and responders: each change is its own timeline record (the fan-out pages people).
  std::vector<std::pair<std::string, std::string>> role_changes;  // (role, previous)
  for (const auto& [role, user] : patch.set_roles) {
    auto it = std::find_if(next.roles.begin(), next.roles.end(),
                           [&](const auto& r) { return r.first == role; });
    std::string previous = it == next.roles.end() ? "" : it->second;
    if (previous == user) continue;
    if (it != next.roles.end()) next.roles.erase(it);
    if (!user.empty()) next.roles.emplace_back(role, user);
    role_changes.emplace_back(role, previous);
  }
  std::sort(next.roles.begin(), next.roles.end());
  std::vector<std::string> added, removed;
  for (const auto& u : patch.add_responders) {
    if (std::find(next.responders.begin(), next.responders.end(), u) == next.responders.end()) {
      next.responders.push_back(u);
      added.push_back(u);
    }
  }
  for (const auto& u : patch.remove_responders) {
    auto it = std::find(next.responders.begin(), next.responders.end(), u);
    if (it != next.responders.end()) {
      next.responders.erase(it);
      removed.push_back(u);
    }
  }
  if (changes.empty() && role_changes.empty() && added.empty() && removed.empty()) return false;

  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s,
      db.Prepare("UPDATE incidents SET title = ?, sev = ?, summary = ?, public_title = ?, "
                 "service_id = ?, services_json = ?, tags_json = ?, roles_json = ?, "
                 "responders_json = ?, impact_started_at = ?, detected_at = ?, mitigated_at = ?, "
                 "resolved_at = ? WHERE id = ?"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, next.title)
                              .Bind(2, next.sev)
                              .Bind(3, next.summary)
                              .Bind(4, next.public_title)
                              .Bind(5, next.service_id)
                              .Bind(6, StringListJson(next.services))
                              .Bind(7, StringListJson(next.tags))
                              .Bind(8, PairsJson(next.roles))
                              .Bind(9, StringListJson(next.responders))
                              .Bind(10, OptMs(next.impact_started_at))
                              .Bind(11, OptMs(next.detected_at))
                              .Bind(12, OptMs(next.mitigated_at))
                              .Bind(13, OptMs(next.resolved_at))
                              .Bind(14, inc.id)
                              .Run());
  if (!changes.empty()) {
    std::string details = "{\"changes\":{" + changes + "}";
    if (!patch.reason.empty()) details += ",\"reason\":" + JsonQuote(patch.reason);
    HOUSTON_RETURN_IF_ERROR(
        IncidentAudit(db, now, actor, ToString(TimelineKind::kUpdated), inc.id, details + "}"));
  }
  for (const auto& [role, previous] : role_changes) {
    std::string user;
    for (const auto& [r, u] : next.roles) {
      if (r == role) user = u;
    }
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(
        db, now, actor,
        ToString(user.empty() ? TimelineKind::kRoleUnassigned : TimelineKind::kRoleAssigned),
        inc.id,
        fmt::format(R"({{"role":{},"user":{},"previous":{}}})", JsonQuote(role), JsonQuote(user),
                    JsonQuote(previous))));
  }
  for (const auto& u : added) {
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, actor, ToString(TimelineKind::kResponderAdded),
                                          inc.id, fmt::format(R"({{"user":{}}})", JsonQuote(u))));
  }
  for (const auto& u : removed) {
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, actor, ToString(TimelineKind::kResponderRemoved),
                                          inc.id, fmt::format(R"({{"user":{}}})", JsonQuote(u))));
  }
  return true;
}

IncidentRow RowFor(const NewIncident& n, const Actor& actor) {
  IncidentRow r;
  r.services = n.services;
  r.service_id = n.services.empty() ? "" : n.services.front();
  r.title = n.title;
  r.severity = n.severity;
  r.sev = n.sev;
  r.summary = n.summary;
  r.public_title = n.public_title;
  r.tags = SortedUnique(n.tags);
  r.declared_by = actor.id.empty() ? actor.type : actor.id;
  r.impact_started_at = n.impact_started_at;
  r.escalation_policy = n.escalation_policy;
  r.first_step_delay = n.first_step_delay;
  r.page = n.page;
  return r;
}

std::string RenderingsJson(const std::vector<core::Rendering>& rs) {
  boost::json::array a;
  for (const auto& r : rs) {
    a.push_back(
        boost::json::object{{"audience", r.audience}, {"subject", r.subject}, {"text", r.text}});
  }
  return boost::json::serialize(a);
}

std::vector<core::Rendering> ParseRenderings(std::string_view json) {
  std::vector<core::Rendering> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    auto str = [&](const char* k) -> std::string {
      const auto* x = o.if_contains(k);
      return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    out.push_back(core::Rendering{str("audience"), str("subject"), str("text")});
  }
  return out;
}

constexpr const char* kStatusUpdateColumns =
    "id, incident_id, at, author, via, phase, fields_json, renderings_json";

StatusUpdate ReadStatusUpdate(const Stmt& s) {
  StatusUpdate u;
  u.id = s.Int(0);
  u.incident_id = s.Int(1);
  u.at = FromMs(s.Int(2));
  u.author = s.Text(3);
  u.via = s.Text(4);
  u.phase = s.Text(5);
  u.fields_json = s.Text(6);
  u.renderings = ParseRenderings(s.Text(7));
  return u;
}

Result<AuditRecord> LoadAudit(Db& db, int64_t id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM audit_log WHERE id = ?", kAuditColumns);
  return LoadById(db, kSql, id, "timeline entry", ReadAudit);
}

Result<core::Change> LoadChange(Db& db, int64_t id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM changes WHERE id = ?", kChangeColumns);
  return LoadById(db, kSql, id, "change", [&](const Stmt& row) { return ReadChange(db, row); });
}

// Moves alerts to another incident, their timeline records with them.
Status MoveAlerts(Db& db, const std::vector<core::AlertId>& ids, core::IncidentId to) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * a, db.Prepare("UPDATE alerts SET incident_id = ? WHERE id = ?"));
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * r, db.Prepare("UPDATE audit_log SET incident_id = ? WHERE resource_type = 'alert' "
                           "AND resource_id = ?"));
  for (core::AlertId id : ids) {
    a->Reset();
    HOUSTON_RETURN_IF_ERROR(a->Bind(1, to).Bind(2, id).Run());
    r->Reset();
    HOUSTON_RETURN_IF_ERROR(r->Bind(1, to).Bind(2, std::to_string(id)).Run());
  }
  return OkStatus();
}

Result<std::vector<core::AlertId>> AlertIdsOf(Db& db, core::IncidentId id) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                           db.Prepare("SELECT id FROM alerts WHERE incident_id = ? ORDER BY id"));
  s->Bind(1, id);
  return ReadAll<core::AlertId>(*s, [](const Stmt& row) { return row.Int(0); });
}

// Recounts an incident's alerts and its newest alert time after alerts moved.
Status Recount(Db& db, core::IncidentId id) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("UPDATE incidents SET alert_count = (SELECT COUNT(*) FROM alerts WHERE "
                           "incident_id = ?1), last_alert_at = COALESCE((SELECT MAX(created_at) "
                           "FROM alerts WHERE incident_id = ?1), last_alert_at) WHERE id = ?1"));
  return s->Bind(1, id).Run();
}

// Pins (or unpins) entry `entry_id` of incident `id` (already locked), noting it on the timeline
// when that changed anything.
Result<TimelineEntry> Pin(Db& db, core::IncidentId id, int64_t entry_id, bool pinned, TimePoint now,
                          const Actor& actor) {
  auto rec = LoadAudit(db, entry_id);
  if (!rec || rec->incident_id != id) {
    return std::unexpected(
        NotFound(fmt::format("timeline entry {} is not on incident {}'s timeline", entry_id, id)));
  }
  if (pinned) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("INSERT INTO timeline_pins(incident_id, entry_id, pinned_by, "
                             "pinned_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING"));
    HOUSTON_RETURN_IF_ERROR(
        s->Bind(1, id).Bind(2, entry_id).Bind(3, actor.id).Bind(4, Ms(now)).Run());
  } else {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("DELETE FROM timeline_pins WHERE incident_id = ? AND entry_id = ?"));
    HOUSTON_RETURN_IF_ERROR(s->Bind(1, id).Bind(2, entry_id).Run());
  }
  if (db.Changes() > 0) {
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(
        db, now, actor, ToString(pinned ? TimelineKind::kPinned : TimelineKind::kUnpinned), id,
        fmt::format(R"({{"entry_id":{},"entry_action":{}}})", entry_id, JsonQuote(rec->action))));
  }
  return TimelineEntry{*rec, pinned};
}

// Adds a note to incident `id`'s timeline, pinned when `pinned`.
Result<TimelineEntry> Note(Db& db, core::IncidentId id, const std::string& text, bool pinned,
                           const Clock& clock, const Actor& actor) {
  HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
  const TimePoint now = clock.Now();
  HOUSTON_ASSIGN_OR_RETURN(int64_t entry,
                           IncidentAudit(db, now, actor, ToString(TimelineKind::kNote), id,
                                         fmt::format(R"({{"text":{}}})", JsonQuote(text))));
  if (pinned) return Pin(db, id, entry, true, now, actor);
  HOUSTON_ASSIGN_OR_RETURN(AuditRecord rec, LoadAudit(db, entry));
  return TimelineEntry{std::move(rec), false};
}

std::string Prefixed(core::IncidentId id, const Status& st) {
  return fmt::format("incident {}: {}", id, st.message());
}

// Moves incident `id` by `action` (only while it is in `episode`, when given).
Result<Incident> Transition(Db& db, core::IncidentId id, core::IncidentAction action,
                            std::optional<int64_t> episode, const Clock& clock, const Actor& actor,
                            std::string_view link_id = {}) {
  HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, id));
  // Read once the incident is locked: records after a write that held the lock are not earlier.
  const TimePoint now = clock.Now();
  if (episode && *episode != inc.episode) {
    return std::unexpected(FailedPrecondition(
        fmt::format("incident {} has been reopened since: this was for its episode {}, and it is "
                    "in episode {} now",
                    id, *episode, inc.episode)));
  }
  if (!link_id.empty()) {
    // Checked under the incident's lock; the primary key settles any other race.
    HOUSTON_ASSIGN_OR_RETURN(Stmt * used,
                             db.Prepare("SELECT used_at FROM used_action_links WHERE link_id = ?"));
    used->Bind(1, link_id);
    HOUSTON_ASSIGN_OR_RETURN(bool seen, used->Step());
    if (seen) {
      TimePoint at = FromMs(used->Int(0));
      used->Reset();
      return std::unexpected(FailedPrecondition(
          fmt::format("{} (at {}); a link acts once, and incident {} is {} now", kLinkUsed,
                      FormatRfc3339(at), id, core::ToString(inc.status))));
    }
    used->Reset();
  }
  if (action == core::IncidentAction::kReopen && inc.merged_into != 0) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "incident {} was merged into incident {}: reopen that one instead", id, inc.merged_into)));
  }
  auto to = core::NextIncidentStatus(inc.status, action);
  if (!to) return std::unexpected(FailedPrecondition(Prefixed(id, to.error())));
  if (*to == inc.status) return inc;
  if (*to == IncidentStatus::kAcknowledged) {
    HOUSTON_ASSIGN_OR_RETURN(std::vector<Alert> open, OpenAlertsOf(db, id));
    for (const auto& a : open) {
      if (a.status != AlertStatus::kTriggered) continue;
      HOUSTON_RETURN_IF_ERROR(AcknowledgeOpenAlert(db, a, now, actor, false));
    }
  } else if (*to == IncidentStatus::kResolved) {
    HOUSTON_ASSIGN_OR_RETURN(std::vector<Alert> open, OpenAlertsOf(db, id));
    for (const auto& a : open) {
      HOUSTON_RETURN_IF_ERROR(ResolveOpenAlert(db, a, now, actor, false));
    }
  }
  HOUSTON_RETURN_IF_ERROR(SetIncidentStatus(db, inc, *to, now, actor));
  if (!link_id.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * use,
        db.Prepare("INSERT INTO used_action_links(link_id, incident_id, used_at) VALUES (?,?,?)"));
    HOUSTON_RETURN_IF_ERROR(use->Bind(1, link_id).Bind(2, id).Bind(3, Ms(now)).Run());
  }
  return LoadIncident(db, id);
}

// Publishes status update `u` on its incident (locked first). With `seen`, only while the
// incident is as the update was composed from. The update's time never goes back (a writer that
// waited for the lock may have read the clock first), and its number on the timeline counts the
// incident's updates: ordered by id, updates are ordered by time and numbered 1, 2, 3, ...
Result<StatusUpdate> Publish(Db& db, StatusUpdate u, const Incident* seen, const Clock& clock,
                             const Actor& actor);

// Whether an update composed from `seen` still fits `now` (what a rendering shows).
bool SameForUpdate(const Incident& seen, const Incident& now) {
  return seen.status == now.status && seen.sev == now.sev && seen.title == now.title &&
         seen.public_title == now.public_title && seen.summary == now.summary &&
         seen.services == now.services && seen.roles == now.roles && seen.episode == now.episode;
}

Result<StatusUpdate> Publish(Db& db, StatusUpdate u, const Incident* seen, const Clock& clock,
                             const Actor& actor) {
  HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, u.incident_id));
  TimePoint now = clock.Now();
  if (seen && !SameForUpdate(*seen, inc)) {
    return std::unexpected(FailedPrecondition(
        fmt::format("incident {} {} (it is {} now): nothing was published; read it again and "
                    "send the update again",
                    inc.id, kIncidentChanged, core::ToString(inc.status))));
  }
  if (seen && (u.phase == "resolved") == core::IsOpen(inc.status)) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "incident {} is {}: an update with phase '{}' does not fit it; nothing was published",
        inc.id, core::ToString(inc.status), u.phase)));
  }
  if (inc.last_update_at && *inc.last_update_at > now) now = *inc.last_update_at;
  u.at = now;
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("INSERT INTO status_updates(incident_id, at, author, via, phase, "
                           "fields_json, renderings_json) VALUES (?,?,?,?,?,?,?) RETURNING id"));
  s->Bind(1, u.incident_id)
      .Bind(2, Ms(now))
      .Bind(3, u.author)
      .Bind(4, u.via)
      .Bind(5, u.phase)
      .Bind(6, u.fields_json)
      .Bind(7, RenderingsJson(u.renderings));
  HOUSTON_ASSIGN_OR_RETURN(u.id, InsertedId(*s));
  HOUSTON_ASSIGN_OR_RETURN(Stmt * t,
                           db.Prepare("UPDATE incidents SET last_update_at = ? WHERE id = ?"));
  HOUSTON_RETURN_IF_ERROR(t->Bind(1, Ms(now)).Bind(2, inc.id).Run());
  HOUSTON_ASSIGN_OR_RETURN(Stmt * c,
                           db.Prepare("SELECT COUNT(*) FROM status_updates WHERE incident_id = ?"));
  c->Bind(1, inc.id);
  HOUSTON_ASSIGN_OR_RETURN(bool row, c->Step());
  int64_t number = row ? c->Int(0) : 0;
  c->Reset();
  std::vector<std::string> audiences;
  for (const auto& r : u.renderings) audiences.push_back(r.audience);
  HOUSTON_RETURN_IF_ERROR(
      IncidentAudit(db, now, actor, ToString(TimelineKind::kStatusUpdate), inc.id,
                    fmt::format(R"({{"update_id":{},"phase":{},"audiences":{},"number":{}}})", u.id,
                                JsonQuote(u.phase), StringListJson(audiences), number)));
  return u;
}

}  // namespace

void SqlStore::DeclareIncident(NewIncident n, Actor actor, Callback<Incident> done) {
  Submit<Incident>(
      [this, n = std::move(n), actor = std::move(actor)](Db& db) -> Result<Incident> {
        TimePoint now = options_.clock->Now();
        if (n.services.empty()) {
          return std::unexpected(InvalidArgument("an incident needs at least one service"));
        }
        HOUSTON_ASSIGN_OR_RETURN(core::IncidentId id,
                                 InsertIncident(db, RowFor(n, actor), now, actor));
        HOUSTON_ASSIGN_OR_RETURN(Incident inc, LoadIncident(db, id));
        IncidentPatch people;
        people.set_roles = n.roles;
        people.add_responders = n.responders;
        HOUSTON_RETURN_IF_ERROR(ApplyPatch(db, inc, people, now, actor));
        return LoadIncident(db, id);
      },
      std::move(done));
}

void SqlStore::TransitionIncident(core::IncidentId id, core::IncidentAction action, Actor actor,
                                  Callback<Incident> done) {
  Submit<Incident>(
      [this, id, action, actor = std::move(actor)](Db& db) -> Result<Incident> {
        return Transition(db, id, action, std::nullopt, *options_.clock, actor);
      },
      std::move(done));
}

void SqlStore::TransitionIncidentInEpisode(core::IncidentId id, core::IncidentAction action,
                                           int64_t episode, std::string link_id, Actor actor,
                                           Callback<Incident> done) {
  Submit<Incident>(
      [this, id, action, episode, link_id = std::move(link_id),
       actor = std::move(actor)](Db& db) -> Result<Incident> {
        return Transition(db, id, action, episode, *options_.clock, actor, link_id);
      },
      std::move(done));
}

void SqlStore::UpdateIncident(core::IncidentId id, IncidentPatch patch, Actor actor,
                              Callback<Incident> done) {
  Submit<Incident>(
      [this, id, patch = std::move(patch), actor = std::move(actor)](Db& db) -> Result<Incident> {
        HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, id));
        HOUSTON_RETURN_IF_ERROR(ApplyPatch(db, inc, patch, options_.clock->Now(), actor));
        return LoadIncident(db, id);
      },
      std::move(done));
}

void SqlStore::AddNote(core::IncidentId id, std::string text, Actor actor,
                       Callback<AuditRecord> done) {
  Submit<AuditRecord>(
      [this, id, text = std::move(text), actor = std::move(actor)](Db& db) -> Result<AuditRecord> {
        HOUSTON_ASSIGN_OR_RETURN(TimelineEntry entry,
                                 Note(db, id, text, false, *options_.clock, actor));
        return entry.record;
      },
      std::move(done));
}

void SqlStore::AddTimelineNote(core::IncidentId id, std::string text, bool pinned, Actor actor,
                               Callback<TimelineEntry> done) {
  Submit<TimelineEntry>(
      [this, id, text = std::move(text), pinned, actor = std::move(actor)](Db& db)
          -> Result<TimelineEntry> { return Note(db, id, text, pinned, *options_.clock, actor); },
      std::move(done));
}

void SqlStore::PinEntry(core::IncidentId id, int64_t entry_id, bool pinned, Actor actor,
                        Callback<TimelineEntry> done) {
  Submit<TimelineEntry>(
      [this, id, entry_id, pinned, actor = std::move(actor)](Db& db) -> Result<TimelineEntry> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
        return Pin(db, id, entry_id, pinned, options_.clock->Now(), actor);
      },
      std::move(done));
}

void SqlStore::LinkChange(core::IncidentId id, int64_t change_id, Actor actor,
                          Callback<core::Change> done) {
  Submit<core::Change>(
      [this, id, change_id, actor = std::move(actor)](Db& db) -> Result<core::Change> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
        HOUSTON_ASSIGN_OR_RETURN(core::Change c, LoadChange(db, change_id));
        HOUSTON_RETURN_IF_ERROR(IncidentAudit(
            db, options_.clock->Now(), actor, ToString(TimelineKind::kChangeLinked), id,
            fmt::format(R"({{"change_id":{},"summary":{},"service":{},"timestamp":{}}})", c.id,
                        JsonQuote(c.summary), JsonQuote(c.service_id),
                        JsonQuote(FormatRfc3339(c.timestamp)))));
        return c;
      },
      std::move(done));
}

void SqlStore::PublishStatusUpdate(StatusUpdate u, Actor actor, Callback<StatusUpdate> done) {
  Submit<StatusUpdate>(
      [this, u = std::move(u), actor = std::move(actor)](Db& db) mutable -> Result<StatusUpdate> {
        return Publish(db, std::move(u), nullptr, *options_.clock, actor);
      },
      std::move(done));
}

void SqlStore::PublishStatusUpdateFor(StatusUpdate u, Incident seen, Actor actor,
                                      Callback<StatusUpdate> done) {
  Submit<StatusUpdate>(
      [this, u = std::move(u), seen = std::move(seen), actor = std::move(actor)](Db& db) mutable
      -> Result<StatusUpdate> { return Publish(db, std::move(u), &seen, *options_.clock, actor); },
      std::move(done));
}

void SqlStore::MergeIncidents(core::IncidentId source, core::IncidentId target, Actor actor,
                              Callback<Incident> done) {
  Submit<Incident>(
      [this, source, target, actor = std::move(actor)](Db& db) -> Result<Incident> {
        if (source == target) {
          return std::unexpected(InvalidArgument("an incident cannot be merged into itself"));
        }
        // Both locked, in id order (as every write that locks two incidents).
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, std::min(source, target)));
        HOUSTON_ASSIGN_OR_RETURN(Incident from, LockIncident(db, source));
        HOUSTON_ASSIGN_OR_RETURN(Incident into, LockIncident(db, target));
        TimePoint now = options_.clock->Now();
        for (const Incident* i : {&from, &into}) {
          if (!core::IsOpen(i->status)) {
            return std::unexpected(FailedPrecondition(
                fmt::format("incident {} is resolved: only open incidents can be merged", i->id)));
          }
        }
        HOUSTON_ASSIGN_OR_RETURN(std::vector<core::AlertId> moved, AlertIdsOf(db, source));
        HOUSTON_RETURN_IF_ERROR(MoveAlerts(db, moved, target));
        HOUSTON_RETURN_IF_ERROR(Recount(db, target));
        HOUSTON_RETURN_IF_ERROR(Recount(db, source));
        // The target takes on the source's services, tags and responders.
        IncidentPatch p;
        std::vector<std::string> services = into.services;
        for (const auto& s : from.services) {
          if (std::find(services.begin(), services.end(), s) == services.end()) {
            services.push_back(s);
          }
        }
        p.services = services;
        p.add_tags = from.tags;
        p.add_responders = from.responders;
        p.reason = fmt::format("merged incident {}", source);
        HOUSTON_RETURN_IF_ERROR(ApplyPatch(db, into, p, now, actor));
        HOUSTON_ASSIGN_OR_RETURN(Stmt * m,
                                 db.Prepare("UPDATE incidents SET merged_into = ? WHERE id = ?"));
        HOUSTON_RETURN_IF_ERROR(m->Bind(1, target).Bind(2, source).Run());
        HOUSTON_RETURN_IF_ERROR(
            IncidentAudit(db, now, actor, ToString(TimelineKind::kMerged), target,
                          fmt::format(R"({{"from":{},"alerts_moved":{},"title":{}}})", source,
                                      moved.size(), JsonQuote(from.title))));
        HOUSTON_ASSIGN_OR_RETURN(from, LoadIncident(db, source));
        HOUSTON_RETURN_IF_ERROR(SetIncidentStatus(
            db, from, IncidentStatus::kResolved, now, actor,
            fmt::format(R"({{"reason":"merged into incident {}","merged_into":{}}})", target,
                        target)));
        return LoadIncident(db, target);
      },
      std::move(done));
}

void SqlStore::SplitIncident(core::IncidentId source, std::vector<core::AlertId> alerts,
                             NewIncident n, Actor actor, Callback<Incident> done) {
  Submit<Incident>(
      [this, source, alerts = std::move(alerts), n = std::move(n),
       actor = std::move(actor)](Db& db) mutable -> Result<Incident> {
        HOUSTON_ASSIGN_OR_RETURN(Incident from, LockIncident(db, source));
        TimePoint now = options_.clock->Now();
        if (!core::IsOpen(from.status)) {
          return std::unexpected(FailedPrecondition(
              fmt::format("incident {} is resolved: only an open incident can be split", source)));
        }
        if (alerts.empty()) {
          return std::unexpected(InvalidArgument("'alerts' must list at least one alert id"));
        }
        alerts.erase(
            std::unique((std::sort(alerts.begin(), alerts.end()), alerts.begin()), alerts.end()),
            alerts.end());
        HOUSTON_ASSIGN_OR_RETURN(std::vector<core::AlertId> all, AlertIdsOf(db, source));
        for (core::AlertId a : alerts) {
          if (!std::binary_search(all.begin(), all.end(), a)) {
            return std::unexpected(
                InvalidArgument(fmt::format("alert {} is not part of incident {}", a, source)));
          }
        }
        if (alerts.size() == all.size()) {
          return std::unexpected(InvalidArgument(fmt::format(
              "splitting every alert off would leave incident {} empty; change its title or "
              "services instead",
              source)));
        }
        HOUSTON_ASSIGN_OR_RETURN(Alert first, LoadAlert(db, alerts.front()));
        if (n.services.empty()) n.services.push_back(first.service_id);
        if (n.title.empty()) n.title = first.summary;
        IncidentRow row = RowFor(n, actor);
        row.severity = first.severity;
        row.alert_count = static_cast<int64_t>(alerts.size());
        // Someone is already on the source: the split-off part needs no new page.
        row.status = from.status == IncidentStatus::kTriggered ? IncidentStatus::kTriggered
                                                               : IncidentStatus::kAcknowledged;
        HOUSTON_ASSIGN_OR_RETURN(core::IncidentId id, InsertIncident(db, row, now, actor));
        HOUSTON_RETURN_IF_ERROR(MoveAlerts(db, alerts, id));
        HOUSTON_RETURN_IF_ERROR(Recount(db, id));
        HOUSTON_RETURN_IF_ERROR(Recount(db, source));
        HOUSTON_RETURN_IF_ERROR(IncidentAudit(
            db, now, actor, ToString(TimelineKind::kSplit), source,
            fmt::format(R"({{"into":{},"alerts":[{}]}})", id, fmt::join(alerts, ","))));
        HOUSTON_RETURN_IF_ERROR(IncidentAudit(
            db, now, actor, ToString(TimelineKind::kSplitFrom), id,
            fmt::format(R"({{"from":{},"alerts":[{}]}})", source, fmt::join(alerts, ","))));
        return LoadIncident(db, id);
      },
      std::move(done));
}

void SqlStore::ApplyFanout(FanoutWork work, Callback<int> done) {
  // Rows (and unique-index entries) are taken in one order on every server, so that two
  // servers applying overlapping work never wait on each other in a cycle (a deadlock).
  std::sort(work.processed.begin(), work.processed.end());
  // Stable, by incident only: one incident's messages (e.g. its webhook events) keep their order.
  std::stable_sort(work.messages.begin(), work.messages.end(),
                   [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  std::stable_sort(work.sev_raises.begin(), work.sev_raises.end(),
                   [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  std::stable_sort(work.dues.begin(), work.dues.end(),
                   [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  Submit<int>(
      [this, work = std::move(work)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        int processed = 0;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * mark, db.Prepare("UPDATE audit_log SET fanout = 1 WHERE id = ? AND fanout = 0"));
        for (int64_t id : work.processed) {
          mark->Reset();
          HOUSTON_RETURN_IF_ERROR(mark->Bind(1, id).Run());
          processed += db.Changes();
        }
        HOUSTON_RETURN_IF_ERROR(InsertOutboxMessages(db, now, work.messages));
        Actor rules{"system", "incident-rules", "system"};
        for (const auto& r : work.sev_raises) {
          HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, r.incident_id));
          if (inc.sev != r.expected || !core::IsOpen(inc.status)) continue;
          IncidentPatch p;
          p.sev = r.sev;
          p.reason = r.reason;
          HOUSTON_RETURN_IF_ERROR(ApplyPatch(db, inc, p, now, rules));
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * due,
            db.Prepare("UPDATE incidents SET update_due_at = ? WHERE id = ? AND "
                       "update_due_at IS NOT DISTINCT FROM ? AND status <> 'resolved'"));
        Actor reminders{"system", "update-reminders", "system"};
        for (const auto& d : work.dues) {
          due->Reset();
          HOUSTON_RETURN_IF_ERROR(
              due->Bind(1, OptMs(d.due)).Bind(2, d.incident_id).Bind(3, OptMs(d.expected)).Run());
          if (db.Changes() > 0 && !d.audit_action.empty()) {
            HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, reminders, d.audit_action, d.incident_id,
                                                  d.audit_details_json));
          }
        }
        return processed;
      },
      std::move(done));
}

// ---------------------------------------------------------------------------------------------
// Reads.

Result<std::vector<TimelineEntry>> SqlStore::ListTimeline(core::IncidentId id) {
  static const std::string kSql = fmt::format(
      "SELECT {}, CASE WHEN EXISTS (SELECT 1 FROM timeline_pins p WHERE p.incident_id = ?1 AND "
      "p.entry_id = audit_log.id) THEN 1 ELSE 0 END FROM audit_log WHERE incident_id = ?1 ORDER "
      "BY id LIMIT 10000",
      kAuditColumns);
  return WithReader([&](Db& db) -> Result<std::vector<TimelineEntry>> {
    HOUSTON_RETURN_IF_ERROR(LoadIncident(db, id));
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, id);
    return ReadAll<TimelineEntry>(*s, [](const Stmt& row) {
      return TimelineEntry{ReadAudit(row), row.Int(10) != 0};
    });
  });
}

Result<std::vector<StatusUpdate>> SqlStore::ListStatusUpdates(const StatusUpdateFilter& f) {
  Where w;
  if (f.incident_id) w.Add("incident_id = ?", *f.incident_id);
  if (f.since) w.Add("at >= ?", Ms(*f.since));
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM status_updates{} ORDER BY id DESC LIMIT {}",
                                kStatusUpdateColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<StatusUpdate>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<StatusUpdate>(*s, ReadStatusUpdate);
  });
}

Result<core::Change> SqlStore::GetChange(int64_t id) {
  return WithReader([&](Db& db) { return LoadChange(db, id); });
}

Result<std::vector<AuditRecord>> SqlStore::ListPendingFanout(int limit) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM audit_log WHERE fanout = 0 ORDER BY id LIMIT ?", kAuditColumns);
  return WithReader([&](Db& db) -> Result<std::vector<AuditRecord>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, limit);
    return ReadAll<AuditRecord>(*s, ReadAudit);
  });
}

Result<std::vector<Incident>> SqlStore::ListDueReminders(TimePoint now, int limit) {
  static const std::string kSql = fmt::format(
      "SELECT {} FROM incidents WHERE update_due_at IS NOT NULL AND update_due_at <= ? AND "
      "status <> 'resolved' ORDER BY update_due_at LIMIT ?",
      IncidentColumns());
  return WithReader([&](Db& db) -> Result<std::vector<Incident>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, Ms(now)).Bind(2, limit);
    return ReadAll<Incident>(*s, [&](const Stmt& row) { return ReadIncident(db, row); });
  });
}

Result<std::optional<TimePoint>> SqlStore::NextReminderDue() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT MIN(update_due_at) FROM incidents WHERE update_due_at IS NOT "
                             "NULL AND status <> 'resolved'"));
    return ReadOptionalTime(*s);
  });
}

}  // namespace houston::store::sql
