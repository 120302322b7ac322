#!/usr/bin/env bash
# HTTP side by side on one machine, loopback only (issue 21): nginx, Vert.x's own createHttpServer in N verticles of
# one Vertx (Vert.x shares one listener), the N-Vertx peer (N Vertx of one event loop, each its own listener with
# setReusePort(true)) and this server's `--service hello-http`, all with N workers and the same "Hello, World!"
# /plaintext answer, under three loads: wrk keep-alive (64 connections), wrk with `Connection: close` (a new
# connection per request, 64 at a time) and h2load (h2c prior knowledge, 32 connections x 10 streams). The loads are
# interleaved across the servers round by round (the order rotated each round); each cell is the median of the
# rounds. Besides requests per second, each run reports the server's CPU per request: utime + stime of the server's
# processes (/proc/PID/stat, nginx's master and workers) over the load command, divided by the requests it completed:
# far less sensitive than throughput to other work on the machine, and what the targets compare.
#
#   bench/http.sh [--rounds N] [--duration SECONDS] [--instances N] [--server-warmup SECONDS]
#                 [--servers nginx,vertx-shared,vertx-per-vertx,reuseport] [--wait-quiet SECONDS]
#                 [--into FILE | --out FILE] [--json FILE]
#
# Writes a markdown section ("## HTTP ...") to stdout and into docs/BENCHMARKS.md (--into: another file), replacing
# the section there of an earlier run (bench/compare.sh carries it over when it rewrites that file); --out FILE
# writes the section alone to FILE instead.
# --json FILE: every run and every median as JSON as well. --server-warmup: before round 1, each load runs this long
# against each server, uncounted (the JIT: C2 needs most of it on a busy machine); default 10, 0 skips.
# --wait-quiet: wait up to SECONDS for the 1-minute load average to drop below 1 first. Needs wrk (Debian wrk),
# h2load (nghttp2-client), nginx (nginx-light) for the nginx peer, and for the Java servers the fat jar and the test
# classes (mvn -DskipTests package): a server whose program is missing or that does not start is left out with a
# message. Every server it starts is stopped when it exits; every load is bounded by --duration. As root, run it in a
# network namespace of its own so that the connection counts are its alone:
#   unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh bench/http.sh
set -euo pipefail

ROUNDS=3
DURATION=5
INSTANCES=2
SERVER_WARMUP=10
WAIT_QUIET=0
SERVERS=nginx,vertx-shared,vertx-per-vertx,reuseport
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$REPO/docs/BENCHMARKS.md
REPLACE_SECTION=1
JSON_OUT=
BASE_PORT=${BENCH_BASE_PORT:-19800}
CONNECTIONS=64
H2_CONNECTIONS=32
H2_STREAMS=10

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --server-warmup) SERVER_WARMUP=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    --into) OUT=$2; REPLACE_SECTION=1; shift 2 ;;
    --out) OUT=$2; REPLACE_SECTION=0; shift 2 ;;
    --json) JSON_OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "http.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
. "$REPO/bench/lib.sh"
for n in "$ROUNDS" "$DURATION" "$INSTANCES"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "--rounds, --duration and --instances are whole numbers >= 1"; exit 2; }
done
[[ "$SERVER_WARMUP" =~ ^[0-9]+$ && "$WAIT_QUIET" =~ ^[0-9]+$ ]] ||
  { log "--server-warmup and --wait-quiet are whole seconds"; exit 2; }
[ "$DURATION" -le 120 ] || { log "--duration is at most 120 s"; exit 2; }
for tool in wrk h2load; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: apt-get install wrk nghttp2-client)"; exit 2; }
done

JAR=$REPO/target/reuseport-server.jar
TEST_CLASSES=$REPO/target/test-classes
WORK=$(mktemp -d /tmp/reuseport-http-bench.XXXXXX)
PIDS=()
trap 'stop_pids "${PIDS[@]}"' EXIT
trap 'exit 130' INT TERM

