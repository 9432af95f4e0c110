// SqlStore: alerts that resolve by time (schema version 15, alerts.expires_at).
//
// A Prometheus alert says until when it holds (endsAt); the sender renews it while it fires.
// ExpireAlerts resolves the ones nobody renewed, through the same code as a resolve event.
// PruneResolvedAlerts is the other end of an alert's life: retention deletes it long after.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "core/json_util.h"
#include "core/time_util.h"
#include "store/sql/analytics_sql.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

void SqlStore::ExpireAlerts(TimePoint now, int limit, Callback<int> done) {
  Submit<int>(
      [now, limit](Db& db) -> Result<int> {
        struct Due {
          core::IncidentId incident_id;
          core::AlertId alert_id;
          bool operator<(const Due& o) const {
            return std::tie(incident_id, alert_id) < std::tie(o.incident_id, o.alert_id);
          }
        };
        std::vector<Due> due;
        {
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * s, db.Prepare("SELECT incident_id, id FROM alerts WHERE expires_at <= ? AND "
                                   "status <> 'resolved' ORDER BY expires_at, id LIMIT ?"));
          s->Bind(1, Ms(now)).Bind(2, static_cast<int64_t>(ClampLimit(limit)));
          HOUSTON_ASSIGN_OR_RETURN(due, ReadAll<Due>(*s, [](const Stmt& row) {
                                     return Due{row.Int(0), row.Int(1)};
                                   }));
        }
        // Every write locks incidents before their alerts, several incidents in id order: no
        // deadlock with a person resolving the incident, or with another server expiring.
        std::sort(due.begin(), due.end());
        // The claim: of several servers that found the alert due, the one whose update matched
        // the row resolves it; the others' updates wait for its commit (the row lock), then
        // find it resolved and match nothing. (An alert moved to another incident meanwhile, by
        // a merge or split, is left for the next round, under that incident's lock.)
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * claim,
            db.Prepare("UPDATE alerts SET expires_at = expires_at WHERE id = ? AND incident_id = ? "
                       "AND status <> 'resolved' AND expires_at <= ?"));
        const Actor actor{"system", "alert-expiry", "system"};
        int resolved = 0;
        for (const Due& d : due) {
          HOUSTON_ASSIGN_OR_RETURN(core::Incident inc, LockIncident(db, d.incident_id));
          (void)inc;
          claim->Reset();
          HOUSTON_RETURN_IF_ERROR(
              claim->Bind(1, d.alert_id).Bind(2, d.incident_id).Bind(3, Ms(now)).Run());
          if (db.Changes() == 0) continue;
          HOUSTON_ASSIGN_OR_RETURN(core::Alert a, LoadAlert(db, d.alert_id));
          HOUSTON_RETURN_IF_ERROR(ResolveOpenAlert(db, a, now, actor));
          ++resolved;
        }
        if (resolved > 0) db.CountEvent("alert.expired", resolved);
        return resolved;
      },
      std::move(done));
}

void SqlStore::PruneResolvedAlerts(TimePoint resolved_before, core::AlertId after, int limit,
                                   Callback<PruneStep> done) {
  Submit<PruneStep>(
      [this, resolved_before, after, limit](Db& db) -> Result<PruneStep> {
        const int64_t cutoff = Ms(resolved_before);
        // Only an alert created before the cutoff can have resolved before it: the candidates'
        // ids lie below the first id created after it (widened by the clock skew allowed), so
        // the scan reads the old end of the table only. And only alerts the noise roll-up has
        // folded: the rest are still to be counted.
        HOUSTON_ASSIGN_OR_RETURN(int64_t below, IdFrom(db, "alerts", cutoff + kIdSkewMs));
        HOUSTON_ASSIGN_OR_RETURN(Stmt * rolled,
                                 db.Prepare("SELECT rolled_through FROM noise_state WHERE id = 1"));
        HOUSTON_ASSIGN_OR_RETURN(bool row, rolled->Step());
        const int64_t folded = row ? rolled->Int(0) : 0;
        rolled->Reset();
        below = std::min(below, folded + 1);
        // A window of at most `limit` old alerts after the cursor, each marked whether it may go.
        const int64_t window = std::max(limit, 1);
        PruneStep step;
        int64_t seen = 0;
        std::vector<int64_t> ids;
        HOUSTON_RETURN_IF_ERROR(Query(
            db,
            "SELECT a.id, CASE WHEN a.status = 'resolved' AND a.resolved_at < ? AND i.status = "
            "'resolved' THEN 1 ELSE 0 END FROM alerts a JOIN incidents i ON i.id = a.incident_id "
            "WHERE a.id > ? AND a.id < ? ORDER BY a.id LIMIT ?",
            {cutoff, after, below, window}, [&](const Stmt& s) {
              ++seen;
              step.scanned_through = s.Int(0);
              if (s.Int(1) != 0) ids.push_back(s.Int(0));
            }));
        if (seen < window) step.scanned_through = 0;  // the end of the old alerts
        // Counted as deleted, not as found: another server may have deleted some of them first
        // (on PostgreSQL its DELETE commits, then this one's finds nothing there).
        int64_t deleted = 0;
        constexpr size_t kChunk = 100;
        for (size_t at = 0; at < ids.size(); at += kChunk) {
          const size_t n = std::min(kChunk, ids.size() - at);
          const std::string in = Repeated("?", n);
          auto run = [&](const std::string& sql) -> Status {
            HOUSTON_ASSIGN_OR_RETURN(Stmt * del, db.Prepare(sql));
            for (size_t k = 0; k < n; ++k) del->Bind(static_cast<int>(k) + 1, ids[at + k]);
            return del->Run();
          };
          HOUSTON_RETURN_IF_ERROR(run(fmt::format("DELETE FROM alerts WHERE id IN ({})", in)));
          deleted += db.Changes();
          HOUSTON_RETURN_IF_ERROR(
              run(fmt::format("DELETE FROM noise_pending WHERE alert_id IN ({})", in)));
        }
        if (deleted == 0) return step;
        const Actor actor{"system", "alert-retention", "system"};
        HOUSTON_RETURN_IF_ERROR(AuditLater(
            db, options_.clock->Now(), actor, "alerts.pruned", "alerts", "",
            fmt::format(R"({{"count":{},"resolved_before":{},"first_id":{},"last_id":{}}})",
                        deleted, JsonQuote(FormatRfc3339(resolved_before)), ids.front(),
                        ids.back()),
            0, false));
        db.CountEvent("alert.pruned", deleted);
        step.deleted = static_cast<int>(deleted);
        return step;
      },
      std::move(done));
}

Result<std::optional<TimePoint>> SqlStore::NextAlertExpiry() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT MIN(expires_at) FROM alerts WHERE expires_at IS NOT NULL AND "
                             "status <> 'resolved'"));
    return ReadOptionalTime(*s);
  });
}

}  // namespace houston::store::sql
