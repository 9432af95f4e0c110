#!/usr/bin/env bash
# bench/compare_builds.sh: intake throughput and CPU per request of two houston builds side by
# side, in one run.
#
#   bench/compare_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR
#
# For each case and repetition it runs both builds back to back (the order alternates between
# repetitions, so drift on a shared machine hits both), each on a fresh database, houston pinned
# to SUT_CPU and wrk to WRK_CPU (keep-alive, 1 thread, CONNECTIONS connections, --sync full),
# and prints events/s and houston's CPU per request (user + system, all threads, µs) per run,
# and the NEW/OLD ratios of the medians. Cases:
#   intake   every request a new dedup key (a new alert and incident), bench/org-intake.yaml:
#            nothing is paged, no incident rules or webhooks: the cost of intake itself.
#   example  the same load on each build's own examples/org.yaml (<build>/../examples/org.yaml
#            if present, else this tree's): escalations page, and (in builds that have them)
#            incident rules, outbound incident webhooks and the incident fan-out run too.
#   hot      100 hot keys (every request folds into an open alert), org-intake.yaml.
#   paging   new keys on a generated org whose escalation pages one of 2000 users at once, by
#            webhook to a sink on WRK_CPU (bench/paging_latency.py --sink-only): intake plus
#            everything paging costs (the engine, the outbox, the webhook deliveries).
#   healthz  GET /healthz: the HTTP layer alone.
#   rules    new keys; OLD on org-intake.yaml, NEW on bench/org-rules.yaml (an incident rule
#            declares every new incident SEV2 and an outbound webhook hears of it): what the
#            incident fan-out costs intake when it has work for every alert.
# Environment: REPEAT [3], DURATION seconds [10], WARMUP [2], CONNECTIONS [32], SUT_CPU [1],
# WRK_CPU [0], CASES ["intake hot paging healthz"; also: rules example], OLD_LABEL / NEW_LABEL
# (e.g. the commits).
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
SUT_CPU=${SUT_CPU:-1} WRK_CPU=${WRK_CPU:-0} CASES=${CASES:-"intake hot paging healthz"}
CLK_TCK=$(getconf CLK_TCK)
for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install wrk util-linux curl)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/houston-compare.XXXXXX)
HPID='' SINK_PID=''
cleanup() {
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  [[ -n $SINK_PID ]] && kill -TERM "$SINK_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
start_sink() {  # starts the webhook sink once (in this shell, so that cleanup stops it); sets SINK_ORG
  if [[ -z $SINK_PID ]]; then
    taskset -c "$WRK_CPU" python3 "$BENCH/paging_latency.py" --sink-only "$TMP/sink" --users 2000 \
      >"$TMP/sink.log" 2>&1 &
    SINK_PID=$!
    for _ in $(seq 200); do [[ -s $TMP/sink/org.yaml ]] && break; sleep 0.05; done
  fi
  [[ -s $TMP/sink/org.yaml ]] || { echo "the webhook sink did not start: $(cat "$TMP/sink.log")" >&2; exit 1; }
  SINK_ORG=$TMP/sink/org.yaml
}

run_one() {  # run_one BINARY ORG MODE RUNID -> prints "events/s cpu_us_per_request"
  local bin=$1 org=$2 mode=$3 id=$4 pf=$TMP/port db=$TMP/$RANDOM.db
  local script=events_v2.lua args=(-- "$mode")
  [[ $mode = healthz ]] && script=healthz.lua args=()
  rm -f "$pf"
  taskset -c "$SUT_CPU" "$bin" serve --config "$org" --db "$db" --listen 127.0.0.1:0 \
    --port-file "$pf" --sync full --log-level error --allow-egress 127.0.0.1/32 \
    --max-pages-per-minute 1000 >>"$TMP/houston.log" 2>&1 &
  HPID=$!
  for _ in $(seq 200); do [[ -s $pf ]] && break; sleep 0.05; done
  local url=http://127.0.0.1:$(cat "$pf")
  curl -sf "$url/healthz" >/dev/null || { echo "houston did not start: $(tail -3 "$TMP/houston.log")" >&2; exit 1; }
  local warm=("${args[@]}") run=("${args[@]}")
  if [[ $mode != healthz ]]; then warm+=("$id-warm"); run+=("$id"); fi
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/$script" "$url" \
    "${warm[@]}" >/dev/null 2>&1
  local t0 t1
  t0=$(cpu_ticks "$HPID")
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH/$script" "$url" \
    "${run[@]}" >"$TMP/wrk.out" 2>&1
  t1=$(cpu_ticks "$HPID")
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=''
  rm -f "$db" "$db-wal" "$db-shm" "$db.link-key"
  local other
  other=$(grep '^RESULT ' "$TMP/wrk.out" | tr ' ' '\n' | sed -n 's/^other=//p')
  [[ ${other:-0} = 0 ]] || echo "warning: $other answers were not the expected status" >&2
  local rps requests
  rps=$(grep '^RESULT ' "$TMP/wrk.out" | tr ' ' '\n' | sed -n 's/^rps=//p')
  requests=$(grep '^RESULT ' "$TMP/wrk.out" | tr ' ' '\n' | sed -n 's/^requests=//p')
  echo "$rps $(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.0f", t / hz * 1e6 / (n > 0 ? n : 1) }')"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "# houston builds side by side: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "OLD: $OLD ${OLD_LABEL:-}"
echo "NEW: $NEW ${NEW_LABEL:-}"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s (warm-up ${WARMUP}s), houston on CPU $SUT_CPU, wrk on CPU $WRK_CPU, --sync full, $REPEAT repetitions"
echo
echo "| case | OLD events/s (each run) | NEW events/s (each run) | NEW/OLD events/s | OLD CPU µs/request (each run) | NEW CPU µs/request (each run) | NEW/OLD CPU per request |"
echo "|---|---|---|---:|---|---|---:|"
for c in $CASES; do
  case $c in
    intake) org_old=$BENCH/org-intake.yaml org_new=$org_old mode=new ;;
    example) org_old=$(example_org "$OLD_DIR") org_new=$(example_org "$NEW_DIR") mode=new ;;
    hot) org_old=$BENCH/org-intake.yaml org_new=$org_old mode=hot ;;
    rules) org_old=$BENCH/org-intake.yaml org_new=$BENCH/org-rules.yaml mode=new ;;
    paging) start_sink; org_old=$SINK_ORG org_new=$org_old mode=new ;;
    healthz) org_old=$BENCH/org-intake.yaml org_new=$org_old mode=healthz ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  olds='' news='' ocpu='' ncpu=''
  for r in $(seq "$REPEAT"); do
    for who in $( ((r % 2)) && echo "old new" || echo "new old"); do
      if [[ $who = old ]]; then
        read -r rps cpu < <(run_one "$OLD" "$org_old" "$mode" "o$r$RANDOM")
        olds+=" $rps" ocpu+=" $cpu"
      else
        read -r rps cpu < <(run_one "$NEW" "$org_new" "$mode" "n$r$RANDOM")
        news+=" $rps" ncpu+=" $cpu"
      fi
    done
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$olds" "$news" \
    "$(ratio "$(echo "$news" | median)" "$(echo "$olds" | median)")" "$ocpu" "$ncpu" \
    "$(ratio "$(echo "$ncpu" | median)" "$(echo "$ocpu" | median)")"
done
