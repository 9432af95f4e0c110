// SqlStore: the analytics reads (store/analytics_store.h), one SQL for SQLite and PostgreSQL.
//
// Ranges are read through indexes only: incidents by their detection time (the partial
// expression index incidents_detected of schema version 9, covering since version 12),
// acknowledgements by the partial index audit_acks, pages (one row per page, schema version 11)
// by person and time (pages_user_at); alerts are bounded by id, not by a new index on their time
// (each index on alerts costs every intake insert): their ids grow with created_at, so a binary
// search over the primary key finds the id range of a time range (see IdFrom), and the exact
// time filter runs inside it.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "core/json_util.h"
#include "store/sql/analytics_sql.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

namespace {

// " AND i.service_id IN (?, ...)" for a non-empty list.
std::string ServiceFilter(const std::vector<std::string>& services, std::vector<Param>& params,
                          std::string_view column = "i.service_id") {
  if (services.empty()) return "";
  for (const auto& s : services) params.emplace_back(s);
  return fmt::format(" AND {} IN ({})", column, Repeated("?", services.size()));
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

void DurationSample::Merge(DurationSample&& o) {
  if (values_.empty()) {
    values_ = std::move(o.values_);
  } else {
    values_.insert(values_.end(), o.values_.begin(), o.values_.end());
  }
  sum_ += o.sum_;
}

DurationStats DurationSample::Stats(double scale) {
  DurationStats d;
  d.n = static_cast<int64_t>(values_.size());
  if (d.n == 0) return d;
  // The sum is exact (|sum| < 2^53 for any realistic durations), so the mean is the correctly
  // rounded quotient, as both databases' AVG of integers gives.
  d.mean = static_cast<double>(sum_) / static_cast<double>(d.n) * scale;
  const auto rank = [&](int p) { return static_cast<size_t>((d.n * p + 99) / 100 - 1); };
  const size_t k50 = rank(50), k90 = rank(90);
  std::nth_element(values_.begin(), values_.begin() + k50, values_.end());
  d.p50 = static_cast<double>(values_[k50]) * scale;
  // Every value past k50 is at least values_[k50]: the one of rank k90 is among them (or is
  // values_[k50] itself).
  if (k90 > k50) std::nth_element(values_.begin() + k50 + 1, values_.begin() + k90, values_.end());
  d.p90 = static_cast<double>(values_[k90]) * scale;
  return d;
}

std::string Repeated(std::string_view one, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += one;
  }
  return out;
}

Result<int64_t> IdFrom(Db& db, std::string_view table, int64_t t) {
  int64_t lo = 0, hi = 0;
  // Two statements: SQLite reads MIN or MAX of the primary key from one end of the b-tree only
  // when it is the query's single aggregate (both in one SELECT scan the whole table).
  HOUSTON_RETURN_IF_ERROR(Query(db, fmt::format("SELECT MIN(id) FROM {}", table), {},
                                [&](const Stmt& s) { lo = s.IsNull(0) ? 1 : s.Int(0); }));
  HOUSTON_RETURN_IF_ERROR(Query(db, fmt::format("SELECT MAX(id) FROM {}", table), {},
                                [&](const Stmt& s) { hi = s.IsNull(0) ? 0 : s.Int(0) + 1; }));
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

Result<IdRange> IdsBetween(Db& db, std::string_view table, int64_t from, int64_t to) {
  HOUSTON_ASSIGN_OR_RETURN(int64_t lo, IdFrom(db, table, from - kIdSkewMs));
  HOUSTON_ASSIGN_OR_RETURN(int64_t hi, IdFrom(db, table, to + kIdSkewMs));
  return IdRange{lo, hi};
}

Result<std::vector<IncidentStatsRow>> SqlStore::IncidentStats(const IncidentStatsQuery& q) {
  if (q.edges.size() < 2 || q.edges.size() > static_cast<size_t>(kMaxBuckets) + 1) {
    return std::unexpected(InvalidArgument(fmt::format(
        "between 1 and {} buckets are needed ({} edges given)", kMaxBuckets, q.edges.size())));
  }
  // One index-only range scan (incidents_detected, covering since schema version 12) streams each
  // incident's detection time, group column and end times; the bucket (a binary search over the
  // edges), the group and the statistics are computed here. (Computed in SQL, the percentiles took
  // a ROW_NUMBER() window per duration, each sorting every incident of the range, and the bucket a
  // tree of CASE comparisons per row.) Rows come in (bucket, group) order, groups in byte order
  // on both databases.
  std::vector<int64_t> edges;
  edges.reserve(q.edges.size());
  for (TimePoint e : q.edges) edges.push_back(Ms(e));
  std::vector<Param> params{edges.front(), edges.back()};
  std::string services = ServiceFilter(q.services, params);
  const std::string sql = fmt::format(
      "SELECT {d}, {g}, COALESCE(i.first_acknowledged_at, i.acknowledged_at), "
      "COALESCE(i.mitigated_at, i.resolved_at), i.resolved_at FROM incidents i "
      "WHERE i.merged_into = 0 AND {d} >= ? AND {d} < ?{services}",
      fmt::arg("d", kDetected),
      fmt::arg("g", q.group_by == IncidentGroupBy::kSeverity ? "i.sev" : "i.service_id"),
      fmt::arg("services", services));
  // The group of a row's group column (service id or SEV level), as documented in
  // IncidentStatsRow.
  auto group_of = [&q](const std::string& raw) -> std::string {
    switch (q.group_by) {
      case IncidentGroupBy::kService:
        return raw;
      case IncidentGroupBy::kSeverity:
        return raw.empty() ? "untriaged" : raw;
      case IncidentGroupBy::kTeam: {
        auto it = q.service_team.find(raw);
        return it == q.service_team.end() || it->second.empty() ? "none" : it->second;
      }
    }
    return raw;
  };
  struct Cell {
    int64_t count = 0;
    DurationSample tta, ttm, ttr;
  };
  return WithReader([&](Db& db) -> Result<std::vector<IncidentStatsRow>> {
    std::unordered_map<std::string, size_t> group_index;  // group column -> groups
    std::vector<std::string> groups;
    std::map<std::pair<int, size_t>, Cell> cells;  // (bucket, group index)
    HOUSTON_RETURN_IF_ERROR(Query(db, sql, params, [&](const Stmt& s) {
      const int64_t d = s.Int(0);
      auto [it, added] = group_index.try_emplace(s.Text(1), groups.size());
      if (added) groups.push_back(group_of(it->first));
      // The last edge at or before d (the range filter keeps d in [front, back)).
      const int bucket =
          static_cast<int>(std::upper_bound(edges.begin(), edges.end(), d) - edges.begin()) - 1;
      Cell& c = cells[{bucket, it->second}];
      ++c.count;
      if (!s.IsNull(2)) c.tta.Add(s.Int(2) - d);
      if (!s.IsNull(3)) c.ttm.Add(s.Int(3) - d);
      if (!s.IsNull(4)) c.ttr.Add(s.Int(4) - d);
    }));
    // Several group columns may map to one group (teams): merge their cells.
    std::map<std::pair<int, std::string>, Cell> merged;
    for (auto& [key, cell] : cells) {
      Cell& m = merged[{key.first, groups[key.second]}];
      m.count += cell.count;
      m.tta.Merge(std::move(cell.tta));
      m.ttm.Merge(std::move(cell.ttm));
      m.ttr.Merge(std::move(cell.ttr));
    }
    std::vector<IncidentStatsRow> out;
    out.reserve(merged.size());
    for (auto& [key, cell] : merged) {
      IncidentStatsRow r;
      r.bucket = key.first;
      r.group = key.second;
      r.count = cell.count;
      r.tta = cell.tta.Stats(0.001);
      r.ttm = cell.ttm.Stats(0.001);
      r.ttr = cell.ttr.Stats(0.001);
      out.push_back(std::move(r));
    }
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
    DurationSample answered;  // milliseconds
    HOUSTON_RETURN_IF_ERROR(Query(db, kAcks, {user, f, t, user}, [&](const Stmt& s) {
      handled.insert(s.Int(0));
      if (!s.IsNull(1)) answered.Add(s.Int(1));
    }));
    out.pages_answered = answered.Stats(0.001);
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
