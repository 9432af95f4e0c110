#!/usr/bin/env bash
# bench/compare_builds.sh: intake throughput of two houston builds side by side, in one run.
#
#   bench/compare_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR
#
# For each case and repetition it runs both builds back to back (the order alternates between
# repetitions, so drift on a shared machine hits both), each on a fresh database, houston pinned
# to SUT_CPU and wrk to WRK_CPU (keep-alive, 1 thread, CONNECTIONS connections, --sync full),
# and prints events/s per run and the NEW/OLD ratio of the medians. Cases:
#   intake   every request a new dedup key (a new alert and incident), bench/org-intake.yaml:
#            nothing is paged, no incident rules or webhooks: the cost of intake itself.
#   example  the same load on each build's own examples/org.yaml (<build>/../examples/org.yaml
#            if present, else this tree's): escalations page, and (in builds that have them)
#            incident rules, outbound incident webhooks and the incident fan-out run too.
#   hot      100 hot keys (every request folds into an open alert), org-intake.yaml.
#   rules    new keys; OLD on org-intake.yaml, NEW on bench/org-rules.yaml (an incident rule
#            declares every new incident SEV2 and an outbound webhook hears of it): what the
#            incident fan-out costs intake when it has work for every alert.
# Environment: REPEAT [3], DURATION seconds [10], WARMUP [2], CONNECTIONS [32], SUT_CPU [1],
# WRK_CPU [0], CASES ["intake hot rules example"], OLD_LABEL / NEW_LABEL (e.g. the commits).
# Loopback only; stops what it starts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
[[ $# -eq 2 ]] || { sed -n '2,18p' "$0" >&2; exit 2; }
OLD_DIR=$(cd "$1" && pwd) NEW_DIR=$(cd "$2" && pwd)
OLD=$OLD_DIR/houston NEW=$NEW_DIR/houston
example_org() {  # the examples/org.yaml of the tree a build directory sits in
  if [[ -f $1/../examples/org.yaml ]]; then echo "$1/../examples/org.yaml"; else echo "$ROOT/examples/org.yaml"; fi
}
for b in "$OLD" "$NEW"; do [[ -x $b ]] || { echo "no executable $b" >&2; exit 2; }; done
REPEAT=${REPEAT:-3} DURATION=${DURATION:-10} WARMUP=${WARMUP:-2} CONNECTIONS=${CONNECTIONS:-32}
SUT_CPU=${SUT_CPU:-1} WRK_CPU=${WRK_CPU:-0} CASES=${CASES:-"intake hot rules example"}
for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install wrk util-linux curl)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/houston-compare.XXXXXX)
HPID=''
cleanup() {
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

run_one() {  # run_one BINARY ORG MODE RUNID -> prints events/s
  local bin=$1 org=$2 mode=$3 id=$4 pf=$TMP/port db=$TMP/$RANDOM.db
  rm -f "$pf"
  taskset -c "$SUT_CPU" "$bin" serve --config "$org" --db "$db" --listen 127.0.0.1:0 \
    --port-file "$pf" --sync full --log-level error --allow-egress 127.0.0.1/32 \
    >>"$TMP/houston.log" 2>&1 &
  HPID=$!
  for _ in $(seq 200); do [[ -s $pf ]] && break; sleep 0.05; done
  local url=http://127.0.0.1:$(cat "$pf")
  curl -sf "$url/healthz" >/dev/null || { echo "houston did not start: $(tail -3 "$TMP/houston.log")" >&2; exit 1; }
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/events_v2.lua" "$url" \
    -- "$mode" "$id-warm" >/dev/null 2>&1
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH/events_v2.lua" "$url" \
    -- "$mode" "$id" >"$TMP/wrk.out" 2>&1
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=''
  rm -f "$db" "$db-wal" "$db-shm" "$db.link-key"
  local other
  other=$(grep '^RESULT ' "$TMP/wrk.out" | tr ' ' '\n' | sed -n 's/^other=//p')
  [[ ${other:-0} = 0 ]] || echo "warning: $other answers were not 202" >&2
  grep '^RESULT ' "$TMP/wrk.out" | tr ' ' '\n' | sed -n 's/^rps=//p'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "# houston builds side by side: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "OLD: $OLD ${OLD_LABEL:-}"
echo "NEW: $NEW ${NEW_LABEL:-}"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s (warm-up ${WARMUP}s), houston on CPU $SUT_CPU, wrk on CPU $WRK_CPU, --sync full, $REPEAT repetitions"
echo
echo "| case | OLD events/s (each run) | NEW events/s (each run) | NEW/OLD (medians) |"
echo "|---|---|---|---|"
for c in $CASES; do
  case $c in
    intake) org_old=$BENCH/org-intake.yaml org_new=$org_old mode=new ;;
    example) org_old=$(example_org "$OLD_DIR") org_new=$(example_org "$NEW_DIR") mode=new ;;
    hot) org_old=$BENCH/org-intake.yaml org_new=$org_old mode=hot ;;
    rules) org_old=$BENCH/org-intake.yaml org_new=$BENCH/org-rules.yaml mode=new ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  olds='' news=''
  for r in $(seq "$REPEAT"); do
    if (( r % 2 )); then
      olds+=" $(run_one "$OLD" "$org_old" "$mode" "o$r$RANDOM")"
      news+=" $(run_one "$NEW" "$org_new" "$mode" "n$r$RANDOM")"
    else
      news+=" $(run_one "$NEW" "$org_new" "$mode" "n$r$RANDOM")"
      olds+=" $(run_one "$OLD" "$org_old" "$mode" "o$r$RANDOM")"
    fi
  done
  mo=$(echo "$olds" | median) mn=$(echo "$news" | median)
  printf '| %s | %s | %s | %.2f |\n' "$c" "$olds" "$news" "$(awk -v a="$mn" -v b="$mo" 'BEGIN { print a / b }')"
done
