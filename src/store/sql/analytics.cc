// SqlStore: the analytics reads (store/analytics_store.h), one SQL for SQLite and PostgreSQL.
//
// Ranges are read through indexes only: incidents by their detection time (the partial
// expression index incidents_detected of schema version 9), acknowledgements by the partial
// index audit_acks, pages (one row per page, schema version 11) by person and time (pages_user_at);
// alerts are bounded by id, not by a new index on their time (each index on alerts costs every
// intake insert): their ids grow with created_at, so a binary search over the primary key finds
// the id range of a time range (see IdFrom), and the exact time filter runs inside it.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_set>
#include <variant>

#include "core/json_util.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

namespace {

using Param = std::variant<int64_t, std::string>;

// The detection time of incident `i`: what every incident range filters on (and what the
// index incidents_detected holds, spelled exactly the same so that both databases use it).
constexpr std::string_view kDetected = "COALESCE(i.detected_at, i.created_at)";

// How far created_at may run behind the id order (several servers' clocks, a clock stepped
// back): the id range of a time range is widened by this much on both sides.
constexpr int64_t kIdSkewMs = 10 * 60 * 1000;

// Nearest-rank percentile ranks of n values: ceil(n * p / 100), in integer SQL.
std::string RankOf(std::string_view n, int p) {
  return fmt::format("(({}) * {} + 99) / 100", n, p);
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

// Binds `params` (1-based, in order), then calls `row(stmt)` for each row; resets the statement.
template <typename Row>
Status Query(Db& db, const std::string& sql, const std::vector<Param>& params, Row row) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) {
    if (const auto* v = std::get_if<int64_t>(&params[i])) {
      s->Bind(static_cast<int>(i) + 1, *v);
    } else {
      s->Bind(static_cast<int>(i) + 1, std::get<std::string>(params[i]));
    }
  }
  for (;;) {
    auto r = s->Step();
    if (!r) {
      s->Reset();
      return r.error();
    }
    if (!*r) break;
    row(*s);
  }
  s->Reset();
  return OkStatus();
}

std::optional<double> OptDouble(const Stmt& s, int col, double scale = 1.0) {
  if (s.IsNull(col)) return std::nullopt;
  return s.Double(col) * scale;
}

// Reads count, mean, p50, p90 at `col`.. (milliseconds -> seconds with scale 0.001).
DurationStats ReadStats(const Stmt& s, int col, double scale) {
  DurationStats d;
  d.n = s.Int(col);
  if (d.n > 0) {
    d.mean = OptDouble(s, col + 1, scale);
    d.p50 = OptDouble(s, col + 2, scale);
    d.p90 = OptDouble(s, col + 3, scale);
  }
  return d;
}

// Count, mean and nearest-rank p50/p90 of `values` (milliseconds -> seconds with scale 0.001),
// as ReadStats reads them from SQL: for the few values of one person.
DurationStats StatsOf(std::vector<int64_t>& values, double scale) {
  DurationStats d;
  d.n = static_cast<int64_t>(values.size());
  if (d.n == 0) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  d.mean = sum / static_cast<double>(d.n) * scale;
  auto at_rank = [&](int p) {
    return static_cast<double>(values[(d.n * p + 99) / 100 - 1]) * scale;
  };
  d.p50 = at_rank(50);
  d.p90 = at_rank(90);
  return d;
}

// COUNT, AVG and nearest-rank p50/p90 of column `v` ranked `r` among `n` (window columns).
std::string StatsColumns(std::string_view v, std::string_view r, std::string_view n) {
  return fmt::format(
      "COUNT({0}), AVG({0}), MAX(CASE WHEN {1} = {2} THEN {0} END), "
      "MAX(CASE WHEN {1} = {3} THEN {0} END)",
      v, r, RankOf(n, 50), RankOf(n, 90));
}

// ROW_NUMBER of `v` within `partition` (NULLs last on both databases) and the count of non-NULL
// values, as columns `r` and `n`.
std::string RankColumns(std::string_view v, std::string_view partition, std::string_view r,
                        std::string_view n) {
  std::string over = partition.empty() ? "" : fmt::format("PARTITION BY {} ", partition);
  return fmt::format(
      "ROW_NUMBER() OVER ({0}ORDER BY CASE WHEN {1} IS NULL THEN 1 ELSE 0 END, {1}) AS {2}, "
      "COUNT({1}) OVER ({0}) AS {3}",
      over, v, r, n);
}

