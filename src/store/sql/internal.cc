#include "store/sql/internal.h"

#include <boost/json.hpp>

#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "store/sql/feed.h"

namespace houston::store::sql {

using core::Alert;
using core::AlertEvent;
using core::AlertStatus;
using core::EventAction;
using core::Incident;
using core::IncidentStatus;

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
std::optional<TimePoint> OptTime(const Stmt& s, int col) {
  auto v = s.OptInt(col);
  return v ? std::optional<TimePoint>(FromMs(*v)) : std::nullopt;
}
std::optional<int64_t> OptMs(const std::optional<TimePoint>& t) {
  return t ? std::optional<int64_t>(Ms(*t)) : std::nullopt;
}

const char* const kAlertColumns =
    "id, integration_key, service_id, dedup_key, group_key, status, summary, source, severity, "
    "component, grp, class, details_json, links_json, images_json, client, client_url, "
    "event_count, created_at, last_event_at, event_timestamp, acknowledged_at, resolved_at, "
    "incident_id";

Alert ReadAlert(Db& db, const Stmt& s) {
  Alert a;
  a.id = s.Int(0);
  a.integration_key = db.keys().Plain(s.Text(1));
  a.service_id = s.Text(2);
  a.dedup_key = s.Text(3);
  a.group_key = s.Text(4);
  a.status = core::ParseAlertStatus(s.Text(5)).value_or(AlertStatus::kTriggered);
  a.summary = s.Text(6);
  a.source = s.Text(7);
  a.severity = core::ParseSeverity(s.Text(8)).value_or(core::Severity::kError);
  a.component = s.Text(9);
  a.group = s.Text(10);
  a.klass = s.Text(11);
  a.details_json = s.Text(12);
  a.links_json = s.Text(13);
  a.images_json = s.Text(14);
  a.client = s.Text(15);
  a.client_url = s.Text(16);
  a.event_count = s.Int(17);
  a.created_at = FromMs(s.Int(18));
  a.last_event_at = FromMs(s.Int(19));
  a.event_timestamp = OptTime(s, 20);
  a.acknowledged_at = OptTime(s, 21);
  a.resolved_at = OptTime(s, 22);
  a.incident_id = s.Int(23);
  return a;
}

std::string StringListJson(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, v[i]);
  }
  return out + "]";
}

std::vector<std::string> ParseStringList(std::string_view json) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

std::string PairsJson(const std::vector<std::pair<std::string, std::string>>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, v[i].first);
    out += ':';
    AppendJsonString(out, v[i].second);
  }
  return out + "}";
}

