// SqlStore: alert noise (store/analytics_store.h), read from the roll-ups of schema version 13
// and the alerts not folded into them yet; and the pass that folds alerts into them.
//
// A range [from, to) is answered in parts that never overlap:
//   - the whole UTC days inside it: the roll-ups (the alerts folded: id <= rolled_through), and
//     the folded alerts that were still open when folded (noise_pending), read as they are now;
//   - the alerts of those days not folded yet (id > rolled_through), from the alerts table;
//   - the partial days at either end, from the alerts table (by id range: a day at most each).
// Flaps: the folded alerts' from noise_flaps (one row per flap, so any range is exact), the
// others found the way the fold finds them (FlapGaps), over the alerts not folded yet.
// Everything is read in one snapshot, so a fold committing meanwhile is seen wholly or not at all.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "store/sql/analytics_sql.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMaxGapMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(AnalyticsStore::kMaxFlapWindow).count();
constexpr int64_t kLagMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(AnalyticsStore::kNoiseRollUpLag).count();
// Rows per lookup statement (padded to this many, so each has one shape in the statement cache).
constexpr size_t kLookupChunk = 100;

using Key = std::pair<std::string, std::string>;  // (integration key, dedup key)

// One alert, as the fold and the flap finder read it.
struct AlertRow {
  int64_t id = 0;
  std::string integration_key, dedup_key, source;
  int64_t created_at = 0;
  bool resolved = false;
  bool acknowledged = false;
  std::optional<int64_t> resolved_at;
};

constexpr std::string_view kNoiseAlertColumns =
    "id, integration_key, dedup_key, source, created_at, status, acknowledged_at, resolved_at";

AlertRow ReadNoiseAlert(const Stmt& s) {
  return AlertRow{.id = s.Int(0),
                  .integration_key = s.Text(1),
                  .dedup_key = s.Text(2),
                  .source = s.Text(3),
                  .created_at = s.Int(4),
                  .resolved = s.Text(5) == "resolved",
                  .acknowledged = !s.IsNull(6),
                  .resolved_at = s.IsNull(7) ? std::nullopt : std::optional(s.Int(7))};
}

// For each of `rows` (in id order), how long after the resolution of its key's previous alert
// it was created, when that is a flap at some window (0 <= gap <= kMaxGapMs). The previous alert
// of a key is its last row before, in `last` (key -> that alert's resolution; carried across
// calls, updated with `rows`), else the key's last folded alert (noise_keys).
Result<std::vector<std::optional<int64_t>>> FlapGaps(Db& db, const std::vector<AlertRow>& rows,
                                                     std::map<Key, std::optional<int64_t>>& last) {
  std::vector<Key> unknown;
  {
    std::set<Key> seen;
    for (const auto& r : rows) {
      Key k{r.integration_key, r.dedup_key};
      if (!last.contains(k) && seen.insert(k).second) unknown.push_back(std::move(k));
    }
  }
  static const std::string kKeys = fmt::format(
      "SELECT integration_key, dedup_key, last_alert_id FROM noise_keys WHERE (integration_key, "
      "dedup_key) IN (VALUES {})",
      Repeated("(CAST(? AS TEXT), CAST(? AS TEXT))", kLookupChunk));
  static const std::string kResolved = fmt::format(
      "SELECT id, resolved_at FROM alerts WHERE id IN ({})", Repeated("?", kLookupChunk));
  for (size_t at = 0; at < unknown.size(); at += kLookupChunk) {
    std::vector<Param> params;
    for (size_t i = 0; i < kLookupChunk; ++i) {
      const Key& k = unknown[std::min(at + i, unknown.size() - 1)];
      params.emplace_back(k.first);
      params.emplace_back(k.second);
    }
    std::map<int64_t, Key> by_id;  // the previous alert of each key that has one
    HOUSTON_RETURN_IF_ERROR(Query(db, kKeys, params, [&](const Stmt& s) {
      by_id.emplace(s.Int(2), Key{s.Text(0), s.Text(1)});
    }));
    for (size_t i = at; i < std::min(at + kLookupChunk, unknown.size()); ++i) {
      last.emplace(unknown[i], std::nullopt);
    }
    std::vector<Param> ids;
    for (const auto& [id, key] : by_id) ids.emplace_back(id);
    for (size_t i = 0; i < ids.size(); i += kLookupChunk) {
      std::vector<Param> chunk(
          ids.begin() + static_cast<ptrdiff_t>(i),
          ids.begin() + static_cast<ptrdiff_t>(std::min(i + kLookupChunk, ids.size())));
      chunk.resize(kLookupChunk, chunk.back());
      HOUSTON_RETURN_IF_ERROR(Query(db, kResolved, chunk, [&](const Stmt& s) {
        if (!s.IsNull(1)) last[by_id.at(s.Int(0))] = s.Int(1);
      }));
    }
  }
  std::vector<std::optional<int64_t>> gaps;
  gaps.reserve(rows.size());
  for (const auto& r : rows) {
    std::optional<int64_t>& previous = last[Key{r.integration_key, r.dedup_key}];
    std::optional<int64_t> gap;
    if (previous && r.created_at >= *previous && r.created_at - *previous <= kMaxGapMs) {
      gap = r.created_at - *previous;
    }
    gaps.push_back(gap);
    previous = r.resolved_at;
  }
  return gaps;
}

