#!/usr/bin/env bash
# Side-by-side benchmark on one machine, loopback only: the server in reuseport mode, shared mode and reuseport with
# one instance, the C reference server (bench/refserver.c, built here with gcc), and optionally reuseport on
# io_uring, all under the same loads, interleaved (A B C D, then the next round in rotated order), medians over the
# rounds. Writes a markdown report to stdout and to docs/BENCHMARKS.md, with the machine it ran on, its load average
# before, during and after, and the exact commands; and, when writing docs/BENCHMARKS.md, the one-line summary
# between README.md's "bench:figures" markers. Every server it starts is stopped when it exits.
#
#   bench/compare.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--instances N] [--concurrency N]
#                    [--io-uring] [--admin] [--no-c] [--no-peer] [--c-client] [--sockperf]
#                    [--wait-quiet SECONDS] [--server-warmup SECONDS] [--out FILE]
#
# Besides throughput, each run reports the server's CPU time per operation: utime + stime of the server process
# (/proc/PID/stat) over the load command, divided by the operations (throughput x (duration + warm-up)): far less
# sensitive than throughput to other work on the machine. The Vert.x peer (src/test/.../bench/VertxPeer.java, from
# target/test-classes) is what a Vert.x expert would run instead: N Vertx instances with one event loop each, each
# with a NetServer and DatagramSocket with setReusePort(true); --no-peer leaves it out.
# --sockperf: also run bench/sockperf.sh (needs Debian's sockperf) with the same rounds, duration and server warm-up,
# and add its section to the report.
# --out FILE: write the report there instead, and leave README.md alone (for trial runs).
# --c-client: drive tcp-churn with bench/churn.c (built with gcc) instead of the Java load client, which on a
# 2-core machine takes about a core from the servers it measures.
# Both clients report their own CPU and the machine's busy share; the report's "Who bounds churn throughput" section
# turns them into client CPU per connection, the highest reuseport / shared ratio the shared machine allows, and each
# server's capacity (connections per second of server CPU), which is what the machine-bound throughput cannot show.
# --wait-quiet: before starting, wait up to SECONDS for the 1-minute load average to drop below 1 (other work on
# the machine skews every number; the report records the load average either way).
# --server-warmup: before round 1, each load runs this long against each server, uncounted, so that no server is
# measured with a cold JIT in round 1 (default 3; 0 skips).
# The report replaces the output file, except for sections other scripts made that were appended to it by hand:
# "## Steering..." (bench/steering.sh) and "## HTTP..." (bench/http.sh) always, and "## sockperf..." unless this run
# has --sockperf; they are carried
# over from the file being replaced, at the end.
set -euo pipefail

ROUNDS=3
DURATION=5
WARMUP=1
INSTANCES=$(nproc)
CONCURRENCY=64
IO_URING=0
WAIT_QUIET=0
SERVER_WARMUP=3
ADMIN=0
WITH_C=1
WITH_PEER=1
C_CLIENT=0
SOCKPERF=0
PUBLISH=1
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$REPO/docs/BENCHMARKS.md
BASE_PORT=${BENCH_BASE_PORT:-19500}

ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --io-uring) IO_URING=1; shift ;;
    --admin) ADMIN=1; shift ;;
    --no-c) WITH_C=0; shift ;;
    --no-peer) WITH_PEER=0; shift ;;
    --c-client) C_CLIENT=1; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    --server-warmup) SERVER_WARMUP=$2; shift 2 ;;
    --out) OUT=$2; PUBLISH=0; shift 2 ;;
    --sockperf) SOCKPERF=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$REPO/bench/lib.sh"
JAR=$REPO/target/reuseport-server.jar
WORK=$(mktemp -d /tmp/reuseport-bench.XXXXXX)
CHURN=$WORK/churn
if [ "$C_CLIENT" = 1 ]; then
  gcc -O2 -o "$CHURN" "$REPO/bench/churn.c" || { log "--c-client needs gcc"; exit 2; }
fi
PIDS=()
trap 'stop_pids "${PIDS[@]}"' EXIT
trap 'exit 130' INT TERM