next_port=$BASE_PORT
# take_port: sets port to the next one from BASE_PORT with nothing on it (fixed ports keep the commands exact)
take_port() {
  while ! port_free "$next_port"; do
    next_port=$((next_port + 1))
  done
  port=$next_port
  next_port=$((next_port + 1))
}
listeners() { # port: how many TCP listeners the kernel has on it
  ss -Hltn "sport = :$1" | wc -l
}

# Servers: name, HTTP/1.1 port, h2c port (nginx's plain-text http2 listener speaks only HTTP/2), command, and the
# line in its log that says it is ready ("" for nginx: its listeners are enough)
NAMES=()
PORTS=()
H2_PORTS=()
CMDS=()
READY=()
add_server() { # name port h2-port command ready-line
  NAMES+=("$1")
  PORTS+=("$2")
  H2_PORTS+=("$3")
  CMDS+=("$4")
  READY+=("$5")
}
wanted() { [[ ",$SERVERS," == *",$1,"* ]]; }

if wanted nginx; then
  if command -v nginx >/dev/null; then
    take_port
    h2=$port
    take_port
    mkdir -p "$WORK/nginx/logs"
    # keepalive_requests: nginx would close a keep-alive connection (and an h2 one) after 1000 requests, which the
    # Java servers never do; wrk and h2load would then pay a reconnection nginx's peers do not
    cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $INSTANCES;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 100000000;
  client_body_temp_path $WORK/nginx/body;
  server {
    listen 127.0.0.1:$port reuseport;
    listen 127.0.0.1:$h2 reuseport http2;
    location / {
      return 200 "Hello, World!";
    }
  }
}
EOF
    add_server "nginx-$INSTANCES" "$port" "$h2" "nginx -c $WORK/nginx/nginx.conf -p $WORK/nginx" ""
  else
    log "no nginx (Debian: apt-get install nginx-light): running without it"
  fi
fi
PEERS="java -cp $JAR:$TEST_CLASSES io.reuseport.bench.HttpPeers"
for mode in shared per-vertx; do
  wanted "vertx-$mode" || continue
  if [ -f "$JAR" ] && [ -f "$TEST_CLASSES/io/reuseport/bench/HttpPeers.class" ]; then
    take_port
    add_server "vertx-$mode-$INSTANCES" "$port" "$port" "$PEERS $mode $port $INSTANCES" "HttpPeers:"
  else
    log "no $JAR or HttpPeers in target/test-classes (mvn -DskipTests package): running without vertx-$mode"
  fi
done
if wanted reuseport; then
  if [ -f "$JAR" ]; then
    take_port
    add_server "reuseport-$INSTANCES" "$port" "$port" \
      "java -jar $JAR --service hello-http --host 127.0.0.1 --port $port --admin-port 0 --instances $INSTANCES" \
      "ready:"
  else
    log "no $JAR (mvn -DskipTests package): running without this server"
  fi
fi

