// What SqliteStore's source files share: row readers, the audit writer and the operations on
// alerts and incidents that run inside a write transaction. Not part of the store's interface.
// Every function that takes a Db& must run on the writer thread inside a transaction (or on a
// read connection, for the readers); none is thread-safe on its own.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/incident.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace houston::store::sql {

int64_t Ms(TimePoint t);
TimePoint FromMs(int64_t ms);
std::optional<TimePoint> OptTime(const Stmt& s, int col);
std::optional<int64_t> OptMs(const std::optional<TimePoint>& t);

// ["a","b"] <-> vector; {"role":"user",...} <-> pairs (sorted by role). Malformed JSON reads as
// empty (the store only ever writes these columns itself).
std::string StringListJson(const std::vector<std::string>& v);
std::vector<std::string> ParseStringList(std::string_view json);
std::string PairsJson(const std::vector<std::pair<std::string, std::string>>& v);
std::vector<std::pair<std::string, std::string>> ParsePairs(std::string_view json);

// The one row `sql` (a SELECT whose only parameter is the id) finds for `id`, read by `read`,
// or NotFound "<what> <id> does not exist".
template <typename Read>
auto LoadById(Db& db, const std::string& sql, int64_t id, std::string_view what, Read read)
    -> Result<decltype(read(std::declval<const Stmt&>()))> {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
  s->Bind(1, id);
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    s->Reset();
    return std::unexpected(NotFound(fmt::format("{} {} does not exist", what, id)));
  }
  auto out = read(*s);
  s->Reset();
  return out;
}

extern const char* const kAlertColumns;
// The row readers open the integration key through db.keys().
core::Alert ReadAlert(Db& db, const Stmt& s);
// The incident columns, each prefixed with `prefix` (e.g. "i.").
std::string IncidentColumns(std::string_view prefix = "");
inline constexpr int kIncidentColumnCount = 29;
// Reads the IncidentColumns() that start at column `first`.
core::Incident ReadIncident(Db& db, const Stmt& s, int first = 0);
extern const char* const kChangeColumns;
core::Change ReadChange(Db& db, const Stmt& s);
extern const char* const kAuditColumns;
AuditRecord ReadAudit(const Stmt& s);

// Writes an audit record. `incident_id` ties it to an incident's timeline; with `fanout`, a
// record whose action the incident fan-out acts on (NeedsFanout) is marked pending for it (intake
// passes false when the org has nothing for the fan-out to do with alerts: no incident rules, no
// incident webhooks). Returns the record id.
Result<int64_t> Audit(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                      std::string_view resource_type, std::string_view resource_id,
                      std::string_view details_json, core::IncidentId incident_id = 0,
                      bool fanout = true);
// Audit without the record id, written with RunLater() (its error may come back from a later
// statement of the same write).
Status AuditLater(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                  std::string_view resource_type, std::string_view resource_id,
                  std::string_view details_json, core::IncidentId incident_id = 0,
                  bool fanout = true);
// Audit with resource incident/<id>.
Result<int64_t> IncidentAudit(Db& db, TimePoint now, const Actor& actor, std::string_view action,
                              core::IncidentId id, std::string_view details_json = "{}",
                              bool fanout = true);
// The actions the incident fan-out handles: incident.triggered/acknowledged/mitigated/resolved/
// reopened/updated/role_assigned/responder_added, status_update.published and alert.triggered.
bool NeedsFanout(std::string_view action);

Result<core::Alert> LoadAlert(Db& db, core::AlertId id);
Result<core::Incident> LoadIncident(Db& db, core::IncidentId id);
// LoadIncident in a write: also locks the row until the transaction ends (PostgreSQL; SQLite's
// write transaction already excludes other writers), so that the write decides on the incident
// as it is, and its timeline records get ids in commit order. A write that locks several
// incidents locks them in id order (no deadlock between two servers).
Result<core::Incident> LockIncident(Db& db, core::IncidentId id);
Result<std::vector<core::Alert>> OpenAlertsOf(Db& db, core::IncidentId id);
Result<std::optional<core::Alert>> FindOpenAlert(Db& db, const std::string& integration_key,
                                                 const std::string& dedup_key);
// The same lookup, reading only what intake needs to fold a repeat.
struct OpenAlertRef {
  core::AlertId id = 0;
  core::IncidentId incident_id = 0;
  core::AlertStatus status = core::AlertStatus::kTriggered;
};
Result<std::optional<OpenAlertRef>> FindOpenAlertRef(Db& db, const std::string& integration_key,
                                                     const std::string& dedup_key);

// Moves an incident to `to` (the caller has checked the transition): sets the status times,
// stops, ends or restarts its escalation, and writes "incident.<verb>" to the timeline.
// `details_json` adds to the record (e.g. why).
Status SetIncidentStatus(Db& db, const core::Incident& inc, core::IncidentStatus to, TimePoint now,
                         const Actor& actor, std::string_view details_json = "{}",
                         bool fanout = true);