if [ ! -f "$JAR" ]; then
  log "building $JAR"
  (cd "$REPO" && mvn -q package -DskipTests)
fi

# Servers: name, port, command line. Ports are fixed (BASE_PORT + n) so the report can show exact commands.
# With --admin, a Java server's admin HTTP server listens on its port + 1000; the C reference has none.
NAMES=()
PORTS=()
ADMIN_PORTS=()
CMDS=()
next_port=$BASE_PORT
add_server() {
  while ! port_free "$next_port" || ! port_free $((next_port + 1000)); do
    next_port=$((next_port + 1))
  done
  local admin_port=0
  if [ "$ADMIN" = 1 ] && [[ "$2" == *ADMINPORT* ]]; then
    admin_port=$((next_port + 1000))
  fi
  NAMES+=("$1")
  PORTS+=("$next_port")
  ADMIN_PORTS+=("$admin_port")
  local cmd=${2//ADMINPORT/$admin_port}
  CMDS+=("${cmd//PORT/$next_port}")
  next_port=$((next_port + 1))
}

SERVER="java -jar $JAR --port PORT --admin-port ADMINPORT"
add_server "reuseport-$INSTANCES" "$SERVER --instances $INSTANCES --balancing reuseport --transport epoll"
add_server "shared-$INSTANCES" "$SERVER --instances $INSTANCES --balancing shared --transport epoll"
add_server "reuseport-1" "$SERVER --instances 1 --balancing reuseport --transport epoll"
if [ "$WITH_PEER" = 1 ]; then
  if [ -f "$REPO/target/test-classes/io/reuseport/bench/VertxPeer.class" ]; then
    add_server "vertx-peer-$INSTANCES" \
      "java -cp $JAR:$REPO/target/test-classes io.reuseport.bench.VertxPeer PORT $INSTANCES"
  else
    log "no target/test-classes/io/reuseport/bench/VertxPeer.class (mvn test-compile): running without the peer"
  fi
fi
if [ "$WITH_C" = 1 ]; then
  if command -v gcc >/dev/null; then
    gcc -O2 -pthread -o "$WORK/refserver" "$REPO/bench/refserver.c"
    add_server "c-ref-$INSTANCES" "$WORK/refserver PORT $INSTANCES"
  else
    log "no gcc: running without the C reference server (bench/refserver.c)"
  fi
fi
if [ "$IO_URING" = 1 ]; then
  add_server "reuseport-$INSTANCES-io_uring" \
    "$SERVER --instances $INSTANCES --balancing reuseport --transport io_uring"
fi

STARTED=()
SERVER_PIDS=()
CLK_TCK=$(getconf CLK_TCK)
for i in "${!NAMES[@]}"; do
  # shellcheck disable=SC2086 # the command is a word list on purpose
  ${CMDS[$i]} >"$WORK/${NAMES[$i]}.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  SERVER_PIDS[$i]=$pid
  if await_listener "${PORTS[$i]}" "$pid"; then
    STARTED+=("$i")
    log "started ${NAMES[$i]} on port ${PORTS[$i]} (pid $pid)"
  else
    log "${NAMES[$i]} did not start; left out. Its log: $(tail -n 3 "$WORK/${NAMES[$i]}.log" | tr '\n' ' ')"
    kill "$pid" 2>/dev/null || true
  fi
done

LOADS=("tcp-churn" "tcp-echo" "udp-echo")
PAYLOADS=(32 64 64)
load_cmd() { # load-index port [admin-port]
  if [ "$C_CLIENT" = 1 ] && [ "${LOADS[$1]}" = tcp-churn ]; then
    echo "$CHURN 127.0.0.1 $2 $CONCURRENCY $DURATION $WARMUP ${PAYLOADS[$1]}"
    return
  fi
  local extra=""
  if [ "${3:-0}" != 0 ]; then
    extra=" --admin http://127.0.0.1:$3"
  fi
  echo "java -jar $JAR load --mode ${LOADS[$1]} --target 127.0.0.1:$2 --concurrency $CONCURRENCY" \
    "--payload ${PAYLOADS[$1]} --duration ${DURATION}s --warmup ${WARMUP}s --json$extra"
}

field() { # json name: a top-level number or boolean
  { grep -o "\"$2\":[^,}]*" <<<"$1" || true; } | head -n 1 | cut -d: -f2
}

wait_quiet "$WAIT_QUIET"
note_idle_load

if [ "$SERVER_WARMUP" != 0 ]; then
  log "warming up every server for ${SERVER_WARMUP} s per load (not counted)"
  for i in "${STARTED[@]}"; do
    for li in "${!LOADS[@]}"; do
      if [ "$C_CLIENT" = 1 ] && [ "${LOADS[$li]}" = tcp-churn ]; then
        "$CHURN" 127.0.0.1 "${PORTS[$i]}" "$CONCURRENCY" "$SERVER_WARMUP" 0 "${PAYLOADS[$li]}" >/dev/null 2>&1 || true
      else
        java -jar "$JAR" load --mode "${LOADS[$li]}" --target "127.0.0.1:${PORTS[$i]}" --concurrency "$CONCURRENCY" \
          --payload "${PAYLOADS[$li]}" --duration "${SERVER_WARMUP}s" --json >/dev/null 2>&1 || true
      fi
    done
  done
fi

RESULTS=$WORK/results.tsv
: >"$RESULTS"
LOADAVG_BEFORE=$(loadavg)
START_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$WORK/loadavg.samples"
log_machine "$LOADAVG_BEFORE"
for round in $(seq 1 "$ROUNDS"); do
  n=${#STARTED[@]}
  for li in "${!LOADS[@]}"; do
    for k in $(seq 0 $((n - 1))); do
      i=${STARTED[$(((k + round - 1) % n))]}
      cmd=$(load_cmd "$li" "${PORTS[$i]}" "${ADMIN_PORTS[$i]}")
      cut -d' ' -f1 /proc/loadavg >>"$WORK/loadavg.samples"
      cpu_before=$(cpu_ticks "${SERVER_PIDS[$i]}")
      # shellcheck disable=SC2086
      json=$($cmd 2>"$WORK/load.err" | tail -n 1) || { log "load failed: $(cat "$WORK/load.err")"; continue; }
      cpu_us=$(awk -v a="$cpu_before" -v b="$(cpu_ticks "${SERVER_PIDS[$i]}")" -v hz="$CLK_TCK" -v \
        t="$(field "$json" throughput)" -v s=$((DURATION + WARMUP)) \
        'BEGIN { if (a == "" || b == "" || t == "" || t <= 0) print ""; else printf "%.2f", (b - a) * 1e6 / hz / (t * s) }')
      p99=$({ grep -o '"p99":[0-9]*' <<<"$json" || true; } | cut -d: -f2)
      # load server round throughput p99 errors timeouts client-saturated server-CPU/op client-cores machine-load
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${LOADS[$li]}" "${NAMES[$i]}" "$round" \
        "$(field "$json" throughput)" "${p99:-0}" "$(field "$json" errors)" "$(field "$json" timeouts)" \
        "$(field "$json" clientCpuSaturated)" "$cpu_us" "$(field "$json" cpuCoresUsed)" \
        "$(field "$json" machineCpuLoad)" >>"$RESULTS"
      jain=$({ grep -o '"jain":[0-9.]*' <<<"$json" || true; } | cut -d: -f2)
      log "round $round ${LOADS[$li]} ${NAMES[$i]}: $(field "$json" throughput)/s p99 ${p99:-?} us" \
        "server CPU ${cpu_us:-?} us/op${jain:+ jain $jain}"
    done
  done
done

target_row() { # description wanted measured: a row of a targets table, met when measured >= wanted
  echo "| $1 | >= $2 | $3 | $(verdict '>=' "$2" "$3") |"
}
target_max_row() { # description most-wanted measured: a row of a targets table, met when measured <= most-wanted
  echo "| $1 | <= $2 | $3 | $(verdict '<=' "$2" "$3") |"
}
ms() { awk -v a="$1" 'BEGIN { if (a == "") print "—"; else printf "%.2f", a / 1000 }'; }

LOADAVG_AFTER=$(loadavg)
LOADAVG_DURING=$(loadavg_summary "$WORK/loadavg.samples")
log "load average during the runs (1 min, sampled before each): $LOADAVG_DURING; after: $LOADAVG_AFTER"
SOCKPERF_SECTION=""
if [ "$SOCKPERF" = 1 ]; then
  SOCKPERF_SECTION=$("$REPO/bench/sockperf.sh" --instances "$INSTANCES" --rounds "$ROUNDS" --duration "$DURATION" \
    --warmup "$SERVER_WARMUP") || log "bench/sockperf.sh failed; no sockperf section"
fi
R=reuseport-$INSTANCES
S=shared-$INSTANCES
C=c-ref-$INSTANCES
U=reuseport-$INSTANCES-io_uring
P=vertx-peer-$INSTANCES
UNITS=("conn/s" "msg/s" "dgram/s")
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`bench/compare.sh --rounds $ROUNDS --duration $DURATION --warmup $WARMUP --instances $INSTANCES" \
    "--concurrency $CONCURRENCY$([ "$IO_URING" = 1 ] && echo ' --io-uring')$([ "$C_CLIENT" = 1 ] &&
      echo ' --c-client') --server-warmup $SERVER_WARMUP\` on $START_TIME." \
    "Client and servers on the same machine, loopback only; each cell is the median of $ROUNDS runs of" \
    "${DURATION} s (after ${WARMUP} s of uncounted warm-up), loads interleaved across servers round by round."
  echo "Every server first got ${SERVER_WARMUP} s of each load, uncounted. Absolute numbers depend on the machine;" \
    "compare the ratios, and mind the load average below: the machine may have been busy with other work."
  if [ "$C_CLIENT" = 1 ]; then
    echo "tcp-churn is driven by \`bench/churn.c\` (one thread, epoll), which leaves the servers more of the" \
      "machine than the Java \`load\` client; tcp-echo and udp-echo by \`load\`."
  fi
  echo
  echo "## Machine"
  echo
  echo "- cores (nproc): $(nproc)"
  echo "- kernel (uname -r): $(uname -r)"
  echo "- CPU: $(cpu_model)"
  echo "- java: $(java -version 2>&1 | head -n 1)"
  echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- code: commit $(commit_text)"
  echo "- started $START_TIME, ended $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- load average (1/5/15 min) with the servers started and idle: $LOADAVG_START; before the measured runs" \
    "(after the warm-up): $LOADAVG_BEFORE; after: $LOADAVG_AFTER;" \
    "1-min load average during the runs (sampled before each): $LOADAVG_DURING"
  if [ "$BUSY" = 1 ]; then
    echo
    echo "**Warning: the machine was busy with other work during this run (a 1-minute load average of" \
      "${LOADAVG_START%% *} while the servers were idle, before any load; a quiet machine is below 1). Every" \
      "number below was squeezed by it, and unevenly from run to run; the ratios and verdicts are not reliable." \
      "Rerun on a quiet machine (\`--wait-quiet SECONDS\` waits for one).**"
  else
    echo
    echo "The machine was quiet when the run began (1-minute load average ${LOADAVG_START%% *} with the servers" \
      "idle); the load during the runs is what these servers and this client made."
  fi
  echo
  echo "## Throughput (median)"
  echo
  header="| load |"
  sep="|---|"
  for i in "${STARTED[@]}"; do
    header="$header ${NAMES[$i]} |"
    sep="$sep---:|"
  done
  echo "$header reuseport / shared | reuseport / C ref | reuseport-1 / reuseport-$INSTANCES |$(
    [ "$IO_URING" = 1 ] && echo ' io_uring / epoll |')"
  echo "$sep---:|---:|---:|$([ "$IO_URING" = 1 ] && echo '---:|')"
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    row="| $l (${UNITS[$li]}, $CONCURRENCY conns/flows, ${PAYLOADS[$li]} B) |"
    for i in "${STARTED[@]}"; do
      row="$row $(num "$(median "$l" "${NAMES[$i]}" 4)") |"
    done
    row="$row $(ratio "$(median "$l" "$R" 4)" "$(median "$l" "$S" 4)") |"
    row="$row $(ratio "$(median "$l" "$R" 4)" "$(median "$l" "$C" 4)") |"
    row="$row $(ratio "$(median "$l" reuseport-1 4)" "$(median "$l" "$R" 4)") |"
    if [ "$IO_URING" = 1 ]; then
      row="$row $(ratio "$(median "$l" "$U" 4)" "$(median "$l" "$R" 4)") |"
    fi
    echo "$row"
  done
  echo
  echo "## Server CPU per operation (µs of server process CPU time per connection / message / datagram, median)"
  echo
  echo "Lower is better. utime + stime of the server process over each load command (\`/proc/PID/stat\`), divided by"
  echo "its operations; it counts the work the server does per operation, whatever else the machine was doing."
  echo
  echo "$header reuseport / C ref | shared / C ref | $P / C ref | reuseport / $P |"
  echo "$sep---:|---:|---:|---:|"
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    row="| $l (µs per ${UNITS[$li]%/s}) |"
    for i in "${STARTED[@]}"; do
      row="$row $(median "$l" "${NAMES[$i]}" 9) |"
    done
    row="$row $(ratio "$(median "$l" "$R" 9)" "$(median "$l" "$C" 9)") |"
    row="$row $(ratio "$(median "$l" "$S" 9)" "$(median "$l" "$C" 9)") |"
    row="$row $(ratio "$(median "$l" "$P" 9)" "$(median "$l" "$C" 9)") |"
    row="$row $(ratio "$(median "$l" "$R" 9)" "$(median "$l" "$P" 9)") |"
    echo "$row"
  done
  echo
  echo "## Latency p99 in ms (median), and errors + timeouts (sum over rounds)"
  echo
  echo "$header"
  echo "$sep"
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    row="| $l |"
    for i in "${STARTED[@]}"; do
      n=${NAMES[$i]}
      row="$row $(ms "$(median "$l" "$n" 5)") ($(( $(sum_col "$l" "$n" 6) + $(sum_col "$l" "$n" 7) ))) |"
    done
    echo "$row"
  done
  echo
  echo "## Issue 4 targets (ratios of the medians above)"
  echo
  echo "| target | wanted | measured | verdict |"
  echo "|---|---:|---:|---|"
  target_row "TCP churn: reuseport-$INSTANCES / shared-$INSTANCES" 1.25 \
    "$(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$S" 4)")"
  target_row "TCP churn: reuseport-$INSTANCES / C reference ($INSTANCES threads)" 0.85 \
    "$(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$C" 4)")"
  target_row "TCP echo: reuseport-$INSTANCES / C reference" 0.9 \
    "$(ratio "$(median tcp-echo "$R" 4)" "$(median tcp-echo "$C" 4)")"
  target_row "UDP echo: reuseport-$INSTANCES / C reference" 0.8 \
    "$(ratio "$(median udp-echo "$R" 4)" "$(median udp-echo "$C" 4)")"
  echo "| Jain's index, 4 instances, >= 256 flows | 0.95 | — | not measured here (needs the admin /stats;" \
    "run the load command with --admin) |"
  echo
  echo "## Issue 15 targets (server CPU per operation, and churn throughput; ratios of the medians above)"
  echo
  echo "| target | wanted | measured | verdict |"
  echo "|---|---:|---:|---|"
  target_max_row "TCP churn CPU per connection: reuseport-$INSTANCES / C reference" 1.15 \
    "$(ratio "$(median tcp-churn "$R" 9)" "$(median tcp-churn "$C" 9)")"
  target_max_row "TCP echo CPU per message: reuseport-$INSTANCES / C reference" 1.0 \
    "$(ratio "$(median tcp-echo "$R" 9)" "$(median tcp-echo "$C" 9)")"
  target_max_row "UDP echo CPU per datagram: reuseport-$INSTANCES / C reference" 0.9 \
    "$(ratio "$(median udp-echo "$R" 9)" "$(median udp-echo "$C" 9)")"
  target_row "TCP churn throughput: reuseport-$INSTANCES / shared-$INSTANCES" 1.3 \
    "$(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$S" 4)")"
  target_row "TCP churn throughput: reuseport-$INSTANCES / C reference" 0.95 \
    "$(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$C" 4)")"
  target_row "TCP churn capacity (connections per second of server CPU): reuseport-$INSTANCES / shared-$INSTANCES" \
    1.3 "$(ratio "$(median tcp-churn "$S" 9)" "$(median tcp-churn "$R" 9)")"
  echo "| server memory per idle connection | <= 2 KB | — | not measured here: bench/idle-memory.sh |"
  echo
  saturated=$(awk -F'\t' '$8 == "true"' "$RESULTS" | wc -l)
  echo "Runs in which the load client's own CPU was saturated (the Java client: >= 90 % of all cores; bench/churn.c:" \
    "its one thread >= 90 % busy): $saturated of $(wc -l <"$RESULTS")."
  echo
  echo "## Who bounds churn throughput (tcp-churn, medians)"
  echo
  echo "The client and the servers share the machine: where it is all busy, churn throughput measures the client's"
  echo "CPU per connection plus the server's, not the server alone. Client CPU per connection = its busy cores"
  echo "over its throughput; capacity = connections per second of server CPU (1 / server CPU per connection), what"
  echo "a machine with the client elsewhere would let each server reach per core. The highest reuseport / shared"
  echo "throughput ratio this machine allows with this client is (client + shared) / (client + reuseport) CPU."
  echo
  echo "| server | conn/s | server CPU µs/conn | client CPU µs/conn | client cores busy | machine busy |" \
    "capacity, conn per server CPU-second |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for i in "${STARTED[@]}"; do
    n=${NAMES[$i]}
    thr=$(median tcp-churn "$n" 4)
    srv=$(median tcp-churn "$n" 9)
    cores=$(median tcp-churn "$n" 10)
    machine=$(median tcp-churn "$n" 11)
    awk -v n="$n" -v t="$thr" -v s="$srv" -v c="$cores" -v m="$machine" 'BEGIN {
      cl = (t > 0 && c != "") ? sprintf("%.1f", c * 1e6 / t) : "—"
      capacity = (s + 0 > 0) ? sprintf("%.0f", 1e6 / s) : "—"
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", n, t == "" ? "—" : sprintf("%.0f", t), s == "" ? "—" : s, cl,
        c == "" ? "—" : c, m == "" ? "—" : sprintf("%.0f %%", m * 100), capacity }'
  done
  client_us=$(awk -v t="$(median tcp-churn "$R" 4)" -v c="$(median tcp-churn "$R" 10)" \
    'BEGIN { if (t > 0 && c != "") printf "%.2f", c * 1e6 / t }')
  echo
  echo "Highest reuseport-$INSTANCES / shared-$INSTANCES churn throughput ratio with this client on this machine:" \
    "$(awk -v c="$client_us" -v s="$(median tcp-churn "$S" 9)" -v r="$(median tcp-churn "$R" 9)" \
      'BEGIN { if (c == "" || s == "" || r == "") print "—"; else printf "%.2f", (c + s) / (c + r) }');" \
    "capacity ratio (server CPU alone): $(ratio "$(median tcp-churn "$S" 9)" "$(median tcp-churn "$R" 9)")."
  echo
  if [[ -f "$REPO/bench/ANALYSIS.md" ]]; then
    cat "$REPO/bench/ANALYSIS.md"
  fi
  if [ -n "$SOCKPERF_SECTION" ]; then
    echo "$SOCKPERF_SECTION"
    echo
  fi
  echo "## Commands"
  echo
  echo '```'
  if [ "$WITH_C" = 1 ]; then
    echo "gcc -O2 -pthread -o refserver bench/refserver.c"
  fi
  if [ "$C_CLIENT" = 1 ]; then
    echo "gcc -O2 -o churn bench/churn.c"
  fi
  for i in "${STARTED[@]}"; do
    cmd=${CMDS[$i]//$REPO\//}
    echo "${cmd//$WORK\//}    # ${NAMES[$i]}"
  done
  for li in "${!LOADS[@]}"; do
    cmd=$(load_cmd "$li" PORT)
    cmd=${cmd//$REPO\//}
    echo "${cmd//$WORK\//}"
  done
  echo '```'
  echo
  echo "## Raw runs"
  echo
  echo "| load | server | round | throughput/s | p99 µs | errors | timeouts | client CPU saturated |" \
    "server CPU µs/op |"
  echo "|---|---|---:|---:|---:|---:|---:|---|---:|"
  sort -t$'\t' -k1,1 -k2,2 -k3,3n "$RESULTS" | awk -F'\t' '{
    printf "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
} >"$WORK/report.md"

# carried_section PREFIX: the section of the file being replaced whose "## " heading starts with PREFIX, up to the
# next "## " heading
carried_section() {
  [ -f "$OUT" ] || return 0
  awk -v p="$1" 'index($0, p) == 1 { on = 1; print; next } /^## / { on = 0 } on' "$OUT"
}
{
  [ "$SOCKPERF" = 1 ] || carried_section "## sockperf"
  carried_section "## Steering"
  carried_section "## HTTP"
} >"$WORK/carried.md"
if [ -s "$WORK/carried.md" ]; then
  log "kept from the previous $OUT: $(grep '^## ' "$WORK/carried.md" | cut -c4-40 | paste -sd ';' -)"
  cat "$WORK/carried.md" >>"$WORK/report.md"
fi

mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
cat "$WORK/report.md"
log "wrote $OUT"

# README.md's "latest figures": one line from this run, with when, how and on what machine it was made
if [ "$PUBLISH" = 1 ] && grep -q '<!-- bench:figures:begin -->' "$REPO/README.md"; then
  quiet="a quiet machine (1-min load average ${LOADAVG_START%% *} before the run)"
  [ "$BUSY" = 1 ] && quiet="a busy machine (1-min load average ${LOADAVG_START%% *} before the run: indicative only)"
  args_text=""
  for a in "${ARGS[@]}"; do args_text="$args_text $a"; done
  summary="Latest figures: \`bench/compare.sh$args_text\` on $START_TIME, commit"
  summary="$summary $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores"
  summary="$summary ($(cpu_model)), client on the same"
  summary="$summary machine, $quiet. Churn: reuseport"
  summary="$summary $(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$S" 4)") ×"
  summary="$summary Vert.x's shared \`NetServer\` in throughput (the client's CPU bounds it on a small machine),"
  summary="$summary and shared costs $(ratio "$(median tcp-churn "$S" 9)" "$(median tcp-churn "$R" 9)") × its server"
  summary="$summary CPU per connection; against the C reference server (\`bench/refserver.c\`): TCP echo"
  summary="$summary $(ratio "$(median tcp-echo "$R" 4)" "$(median tcp-echo "$C" 4)") ×, UDP echo"
  summary="$summary $(ratio "$(median udp-echo "$R" 4)" "$(median udp-echo "$C" 4)") ×, churn"
  summary="$summary $(ratio "$(median tcp-churn "$R" 4)" "$(median tcp-churn "$C" 4)") ×; server CPU per"
  summary="$summary operation against the C server: churn $(ratio "$(median tcp-churn "$R" 9)" "$(median tcp-churn "$C" 9)") ×,"
  summary="$summary TCP echo $(ratio "$(median tcp-echo "$R" 9)" "$(median tcp-echo "$C" 9)") ×, UDP echo"
  summary="$summary $(ratio "$(median udp-echo "$R" 9)" "$(median udp-echo "$C" 9)") ×; the Vert.x peer's churn CPU"
  summary="$summary per connection $(ratio "$(median tcp-churn "$P" 9)" "$(median tcp-churn "$R" 9)") × reuseport's."
  awk -v line="$summary" '
    /<!-- bench:figures:begin -->/ { print; print line; skip = 1; next }
    /<!-- bench:figures:end -->/ { skip = 0 }
    !skip { print }' "$REPO/README.md" >"$WORK/README.md"
  cp "$WORK/README.md" "$REPO/README.md"
  log "updated the latest figures in README.md"
fi