// " AND i.service_id IN (?, ...)" for a non-empty list.
std::string ServiceFilter(const std::vector<std::string>& services, std::vector<Param>& params,
                          std::string_view column = "i.service_id") {
  if (services.empty()) return "";
  for (const auto& s : services) params.emplace_back(s);
  return fmt::format(" AND {} IN ({})", column, Placeholders(services.size()));
}

// The first id of `table` whose created_at is at or after `t`, assuming created_at grows with
// the id (an id past every row when none is): a binary search over the primary key, O(log n)
// point reads.
Result<int64_t> IdFrom(Db& db, std::string_view table, int64_t t) {
  int64_t lo = 0, hi = 0;
  HOUSTON_RETURN_IF_ERROR(
      Query(db, fmt::format("SELECT MIN(id), MAX(id) FROM {}", table), {}, [&](const Stmt& s) {
        lo = s.IsNull(0) ? 1 : s.Int(0);
        hi = s.IsNull(1) ? 0 : s.Int(1) + 1;
      }));
  if (hi <= lo) return lo;
  const std::string probe =
      fmt::format("SELECT id, created_at FROM {} WHERE id >= ? ORDER BY id LIMIT 1", table);
  // Invariant: every id < lo is before t; the answer is <= hi.
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    std::optional<std::pair<int64_t, int64_t>> row;
    HOUSTON_RETURN_IF_ERROR(Query(db, probe, {mid}, [&](const Stmt& s) {
      row = std::pair{s.Int(0), s.Int(1)};
    }));
    if (!row || row->first >= hi || row->second >= t) {
      hi = mid;
    } else {
      lo = row->first + 1;
    }
  }
  return lo;
}

struct IdRange {
  int64_t lo = 0, hi = 0;  // [lo, hi)
};
Result<IdRange> IdsBetween(Db& db, std::string_view table, int64_t from, int64_t to) {
  HOUSTON_ASSIGN_OR_RETURN(int64_t lo, IdFrom(db, table, from - kIdSkewMs));
  HOUSTON_ASSIGN_OR_RETURN(int64_t hi, IdFrom(db, table, to + kIdSkewMs));
  return IdRange{lo, hi};
}

std::string_view Instr(const Db& db) {
  return db.dialect() == Dialect::kPostgres ? "strpos" : "instr";
}

std::string JsonQuoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

constexpr int64_t kQuarterHourMs = 15 * 60 * 1000;

// The quarter hour (since the epoch) that holds the instant `ms`.
int64_t QuarterHourOf(int64_t ms) {
  return ms >= 0 ? ms / kQuarterHourMs : -((-ms + kQuarterHourMs - 1) / kQuarterHourMs);
}

// The (user, incident) pairs handled in [from, to) for the users in CTE u(id, needle, role):
// acknowledged by them, or a role or responder on an incident detected in range. Columns: uid,
// inc, acked. Parameters: from, to (acks), from, to (incidents).
// Each range is read once, with the users inside it: the acknowledgements filtered by an IN
// list, the incidents joined to the users after them (SQLite's CROSS JOIN keeps that order; with
// the users outside, it read the acknowledgements of the range once per user).
std::string HandledSql(const Db& db) {
  return fmt::format(
      "SELECT a.actor_id AS uid, a.incident_id AS inc, 1 AS acked FROM audit_log a WHERE "
      "a.action = 'incident.acknowledged' AND a.actor_type = 'user' AND a.at >= ? AND a.at < ? "
      "AND a.incident_id IS NOT NULL AND a.actor_id IN (SELECT id FROM u) "
      "UNION ALL SELECT u.id, i.id, 0 FROM incidents i CROSS JOIN u WHERE i.merged_into = 0 AND "
      "{1} >= ? AND {1} < ? AND (i.roles_json <> '{{}}' OR i.responders_json <> '[]') AND "
      "({0}(i.roles_json, u.role) > 0 OR {0}(i.responders_json, u.needle) > 0)",
      Instr(db), kDetected);
}