std::vector<std::pair<std::string, std::string>> ParsePairs(std::string_view json) {
  std::vector<std::pair<std::string, std::string>> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, e] : v.as_object()) {
    if (e.is_string()) out.emplace_back(std::string(k), std::string(e.as_string()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string IncidentColumns(std::string_view prefix) {
  static constexpr std::string_view kColumns[] = {"id",
                                                  "service_id",
                                                  "title",
                                                  "severity",
                                                  "status",
                                                  "integration_key",
                                                  "group_key",
                                                  "alert_count",
                                                  "created_at",
                                                  "acknowledged_at",
                                                  "resolved_at",
                                                  "escalation_policy",
                                                  "sev",
                                                  "summary",
                                                  "public_title",
                                                  "services_json",
                                                  "tags_json",
                                                  "roles_json",
                                                  "responders_json",
                                                  "impact_started_at",
                                                  "detected_at",
                                                  "mitigated_at",
                                                  "declared_by",
                                                  "grouping_key",
                                                  "last_alert_at",
                                                  "update_due_at",
                                                  "last_update_at",
                                                  "merged_into",
                                                  "episode"};
  static_assert(std::size(kColumns) == kIncidentColumnCount);
  std::string out;
  for (auto c : kColumns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c;
  }
  return out;
}

Incident ReadIncident(Db& db, const Stmt& s, int first) {
  Incident i;
  i.id = s.Int(first + 0);
  i.service_id = s.Text(first + 1);
  i.title = s.Text(first + 2);
  i.severity = core::ParseSeverity(s.Text(first + 3)).value_or(core::Severity::kError);
  i.status = core::ParseIncidentStatus(s.Text(first + 4)).value_or(IncidentStatus::kTriggered);
  i.integration_key = db.keys().Plain(s.Text(first + 5));
  i.group_key = s.Text(first + 6);
  i.alert_count = s.Int(first + 7);
  i.created_at = FromMs(s.Int(first + 8));
  i.acknowledged_at = OptTime(s, first + 9);
  i.resolved_at = OptTime(s, first + 10);
  i.escalation_policy = s.Text(first + 11);
  i.sev = s.Text(first + 12);
  i.summary = s.Text(first + 13);
  i.public_title = s.Text(first + 14);
  i.services = ParseStringList(s.Text(first + 15));
  if (i.services.empty()) i.services.push_back(i.service_id);
  i.tags = ParseStringList(s.Text(first + 16));
  i.roles = ParsePairs(s.Text(first + 17));
  i.responders = ParseStringList(s.Text(first + 18));
  i.impact_started_at = OptTime(s, first + 19);
  i.detected_at = OptTime(s, first + 20);
  i.mitigated_at = OptTime(s, first + 21);
  i.declared_by = s.Text(first + 22);
  i.grouping_key = s.Text(first + 23);
  i.last_alert_at = OptTime(s, first + 24);
  i.update_due_at = OptTime(s, first + 25);
  i.last_update_at = OptTime(s, first + 26);
  i.merged_into = s.Int(first + 27);
  i.episode = s.Int(first + 28);
  return i;
}

const char* const kChangeColumns =
    "id, integration_key, service_id, summary, source, timestamp, received_at, details_json, "
    "links_json";

core::Change ReadChange(Db& db, const Stmt& s) {
  core::Change c;
  c.id = s.Int(0);
  c.integration_key = db.keys().Plain(s.Text(1));
  c.service_id = s.Text(2);
  c.summary = s.Text(3);
  c.source = s.Text(4);
  c.timestamp = FromMs(s.Int(5));
  c.received_at = FromMs(s.Int(6));
  c.details_json = s.Text(7);
  c.links_json = s.Text(8);
  return c;
}

const char* const kAuditColumns =
    "id, at, actor_type, actor_id, method, action, resource_type, resource_id, details_json, "
    "incident_id";

AuditRecord ReadAudit(const Stmt& s) {
  AuditRecord r;
  r.id = s.Int(0);
  r.at = FromMs(s.Int(1));
  r.actor = Actor{s.Text(2), s.Text(3), s.Text(4)};
  r.action = s.Text(5);
  r.resource_type = s.Text(6);
  r.resource_id = s.Text(7);
  r.details_json = s.Text(8);
  r.incident_id = s.IsNull(9) ? 0 : s.Int(9);
  return r;
}

bool NeedsFanout(std::string_view action) {
  static const std::string_view kActions[] = {
      ToString(TimelineKind::kTriggered),    ToString(TimelineKind::kAcknowledged),
      ToString(TimelineKind::kMitigated),    ToString(TimelineKind::kResolved),
      ToString(TimelineKind::kReopened),     ToString(TimelineKind::kUpdated),
      ToString(TimelineKind::kRoleAssigned), ToString(TimelineKind::kResponderAdded),
      ToString(TimelineKind::kStatusUpdate), ToString(AuditAction::kAlertTriggered)};
  return std::find(std::begin(kActions), std::end(kActions), action) != std::end(kActions);
}

namespace {

constexpr std::string_view kAuditInsert =
    "INSERT INTO audit_log(at, actor_type, actor_id, method, action, resource_type, resource_id, "
    "details_json, incident_id, fanout) VALUES (?,?,?,?,?,?,?,?,?,?)";

void BindAudit(Stmt& s, TimePoint now, const Actor& actor, std::string_view action,
               std::string_view resource_type, std::string_view resource_id,
               std::string_view details_json, core::IncidentId incident_id, bool fanout) {
  fanout = fanout && incident_id != 0 && NeedsFanout(action);
  s.Bind(1, Ms(now))
      .Bind(2, actor.type)
      .Bind(3, actor.id)
      .Bind(4, actor.method)
      .Bind(5, action)
      .Bind(6, resource_type)
      .Bind(7, resource_id)
      .Bind(8, details_json)
      .Bind(9, incident_id ? std::optional<int64_t>(incident_id) : std::nullopt)
      .Bind(10, fanout ? std::optional<int64_t>(0) : std::nullopt);
}

}  // namespace

Result<int64_t> Audit(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                      std::string_view resource_type, std::string_view resource_id,
                      std::string_view details_json, core::IncidentId incident_id, bool fanout) {
  static const std::string kSql = std::string(kAuditInsert) + " RETURNING id";
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
  BindAudit(*s, now, actor, action, resource_type, resource_id, details_json, incident_id, fanout);
  RecordFeedForAudit(db, now, action, resource_type, resource_id, incident_id);
  return InsertedId(*s);
}

Status AuditLater(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                  std::string_view resource_type, std::string_view resource_id,
                  std::string_view details_json, core::IncidentId incident_id, bool fanout) {
  static const std::string kSql(kAuditInsert);
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
  BindAudit(*s, now, actor, action, resource_type, resource_id, details_json, incident_id, fanout);
  RecordFeedForAudit(db, now, action, resource_type, resource_id, incident_id);
  return s->RunLater();
}

Result<int64_t> IncidentAudit(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                              core::IncidentId id, std::string_view details_json, bool fanout) {
  return Audit(db, now, actor, action, "incident", std::to_string(id), details_json, id, fanout);
}

Result<std::optional<Alert>> FindOpenAlert(Db& db, const std::string& integration_key,
                                           const std::string& dedup_key) {
  static const std::string kSql = fmt::format(
      "SELECT {} FROM alerts WHERE integration_key = ? AND dedup_key = ? AND status <> "
      "'resolved'",
      kAlertColumns);
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
  s->Bind(1, db.keys().Stored(integration_key)).Bind(2, dedup_key);
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<Alert> out;
  if (row) out = ReadAlert(db, *s);
  s->Reset();
  return out;
}

Result<std::optional<OpenAlertRef>> FindOpenAlertRef(Db& db, const std::string& integration_key,
                                                     const std::string& dedup_key) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("SELECT id, incident_id, status FROM alerts WHERE integration_key = ? "
                           "AND dedup_key = ? AND status <> 'resolved'"));
  s->Bind(1, db.keys().Stored(integration_key)).Bind(2, dedup_key);
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<OpenAlertRef> out;
  if (row) {
    out = OpenAlertRef{s->Int(0), s->Int(1),
                       core::ParseAlertStatus(s->Text(2)).value_or(AlertStatus::kTriggered)};
  }
  s->Reset();
  return out;
}

Result<Alert> LoadAlert(Db& db, core::AlertId id) {
  static const std::string kSql = fmt::format("SELECT {} FROM alerts WHERE id = ?", kAlertColumns);
  return LoadById(db, kSql, id, "alert", [&](const Stmt& row) { return ReadAlert(db, row); });
}

Result<Incident> LoadIncident(Db& db, core::IncidentId id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM incidents WHERE id = ?", IncidentColumns());
  return LoadById(db, kSql, id, "incident", [&](const Stmt& row) { return ReadIncident(db, row); });
}

Result<Incident> LockIncident(Db& db, core::IncidentId id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM incidents WHERE id = ?", IncidentColumns());
  static const std::string kLockedSql = kSql + " FOR UPDATE";
  const bool lock = !db.Sql(Fragment::kForUpdate).empty();
  return LoadById(db, lock ? kLockedSql : kSql, id, "incident",
                  [&](const Stmt& row) { return ReadIncident(db, row); });
}

Result<std::vector<Alert>> OpenAlertsOf(Db& db, core::IncidentId id) {
  static const std::string kSql = fmt::format(
      "SELECT {} FROM alerts WHERE incident_id = ? AND status <> 'resolved' ORDER BY id",
      kAlertColumns);
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
  s->Bind(1, id);
  return ReadAll<Alert>(*s, [&](const Stmt& row) { return ReadAlert(db, row); });
}

namespace {

std::string_view StatusVerb(IncidentStatus from, IncidentStatus to) {
  switch (to) {
    case IncidentStatus::kTriggered:
      return ToString(from == IncidentStatus::kResolved ? TimelineKind::kReopened
                                                        : TimelineKind::kRetriggered);
    case IncidentStatus::kAcknowledged:
      return ToString(TimelineKind::kAcknowledged);
    case IncidentStatus::kMitigated:
      return ToString(TimelineKind::kMitigated);
    case IncidentStatus::kResolved:
      return ToString(TimelineKind::kResolved);
  }
  return ToString(TimelineKind::kUpdated);
}

// Merges `extra` (a JSON object, possibly "{}") into a {"from":..,"to":..} record.
std::string StatusDetails(IncidentStatus from, IncidentStatus to, std::string_view extra) {
  std::string out =
      fmt::format(R"({{"from":"{}","to":"{}")", core::ToString(from), core::ToString(to));
  if (extra.size() > 2) {
    out += ',';
    out += extra.substr(1, extra.size() - 2);
  }
  return out + "}";
}

}  // namespace

Status SetIncidentStatus(Db& db, const Incident& inc, IncidentStatus to, TimePoint now,
                         const Actor& actor, std::string_view details_json, bool fanout) {
  if (inc.status == to) return OkStatus();
  const int64_t t = Ms(now);
  std::string_view status = core::ToString(to);
  switch (to) {
    case IncidentStatus::kAcknowledged: {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                               db.Prepare("UPDATE incidents SET status = ?, acknowledged_at = "
                                          "COALESCE(acknowledged_at, ?) WHERE id = ?"));
      HOUSTON_RETURN_IF_ERROR(s->Bind(1, status).Bind(2, t).Bind(3, inc.id).Run());
      break;
    }
    case IncidentStatus::kMitigated: {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                               db.Prepare("UPDATE incidents SET status = ?, acknowledged_at = "
                                          "COALESCE(acknowledged_at, ?), mitigated_at = COALESCE("
                                          "mitigated_at, ?) WHERE id = ?"));
      HOUSTON_RETURN_IF_ERROR(s->Bind(1, status).Bind(2, t).Bind(3, t).Bind(4, inc.id).Run());
      break;
    }
    case IncidentStatus::kResolved: {
      HOUSTON_ASSIGN_OR_RETURN(
          Stmt * s, db.Prepare("UPDATE incidents SET status = ?, resolved_at = ?, update_due_at = "
                               "NULL WHERE id = ?"));
      HOUSTON_RETURN_IF_ERROR(s->Bind(1, status).Bind(2, t).Bind(3, inc.id).Run());
      break;
    }
    case IncidentStatus::kTriggered: {
      // Reopened (or re-triggered): the incident needs someone again.
      HOUSTON_ASSIGN_OR_RETURN(
          Stmt * s, db.Prepare("UPDATE incidents SET status = ?, first_acknowledged_at = "
                               "COALESCE(first_acknowledged_at, acknowledged_at), "
                               "acknowledged_at = NULL, resolved_at = NULL, merged_into = 0, "
                               "episode = episode + ? WHERE id = ?"));
      // Out of resolved, a new episode begins: links sent about the earlier one stop working.
      int64_t new_episode = inc.status == IncidentStatus::kResolved ? 1 : 0;
      Status st = s->Bind(1, status).Bind(2, new_episode).Bind(3, inc.id).Run();
      if (st.code() == StatusCode::kAlreadyExists) {
        return FailedPrecondition(fmt::format(
            "incident {} cannot be reopened: another open incident already groups its alerts "
            "(group key '{}'); merge into that one instead",
            inc.id, inc.group_key));
      }
      HOUSTON_RETURN_IF_ERROR(st);
      break;
    }
  }
  db.CountEvent(to == IncidentStatus::kTriggered ? "incident.reopened"
                                                 : fmt::format("incident.{}", status));
  // The escalation follows: acknowledged/mitigated -> the engine decides (ack timeout or stop),
  // resolved -> done, triggered -> pages again from the first step, in a new round.
  if (to == IncidentStatus::kAcknowledged || to == IncidentStatus::kMitigated) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * e, db.Prepare("UPDATE escalations SET state = 'acked', due_at = ?, version = "
                             "version + 1 WHERE incident_id = ? AND state IN ('new', 'active', "
                             "'exhausted', 'ack_wait')"));
    HOUSTON_RETURN_IF_ERROR(e->Bind(1, t).Bind(2, inc.id).Run());
  } else if (to == IncidentStatus::kResolved) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * e, db.Prepare("UPDATE escalations SET state = 'done', due_at = NULL, version = "
                             "version + 1 WHERE incident_id = ?"));
    HOUSTON_RETURN_IF_ERROR(e->Bind(1, inc.id).Run());
  } else if (!inc.escalation_policy.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * e,
        db.Prepare("INSERT INTO escalations(incident_id, policy_id, state, step, loop, round, "
                   "due_at) VALUES (?, ?, 'active', 0, 0, 0, ?) ON CONFLICT(incident_id) DO "
                   "UPDATE SET state = 'active', step = 0, loop = 0, round = escalations.round + "
                   "1, due_at = excluded.due_at, version = escalations.version + 1"));
    HOUSTON_RETURN_IF_ERROR(e->Bind(1, inc.id).Bind(2, inc.escalation_policy).Bind(3, t).Run());
  }
  HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, actor, StatusVerb(inc.status, to), inc.id,
                                        StatusDetails(inc.status, to, details_json), fanout));
  return OkStatus();
}

