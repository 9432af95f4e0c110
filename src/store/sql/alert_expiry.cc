// SqlStore: alerts that resolve by time (schema version 15, alerts.expires_at).
//
// A Prometheus alert says until when it holds (endsAt); the sender renews it while it fires.
// ExpireAlerts resolves the ones nobody renewed, through the same code as a resolve event.
#include <algorithm>
#include <tuple>

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

Result<std::optional<TimePoint>> SqlStore::NextAlertExpiry() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT MIN(expires_at) FROM alerts WHERE expires_at IS NOT NULL AND "
                             "status <> 'resolved'"));
    return ReadOptionalTime(*s);
  });
}

}  // namespace houston::store::sql