// "u(id, needle, role) AS (VALUES (?, ?, ?), ...)" for `users`, with their parameters.
std::string UsersCte(const std::vector<std::string>& users, std::vector<Param>& params) {
  std::string values;
  for (const auto& u : users) {
    if (!values.empty()) values += ", ";
    values += "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))";
    params.emplace_back(u);
    params.emplace_back(JsonQuoted(u));
    params.emplace_back(":" + JsonQuoted(u));
  }
  return fmt::format("u(id, needle, role) AS (VALUES {})", values);
}

}  // namespace

Result<std::vector<IncidentStatsRow>> SqlStore::IncidentStats(const IncidentStatsQuery& q) {
  if (q.edges.size() < 2 || q.edges.size() > static_cast<size_t>(kMaxBuckets) + 1) {
    return std::unexpected(InvalidArgument(fmt::format(
        "between 1 and {} buckets are needed ({} edges given)", kMaxBuckets, q.edges.size())));
  }
  const size_t buckets = q.edges.size() - 1;
  // The bucket of a detection time `d`: a binary tree of comparisons against the edges (depth
  // log2 of the buckets), evaluated on the rows of one index range scan. (A join against a
  // VALUES list of buckets would scan the table once per bucket: neither database uses the
  // expression index inside such a join.) Padded to a power of two with empty buckets past the
  // end: few statement shapes in the caches.
  size_t padded = 8;
  while (padded < buckets) padded *= 2;
  std::vector<Param> tree_params;
  std::function<std::string(size_t, size_t)> tree = [&](size_t lo, size_t hi) -> std::string {
    if (hi - lo == 1) return std::to_string(lo);
    size_t mid = lo + (hi - lo) / 2;
    tree_params.emplace_back(mid < buckets ? Ms(q.edges[mid]) : Ms(q.edges.back()));
    std::string left = tree(lo, mid);
    return fmt::format("CASE WHEN d < ? THEN {} ELSE {} END", left, tree(mid, hi));
  };
  std::string bucket_sql = tree(0, padded);
  std::vector<Param> params;  // in the order of the placeholders: group, range, services, tree
  std::string group;
  switch (q.group_by) {
    case IncidentGroupBy::kService:
      group = "i.service_id";
      break;
    case IncidentGroupBy::kSeverity:
      group = "CASE WHEN i.sev = '' THEN 'untriaged' ELSE i.sev END";
      break;
    case IncidentGroupBy::kTeam: {
      group = "CASE i.service_id";
      for (const auto& [service, team] : q.service_team) {
        if (team.empty()) continue;
        group += " WHEN ? THEN CAST(? AS TEXT)";
        params.emplace_back(service);
        params.emplace_back(team);
      }
      group = group == "CASE i.service_id" ? "'none'" : group + " ELSE 'none' END";
      break;
    }
  }
  params.emplace_back(Ms(q.edges.front()));
  params.emplace_back(Ms(q.edges.back()));
  std::string services = ServiceFilter(q.services, params);
  params.insert(params.end(), tree_params.begin(), tree_params.end());
  const std::string sql = fmt::format(
      "WITH t0 AS (SELECT {d} AS d, {group} AS grp, COALESCE(i.first_acknowledged_at, "
      "i.acknowledged_at) AS a, "
      "COALESCE(i.mitigated_at, i.resolved_at) AS m, i.resolved_at AS z FROM incidents i "
      "WHERE i.merged_into = 0 AND {d} >= ? AND {d} < ?{services}), "
      "t AS (SELECT {bucket} AS bucket, grp, a - d AS tta, m - d AS ttm, z - d AS ttr FROM t0), "
      "r AS (SELECT bucket, grp, tta, ttm, ttr, {ra}, {rm}, {rr} FROM t) "
      "SELECT bucket, grp, COUNT(*), {sa}, {sm}, {sr} FROM r GROUP BY bucket, grp "
      "ORDER BY bucket, grp",
      fmt::arg("bucket", bucket_sql), fmt::arg("group", group), fmt::arg("d", kDetected),
      fmt::arg("services", services), fmt::arg("ra", RankColumns("tta", "bucket, grp", "ra", "na")),
      fmt::arg("rm", RankColumns("ttm", "bucket, grp", "rm", "nm")),
      fmt::arg("rr", RankColumns("ttr", "bucket, grp", "rr", "nr")),
      fmt::arg("sa", StatsColumns("tta", "ra", "na")),
      fmt::arg("sm", StatsColumns("ttm", "rm", "nm")),
      fmt::arg("sr", StatsColumns("ttr", "rr", "nr")));
  return WithReader([&](Db& db) -> Result<std::vector<IncidentStatsRow>> {
    std::vector<IncidentStatsRow> out;
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      IncidentStatsRow r;
      r.bucket = static_cast<int>(s.Int(0));
      r.group = s.Text(1);
      r.count = s.Int(2);
      r.tta = ReadStats(s, 3, 0.001);
      r.ttm = ReadStats(s, 7, 0.001);
      r.ttr = ReadStats(s, 11, 0.001);
      out.push_back(std::move(r));
    }));
    return out;
  });
}