// Counts merged from the parts of a range.
struct NoiseCounts {
  std::map<std::string, int64_t> sources, integrations;
  std::map<Key, int64_t> flaps;
  int64_t alerts = 0, never_acknowledged = 0, open = 0;

  // The alerts of ids [ids.lo, ids.hi) created in [from, to), from the alerts table.
  Status AddAlerts(Db& db, IdRange ids, int64_t from, int64_t to) {
    if (from >= to || ids.lo >= ids.hi) return OkStatus();
    static const std::string kSql =
        "SELECT integration_key, source, COUNT(*), SUM(CASE WHEN status = 'resolved' AND "
        "acknowledged_at IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN status <> 'resolved' THEN 1 "
        "ELSE 0 END) FROM alerts WHERE id >= ? AND id < ? AND created_at >= ? AND created_at < ? "
        "GROUP BY integration_key, source";
    return Query(db, kSql, {ids.lo, ids.hi, from, to}, [&](const Stmt& s) {
      int64_t n = s.Int(2);
      integrations[s.Text(0)] += n;
      sources[s.Text(1)] += n;
      alerts += n;
      never_acknowledged += s.Int(3);
      open += s.Int(4);
    });
  }

  // The folded alerts of UTC days [first, last).
  Status AddRollUps(Db& db, int64_t first, int64_t last) {
    HOUSTON_RETURN_IF_ERROR(Query(db,
                                  "SELECT integration_key, SUM(alerts), SUM(never_acknowledged) "
                                  "FROM noise_days WHERE day >= ? AND day < ? GROUP BY "
                                  "integration_key",
                                  {first, last}, [&](const Stmt& s) {
                                    integrations[s.Text(0)] += s.Int(1);
                                    alerts += s.Int(1);
                                    never_acknowledged += s.Int(2);
                                  }));
    HOUSTON_RETURN_IF_ERROR(Query(
        db,
        "SELECT source, SUM(alerts) FROM noise_source_days WHERE day >= ? AND day < ? GROUP BY "
        "source",
        {first, last}, [&](const Stmt& s) { sources[s.Text(0)] += s.Int(1); }));
    // Folded while open: counted in noise_days as alerts, their outcome read now.
    return Query(db,
                 "SELECT a.status, CASE WHEN a.acknowledged_at IS NULL THEN 0 ELSE 1 END FROM "
                 "noise_pending p JOIN alerts a ON a.id = p.alert_id WHERE p.day >= ? AND p.day "
                 "< ?",
                 {first, last}, [&](const Stmt& s) {
                   if (s.Text(0) != "resolved") {
                     ++open;
                   } else if (s.Int(1) == 0) {
                     ++never_acknowledged;
                   }
                 });
  }
};

