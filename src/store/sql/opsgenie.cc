// The Opsgenie-compatible Alert API's SQL (store/opsgenie_store.h): each request applied and its
// request status recorded in one transaction, one statement set for SQLite and PostgreSQL.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <climits>
#include <utility>

#include "core/json_util.h"
#include "core/random.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store {

namespace {

constexpr std::array<std::pair<OpsgenieAction, std::string_view>, 8> kActions{{
    {OpsgenieAction::kCreate, "Create"},
    {OpsgenieAction::kClose, "Close"},
    {OpsgenieAction::kAcknowledge, "Acknowledge"},
    {OpsgenieAction::kUnacknowledge, "UnAcknowledge"},
    {OpsgenieAction::kAddNote, "AddNote"},
    {OpsgenieAction::kUpdateMessage, "UpdateMessage"},
    {OpsgenieAction::kUpdateDescription, "UpdateDescription"},
    {OpsgenieAction::kUpdatePriority, "UpdatePriority"},
}};

}  // namespace

std::string_view ToString(OpsgenieAction a) {
  for (const auto& [k, v] : kActions) {
    if (k == a) return v;
  }
  return "Unknown";
}

std::optional<OpsgenieAction> ParseOpsgenieAction(std::string_view s) {
  for (const auto& [k, v] : kActions) {
    if (v == s) return k;
  }
  return std::nullopt;
}

namespace sql {

namespace json = boost::json;
using core::Alert;
using core::AlertStatus;
using core::Incident;
using core::IncidentStatus;

namespace {

// Status records pruned per request at most: a backlog (after a quiet week) drains over the
// following requests instead of in one long transaction.
constexpr int kPruneBatch = 100;

const char* const kRequestColumns =
    "request_id, integration_key, action, received_at, processed_at, success, status, alert_id, "
    "alias";

OpsgenieRequestStatus ReadRequest(Db& db, const Stmt& s) {
  OpsgenieRequestStatus r;
  r.request_id = s.Text(0);
  r.integration_key = db.keys().Plain(s.Text(1));
  r.action = ParseOpsgenieAction(s.Text(2)).value_or(OpsgenieAction::kCreate);
  r.received_at = FromMs(s.Int(3));
  r.processed_at = FromMs(s.Int(4));
  r.success = s.Int(5) != 0;
  r.status = s.Text(6);
  r.alert_id = s.Int(7);
  r.alias = s.Text(8);
  return r;
}

// The alert `req` names: by id (only the key's service's alerts), or the open alert with the
// alias. nullopt when there is none.
Result<std::optional<Alert>> FindTarget(Db& db, const OpsgenieRequest& req) {
  if (req.identifier_type == OpsgenieIdentifier::kAlias) {
    return FindOpenAlert(db, req.integration_key, req.identifier);
  }
  core::AlertId id = 0;
  for (char c : req.identifier) {
    if (c < '0' || c > '9' || id > (INT64_MAX - 9) / 10) return std::optional<Alert>();
    id = id * 10 + (c - '0');
  }
  if (req.identifier.empty() || id == 0) return std::optional<Alert>();
  auto a = LoadAlert(db, id);
  if (!a) {
    if (a.error().code() == StatusCode::kNotFound) return std::optional<Alert>();
    return std::unexpected(a.error());
  }
  if (a->service_id != req.service_id) return std::optional<Alert>();
  return std::optional<Alert>(std::move(*a));
}

// The user, source and note of an action, as one note on the alert's incident timeline (none
// when the sender gave none of them, or for a note: the note itself).
Status TimelineNote(Db& db, TimePoint now, const Actor& actor, const OpsgenieRequest& req,
                    const Alert& a) {
  if (req.user.empty() && req.source.empty() && req.note.empty()) return OkStatus();
  std::string text = req.note;
  if (text.empty()) {
    text = fmt::format("{} via the Opsgenie API", ToString(req.action));
    if (!req.user.empty()) text += fmt::format(" by {}", req.user);
    if (!req.source.empty()) text += fmt::format(" (source: {})", req.source);
  }
  json::object d{
      {"text", text}, {"alert_id", a.id}, {"via", "opsgenie"}, {"action", ToString(req.action)}};
  if (!req.user.empty()) d["user"] = req.user;
  if (!req.source.empty()) d["source"] = req.source;
  HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, actor, ToString(TimelineKind::kNote),
                                        a.incident_id, json::serialize(d)));
  return OkStatus();
}