Result<std::vector<SlowIncident>> SqlStore::SlowestIncidents(
    TimePoint from, TimePoint to, SlowBy by, const std::vector<std::string>& services, int limit) {
  std::string_view end = by == SlowBy::kAcknowledge
                             ? "COALESCE(i.first_acknowledged_at, i.acknowledged_at)"
                             : "i.resolved_at";
  std::vector<Param> params{Ms(from), Ms(to)};
  std::string filter = ServiceFilter(services, params);
  params.emplace_back(int64_t{std::clamp(limit, 1, 100)});
  const std::string sql = fmt::format(
      "SELECT i.id, i.title, i.service_id, i.sev, {e} - {d} AS took FROM incidents i WHERE "
      "i.merged_into = 0 AND {d} >= ? AND {d} < ? AND {e} IS NOT NULL{f} ORDER BY took DESC, "
      "i.id LIMIT ?",
      fmt::arg("e", end), fmt::arg("d", kDetected), fmt::arg("f", filter));
  return WithReader([&](Db& db) -> Result<std::vector<SlowIncident>> {
    std::vector<SlowIncident> out;
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      out.push_back(SlowIncident{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4) / 1000.0});
    }));
    return out;
  });
}

Status SqlStore::ForEachPageSlot(TimePoint from, TimePoint to,
                                 const std::function<void(const PageSlot&)>& fn) {
  // The pages of the range in (user, time) order: an index-only pass over pages_user_at with no
  // sort. The quarter hours are folded here as the rows stream by (consecutive rows of one user
  // in one slot), not by a GROUP BY, which would sort them again in a temporary b-tree.
  static const std::string kSql =
      "SELECT user_id, at FROM pages WHERE at >= ? AND at < ? ORDER BY user_id, at";
  return WithReader([&](Db& db) -> Status {
    // PostgreSQL keeps a generic plan for a prepared statement after five runs when it looks
    // cheaper, and it estimates a range of unknown bounds at a fraction of a percent of the
    // table: a sequential scan and a sort (spilling to disk for a year) where a wide range
    // wants the index. So this read is planned for its bounds on every run; and without
    // parallel workers, whose start costs more than the scan of a narrow range saves. Both
    // settings last for its transaction only.
    const bool pg = db.dialect() == Dialect::kPostgres;
    if (pg) {
      HOUSTON_RETURN_IF_ERROR(
          db.Exec("BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL "
                  "max_parallel_workers_per_gather = 0"));
    }
    PageSlot slot;
    int64_t quarter = 0;
    Status st = Query(db, kSql, {Ms(from), Ms(to)}, [&](const Stmt& s) {
      const int64_t q = QuarterHourOf(s.Int(1));
      std::string user = s.Text(0);
      if (slot.pages > 0 && q == quarter && user == slot.user_id) {
        ++slot.pages;
        return;
      }
      if (slot.pages > 0) fn(slot);
      slot.user_id = std::move(user);
      slot.slot = FromMs(q * kQuarterHourMs);
      slot.pages = 1;
      quarter = q;
    });
    if (pg) {
      Status end = db.Exec(st.ok() ? "COMMIT" : "ROLLBACK");
      if (st.ok()) st = end;
    }
    HOUSTON_RETURN_IF_ERROR(st);
    if (slot.pages > 0) fn(slot);
    return OkStatus();
  });
}