// The `top` largest counts, largest first, ties by key.
template <typename K>
std::vector<std::pair<K, int64_t>> Top(const std::map<K, int64_t>& counts, int64_t top) {
  std::vector<std::pair<K, int64_t>> v(counts.begin(), counts.end());
  auto n = std::min<size_t>(v.size(), static_cast<size_t>(top));
  std::partial_sort(v.begin(), v.begin() + static_cast<ptrdiff_t>(n), v.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  v.resize(n);
  return v;
}

Result<NoiseReport> NoiseIn(Db& db, int64_t from, int64_t to, int64_t window, int64_t top) {
  NoiseReport out;
  static const std::string kPerIncident = fmt::format(
      "SELECT i.alert_count FROM incidents i WHERE i.merged_into = 0 AND {0} >= ? AND {0} < ? "
      "AND i.alert_count > 0",
      kDetected);
  DurationSample per_incident;
  HOUSTON_RETURN_IF_ERROR(
      Query(db, kPerIncident, {from, to}, [&](const Stmt& s) { per_incident.Add(s.Int(0)); }));
  out.alerts_per_incident = per_incident.Stats(1.0);
  out.incidents = out.alerts_per_incident.n;

  int64_t through = 0;
  HOUSTON_RETURN_IF_ERROR(Query(db, "SELECT rolled_through FROM noise_state WHERE id = 1", {},
                                [&](const Stmt& s) { through = s.Int(0); }));
  NoiseCounts counts;
  // Whole days [first_day, last_day): from the roll-ups and the alerts not folded yet.
  const int64_t first_day = from / kDayMs + (from % kDayMs != 0);
  const int64_t last_day = to / kDayMs;
  if (first_day < last_day) {
    const int64_t f = first_day * kDayMs, t = last_day * kDayMs;
    HOUSTON_RETURN_IF_ERROR(counts.AddRollUps(db, first_day, last_day));
    HOUSTON_ASSIGN_OR_RETURN(IdRange whole, IdsBetween(db, "alerts", f, t));
    whole.lo = std::max(whole.lo, through + 1);
    HOUSTON_RETURN_IF_ERROR(counts.AddAlerts(db, whole, f, t));
    HOUSTON_ASSIGN_OR_RETURN(IdRange head, IdsBetween(db, "alerts", from, f));
    HOUSTON_RETURN_IF_ERROR(counts.AddAlerts(db, head, from, f));
    HOUSTON_ASSIGN_OR_RETURN(IdRange tail, IdsBetween(db, "alerts", t, to));
    HOUSTON_RETURN_IF_ERROR(counts.AddAlerts(db, tail, t, to));
  } else {
    HOUSTON_ASSIGN_OR_RETURN(IdRange all, IdsBetween(db, "alerts", from, to));
    HOUSTON_RETURN_IF_ERROR(counts.AddAlerts(db, all, from, to));
  }

  // Flaps of the folded alerts, then of the others (in id order from the first not folded).
  HOUSTON_RETURN_IF_ERROR(Query(
      db,
      "SELECT integration_key, dedup_key, COUNT(*) FROM noise_flaps WHERE created_at >= ? AND "
      "created_at < ? AND gap <= ? GROUP BY integration_key, dedup_key",
      {from, to, window}, [&](const Stmt& s) {
        counts.flaps[Key{s.Text(0), s.Text(1)}] += s.Int(2);
      }));
  HOUSTON_ASSIGN_OR_RETURN(int64_t end, IdFrom(db, "alerts", to + kIdSkewMs));
  static const std::string kAfter = fmt::format(
      "SELECT {} FROM alerts WHERE id > ? AND id < ? ORDER BY id LIMIT 1000", kNoiseAlertColumns);
  std::map<Key, std::optional<int64_t>> last;
  for (int64_t after = through; after + 1 < end;) {
    std::vector<AlertRow> rows;
    HOUSTON_RETURN_IF_ERROR(
        Query(db, kAfter, {after, end}, [&](const Stmt& s) { rows.push_back(ReadNoiseAlert(s)); }));
    if (rows.empty()) break;
    HOUSTON_ASSIGN_OR_RETURN(auto gaps, FlapGaps(db, rows, last));
    for (size_t i = 0; i < rows.size(); ++i) {
      const AlertRow& r = rows[i];
      if (gaps[i] && *gaps[i] <= window && r.created_at >= from && r.created_at < to) {
        ++counts.flaps[Key{r.integration_key, r.dedup_key}];
      }
    }
    after = rows.back().id;
  }

  out.alerts = counts.alerts;
  out.never_acknowledged = counts.never_acknowledged;
  out.open = counts.open;
  for (auto& [k, n] : Top(counts.sources, top)) out.top_sources.push_back(KeyCount{k, n});
  // The integration keys were counted as stored; opened before ranking, so ties order by key.
  std::map<std::string, int64_t> integrations;
  for (const auto& [k, n] : counts.integrations) integrations[db.keys().Plain(k)] += n;
  std::map<Key, int64_t> flaps;
  for (const auto& [k, n] : counts.flaps) flaps[Key{db.keys().Plain(k.first), k.second}] += n;
  for (auto& [k, n] : Top(integrations, top)) out.top_integrations.push_back(KeyCount{k, n});
  for (const auto& [k, n] : flaps) out.flaps += n;
  out.flapping_keys = static_cast<int64_t>(flaps.size());
  for (auto& [k, n] : Top(flaps, top)) {
    out.top_flapping.push_back(KeyCount{k.first + "/" + k.second, n});
  }
  return out;
}

}  // namespace