# await_server INDEX PID: until the server's listeners are up (and its ready line is logged); fails if it exited or
# 60 s passed
await_server() {
  local log_file=$WORK/${NAMES[$1]}.log
  for _ in $(seq 1 600); do
    if [ "$(listeners "${PORTS[$1]}")" -gt 0 ] && [ "$(listeners "${H2_PORTS[$1]}")" -gt 0 ] &&
      { [ -z "${READY[$1]}" ] || grep -q "${READY[$1]}" "$log_file"; }; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

STARTED=()
SERVER_PIDS=()
LISTENERS=()
CLK_TCK=$(getconf CLK_TCK)
# loop_ticks PID: CPU time of the threads that serve requests: a Java server's event loops and Vert.x's acceptor
# (comm "vert.x-eventloo..." / "vert.x-acceptor..."), nginx's workers; not the JIT compilers, GC or background
# threads, whose share of a run depends on how warm the JVM is and how busy the machine, not on the requests
loop_ticks() {
  local children
  children=$(pgrep -P "$1" || true)
  if [ -n "$children" ]; then
    for p in $children; do cat "/proc/$p/stat" 2>/dev/null; done
  else
    for t in /proc/"$1"/task/*; do
      case "$(cat "$t/comm" 2>/dev/null)" in
        vert.x-eventloo*|vert.x-acceptor*) cat "$t/stat" 2>/dev/null ;;
      esac
    done
  fi | awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}
# busy_jiffies: "busy total" jiffies of the whole machine so far (/proc/stat), for the machine's busy share
busy_jiffies() {
  awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= 9; i++) total += $i; print total - idle, total }' \
    /proc/stat
}
# passive_opens: TCP connections the machine's kernel accepted so far (/proc/net/snmp PassiveOpens): whether a load
# really opened a connection per request (other work on the machine adds its own, a few)
passive_opens() {
  awk '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 } else print $c }' \
    /proc/net/snmp
}
for i in "${!NAMES[@]}"; do
  # shellcheck disable=SC2086 # the command is a word list on purpose
  ${CMDS[$i]} >"$WORK/${NAMES[$i]}.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  SERVER_PIDS[$i]=$pid
  if await_server "$i" "$pid"; then
    STARTED+=("$i")
    LISTENERS[$i]=$(listeners "${PORTS[$i]}")
    log "started ${NAMES[$i]} on port ${PORTS[$i]} (pid $pid, ${LISTENERS[$i]} kernel listeners)"
  else
    log "${NAMES[$i]} did not start; left out. Its log: $(tail -n 3 "$WORK/${NAMES[$i]}.log" | tr '\n' ' ')"
    kill "$pid" 2>/dev/null || true
  fi
done
[ "${#STARTED[@]}" -gt 0 ] || { log "no server started"; exit 1; }

LOADS=(keep-alive close h2c)
LOAD_TEXT=("wrk keep-alive, $CONNECTIONS connections" "wrk \`Connection: close\`, $CONNECTIONS at a time"
  "h2load h2c, $H2_CONNECTIONS connections x $H2_STREAMS streams")
load_cmd() { # load-index server-index seconds
  local url=http://127.0.0.1:${PORTS[$2]}/plaintext
  case "${LOADS[$1]}" in
    keep-alive) echo "wrk -t 1 -c $CONNECTIONS -d ${3}s --latency $url" ;;
    close) echo "wrk -t 1 -c $CONNECTIONS -d ${3}s --latency -H 'Connection: close' $url" ;;
    h2c) echo "h2load -t 1 -c $H2_CONNECTIONS -m $H2_STREAMS -D $3 http://127.0.0.1:${H2_PORTS[$2]}/plaintext" ;;
  esac
}
# parse LOAD OUTPUT: "requests req/s errors non-2xx p99-ms" from wrk's or h2load's report
parse() {
  if [ "$1" = h2c ]; then
    awk '/^finished in/ { rate = $4 + 0 }
      /^requests:/ { done = $6 + 0; ok = $8 + 0; failed = $10 + 0; errored = $12 + 0; timeout = $14 + 0 }
      /^status codes:/ { bad = $7 + $9 }
      END { printf "%d %.0f %d %d -\n", ok, rate, failed + errored + timeout + (done - ok), bad }' <<<"$2"
  else
    awk '/requests in/ { n = $1 + 0 }
      /^Requests\/sec:/ { rate = $2 + 0 }
      /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
      /Non-2xx or 3xx responses:/ { non2xx = $5 + 0 }
      $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); v += 0
        p99 = unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : unit == "m" ? v * 60000 : v }
      END { printf "%d %.0f %d %d %s\n", n, rate, errors, non2xx, p99 == "" ? "-" : sprintf("%.2f", p99) }' <<<"$2"
  fi
}

wait_quiet "$WAIT_QUIET"
note_idle_load

if [ "$SERVER_WARMUP" != 0 ]; then
  log "warming up every server for ${SERVER_WARMUP} s per load (not counted)"
  for i in "${STARTED[@]}"; do
    for li in "${!LOADS[@]}"; do
      eval "$(load_cmd "$li" "$i" "$SERVER_WARMUP")" >/dev/null 2>&1 || true
    done
  done
fi

RESULTS=$WORK/results.tsv
: >"$RESULTS"
: >"$WORK/loadavg.samples"
LOADAVG_BEFORE=$(loadavg)
START_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log_machine "$LOADAVG_BEFORE"
n=${#STARTED[@]}
for round in $(seq 1 "$ROUNDS"); do
  for li in "${!LOADS[@]}"; do
    for k in $(seq 0 $((n - 1))); do
      i=${STARTED[$(((k + round - 1) % n))]}
      cmd=$(load_cmd "$li" "$i" "$DURATION")
      cut -d' ' -f1 /proc/loadavg >>"$WORK/loadavg.samples"
      cpu_before=$(cpu_ticks "${SERVER_PIDS[$i]}")
      loops_before=$(loop_ticks "${SERVER_PIDS[$i]}")
      machine_before=$(busy_jiffies)
      opens_before=$(passive_opens)
      output=$(eval "$cmd" 2>&1) || { log "load failed: $cmd: $(tail -n 3 <<<"$output")"; continue; }
      cpu_after=$(cpu_ticks "${SERVER_PIDS[$i]}")
      loops_after=$(loop_ticks "${SERVER_PIDS[$i]}")
      machine_after=$(busy_jiffies)
      opens=$(($(passive_opens) - opens_before))
      read -r requests rate errors non2xx p99 <<<"$(parse "${LOADS[$li]}" "$output")"
      cpu_us=$(awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$CLK_TCK" -v r="$requests" \
        'BEGIN { if (r <= 0) print "-"; else printf "%.2f", (b - a) * 1e6 / hz / r }')
      loop_us=$(awk -v a="$loops_before" -v b="$loops_after" -v hz="$CLK_TCK" -v r="$requests" \
        'BEGIN { if (r <= 0) print "-"; else printf "%.2f", (b - a) * 1e6 / hz / r }')
      busy=$(awk -v a="$machine_before" -v b="$machine_after" 'BEGIN { split(a, x, " "); split(b, y, " ")
        t = y[2] - x[2]; if (t <= 0) print "-"; else printf "%.2f", (y[1] - x[1]) / t }')
      # load server round requests req/s errors non-2xx p99-ms server-CPU-us/req machine-busy-share connections
      # loop-CPU-us/req
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${LOADS[$li]}" "${NAMES[$i]}" "$round" \
        "$requests" "$rate" "$errors" "$non2xx" "$p99" "$cpu_us" "$busy" "$opens" "$loop_us" >>"$RESULTS"
      log "round $round ${LOADS[$li]} ${NAMES[$i]}: $rate req/s, server CPU $cpu_us us/req (loops $loop_us)," \
        "errors $errors, non-2xx $non2xx, machine busy $busy, $opens connections opened"
    done
  done
done
LOADAVG_AFTER=$(loadavg)
LOADAVG_DURING=$(loadavg_summary "$WORK/loadavg.samples")

or_dash() { if [ -z "$1" ]; then echo "—"; else echo "$1"; fi; }
# median_rows COLUMN FORMAT SERVER/SERVER...: a table row per load: each started server's median of COLUMN (shown
# through FORMAT: num or or_dash), then for each pair of servers the ratio of their medians
median_rows() {
  local column=$1 format=$2 li l i pair row
  shift 2
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    row="| ${LOAD_TEXT[$li]} |"
    for i in "${STARTED[@]}"; do
      row="$row $("$format" "$(median "$l" "${NAMES[$i]}" "$column")") |"
    done
    for pair in "$@"; do
      row="$row $(ratio "$(median "$l" "${pair%/*}" "$column")" "$(median "$l" "${pair#*/}" "$column")") |"
    done
    echo "$row"
  done
}