// Sets top-level `key` of the alert's details to `value` and writes `column` = `column_value`
// with them.
Status UpdateAlertField(Db& db, const Alert& a, std::string_view column,
                        const std::string& column_value, std::string_view key,
                        const std::string& value, TimePoint now) {
  boost::system::error_code ec;
  json::value v = json::parse(a.details_json, ec);
  json::object d = !ec && v.is_object() ? std::move(v.as_object()) : json::object();
  d[key] = value;
  std::string sql = fmt::format("UPDATE alerts SET {}details_json = ? WHERE id = ?",
                                column.empty() ? "" : fmt::format("{} = ?, ", column));
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
  int i = 1;
  if (!column.empty()) s->Bind(i++, column_value);
  s->Bind(i, json::serialize(d));
  s->Bind(i + 1, a.id);
  HOUSTON_RETURN_IF_ERROR(s->Run());
  db.RecordFeed(FeedType::kAlertUpdated, std::to_string(a.id), now);
  return OkStatus();
}

// Acknowledged -> triggered, the mirror of AcknowledgeOpenAlert: the incident goes back to
// triggered (and pages again from its policy's first step) when it was acknowledged and no
// other open alert of it still is.
Status UnacknowledgeAlert(Db& db, const Alert& a, TimePoint now, const Actor& actor) {
  HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, a.incident_id));
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("UPDATE alerts SET status = 'triggered', acknowledged_at = NULL "
                           "WHERE id = ?"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, a.id).Run());
  db.RecordFeed(FeedType::kAlertUpdated, std::to_string(a.id), now);
  HOUSTON_ASSIGN_OR_RETURN(Stmt * acked,
                           db.Prepare("SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND "
                                      "status = 'acknowledged'"));
  acked->Bind(1, a.incident_id);
  HOUSTON_ASSIGN_OR_RETURN(bool row, acked->Step());
  const int64_t still_acked = row ? acked->Int(0) : 0;
  acked->Reset();
  const bool incident_moved = inc.status == IncidentStatus::kAcknowledged && still_acked == 0;
  HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, "alert.unacknowledged", "alert",
                                std::to_string(a.id),
                                fmt::format(R"({{"incident_id":{},"dedup_key":{},)"
                                            R"("incident_retriggered":{}}})",
                                            a.incident_id, JsonQuote(a.dedup_key), incident_moved),
                                a.incident_id, false));
  if (incident_moved) {
    HOUSTON_RETURN_IF_ERROR(
        SetIncidentStatus(db, inc, IncidentStatus::kTriggered, now, actor,
                          fmt::format(R"({{"reason":{}}})",
                                      JsonQuote(fmt::format("alert {} unacknowledged", a.id)))));
  }
  return OkStatus();
}

// Applies a request other than create to its alert; fills `out` (success, status).
Status ApplyToAlert(Db& db, const OpsgenieRequest& req, const Alert& a, TimePoint now,
                    const Actor& actor, OpsgenieRequestStatus& out) {
  const bool open = a.status != AlertStatus::kResolved;
  auto fail = [&out](std::string status) {
    out.success = false;
    out.status = std::move(status);
    return OkStatus();
  };
  switch (req.action) {
    case OpsgenieAction::kClose:
      if (!open) return fail("Alert is already closed");
      HOUSTON_RETURN_IF_ERROR(ResolveOpenAlert(db, a, now, actor));
      out.status = "Closed alert";
      break;
    case OpsgenieAction::kAcknowledge:
      if (!open) return fail("Alert is already closed");
      if (a.status == AlertStatus::kAcknowledged) return fail("Alert is already acknowledged");
      HOUSTON_RETURN_IF_ERROR(AcknowledgeOpenAlert(db, a, now, actor));
      out.status = "Acknowledged alert";
      break;
    case OpsgenieAction::kUnacknowledge:
      if (!open) return fail("Alert is already closed");
      if (a.status != AlertStatus::kAcknowledged) return fail("Alert is not acknowledged");
      HOUSTON_RETURN_IF_ERROR(UnacknowledgeAlert(db, a, now, actor));
      out.status = "Unacknowledged alert";
      break;
    case OpsgenieAction::kAddNote:
      out.status = "Added note";
      break;
    case OpsgenieAction::kUpdateMessage:
      HOUSTON_RETURN_IF_ERROR(
          UpdateAlertField(db, a, "summary", req.value, "message", req.value, now));
      out.status = "Updated message";
      break;
    case OpsgenieAction::kUpdateDescription:
      HOUSTON_RETURN_IF_ERROR(UpdateAlertField(db, a, "", "", "description", req.value, now));
      out.status = "Updated description";
      break;
    case OpsgenieAction::kUpdatePriority:
      HOUSTON_RETURN_IF_ERROR(UpdateAlertField(db, a, "severity",
                                               std::string(core::ToString(req.severity)),
                                               "priority", req.value, now));
      out.status = "Updated priority";
      break;
    case OpsgenieAction::kCreate:
      HOUSTON_CHECK(false);  // creates do not name an alert
  }
  out.success = true;
  return TimelineNote(db, now, actor, req, a);
}

}  // namespace

