// What the analytics reads of SqlStore share (store/sql/analytics.cc, store/sql/noise.cc):
// binding a parameter list and stepping rows, the detection time of an incident, statistics of
// durations, and the id range of a time range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/analytics_store.h"
#include "store/sql/db.h"

namespace houston::store::sql {

using Param = std::variant<int64_t, std::string>;

// The detection time of incident `i`: what every incident range filters on (and what the
// index incidents_detected holds, spelled exactly the same so that both databases use it).
inline constexpr std::string_view kDetected = "COALESCE(i.detected_at, i.created_at)";

// How far created_at may run behind the id order (several servers' clocks, a clock stepped
// back): the id range of a time range is widened by this much on both sides.
inline constexpr int64_t kIdSkewMs = 10 * 60 * 1000;

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

// Integer values (milliseconds, counts) collected to compute DurationStats as SQL would: COUNT,
// AVG and the nearest-rank p50/p90 (the value at rank ceil(n * p / 100) of the n sorted values).
class DurationSample {
 public:
  void Add(int64_t v) {
    values_.push_back(v);
    sum_ += v;
  }
  void Merge(DurationSample&& o);
  // Reorders the values. `scale` converts each statistic (0.001: milliseconds to seconds).
  DurationStats Stats(double scale);

 private:
  std::vector<int64_t> values_;
  int64_t sum_ = 0;
};

// `one` `n` times, comma-separated: placeholders ("?, ?") or rows of them for IN lists.
std::string Repeated(std::string_view one, size_t n);

// The first id of `table` whose created_at is at or after `t`, assuming created_at grows with
// the id (an id past every row when none is): a binary search over the primary key, O(log n)
// point reads.
Result<int64_t> IdFrom(Db& db, std::string_view table, int64_t t);

struct IdRange {
  int64_t lo = 0, hi = 0;  // [lo, hi)
};
// The ids of the rows of `table` created in [from, to), widened by kIdSkewMs on both sides.
Result<IdRange> IdsBetween(Db& db, std::string_view table, int64_t from, int64_t to);

}  // namespace houston::store::sql