NETNS_TEXT=""
if [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net 2>/dev/null)" ]; then
  NETNS_TEXT=" Run in a network namespace of its own (e.g. \`unshare -n\`): the connection counts are the run's alone."
fi
R=reuseport-$INSTANCES
X=nginx-$INSTANCES
S=vertx-shared-$INSTANCES
P=vertx-per-vertx-$INSTANCES
COMMIT=$(commit_text)
report() {
  echo "## HTTP: nginx, Vert.x and this server (bench/http.sh; issue 21)"
  echo
  echo "Produced by \`bench/http.sh --rounds $ROUNDS --duration $DURATION --instances $INSTANCES --server-warmup" \
    "$SERVER_WARMUP\` on $START_TIME, commit $COMMIT; ended $(date -u +%Y-%m-%dT%H:%M:%SZ). Client and servers on" \
    "the same machine ($(nproc) cores, $(cpu_model)," \
    "kernel $(uname -r), $(java -version 2>&1 | head -n 1 | tr -d '"'), $(nginx -v 2>&1 | sed 's/.*: //')," \
    "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2), $(h2load --version | head -n 1)), loopback only," \
    "$INSTANCES workers each; each cell is the median of $ROUNDS runs of ${DURATION} s, loads interleaved across" \
    "the servers round by round, after ${SERVER_WARMUP} s of each load against each server, uncounted. The" \
    "client is one wrk or h2load thread.$NETNS_TEXT What bounds these figures: bench/ANALYSIS.md, \"What bounds" \
    "HTTP\"."
  echo
  echo "Load average (1/5/15 min) with the servers started and idle: $LOADAVG_START; before the measured runs:" \
    "$LOADAVG_BEFORE; after: $LOADAVG_AFTER; 1-minute load average during the runs (sampled before each):" \
    "$LOADAVG_DURING."
  if [ "$BUSY" = 1 ]; then
    echo
    echo "**Warning: the machine was busy with other work (a 1-minute load average of ${LOADAVG_START%% *} with" \
      "the servers idle; a quiet machine is below 1). Requests per second were squeezed by it, unevenly from run" \
      "to run; server CPU per request much less so. Rerun on a quiet machine (\`--wait-quiet SECONDS\`).**"
  fi
  echo
  echo "Servers: \`${X}\` is nginx (\`worker_processes $INSTANCES\`, \`listen 127.0.0.1:PORT reuseport\`," \
    "\`return 200\`, access log off; h2c on a second \`listen ... http2\` port); \`${S}\` is Vert.x's own" \
    "\`createHttpServer\` in $INSTANCES verticles of one Vertx (one shared listener); \`${P}\` is $INSTANCES Vertx" \
    "of one event loop, each its own server with \`setReusePort(true)\`" \
    "(src/test/java/io/reuseport/bench/HttpPeers.java); \`${R}\` is this server's \`--service hello-http\`."
  echo
  local header="| load |" sep="|---|" i li l row
  for i in "${STARTED[@]}"; do
    header="$header ${NAMES[$i]} |"
    sep="$sep---:|"
  done
  echo "### Requests per second (median)"
  echo
  echo "$header reuseport / vertx-shared | reuseport / nginx |"
  echo "$sep---:|---:|"
  median_rows 5 num "$R/$S" "$R/$X"
  echo
  echo "### Server CPU per request (µs of the server's processes' CPU time per completed request, median)"
  echo
  echo "Lower is better. utime + stime of the server's processes over each load command (\`/proc/PID/stat\`; nginx:"
  echo "master and workers), divided by the requests the client completed in it."
  echo
  echo "$header reuseport / nginx | vertx-shared / nginx | vertx-per-vertx / nginx | reuseport / vertx-shared |"
  echo "$sep---:|---:|---:|---:|"
  median_rows 9 or_dash "$R/$X" "$S/$X" "$P/$X" "$R/$S"
  echo
  echo "### Event-loop CPU per request (µs, median): the threads that serve requests only"
  echo
  echo "The Java servers' event loops and Vert.x's acceptor thread (by thread name, \`/proc/PID/task\`), nginx's"
  echo "workers: without the JIT compilers, GC and background threads (this server's steering watchdog and stats),"
  echo "whose share of a short run depends on how warm the JVM is and how busy the machine, more than on the load."
  echo
  echo "$header reuseport / nginx | vertx-shared / nginx | reuseport / vertx-shared |"
  echo "$sep---:|---:|---:|"
  median_rows 12 or_dash "$R/$X" "$S/$X" "$R/$S"
  echo
  echo "### wrk's p99 latency in ms (median), errors + non-2xx (sum over the rounds), machine busy (median)"
  echo
  echo "Machine busy: the share of both cores' time not idle during the run (\`/proc/stat\`); near 100 % the"
  echo "machine, client included, bounds the request rate, and server CPU per request is the figure to compare."
  echo
  echo "$header"
  echo "$sep"
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    row="| ${LOAD_TEXT[$li]} |"
    for i in "${STARTED[@]}"; do
      n=${NAMES[$i]}
      row="$row $(or_dash "$(median "$l" "$n" 8)") ($(( $(sum_col "$l" "$n" 6) + $(sum_col "$l" "$n" 7) ))),"
      row="$row $(awk -v b="$(median "$l" "$n" 10)" \
        'BEGIN { if (b == "") print "—"; else printf "%.0f %%", b * 100 }') |"
    done
    echo "$row"
  done
  echo
  echo "### Issue 21 targets (ratios of the medians above)"
  echo
  echo "| target | wanted | measured | verdict |"
  echo "|---|---:|---:|---|"
  local m
  m=$(ratio "$(median keep-alive "$R" 9)" "$(median keep-alive "$X" 9)")
  echo "| server CPU per request, keep-alive: $R / $X | <= 1.1 | $m | $(verdict '<=' 1.1 "$m") |"
  m=$(ratio "$(median close "$R" 9)" "$(median close "$X" 9)")
  echo "| server CPU per request, new connection per request: $R / $X | <= 1.5 | $m | $(verdict '<=' 1.5 "$m") |"
  for li in "${!LOADS[@]}"; do
    m=$(ratio "$(median "${LOADS[$li]}" "$R" 5)" "$(median "${LOADS[$li]}" "$S" 5)")
    echo "| req/s, ${LOAD_TEXT[$li]}: $R / $S | >= 1.0 | $m | $(verdict '>=' 1.0 "$m") |"
  done
  echo
  echo "Kernel listeners per server (\`ss -ltn\` on its HTTP/1.1 port):$(for i in "${STARTED[@]}"; do
    printf ' %s %s;' "${NAMES[$i]}" "${LISTENERS[$i]}"; done | sed 's/;$/./')"
  echo
  echo "Commands (PORT: the server's port; nginx's h2c port is its second listener):"
  echo
  echo '```'
  for i in "${STARTED[@]}"; do
    local cmd=${CMDS[$i]//$REPO\//}
    cmd=${cmd//$WORK\//}
    echo "${cmd//${PORTS[$i]}/PORT}    # ${NAMES[$i]}"
  done
  for li in "${!LOADS[@]}"; do
    load_cmd "$li" "${STARTED[0]}" "$DURATION" | sed "s/127.0.0.1:[0-9]*/127.0.0.1:PORT/"
  done
  echo '```'
  echo
  echo "nginx.conf (in the run's work directory):"
  echo
  echo '```'
  if [ -f "$WORK/nginx/nginx.conf" ]; then sed "s|$WORK/||g" "$WORK/nginx/nginx.conf"; fi
  echo '```'
  echo
  echo "<details><summary>Raw runs</summary>"
  echo
  echo "Connections: TCP connections the kernel accepted during the run in this network namespace"
  echo "(\`/proc/net/snmp\` PassiveOpens, other work's too unless run in one of its own): one per request with"
  echo "\`Connection: close\`, a few otherwise."
  echo
  echo "| load | server | round | requests | req/s | errors | non-2xx | p99 ms | server CPU µs/req |" \
    "event-loop CPU µs/req | machine busy | connections |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  sort -t$'\t' -k1,1 -k2,2 -k3,3n "$RESULTS" | awk -F'\t' '{
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $12,
      $10, $11 }'
  echo
  echo "</details>"
}