void SqlStore::ApplyOpsgenieRequest(OpsgenieRequest request, TimePoint received_at, Actor actor,
                                    Callback<OpsgenieRequestStatus> done) {
  Submit<OpsgenieRequestStatus>(
      [this, req = std::move(request), received_at,
       actor = std::move(actor)](Db& db) mutable -> Result<OpsgenieRequestStatus> {
        const TimePoint now = options_.clock->Now();
        OpsgenieRequestStatus out;
        out.request_id = req.request_id;
        out.integration_key = req.integration_key;
        out.action = req.action;
        out.received_at = received_at;
        out.processed_at = now;
        if (req.action == OpsgenieAction::kCreate) {
          // A copy: a write replayed after a failed batch starts from the request as sent.
          core::AlertEvent ev = req.event;
          HOUSTON_ASSIGN_OR_RETURN(EventOutcome o, ApplyEvent(db, ev, now, actor));
          out.success = true;
          out.status =
              o.kind == EventOutcome::Kind::kCreated ? "Created alert" : "Alert deduplicated";
          out.alert_id = o.alert_id;
          out.alias = o.dedup_key;
          out.incident_id = o.incident_id;
          out.incident_created = o.incident_created;
          if (!req.note.empty() || !req.user.empty()) {
            HOUSTON_ASSIGN_OR_RETURN(Alert a, LoadAlert(db, o.alert_id));
            HOUSTON_RETURN_IF_ERROR(TimelineNote(db, now, actor, req, a));
          }
        } else {
          HOUSTON_ASSIGN_OR_RETURN(std::optional<Alert> a, FindTarget(db, req));
          if (!a) {
            out.success = false;
            out.status = "Alert does not exist";
            if (req.identifier_type == OpsgenieIdentifier::kAlias) out.alias = req.identifier;
          } else {
            out.alert_id = a->id;
            out.alias = a->dedup_key;
            out.incident_id = a->incident_id;
            HOUSTON_RETURN_IF_ERROR(ApplyToAlert(db, req, *a, now, actor, out));
          }
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * prune,
            db.Prepare(fmt::format("DELETE FROM opsgenie_requests WHERE request_id IN (SELECT "
                                   "request_id FROM opsgenie_requests WHERE received_at < ? "
                                   "ORDER BY received_at LIMIT {})",
                                   kPruneBatch)));
        HOUSTON_RETURN_IF_ERROR(prune->Bind(1, Ms(now - kOpsgenieRequestRetention)).Run());
        HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                                 db.Prepare(fmt::format("INSERT INTO opsgenie_requests({}) VALUES "
                                                        "(?,?,?,?,?,?,?,?,?)",
                                                        kRequestColumns)));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, out.request_id)
                                    .Bind(2, db.keys().Stored(out.integration_key))
                                    .Bind(3, ToString(out.action))
                                    .Bind(4, Ms(out.received_at))
                                    .Bind(5, Ms(out.processed_at))
                                    .Bind(6, out.success ? 1 : 0)
                                    .Bind(7, out.status)
                                    .Bind(8, out.alert_id)
                                    .Bind(9, out.alias)
                                    .Run());
        return out;
      },
      std::move(done));
}

Result<OpsgenieRequestStatus> SqlStore::GetOpsgenieRequest(const std::string& request_id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM opsgenie_requests WHERE request_id = ?", kRequestColumns);
  return WithReader([&](Db& db) -> Result<OpsgenieRequestStatus> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, request_id);
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      s->Reset();
      return std::unexpected(NotFound(fmt::format("request {} does not exist", request_id)));
    }
    OpsgenieRequestStatus r = ReadRequest(db, *s);
    s->Reset();
    return r;
  });
}

Result<std::optional<Alert>> SqlStore::FindOpenAlertByAlias(const std::string& integration_key,
                                                            const std::string& alias) {
  return WithReader([&](Db& db) { return FindOpenAlert(db, integration_key, alias); });
}

Result<std::vector<Alert>> SqlStore::ListOpsgenieAlerts(const OpsgenieAlertQuery& q) {
  Where w;
  w.Add("service_id = ?", q.service_id);
  if (q.open) w.AddRaw(*q.open ? "status <> 'resolved'" : "status = 'resolved'");
  if (q.acknowledged) {
    w.AddRaw(*q.acknowledged ? "status = 'acknowledged'" : "status <> 'acknowledged'");
  }
  std::string sql =
      fmt::format("SELECT {} FROM alerts{} ORDER BY id DESC LIMIT {} OFFSET {}", kAlertColumns,
                  w.sql, std::clamp(q.limit, 1, 100), std::max(q.offset, 0));
  return WithReader([&](Db& db) -> Result<std::vector<Alert>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<Alert>(*s, [&](const Stmt& row) { return ReadAlert(db, row); });
  });
}

}  // namespace sql
}  // namespace houston::store