Result<std::vector<HandledCount>> SqlStore::IncidentsHandled(
    TimePoint from, TimePoint to, const std::vector<std::string>& users) {
  if (users.empty()) return std::vector<HandledCount>{};
  return WithReader([&](Db& db) -> Result<std::vector<HandledCount>> {
    std::vector<Param> params;
    std::string cte = UsersCte(users, params);
    for (int64_t v : {Ms(from), Ms(to), Ms(from), Ms(to)}) params.emplace_back(v);
    // The distinct incidents per person are counted here as the pairs stream by: in SQL, the
    // GROUP BY and its two COUNT(DISTINCT) sorted every pair three times (temporary b-trees on
    // SQLite, a sort spilling to disk on PostgreSQL), which took as long as finding them.
    const std::string sql =
        fmt::format("WITH {}, h AS ({}) SELECT uid, inc, acked FROM h", cte, HandledSql(db));
    struct Seen {
      std::unordered_set<int64_t> acked, all;
    };
    std::map<std::string, Seen> seen;
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      Seen& u = seen[s.Text(0)];
      const int64_t inc = s.Int(1);
      u.all.insert(inc);
      if (s.Int(2) == 1) u.acked.insert(inc);
    }));
    std::vector<HandledCount> out;
    for (const auto& [user, u] : seen) {
      out.push_back(HandledCount{user, static_cast<int64_t>(u.acked.size()),
                                 static_cast<int64_t>(u.all.size())});
    }
    return out;
  });
}

Result<NoiseReport> SqlStore::Noise(const NoiseQuery& q) {
  const int64_t from = Ms(q.from), to = Ms(q.to);
  const int64_t window =
      std::chrono::duration_cast<std::chrono::milliseconds>(q.flap_window).count();
  const int64_t top = std::clamp(q.top, 1, 100);
  static const std::string kPerIncident = fmt::format(
      "WITH t AS (SELECT i.alert_count AS c FROM incidents i WHERE i.merged_into = 0 AND {d} >= ? "
      "AND {d} < ? AND i.alert_count > 0), r AS (SELECT c, {rank} FROM t) SELECT {stats} FROM r",
      fmt::arg("d", kDetected), fmt::arg("rank", RankColumns("c", "", "rc", "nc")),
      fmt::arg("stats", StatsColumns("c", "rc", "nc")));
  static const std::string kAlertsWhere =
      "id >= ? AND id < ? AND created_at >= ? AND created_at < ?";
  // The top `column` values by alert count, and (on every row, summed over all the groups
  // before LIMIT) the totals: alerts, never acknowledged, open.
  auto top_sql = [](std::string_view column) {
    return fmt::format(
        "SELECT {0}, COUNT(*) AS c, SUM(COUNT(*)) OVER (), SUM(SUM(CASE WHEN status = 'resolved' "
        "AND acknowledged_at IS NULL THEN 1 ELSE 0 END)) OVER (), SUM(SUM(CASE WHEN status <> "
        "'resolved' THEN 1 ELSE 0 END)) OVER () FROM alerts WHERE {1} GROUP BY {0} ORDER BY c "
        "DESC, {0} LIMIT ?",
        column, kAlertsWhere);
  };
  static const std::string kTopSources = top_sql("source");
  static const std::string kTopIntegrations = top_sql("integration_key");
  // A flap: an alert created within the window after the previous alert of its key resolved.
  static const std::string kFlaps = fmt::format(
      "WITH a AS (SELECT integration_key AS k, dedup_key AS dk, created_at AS c, "
      "LAG(resolved_at) OVER (PARTITION BY integration_key, dedup_key ORDER BY created_at, id) "
      "AS prev FROM alerts WHERE {}), "
      "g AS (SELECT k, dk, COUNT(*) AS n FROM a WHERE c >= ? AND prev IS NOT NULL AND c >= prev "
      "AND c - prev <= ? GROUP BY k, dk) "
      "SELECT k, dk, n, SUM(n) OVER (), COUNT(*) OVER () FROM g ORDER BY n DESC, k, dk LIMIT ?",
      kAlertsWhere);
  return WithReader([&](Db& db) -> Result<NoiseReport> {
    NoiseReport out;
    HOUSTON_RETURN_IF_ERROR(Query(db, kPerIncident, {from, to}, [&](const Stmt& s) {
      out.alerts_per_incident = ReadStats(s, 0, 1.0);
      out.incidents = out.alerts_per_incident.n;
    }));
    HOUSTON_ASSIGN_OR_RETURN(IdRange ids, IdsBetween(db, "alerts", from - window, to));
    std::vector<Param> top_params{ids.lo, ids.hi, from, to, top};
    HOUSTON_RETURN_IF_ERROR(Query(db, kTopSources, top_params, [&](const Stmt& s) {
      out.top_sources.push_back(KeyCount{s.Text(0), s.Int(1)});
      out.alerts = s.Int(2);
      out.never_acknowledged = s.Int(3);
      out.open = s.Int(4);
    }));
    HOUSTON_RETURN_IF_ERROR(Query(db, kTopIntegrations, top_params, [&](const Stmt& s) {
      out.top_integrations.push_back(KeyCount{s.Text(0), s.Int(1)});
    }));
    std::vector<Param> flap_params{ids.lo, ids.hi, from - window, to, from, window, top};
    HOUSTON_RETURN_IF_ERROR(Query(db, kFlaps, flap_params, [&](const Stmt& s) {
      out.top_flapping.push_back(KeyCount{s.Text(0) + "/" + s.Text(1), s.Int(2)});
      out.flaps = s.Int(3);
      out.flapping_keys = s.Int(4);
    }));
    return out;
  });
}