Status AcknowledgeOpenAlert(Db& db, const Alert& a, TimePoint now, const Actor& actor,
                            bool move_incident, bool fanout) {
  // The incident first, then its alert: every write takes them in that order.
  HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, a.incident_id));
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("UPDATE alerts SET status = 'acknowledged', acknowledged_at = ? "
                           "WHERE id = ?"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, Ms(now)).Bind(2, a.id).RunLater());
  bool incident_moved = move_incident && inc.status == IncidentStatus::kTriggered;
  HOUSTON_RETURN_IF_ERROR(AuditLater(
      db, now, actor, ToString(AuditAction::kAlertAcknowledged), "alert", std::to_string(a.id),
      fmt::format("{{\"incident_id\":{},\"dedup_key\":{},\"incident_acknowledged\":{}}}",
                  a.incident_id, JsonQuote(a.dedup_key), incident_moved),
      a.incident_id, fanout));
  if (incident_moved) {
    HOUSTON_RETURN_IF_ERROR(SetIncidentStatus(
        db, inc, IncidentStatus::kAcknowledged, now, actor,
        fmt::format("{{\"reason\":{}}}", JsonQuote(fmt::format("alert {} acknowledged", a.id))),
        fanout));
  }
  return OkStatus();
}

Status ResolveOpenAlert(Db& db, const Alert& a, TimePoint now, const Actor& actor,
                        bool move_incident, bool fanout) {
  // The incident first, then its alert: every write takes them in that order.
  HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, a.incident_id));
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, Ms(now)).Bind(2, a.id).RunLater());
  HOUSTON_ASSIGN_OR_RETURN(Stmt * open,
                           db.Prepare("SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND "
                                      "status <> 'resolved'"));
  open->Bind(1, a.incident_id);
  HOUSTON_ASSIGN_OR_RETURN(bool row, open->Step());
  int64_t still_open = row ? open->Int(0) : 0;
  open->Reset();
  // When its last alert resolves, an incident resolves with it, unless it has a SEV and a
  // person has taken it over in its current episode: then people resolve it, and the timeline
  // says why it stayed open (README, "When its alerts resolve").
  const bool all_clear = move_incident && still_open == 0 && core::IsOpen(inc.status);
  std::optional<PersonAction> owner;
  if (all_clear && !inc.sev.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(owner, FirstPersonAction(db, inc.id));
  }
  const bool incident_resolved = all_clear && !owner;
  HOUSTON_RETURN_IF_ERROR(AuditLater(
      db, now, actor, ToString(AuditAction::kAlertResolved), "alert", std::to_string(a.id),
      fmt::format("{{\"incident_id\":{},\"dedup_key\":{},\"incident_resolved\":{},"
                  "\"open_alerts_left\":{}}}",
                  a.incident_id, JsonQuote(a.dedup_key), incident_resolved, still_open),
      a.incident_id, fanout));
  if (incident_resolved) {
    std::string_view reason =
        inc.sev.empty() ? R"({"reason":"its last open alert was resolved"})"
                        : R"({"reason":"its last open alert was resolved and no person had )"
                          R"(taken it over"})";
    HOUSTON_RETURN_IF_ERROR(
        SetIncidentStatus(db, inc, IncidentStatus::kResolved, now, actor, reason, fanout));
  } else if (owner) {
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(
        db, now, actor, ToString(TimelineKind::kAlertsResolved), inc.id,
        fmt::format(R"({{"reason":{},"taken_over_by":{},"taken_over_with":{}}})",
                    JsonQuote(fmt::format("every alert is resolved; the incident stays open "
                                          "because {} took it over ({}): a person resolves it",
                                          owner->who, owner->action)),
                    JsonQuote(owner->who), JsonQuote(owner->action)),
        fanout));
  }
  return OkStatus();
}

