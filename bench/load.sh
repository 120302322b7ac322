#!/usr/bin/env bash
# Load-steering benchmark on one machine, loopback only (issue 22): a loop that runs but is busy. The server with
# --steering kernel and with --steering bpf, rounds interleaved (kernel, bpf, then bpf, kernel, ...), 4 instances
# of the test service "burn": two persistent connections on instance 0 ask for back-to-back 20 ms CPU bursts (the
# loop never stalls), while --threads threads make fresh connections (connect, one request, close), at most
# --per-thread each and --seconds in all. Per round: how many fresh connections reached the busy instance, failed,
# and their latency (connect + request + answer); with bpf also how long until the selector marked the instance
# busy and, once the bursts ended, until every instance's tableShare was back within 0.2-0.3.
#
# Needs root (CAP_BPF) for bpf, python3 for the JSON, and the test classes (the burn service and the scenario,
# io.reuseport.steer.BusyLoopScenario, live there: this script runs `mvn -q -o test-compile`). Every run is bounded;
# every server it starts is stopped when it exits. Prints a markdown report on stdout (and to --out FILE).
#
#   bench/load.sh [--rounds N] [--threads N] [--per-thread N] [--seconds N] [--out FILE]
set -euo pipefail

ROUNDS=3
THREADS=8
PER_THREAD=400
SECONDS_MAX=10
INSTANCES=4
OUT=
REPO=$(cd "$(dirname "$0")/.." && pwd)

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --per-thread) PER_THREAD=$2; shift 2 ;;
    --seconds) SECONDS_MAX=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$REPO/bench/lib.sh"
WORK=$(mktemp -d /tmp/reuseport-load.XXXXXX)
SERVER_PID=
RAW=$REPO/target/load-bench
trap 'stop_pid "$SERVER_PID"; mkdir -p "$RAW" && cp "$WORK"/*.json "$WORK"/*.log "$RAW"/ 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

copy_test_classpath

# start_server MODE ROUND: the server on ephemeral ports with the burn service, until its ready line; sets PORT, ADMIN
start_server() {
  java -cp "$CP" io.reuseport.Main --host 127.0.0.1 --port 0 --admin-host 127.0.0.1 --admin-port 0 \
    --instances "$INSTANCES" --service burn --steering "$1" > "$WORK/server-$1-$2.log" 2>&1 &
  SERVER_PID=$!
  await_ready "$WORK/server-$1-$2.log" "$SERVER_PID" || { log "server ($1) did not start"; exit 1; }
  PORT=$(sed -n 's/.*ready: .*instances\?, port \([0-9]\+\), admin port.*/\1/p' "$WORK/server-$1-$2.log")
  ADMIN=$(sed -n 's/.*ready: .*admin port \([0-9]\+\).*/\1/p' "$WORK/server-$1-$2.log")
}

LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOADAVG_BEFORE; $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="kernel bpf"; else order="bpf kernel"; fi
  for mode in $order; do
    start_server "$mode" "$round"
    java -cp "$CP" io.reuseport.steer.BusyLoopScenario "$PORT" "$ADMIN" "$THREADS" "$PER_THREAD" "$SECONDS_MAX" \
      | grep '^{' > "$WORK/$mode-$round.json"
    stop_pid "$SERVER_PID"
    SERVER_PID=
    log "round $round $mode: $(cat "$WORK/$mode-$round.json")"
  done
done
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# field FILE EXPR: EXPR over the scenario's JSON line
field() {
  python3 -c "
import json
d = json.load(open('$1'))
print($2)"
}

report() {
  echo "Machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)."
  echo "Load average (1, 5, 15 min) before: $LOADAVG_BEFORE; after: $LOADAVG_AFTER."
  echo "Command: \`bench/load.sh --rounds $ROUNDS --threads $THREADS --per-thread $PER_THREAD --seconds $SECONDS_MAX\`"
  echo
  echo "| round | steering | fresh connections | reached the busy instance | failed | p50 ms | p99 ms | max ms |" \
    "busy marked after ms | shares even again after ms |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for round in $(seq 1 "$ROUNDS"); do
    for mode in kernel bpf; do
      f=$WORK/$mode-$round.json
      echo "| $round | $mode | $(field "$f" "d['connections']") | $(field "$f" "'%.1f %%' % d['reachedBusyPercent']") |" \
        "$(field "$f" "d['failed']") | $(field "$f" "'%.1f' % d['p50Ms']") | $(field "$f" "'%.1f' % d['p99Ms']") |" \
        "$(field "$f" "'%.1f' % d['maxMs']") |" \
        "$(field "$f" "'-' if d['busyAfterMs'] < 0 else d['busyAfterMs']") |" \
        "$(field "$f" "'-' if d['evenAgainAfterMs'] < 0 else d['evenAgainAfterMs']") |"
    done
  done
}
print_report
