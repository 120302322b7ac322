#!/usr/bin/env bash
# Steering benchmark on one machine, loopback only: the server with --steering kernel and with --steering bpf,
# side by side, rounds interleaved (kernel, bpf, then bpf, kernel, ...). Two parts:
#
#   stalled: tcp-churn (a new connection per request, 1 s timeout) while one instance's event loop is blocked by
#            the test service "stall" for --stall-ms: failed requests and latency percentiles per mode;
#   cost:    nothing stalls: tcp-churn, tcp-echo and udp-echo throughput and p99 per mode (medians of the rounds).
#
# Needs root (CAP_BPF) for bpf, python3 for the JSON, and the test classes (the stall service lives there: this
# script runs `mvn -q -o test-compile`). Every run is bounded (--duration); every server it starts is stopped when
# it exits. Prints a markdown report on stdout (and to --out FILE when given); the raw JSON of every run is kept in
# target/steering-bench/.
#
#   bench/steering.sh [--rounds N] [--duration SECONDS] [--instances N] [--concurrency N] [--stall-ms MS]
#                     [--out FILE]
set -euo pipefail

ROUNDS=3
DURATION=8
INSTANCES=4
CONCURRENCY=32
STALL_MS=4000
OUT=
REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE_PORT=${BENCH_BASE_PORT:-19700}

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --stall-ms) STALL_MS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "steering.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$REPO/bench/lib.sh"
WORK=$(mktemp -d /tmp/reuseport-steering.XXXXXX)
SERVER_PID=

stop_server() {
  stop_pid "$SERVER_PID"
  SERVER_PID=
}
RAW=$REPO/target/steering-bench
trap 'stop_server; mkdir -p "$RAW" && cp "$WORK"/*.json "$RAW"/ 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

copy_test_classpath
PORT=$BASE_PORT
while ! port_free "$PORT"; do
  PORT=$((PORT + 1))
done

# start_server MODE: the server on PORT with the stall service, until its ready line (60 s at most)
start_server() {
  java -cp "$CP" io.reuseport.Main --host 127.0.0.1 --port "$PORT" --admin-port 0 --instances "$INSTANCES" \
    --service stall --steering "$1" > "$WORK/server-$1.log" 2>&1 &
  SERVER_PID=$!
  await_ready "$WORK/server-$1.log" "$SERVER_PID" || { log "server ($1) did not start"; exit 1; }
}

# load MODE DURATION TIMEOUT: one bounded run of the load client, its JSON on stdout (exit 1 when no request
# succeeded is a result here, not a reason to stop)
load() {
  java -cp "$CP" io.reuseport.Main load --mode "$1" --target "127.0.0.1:$PORT" --concurrency "$CONCURRENCY" \
    --duration "$2" --timeout "$3" --json || true
}

# stall: one connection asks an instance to block its loop for STALL_MS (the answer comes after the stall)
stall() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'stall %s\n' "$STALL_MS" >&3
}

# field FILE EXPR: EXPR over the load client's JSON object (its last line that is one); '-' when the run gave none
field() {
  python3 -c "
import json
lines = [l for l in open('$1') if l.startswith('{')]
if not lines:
    print('-')
else:
    d = json.loads(lines[-1])
    print($2)"
}

LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOADAVG_BEFORE; $ROUNDS rounds of ${DURATION}s per load"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="kernel bpf"; else order="bpf kernel"; fi
  for mode in $order; do
    start_server "$mode"
    grep -q "steering $mode: BPF selector attached\|steering: the kernel's hash" "$WORK/server-$mode.log" \
      || { log "server did not run with steering $mode:"; grep -i steer "$WORK/server-$mode.log" >&2; exit 1; }
    load tcp-churn 2s 1s > /dev/null                      # warm-up, uncounted
    for kind in tcp-churn tcp-echo udp-echo; do
      load "$kind" "${DURATION}s" 1s > "$WORK/cost-$mode-$kind-$round.json"
    done
    # stalled: the stall starts once the client reports its first progress (its JVM is up and loading), inside
    # the run; --duration must exceed --stall-ms by a few seconds
    load tcp-churn "${DURATION}s" 1s > "$WORK/stall-$mode-$round.json" 2> "$WORK/progress" &
    loader=$!
    for _ in $(seq 1 300); do
      grep -q '^\[' "$WORK/progress" && break
      sleep 0.1
    done
    stall
    wait "$loader"
    exec 3>&-
    stop_server
    log "round $round $mode done"
  done
done
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

report() {
  echo "Machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)."
  echo "Load average (1, 5, 15 min) before: $LOADAVG_BEFORE; after: $LOADAVG_AFTER."
  echo "Command: \`bench/steering.sh --rounds $ROUNDS --duration $DURATION --instances $INSTANCES" \
    "--concurrency $CONCURRENCY --stall-ms $STALL_MS\`"
  echo
  echo "One instance stalled for $STALL_MS ms inside a ${DURATION} s tcp-churn run (1 s timeout), per round:"
  echo
  echo "| round | steering | requests | failed | failed % | p50 ms | p99 ms | p99.9 ms |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for round in $(seq 1 "$ROUNDS"); do
    for mode in kernel bpf; do
      f=$WORK/stall-$mode-$round.json
      echo "| $round | $mode | $(field "$f" "d['requests']") | $(field "$f" "d['errors'] + d['timeouts']") |" \
        "$(field "$f" "'%.2f' % (100.0 * (d['errors'] + d['timeouts']) / max(1, d['requests']))") |" \
        "$(field "$f" "'%.1f' % ((d['latencyUs']['p50'] or 0) / 1000)") |" \
        "$(field "$f" "'%.1f' % ((d['latencyUs']['p99'] or 0) / 1000)") |" \
        "$(field "$f" "'%.1f' % ((d['latencyUs']['p999'] or 0) / 1000)") |"
    done
  done
  echo
  echo "Nothing stalled: medians over $ROUNDS rounds of ${DURATION} s (throughput in requests or messages per second):"
  echo
  echo "| load | kernel msg/s | bpf msg/s | bpf / kernel | kernel p99 ms | bpf p99 ms | failed (kernel, bpf) |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for kind in tcp-churn tcp-echo udp-echo; do
    for mode in kernel bpf; do
      t[$mode]=$(for r in $(seq 1 "$ROUNDS"); do field "$WORK/cost-$mode-$kind-$r.json" "d['throughput']"; done \
        | median)
      p[$mode]=$(for r in $(seq 1 "$ROUNDS"); do
        field "$WORK/cost-$mode-$kind-$r.json" "'%.2f' % ((d['latencyUs']['p99'] or 0) / 1000)"; done | median)
      e[$mode]=$(for r in $(seq 1 "$ROUNDS"); do
        field "$WORK/cost-$mode-$kind-$r.json" "d['errors'] + d['timeouts']"; done | paste -sd+ | bc)
    done
    ratio=$(python3 -c "print('%.3f' % (${t[bpf]} / max(1e-9, ${t[kernel]})))")
    echo "| $kind | ${t[kernel]} | ${t[bpf]} | $ratio |" \
      "${p[kernel]} | ${p[bpf]} | ${e[kernel]}, ${e[bpf]} |"
  done
}
declare -A t p e
print_report