Result<std::optional<PersonAction>> FirstPersonAction(Db& db, core::IncidentId id) {
  // The current episode starts at the last reopening (or re-trigger); a person's reopening
  // counts as taking it over. Resolving an alert does not: that clears a symptom.
  static const std::string kSql =
      "SELECT actor_type, actor_id, action FROM audit_log WHERE incident_id = ? AND actor_type "
      "IN ('user', 'token') AND action <> 'alert.resolved' AND id >= COALESCE((SELECT MAX(id) "
      "FROM audit_log WHERE incident_id = ? AND action IN ('incident.reopened', "
      "'incident.retriggered')), 0) ORDER BY id LIMIT 1";
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
  s->Bind(1, id).Bind(2, id);
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<PersonAction> out;
  if (row) {
    std::string who = s->Text(1);
    if (who.empty()) who = s->Text(0) == "token" ? "an API token" : "a person";
    out = PersonAction{std::move(who), s->Text(2)};
  }
  s->Reset();
  return out;
}

Result<core::IncidentId> InsertIncident(Db& db, const IncidentRow& r, TimePoint now,
                                        const Actor& actor) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s,
      db.Prepare("INSERT INTO incidents(service_id, title, severity, status, integration_key, "
                 "group_key, alert_count, created_at, escalation_policy, sev, summary, "
                 "public_title, services_json, tags_json, impact_started_at, detected_at, "
                 "declared_by, grouping_key, last_alert_at, acknowledged_at) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id"));
  std::vector<std::string> services = r.services;
  if (services.empty()) services.push_back(r.service_id);
  s->Bind(1, r.service_id)
      .Bind(2, r.title)
      .Bind(3, core::ToString(r.severity))
      .Bind(4, core::ToString(r.status))
      .Bind(5, db.keys().Stored(r.integration_key))
      .Bind(6, r.group_key)
      .Bind(7, r.alert_count)
      .Bind(8, Ms(now))
      .Bind(9, r.escalation_policy)
      .Bind(10, r.sev)
      .Bind(11, r.summary)
      .Bind(12, r.public_title)
      .Bind(13, StringListJson(services))
      .Bind(14, StringListJson(r.tags))
      .Bind(15, Ms(r.impact_started_at.value_or(now)))
      .Bind(16, Ms(now))
      .Bind(17, r.declared_by)
      .Bind(18, r.grouping_key)
      .Bind(19, Ms(now))
      .Bind(20, r.status == IncidentStatus::kTriggered ? std::nullopt
                                                       : std::optional<int64_t>(Ms(now)));
  HOUSTON_ASSIGN_OR_RETURN(core::IncidentId id, InsertedId(*s));
  db.CountEvent("incident.opened");
  db.RecordFeed(FeedType::kIncidentCreated, std::to_string(id), now);
  if (!r.escalation_policy.empty() && r.page && r.status == IncidentStatus::kTriggered) {
    // Durable with the answer: the engine starts paging from this row, even after a crash.
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * e, db.Prepare("INSERT INTO escalations(incident_id, policy_id, state, due_at) "
                             "VALUES (?, ?, ?, ?)"));
    HOUSTON_RETURN_IF_ERROR(
        e->Bind(1, id)
            .Bind(2, r.escalation_policy)
            .Bind(3, r.first_step_delay ? "active" : "new")
            .Bind(4, Ms(now + r.first_step_delay.value_or(std::chrono::minutes(0))))
            .RunLater());
  }
  if (!r.declared_by.empty()) {
    std::string details = fmt::format(
        R"({{"title":{},"service":{},"services":{},"sev":{},"declared":true,"status":"{}"}})",
        JsonQuote(r.title), JsonQuote(r.service_id), StringListJson(services), JsonQuote(r.sev),
        core::ToString(r.status));
    HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, actor, "incident.triggered", id, details));
  }
  return id;
}