Result<std::pair<int64_t, std::vector<OverdueActionItem>>> SqlStore::OverdueActionItems(
    TimePoint now, const std::vector<std::string>& services, int limit) {
  std::vector<Param> params{Ms(now)};
  std::string filter = ServiceFilter(services, params, "service_id");
  params.emplace_back(int64_t{std::clamp(limit, 1, 1000)});
  const std::string sql = fmt::format(
      "SELECT id, incident_id, title, owner, due, status, overdue_at, COUNT(*) OVER () FROM "
      "action_items WHERE status IN ('open', 'in_progress') AND overdue_at < ?{} ORDER BY "
      "overdue_at, id LIMIT ?",
      filter);
  return WithReader([&](Db& db) -> Result<std::pair<int64_t, std::vector<OverdueActionItem>>> {
    std::pair<int64_t, std::vector<OverdueActionItem>> out{0, {}};
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      out.second.push_back(OverdueActionItem{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4),
                                             s.Text(5), FromMs(s.Int(6))});
      out.first = s.Int(7);
    }));
    return out;
  });
}

Result<std::pair<int64_t, std::vector<OverduePostmortem>>> SqlStore::OverduePostmortems(
    TimePoint now, const std::vector<std::string>& services, int limit) {
  std::vector<Param> params{Ms(now)};
  std::string filter = ServiceFilter(services, params);
  params.emplace_back(int64_t{std::clamp(limit, 1, 1000)});
  const std::string sql = fmt::format(
      "SELECT p.incident_id, i.title, p.owner, p.status, p.due_at, COUNT(*) OVER () FROM "
      "postmortems p JOIN incidents i ON i.id = p.incident_id WHERE p.due_at IS NOT NULL AND "
      "p.due_at < ? AND p.status <> 'published'{} ORDER BY p.due_at, p.incident_id LIMIT ?",
      filter);
  return WithReader([&](Db& db) -> Result<std::pair<int64_t, std::vector<OverduePostmortem>>> {
    std::pair<int64_t, std::vector<OverduePostmortem>> out{0, {}};
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      out.second.push_back(
          OverduePostmortem{s.Int(0), s.Text(1), s.Text(2), s.Text(3), FromMs(s.Int(4))});
      out.first = s.Int(5);
    }));
    return out;
  });
}