Result<NoiseReport> SqlStore::Noise(const NoiseQuery& q) {
  if (q.flap_window > kMaxFlapWindow || q.flap_window.count() < 0) {
    return std::unexpected(
        InvalidArgument(fmt::format("the flap window is at most {} minutes ({} given)",
                                    kMaxFlapWindow.count(), q.flap_window.count())));
  }
  const int64_t window =
      std::chrono::duration_cast<std::chrono::milliseconds>(q.flap_window).count();
  return WithReader([&](Db& db) -> Result<NoiseReport> {
    // One snapshot for every part (a fold may commit in between).
    HOUSTON_RETURN_IF_ERROR(db.Exec(db.dialect() == Dialect::kPostgres
                                        ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                        : "BEGIN"));
    auto report = NoiseIn(db, Ms(q.from), Ms(q.to), window, std::clamp(q.top, 1, 100));
    Status end = db.Exec(report ? "COMMIT" : "ROLLBACK");
    if (report && !end.ok()) return std::unexpected(std::move(end));
    return report;
  });
}

void SqlStore::RollUpNoise(TimePoint now, int max_alerts,
                           std::function<void(Result<int64_t>)> done) {
  const int64_t before = Ms(now) - kLagMs;
  const int64_t limit = std::clamp(max_alerts, 1, 10'000);
  Submit<int64_t>(
      [before, limit](Db& db) -> Result<int64_t> {
        // The row lock makes passes from several servers take turns (SQLite has one writer).
        int64_t through = 0;
        HOUSTON_RETURN_IF_ERROR(Query(db,
                                      "SELECT rolled_through FROM noise_state WHERE id = 1" +
                                          std::string(db.Sql(Fragment::kForUpdate)),
                                      {}, [&](const Stmt& s) { through = s.Int(0); }));
        static const std::string kNext = fmt::format(
            "SELECT {} FROM alerts WHERE id > ? ORDER BY id LIMIT ?", kNoiseAlertColumns);
        std::vector<AlertRow> rows;
        HOUSTON_RETURN_IF_ERROR(Query(db, kNext, {through, limit},
                                      [&](const Stmt& s) { rows.push_back(ReadNoiseAlert(s)); }));
        // Only alerts older than the lag: a later id may still be committing an earlier one.
        rows.erase(std::find_if(rows.begin(), rows.end(),
                                [&](const AlertRow& r) { return r.created_at >= before; }),
                   rows.end());

        // (day, integration key) -> alerts, never acknowledged; (day, source) -> alerts.
        std::map<std::pair<int64_t, std::string>, std::pair<int64_t, int64_t>> days;
        std::map<std::pair<int64_t, std::string>, int64_t> sources;
        // Settle the folded alerts resolved since (or gone).
        std::vector<int64_t> settled;
        HOUSTON_RETURN_IF_ERROR(Query(
            db,
            "SELECT p.alert_id, p.day, a.id, a.integration_key, CASE WHEN a.acknowledged_at IS "
            "NULL THEN 0 ELSE 1 END FROM noise_pending p LEFT JOIN alerts a ON a.id = p.alert_id "
            "WHERE a.id IS NULL OR a.status = 'resolved'",
            {}, [&](const Stmt& s) {
              settled.push_back(s.Int(0));
              if (!s.IsNull(2) && s.Int(4) == 0) ++days[{s.Int(1), s.Text(3)}].second;
            }));
        std::map<Key, std::optional<int64_t>> last;
        HOUSTON_ASSIGN_OR_RETURN(auto gaps, FlapGaps(db, rows, last));

        if (!rows.empty()) {
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * s, db.Prepare("UPDATE noise_state SET rolled_through = ? WHERE id = 1 AND "
                                   "rolled_through = ?"));
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, rows.back().id).Bind(2, through).Run());
          if (db.Changes() != 1)
            return std::unexpected(FailedPrecondition("another pass folded these alerts first"));
        }
        HOUSTON_ASSIGN_OR_RETURN(Stmt * unpend,
                                 db.Prepare("DELETE FROM noise_pending WHERE alert_id = ?"));
        for (int64_t id : settled) {
          unpend->Reset();
          HOUSTON_RETURN_IF_ERROR(unpend->Bind(1, id).RunLater());
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * pend, db.Prepare("INSERT INTO noise_pending(alert_id, day) VALUES (?, ?)"));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * flap, db.Prepare("INSERT INTO noise_flaps(alert_id, created_at, "
                                    "integration_key, dedup_key, gap) VALUES (?, ?, ?, ?, ?)"));
        std::map<Key, int64_t> keys;
        for (size_t i = 0; i < rows.size(); ++i) {
          const AlertRow& r = rows[i];
          const int64_t day = r.created_at / kDayMs;
          auto& d = days[{day, r.integration_key}];
          ++d.first;
          if (r.resolved && !r.acknowledged) ++d.second;
          if (!r.resolved) {
            pend->Reset();
            HOUSTON_RETURN_IF_ERROR(pend->Bind(1, r.id).Bind(2, day).RunLater());
          }
          ++sources[{day, r.source}];
          if (gaps[i]) {
            flap->Reset();
            HOUSTON_RETURN_IF_ERROR(flap->Bind(1, r.id)
                                        .Bind(2, r.created_at)
                                        .Bind(3, r.integration_key)
                                        .Bind(4, r.dedup_key)
                                        .Bind(5, *gaps[i])
                                        .RunLater());
          }
          keys[Key{r.integration_key, r.dedup_key}] = r.id;
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * day_row,
            db.Prepare("INSERT INTO noise_days(day, integration_key, alerts, never_acknowledged) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (day, integration_key) DO UPDATE SET "
                       "alerts = noise_days.alerts + excluded.alerts, never_acknowledged = "
                       "noise_days.never_acknowledged + excluded.never_acknowledged"));
        for (const auto& [k, v] : days) {
          day_row->Reset();
          HOUSTON_RETURN_IF_ERROR(day_row->Bind(1, k.first)
                                      .Bind(2, k.second)
                                      .Bind(3, v.first)
                                      .Bind(4, v.second)
                                      .RunLater());
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * source_row,
            db.Prepare("INSERT INTO noise_source_days(day, source, alerts) VALUES (?, ?, ?) ON "
                       "CONFLICT (day, source) DO UPDATE SET alerts = noise_source_days.alerts + "
                       "excluded.alerts"));
        for (const auto& [k, n] : sources) {
          source_row->Reset();
          HOUSTON_RETURN_IF_ERROR(
              source_row->Bind(1, k.first).Bind(2, k.second).Bind(3, n).RunLater());
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * key_row,
            db.Prepare("INSERT INTO noise_keys(integration_key, dedup_key, last_alert_id) VALUES "
                       "(?, ?, ?) ON CONFLICT (integration_key, dedup_key) DO UPDATE SET "
                       "last_alert_id = excluded.last_alert_id"));
        for (const auto& [k, id] : keys) {
          key_row->Reset();
          HOUSTON_RETURN_IF_ERROR(
              key_row->Bind(1, k.first).Bind(2, k.second).Bind(3, id).RunLater());
        }
        // Caught up: forget the keys that can flap no more (their last alert resolved, or is
        // gone, two days before the newest folded alert; any later alert is created at most
        // kIdSkewMs before that one, so its gap would exceed the longest window).
        if (static_cast<int64_t>(rows.size()) < limit && !rows.empty()) {
          const int64_t cutoff = rows.back().created_at - 2 * kDayMs;
          HOUSTON_ASSIGN_OR_RETURN(int64_t below, IdFrom(db, "alerts", cutoff - kIdSkewMs));
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * prune,
              db.Prepare("DELETE FROM noise_keys WHERE last_alert_id < ? AND NOT EXISTS (SELECT 1 "
                         "FROM alerts a WHERE a.id = noise_keys.last_alert_id AND "
                         "(a.resolved_at IS NULL OR a.resolved_at >= ?))"));
          HOUSTON_RETURN_IF_ERROR(prune->Bind(1, below).Bind(2, cutoff).RunLater());
        }
        return static_cast<int64_t>(rows.size());
      },
      std::move(done));
}

}  // namespace houston::store::sql