Result<EventOutcome> ApplyEvent(Db& db, AlertEvent& ev, TimePoint now, const Actor& actor) {
  using Kind = EventOutcome::Kind;
  EventOutcome out;
  if (ev.action == EventAction::kTrigger && ev.dedup_key.empty()) ev.dedup_key = NewUuid();
  out.dedup_key = ev.dedup_key;
  // The open alert's id, incident and status only: a repeat (most events in a storm) needs
  // nothing else, and an ack or resolve loads the whole alert.
  HOUSTON_ASSIGN_OR_RETURN(std::optional<OpenAlertRef> open,
                           FindOpenAlertRef(db, ev.integration_key, ev.dedup_key));
  if (ev.action != EventAction::kTrigger) {
    if (!open) {
      out.kind = Kind::kDropped;  // unknown or resolved key: accepted and dropped
      return out;
    }
    out.alert_id = open->id;
    out.incident_id = open->incident_id;
    if (ev.action == EventAction::kAcknowledge && open->status == AlertStatus::kAcknowledged) {
      out.kind = Kind::kUnchanged;
      return out;
    }
    HOUSTON_ASSIGN_OR_RETURN(Alert alert, LoadAlert(db, open->id));
    if (ev.action == EventAction::kAcknowledge) {
      HOUSTON_RETURN_IF_ERROR(AcknowledgeOpenAlert(db, alert, now, actor, true, ev.fanout));
      out.kind = Kind::kAcknowledged;
      return out;
    }
    HOUSTON_RETURN_IF_ERROR(ResolveOpenAlert(db, alert, now, actor, true, ev.fanout));
    out.kind = Kind::kResolved;
    return out;
  }

  if (open) {
    // A repeat trigger: fold it into the open alert and keep its latest payload.
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s,
        db.Prepare("UPDATE alerts SET event_count = event_count + 1, last_event_at = ?, "
                   "summary = ?, source = ?, severity = ?, component = ?, grp = ?, class = ?, "
                   "details_json = ?, links_json = ?, images_json = ?, client = ?, "
                   "client_url = ?, event_timestamp = ?, expires_at = ? WHERE id = ?"));
    HOUSTON_RETURN_IF_ERROR(s->Bind(1, Ms(now))
                                .Bind(2, ev.summary)
                                .Bind(3, ev.source)
                                .Bind(4, core::ToString(ev.severity))
                                .Bind(5, ev.component)
                                .Bind(6, ev.group)
                                .Bind(7, ev.klass)
                                .Bind(8, ev.details_json)
                                .Bind(9, ev.links_json)
                                .Bind(10, ev.images_json)
                                .Bind(11, ev.client)
                                .Bind(12, ev.client_url)
                                .Bind(13, OptMs(ev.timestamp))
                                .Bind(14, OptMs(ev.expires_at))
                                .Bind(15, open->id)
                                .RunLater());
    db.RecordFeed(FeedType::kAlertUpdated, std::to_string(open->id), now);
    out.kind = Kind::kDeduplicated;
    out.alert_id = open->id;
    out.incident_id = open->incident_id;
    return out;
  }

  // A new alert: join the open incident of its group (the sender's group key, or the service's
  // grouping window), or open a new incident.
  core::IncidentId incident_id = 0;
  if (!ev.group_key.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * g,
                             db.Prepare("SELECT id FROM incidents WHERE integration_key = ? AND "
                                        "group_key = ? AND status <> 'resolved'"));
    g->Bind(1, db.keys().Stored(ev.integration_key)).Bind(2, ev.group_key);
    HOUSTON_ASSIGN_OR_RETURN(bool row, g->Step());
    if (row) incident_id = g->Int(0);
    g->Reset();
  } else if (ev.group_window.count() > 0) {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * g, db.Prepare("SELECT id FROM incidents WHERE service_id = ? AND status <> "
                             "'resolved' AND grouping_key = ? AND group_key = '' AND "
                             "last_alert_at >= ? ORDER BY last_alert_at DESC, id DESC LIMIT 1"));
    g->Bind(1, ev.service_id).Bind(2, ev.grouping_key).Bind(3, Ms(now - ev.group_window));
    HOUSTON_ASSIGN_OR_RETURN(bool row, g->Step());
    if (row) incident_id = g->Int(0);
    g->Reset();
  }
  if (incident_id == 0) {
    IncidentRow r;
    r.service_id = ev.service_id;
    r.title = ev.summary;
    r.severity = ev.severity;
    r.integration_key = ev.integration_key;
    r.group_key = ev.group_key;
    r.grouping_key = ev.group_window.count() > 0 ? ev.grouping_key : "";
    r.alert_count = 1;
    r.impact_started_at = ev.timestamp && *ev.timestamp <= now ? *ev.timestamp : now;
    r.escalation_policy = ev.escalation_policy;
    r.first_step_delay = ev.first_step_delay;
    HOUSTON_ASSIGN_OR_RETURN(incident_id, InsertIncident(db, r, now, actor));
    out.incident_created = true;
  } else {
    // The incident's severity is its most severe alert's (Severity counts down: critical = 0).
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s,
        db.Prepare("UPDATE incidents SET alert_count = alert_count + 1, last_alert_at = ?, "
                   "severity = CASE WHEN CAST(? AS BIGINT) < (CASE severity WHEN 'critical' THEN 0 "
                   "WHEN 'error' "
                   "THEN 1 WHEN 'warning' THEN 2 ELSE 3 END) THEN ? ELSE severity END WHERE id "
                   "= ?"));
    HOUSTON_RETURN_IF_ERROR(s->Bind(1, Ms(now))
                                .Bind(2, static_cast<int64_t>(ev.severity))
                                .Bind(3, core::ToString(ev.severity))
                                .Bind(4, incident_id)
                                .RunLater());
  }
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s,
      db.Prepare("INSERT INTO alerts(integration_key, service_id, dedup_key, group_key, status, "
                 "summary, source, severity, component, grp, class, details_json, links_json, "
                 "images_json, client, client_url, event_count, created_at, last_event_at, "
                 "event_timestamp, incident_id, expires_at) VALUES "
                 "(?,?,?,?,'triggered',?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?) RETURNING id"));
  s->Bind(1, db.keys().Stored(ev.integration_key))
      .Bind(2, ev.service_id)
      .Bind(3, ev.dedup_key)
      .Bind(4, ev.group_key)
      .Bind(5, ev.summary)
      .Bind(6, ev.source)
      .Bind(7, core::ToString(ev.severity))
      .Bind(8, ev.component)
      .Bind(9, ev.group)
      .Bind(10, ev.klass)
      .Bind(11, ev.details_json)
      .Bind(12, ev.links_json)
      .Bind(13, ev.images_json)
      .Bind(14, ev.client)
      .Bind(15, ev.client_url)
      .Bind(16, Ms(now))
      .Bind(17, Ms(now))
      .Bind(18, OptMs(ev.timestamp))
      .Bind(19, incident_id)
      .Bind(20, OptMs(ev.expires_at));
  out.kind = Kind::kCreated;
  HOUSTON_ASSIGN_OR_RETURN(out.alert_id, InsertedId(*s));
  out.incident_id = incident_id;
  HOUSTON_RETURN_IF_ERROR(AuditLater(
      db, now, actor, ToString(AuditAction::kAlertTriggered), "alert", std::to_string(out.alert_id),
      fmt::format("{{\"incident_id\":{},\"incident_created\":{},\"dedup_key\":{},"
                  "\"service\":{},\"severity\":\"{}\",\"summary\":{}}}",
                  incident_id, out.incident_created, JsonQuote(ev.dedup_key),
                  JsonQuote(ev.service_id), core::ToString(ev.severity), JsonQuote(ev.summary)),
      incident_id, ev.fanout));
  return out;
}