json_report() {
  local first=1 i li l
  printf '{"started":"%s","commit":"%s","cores":%s,"instances":%s,"rounds":%s,"durationSeconds":%s,' \
    "$START_TIME" "$COMMIT" "$(nproc)" "$INSTANCES" "$ROUNDS" "$DURATION"
  printf '"loadAverage":{"idle":"%s","before":"%s","after":"%s"},"busy":%s,' \
    "$LOADAVG_START" "$LOADAVG_BEFORE" "$LOADAVG_AFTER" "$([ "$BUSY" = 1 ] && echo true || echo false)"
  printf '"servers":['
  for i in "${STARTED[@]}"; do
    [ "$first" = 1 ] || printf ','
    first=0
    printf '{"name":"%s","listeners":%s}' "${NAMES[$i]}" "${LISTENERS[$i]}"
  done
  printf '],"runs":['
  awk -F'\t' 'function n(v) { return v == "-" ? "null" : v }
    { printf "%s{\"load\":\"%s\",\"server\":\"%s\",\"round\":%s,\"requests\":%s,\"requestsPerSecond\":%s,", \
        (NR > 1 ? "," : ""), $1, $2, $3, $4, $5
      printf "\"errors\":%s,\"non2xx\":%s,\"p99Ms\":%s,\"serverCpuUsPerRequest\":%s,\"machineBusy\":%s,", \
        $6, $7, n($8), n($9), n($10)
      printf "\"connectionsOpened\":%s,\"loopCpuUsPerRequest\":%s}", $11, n($12) }' "$RESULTS"
  printf '],"medians":['
  first=1
  for li in "${!LOADS[@]}"; do
    l=${LOADS[$li]}
    for i in "${STARTED[@]}"; do
      [ "$first" = 1 ] || printf ','
      first=0
      printf '{"load":"%s","server":"%s","requestsPerSecond":%s,"serverCpuUsPerRequest":%s,' "$l" "${NAMES[$i]}" \
        "$(median "$l" "${NAMES[$i]}" 5 | sed 's/^$/null/')" "$(median "$l" "${NAMES[$i]}" 9 | sed 's/^$/null/')"
      printf '"loopCpuUsPerRequest":%s}' "$(median "$l" "${NAMES[$i]}" 12 | sed 's/^$/null/')"
    done
  done
  printf ']}\n'
}

report >"$WORK/section.md"
if [ -n "$JSON_OUT" ]; then
  json_report >"$JSON_OUT"
  log "wrote $JSON_OUT"
fi
cat "$WORK/section.md"
mkdir -p "$(dirname "$OUT")"
if [ "$REPLACE_SECTION" = 1 ] && [ -f "$OUT" ]; then
  # the file's other sections stay; this one replaces the previous "## HTTP" section, or goes at the end
  awk -v section="$WORK/section.md" '
    function put() { while ((getline line < section) > 0) print line; close(section); done = 1 }
    /^## HTTP/ { if (!done) put(); skip = 1; next }
    /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; put() } }' "$OUT" >"$WORK/out.md"
  cp "$WORK/out.md" "$OUT"
else
  cp "$WORK/section.md" "$OUT"
fi
log "wrote $OUT"
