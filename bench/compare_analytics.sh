#!/usr/bin/env bash
# bench/compare_analytics.sh: the analytics bench of two builds side by side, in one run.
#
#   bench/compare_analytics.sh OLD_BUILD_DIR NEW_BUILD_DIR [sqlite|postgres|both]
#
# For each database, runs OLD's bench/analytics_bench then NEW's, back to back (each fills its own
# fresh database), at nice 10, and prints both outputs under a heading. Compare the medians as
# ratios: the shared machine's load moves both alike within one run.
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,8p' "$0" >&2; exit 2; }
OLD=$(cd "$1" && pwd)/bench/analytics_bench
NEW=$(cd "$2" && pwd)/bench/analytics_bench
WHICH=${3:-both}
for db in sqlite postgres; do
  [[ $WHICH == both || $WHICH == "$db" ]] || continue
  echo "### $db: old ($1)"
  nice -n 10 "$OLD" "$db"
  echo "### $db: new ($2)"
  nice -n 10 "$NEW" "$db"
done