Result<ResponderRecord> SqlStore::RecordOf(const std::string& user, TimePoint from, TimePoint to) {
  const int64_t f = Ms(from), t = Ms(to);
  return WithReader([&](Db& db) -> Result<ResponderRecord> {
    ResponderRecord out;
    std::unordered_set<int64_t> handled;
    // The incidents they acknowledged in range (the first acknowledgement of each), each with
    // the time from the first page to them for it, at or before that acknowledgement (a seek on
    // the primary key of pages, which starts with the incident): one pass over the
    // acknowledgements of the range for both the incidents handled and the pages answered.
    // (user_id || '') keeps SQLite without statistics off pages_user_at, whose range of the
    // person's pages before the acknowledgement it would otherwise scan for every incident.
    static const std::string kAcks =
        "WITH a AS (SELECT incident_id, MIN(at) AS at FROM audit_log WHERE action = "
        "'incident.acknowledged' AND actor_type = 'user' AND actor_id = ? AND at >= ? AND at < ? "
        "AND incident_id IS NOT NULL GROUP BY incident_id) "
        "SELECT a.incident_id, a.at - (SELECT MIN(g.at) FROM pages g WHERE g.incident_id = "
        "a.incident_id AND (g.user_id || '') = ? AND g.at <= a.at) FROM a";
    std::vector<int64_t> answered;  // milliseconds
    HOUSTON_RETURN_IF_ERROR(Query(db, kAcks, {user, f, t, user}, [&](const Stmt& s) {
      handled.insert(s.Int(0));
      if (!s.IsNull(1)) answered.push_back(s.Int(1));
    }));
    out.pages_answered = StatsOf(answered, 0.001);
    // The incidents detected in range on which they hold a role or are a responder (as
    // HandledSql finds them): one pass for the incidents handled, the roles and responder on.
    const std::string needle = JsonQuoted(user), role = ":" + needle;
    const std::string on = fmt::format(
        "SELECT i.id, i.roles_json, CASE WHEN {instr}(i.roles_json, ?) > 0 THEN 1 ELSE 0 END, "
        "CASE WHEN {instr}(i.responders_json, ?) > 0 THEN 1 ELSE 0 END FROM incidents i WHERE "
        "i.merged_into = 0 AND {d} >= ? AND {d} < ? AND (i.roles_json <> '{{}}' OR "
        "i.responders_json <> '[]') AND ({instr}(i.roles_json, ?) > 0 OR "
        "{instr}(i.responders_json, ?) > 0)",
        fmt::arg("d", kDetected), fmt::arg("instr", Instr(db)));
    HOUSTON_RETURN_IF_ERROR(Query(db, on, {role, needle, f, t, role, needle}, [&](const Stmt& s) {
      handled.insert(s.Int(0));
      if (s.Int(2) == 1) {
        for (const auto& [name, holder] : ParsePairs(s.Text(1))) {
          if (holder == user) ++out.roles[name];
        }
      }
      if (s.Int(3) == 1) ++out.responder_on;
    }));
    out.incidents_handled = static_cast<int64_t>(handled.size());
    // Pages received: their range in pages_user_at.
    static const std::string kPages =
        "SELECT COUNT(*) FROM pages WHERE user_id = ? AND at >= ? AND at < ?";
    HOUSTON_RETURN_IF_ERROR(
        Query(db, kPages, {user, f, t}, [&](const Stmt& s) { out.pages_received = s.Int(0); }));
    // Postmortems written and action items closed.
    HOUSTON_RETURN_IF_ERROR(
        Query(db,
              "SELECT COUNT(*) FROM postmortems WHERE owner = ? AND status = 'published' AND "
              "published_at >= ? AND published_at < ?",
              {user, f, t}, [&](const Stmt& s) { out.postmortems_published = s.Int(0); }));
    HOUSTON_RETURN_IF_ERROR(Query(
        db,
        "SELECT COUNT(*) FROM action_items WHERE owner = ? AND status = 'done' AND closed_at >= ? "
        "AND closed_at < ?",
        {user, f, t}, [&](const Stmt& s) { out.action_items_closed = s.Int(0); }));
    return out;
  });
}

}  // namespace houston::store::sql