// Moves an open alert to acknowledged; with `move_incident`, the incident with it when it was
// triggered.
Status AcknowledgeOpenAlert(Db& db, const core::Alert& a, TimePoint now, const Actor& actor,
                            bool move_incident = true, bool fanout = true);
// Resolves an open alert; with `move_incident`, resolves its incident when no open alert is
// left in it, unless the incident has a SEV and a person took it over in its current episode
// (FirstPersonAction): then it stays open, and an `incident.alerts_resolved` record says why.
Status ResolveOpenAlert(Db& db, const core::Alert& a, TimePoint now, const Actor& actor,
                        bool move_incident = true, bool fanout = true);

// Something a person (a user by link, or an API token: the CLI and API) did to an incident.
struct PersonAction {
  std::string who;     // user id or token name
  std::string action;  // the audit action, e.g. incident.acknowledged
};
// The first thing a person did to incident `id` in its current episode (since it was last
// reopened or re-triggered), other than resolving an alert; nullopt if nobody did anything.
Result<std::optional<PersonAction>> FirstPersonAction(Db& db, core::IncidentId id);
// Applies one inbound event: the PagerDuty dedup semantics, grouping, new incidents.
Result<EventOutcome> ApplyEvent(Db& db, core::AlertEvent& ev, TimePoint now, const Actor& actor);
// Inserts a new incident row (status `status`) and its escalation when `policy` is set and the
// incident is triggered. A declared incident (declared_by set) gets an "incident.triggered"
// timeline record; an alert's incident is announced by the alert's own record
// ("alert.triggered" with incident_created). Returns the id.
struct IncidentRow {
  std::string service_id;
  std::vector<std::string> services;
  std::string title;
  core::Severity severity = core::Severity::kError;
  core::IncidentStatus status = core::IncidentStatus::kTriggered;
  std::string integration_key, group_key, grouping_key;
  std::string sev, summary, public_title, declared_by;
  std::vector<std::string> tags;
  int64_t alert_count = 0;
  std::optional<TimePoint> impact_started_at;
  std::string escalation_policy;
  std::optional<std::chrono::minutes> first_step_delay;  // unknown: the engine schedules it
  bool page = true;
};
Result<core::IncidentId> InsertIncident(Db& db, const IncidentRow& row, TimePoint now,
                                        const Actor& actor);

// Queues `messages` in the outbox (pending); a message already there (same incident, kind, ref
// and destination) is skipped.
Status InsertOutboxMessages(Db& db, TimePoint now, const std::vector<OutboxMessage>& messages);

// Records a page, one (incident, round, loop, step, user), in the pages table (schema version
// 11) at `at`, unless it is there already (the first notification of a page wins). Every writer
// of a notification of kind 'page' calls it, in the same transaction.
Status InsertPage(Db& db, int64_t incident_id, int64_t round, int64_t loop, int64_t step,
                  const std::string& user_id, TimePoint at);

// Appends " AND <clause>" pieces; binds are collected in order.
struct Where {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> binds;
  void Add(std::string clause, std::variant<int64_t, std::string> v) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += clause;
    binds.push_back(std::move(v));
  }
  // A clause without a bind.
  void AddRaw(std::string clause) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += clause;
  }
  void BindAll(Stmt& s) const {
    int i = 1;
    for (const auto& b : binds) {
      if (std::holds_alternative<int64_t>(b)) {
        s.Bind(i++, std::get<int64_t>(b));
      } else {
        s.Bind(i++, std::get<std::string>(b));
      }
    }
  }
};

// The id an `INSERT ... RETURNING id` statement produced (runs it; resets it).
inline Result<int64_t> InsertedId(Stmt& s) {
  HOUSTON_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::unexpected(Internal("INSERT ... RETURNING id returned no row"));
  int64_t id = s.Int(0);
  s.Reset();
  return id;
}

inline int ClampLimit(int limit) { return limit <= 0 ? 100 : std::min(limit, 1000); }

// Every row of `s` through `read`, then resets `s`.
template <typename T, typename Read>
Result<std::vector<T>> ReadAll(Stmt& s, Read read) {
  std::vector<T> out;
  for (;;) {
    HOUSTON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(read(s));
  }
  s.Reset();
  return out;
}

// The first column of `s`'s one row as a time (an aggregate such as MIN(due_at)), nullopt when
// it is NULL or there is no row; then resets `s`. For the "next deadline" reads of the loops.
inline Result<std::optional<TimePoint>> ReadOptionalTime(Stmt& s) {
  HOUSTON_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<TimePoint> out;
  if (row && !s.IsNull(0)) out = FromMs(s.Int(0));
  s.Reset();
  return out;
}

}  // namespace houston::store::sql