Status InsertOutboxMessages(Db& db, TimePoint now, const std::vector<OutboxMessage>& messages) {
  if (messages.empty()) return OkStatus();
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * ins, db.Prepare("INSERT INTO notifications(incident_id, kind, ref, round, loop, step, "
                             "user_id, contact_method_id, channel_type, target, rule, state, "
                             "created_at, not_before, payload_json) VALUES "
                             "(?,?,?,0,0,0,?,?,?,?,?,'pending',?,?,?) ON CONFLICT DO NOTHING"));
  for (const auto& m : messages) {
    ins->Reset();
    HOUSTON_RETURN_IF_ERROR(ins->Bind(1, m.incident_id)
                                .Bind(2, m.kind)
                                .Bind(3, m.ref)
                                .Bind(4, m.user_id)
                                .Bind(5, m.contact_method_id)
                                .Bind(6, m.channel_type)
                                .Bind(7, m.target)
                                .Bind(8, m.rule)
                                .Bind(9, Ms(now))
                                .Bind(10, Ms(m.not_before))
                                .Bind(11, m.payload_json)
                                .Run());
    if (m.kind == "page" && db.Changes() > 0) {
      HOUSTON_RETURN_IF_ERROR(InsertPage(db, m.incident_id, 0, 0, 0, m.user_id, now));
    }
  }
  return OkStatus();
}

Status InsertPage(Db& db, int64_t incident_id, int64_t round, int64_t loop, int64_t step,
                  const std::string& user_id, TimePoint at) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("INSERT INTO pages(incident_id, round, loop, step, user_id, at) VALUES "
                           "(?,?,?,?,?,?) ON CONFLICT DO NOTHING"));
  return s->Bind(1, incident_id)
      .Bind(2, round)
      .Bind(3, loop)
      .Bind(4, step)
      .Bind(5, user_id)
      .Bind(6, Ms(at))
      .RunLater();
}

}  // namespace houston::store::sql
