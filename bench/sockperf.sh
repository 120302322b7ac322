#!/usr/bin/env bash
# sockperf (Debian package `sockperf`) against the server's sockperf service and against `sockperf server`, on
# loopback: ping-pong and under-load latency and throughput, over UDP and TCP, short bounded runs, the two servers
# interleaved run by run. Prints a markdown section on stdout (bench/compare.sh --sockperf puts it into its report).
# Every process it starts is stopped when it exits.
#
#   bench/sockperf.sh [--duration SECONDS] [--rounds N] [--instances N] [--mps N] [--warmup SECONDS]
#
# --duration: seconds per sockperf run (default 2); --rounds: runs per cell, the median is shown (default 3);
# --instances: the Java server's instances (default nproc); --mps: under-load message rate (default 10000);
# --warmup: before round 1, every test runs this long against each server, uncounted (JIT; default 2, 0 skips).
set -euo pipefail

DURATION=2
ROUNDS=3
INSTANCES=$(nproc)
MPS=10000
WARMUP=2
REPO=$(cd "$(dirname "$0")/.." && pwd)
JAR=$REPO/target/reuseport-server.jar
BASE_PORT=${BENCH_SOCKPERF_PORT:-19700}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --mps) MPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "sockperf.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$REPO/bench/lib.sh"
command -v sockperf >/dev/null || { log "sockperf is not installed (Debian: apt-get install sockperf)"; exit 2; }
[ -f "$JAR" ] || (cd "$REPO" && mvn -q package -DskipTests)

WORK=$(mktemp -d /tmp/reuseport-sockperf.XXXXXX)
PIDS=()
trap 'stop_pids "${PIDS[@]}"; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }

JAVA_PORT=$(free_port "$BASE_PORT")
JAVA_CMD="java -jar $JAR --service sockperf --host 127.0.0.1 --port $JAVA_PORT --admin-port 0 --instances $INSTANCES"
SP_PORT=$(free_port $((JAVA_PORT + 1)))
SP_CMD="sockperf server -i 127.0.0.1 -p $SP_PORT"
# shellcheck disable=SC2086 # word lists on purpose
$JAVA_CMD >"$WORK/java.log" 2>&1 &
PIDS+=($!)
await_listener "$JAVA_PORT" $! || { log "the Java server did not start: $(tail -n 3 "$WORK/java.log")"; exit 1; }
# sockperf's server takes TCP and UDP on one port only with --tcp absent (UDP) or present (TCP): run one of each
$SP_CMD >"$WORK/sp-udp.log" 2>&1 &
PIDS+=($!)
SP_TCP_PORT=$(free_port $((SP_PORT + 1)))
sockperf server --tcp -i 127.0.0.1 -p "$SP_TCP_PORT" >"$WORK/sp-tcp.log" 2>&1 &
PIDS+=($!)
await_listener "$SP_TCP_PORT" $! || { log "sockperf server --tcp did not start"; exit 1; }
for _ in $(seq 1 100); do ss -Hlun "sport = :$SP_PORT" | grep -q . && break; sleep 0.1; done
log "java on $JAVA_PORT, sockperf server on $SP_PORT (UDP) and $SP_TCP_PORT (TCP)"

# run_one MODE PROTO PORT [SECONDS]: prints "avg p50 p99 rate" (latency in µs; rate in msg/s: round trips for
# ping-pong, messages sent for throughput, '-' for under-load, whose rate is --mps; '-' where not reported)
run_one() {
  local tcp=() port=$3 seconds=${4:-$DURATION} out
  [ "$2" = tcp ] && tcp=(--tcp)
  local extra=()
  [ "$1" = under-load ] && extra=(--mps "$MPS")
  out=$(timeout $((seconds + 30)) sockperf "$1" "${tcp[@]}" -i 127.0.0.1 -p "$port" -t "$seconds" -m 64 \
    "${extra[@]}" 2>&1) || {
    log "sockperf $1 $2 on $port failed: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    echo "- - - -"
    return
  }
  local avg p50 p99 rate received runtime
  avg=$({ grep -o 'Latency is [0-9.]*' <<<"$out" || true; } | awk '{print $3}')
  p50=$({ grep -o 'percentile 50.000 = *[0-9.]*' <<<"$out" || true; } | awk '{print $4}')
  p99=$({ grep -o 'percentile 99.000 = *[0-9.]*' <<<"$out" || true; } | awk '{print $4}')
  rate=$({ grep -o 'Message Rate is [0-9]*' <<<"$out" || true; } | awk '{print $4}')
  if [ -z "$rate" ] && [ "$1" = ping-pong ]; then
    received=$({ grep -o 'Valid Duration.*ReceivedMessages=[0-9]*' <<<"$out" || true; } | sed 's/.*=//')
    runtime=$({ grep -o 'Valid Duration\] RunTime=[0-9.]*' <<<"$out" || true; } | sed 's/.*=//')
    rate=$(awk -v r="$received" -v t="$runtime" \
      'BEGIN { if (r == "" || t == "" || t == 0) print ""; else printf "%.0f", r / t }')
  fi
  echo "${avg:--} ${p50:--} ${p99:--} ${rate:--}"
}

TESTS=("ping-pong udp" "ping-pong tcp" "under-load udp" "under-load tcp" "throughput udp" "throughput tcp")
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$WARMUP" != 0 ]; then
  log "warming up: every test for $WARMUP s against each server, uncounted"
  for t in "${TESTS[@]}"; do
    read -r mode proto <<<"$t"
    sp_port=$SP_PORT
    [ "$proto" = tcp ] && sp_port=$SP_TCP_PORT
    run_one "$mode" "$proto" "$JAVA_PORT" "$WARMUP" >/dev/null
    run_one "$mode" "$proto" "$sp_port" "$WARMUP" >/dev/null
  done
fi

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
  for t in "${TESTS[@]}"; do
    read -r mode proto <<<"$t"
    sp_port=$SP_PORT
    [ "$proto" = tcp ] && sp_port=$SP_TCP_PORT
    # alternate which server goes first, round by round
    order=("java $JAVA_PORT" "sockperf $sp_port")
    [ $((round % 2)) = 0 ] && order=("sockperf $sp_port" "java $JAVA_PORT")
    for o in "${order[@]}"; do
      read -r server port <<<"$o"
      read -r avg p50 p99 rate <<<"$(run_one "$mode" "$proto" "$port")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$proto" "$server" "$avg" "$p50" "$p99" "$rate" >>"$RESULTS"
      log "round $round $mode $proto $server: avg $avg us, p99 $p99 us, $rate msg/s"
    done
  done
done

cell_median() { # mode proto server column
  awk -F'\t' -v m="$1" -v p="$2" -v s="$3" -v c="$4" '$1 == m && $2 == p && $3 == s && $c != "-" { print $c }' \
    "$RESULTS" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "—"; else if (NR % 2) print v[(NR + 1) / 2];
      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fmt() { awk -v a="$1" -v d="$2" 'BEGIN { if (a == "—") print a; else printf "%.*f", d, a }'; }

echo "## sockperf: the sockperf service next to \`sockperf server\`"
echo
echo "Made by \`bench/sockperf.sh --duration $DURATION --rounds $ROUNDS --instances $INSTANCES --mps $MPS" \
  "--warmup $WARMUP\` on" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ), sockperf $(sockperf --version 2>&1 | head -n 1 | sed 's/^sockperf, //')," \
  "loopback," \
  "64-byte messages, the median of $ROUNDS runs of ${DURATION} s per cell after ${WARMUP} s of each test" \
  "uncounted, the two servers alternating run by run;" \
  "load average (1/5/15 min) $LOADAVG_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after." \
  "Latency is sockperf's (half the round trip), in µs;" \
  "ping-pong has one message in flight, under-load sends $MPS msg/s and asks for a reply to some, throughput" \
  "asks for none (msg/s: round trips for ping-pong, what the client sent for throughput)." \
  "\`sockperf server\` is one thread; the Java server has" \
  "$INSTANCES instances, of which a single sockperf connection or flow uses one."
echo
echo "| test | server | avg µs | p50 µs | p99 µs | msg/s |"
echo "|---|---|---:|---:|---:|---:|"
for t in "${TESTS[@]}"; do
  read -r mode proto <<<"$t"
  for server in java sockperf; do
    name="reuseport-server --service sockperf"
    [ "$server" = sockperf ] && name="sockperf server"
    echo "| $mode $proto | $name | $(fmt "$(cell_median "$mode" "$proto" "$server" 4)" 1) |" \
      "$(fmt "$(cell_median "$mode" "$proto" "$server" 5)" 1) |" \
      "$(fmt "$(cell_median "$mode" "$proto" "$server" 6)" 1) |" \
      "$(fmt "$(cell_median "$mode" "$proto" "$server" 7)" 0) |"
  done
done
echo
echo "Servers: \`${JAVA_CMD//$REPO\//}\`; \`sockperf server -i 127.0.0.1 -p PORT\` (and \`--tcp\` on a second port)."
echo "Client: \`sockperf MODE [--tcp] -i 127.0.0.1 -p PORT -t $DURATION -m 64\` (\`--mps $MPS\` for under-load)."
