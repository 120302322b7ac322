#!/usr/bin/env bash
# Steering under CPU starvation, loopback only: the server with --steering auto (the BPF selector, as root) and with
# --steering kernel, rounds interleaved, under the same starvation, driven by the C churn client (bench/churn.c).
# Looks for the collapse once seen on a loaded machine (auto at 0-227 connections/s with every instance judged
# stalled, kernel at ~4,150): per run, throughput, failed connections, p99, and from /stats (sampled every 200 ms)
# how long each instance was steered around and how often the table changed; the server's steering log lines.
#
#   bench/starve.sh [--rounds N] [--duration SECONDS] [--instances N] [--concurrency N] [--modes "auto kernel"]
#                   [--starve none|hogs:COUNT:NICE|quota:PERCENT|gc] [--threshold MS]
#                   [--server-cpu LIST] [--client-cpu LIST] [--nice N] [--base-jar FILE] [--out FILE]
#
# Starvation, set up before each measured run and taken down after it (every piece bounded by a timeout):
#   hogs:COUNT:NICE  COUNT busy loops at nice NICE (e.g. hogs:8:-5: eight loops that outrank the server's nice 0)
#   quota:PERCENT    the server alone in a CPU cgroup (v1 cpu.cfs_quota_us, or v2 cpu.max) with PERCENT of one CPU
#                    per 100 ms period: it runs in bursts and every thread stops together when the quota is spent
#   gc               the server with a 24 MiB heap and the test service's allocation left to churn it (GC pauses)
#   none             nothing besides what else runs on the machine
# --server-cpu pins the server and the hogs to those CPUs (taskset), --client-cpu the client; --nice runs server and
# client at that nice value. On a shared machine, e.g. `--server-cpu 1 --client-cpu 0 --nice -10 --starve
# hogs:3:-15` makes the server compete with the hogs rather than with whatever else happens to run (both outrank
# nice 0), so that rounds compare; it leaves the other CPU to everything else.
# --base-jar adds the mode "base": steering auto with another build of the server (e.g. the commit before a fix),
# in the same rounds; add it to --modes, e.g. --modes "auto base kernel".
# Needs root (CAP_BPF for auto, and the cgroup for quota), gcc, curl, python3. Raw data in target/starve-bench/.
set -euo pipefail

ROUNDS=3
DURATION=10
INSTANCES=2
CONCURRENCY=64
MODES="auto kernel"
STARVE=none
THRESHOLD=300
SERVER_CPU=
CLIENT_CPU=
NICE=0
BASE_JAR=
OUT=
REPO=$(cd "$(dirname "$0")/.." && pwd)

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --starve) STARVE=$2; shift 2 ;;
    --threshold) THRESHOLD=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --nice) NICE=$2; shift 2 ;;
    --base-jar) BASE_JAR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "starve.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$REPO/bench/lib.sh"
WORK=$(mktemp -d /tmp/reuseport-starve.XXXXXX)
RAW=$REPO/target/starve-bench
SERVER_PID=
POLLER_PID=
HOG_PIDS=()
CGROUP=

stop_starvation() {
  stop_pids "${HOG_PIDS[@]}"
  HOG_PIDS=()
}
stop_server() {
  stop_pid "$POLLER_PID"
  POLLER_PID=
  stop_pid "$SERVER_PID"
  SERVER_PID=
  if [ -n "$CGROUP" ]; then
    rmdir "$CGROUP" 2>/dev/null || true
    CGROUP=
  fi
}
cleanup() {
  stop_starvation
  stop_server
  mkdir -p "$RAW" && cp "$WORK"/*.{log,json} "$RAW"/ 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

JAR=$REPO/target/reuseport-server.jar
[ -f "$JAR" ] || (cd "$REPO" && mvn -q -o package -DskipTests)
# a copy: a rebuild in the repository during the run must not change what runs
cp "$JAR" "$WORK/server.jar"
if [ -n "$BASE_JAR" ]; then
  cp "$BASE_JAR" "$WORK/base.jar"
elif [[ " $MODES " == *" base "* ]]; then
  log "mode base needs --base-jar"; exit 2
fi
gcc -O2 -o "$WORK/churn" "$REPO/bench/churn.c"
# runner CPUS NICE: sets RUN to the command prefix that pins to CPUS (when given) at nice NICE; nice and taskset
# exec the command, so that $! of "${RUN[@]}" COMMAND & is the command's own pid (what stop_server kills)
runner() {
  RUN=(nice -n "$2")
  if [ -n "$1" ]; then
    RUN+=(taskset -c "$1")
  fi
}

# start_server MODE TAG: the server on a port the kernel picks, until its ready line (60 s at most)
start_server() {
  local heap=() jar=$WORK/server.jar steering=$1
  if [ "$STARVE" = gc ]; then
    heap=(-Xms24m -Xmx24m)
  fi
  if [ "$1" = base ]; then
    jar=$WORK/base.jar
    steering=auto
  fi
  runner "$SERVER_CPU" "$NICE"
  "${RUN[@]}" java "${heap[@]}" -jar "$jar" --host 127.0.0.1 --port 0 --admin-host 127.0.0.1 \
    --admin-port 0 --instances "$INSTANCES" --steering "$steering" --stall-threshold-ms "$THRESHOLD" \
    > "$WORK/server-$2.log" 2>&1 &
  SERVER_PID=$!
  await_ready "$WORK/server-$2.log" "$SERVER_PID" || { log "server ($1) did not start"; exit 1; }
  PORT=$(sed -n 's/.*ready: .*instances, port \([0-9]\+\), admin port.*/\1/p' "$WORK/server-$2.log")
  ADMIN=$(sed -n 's/.*ready: .*admin port \([0-9]\+\).*/\1/p' "$WORK/server-$2.log")
}

# poll TAG: every 200 ms one line: wall-clock ms, 1-minute load average, /stats (one JSON line, or nothing when it
# did not answer within 2 s); parsed after the run, so that the poller costs the starved machine only a curl
poll() {
  while :; do
    echo "$(date +%s%3N) $(cut -d' ' -f1 /proc/loadavg) $(curl -s --max-time 2 "http://127.0.0.1:$ADMIN/stats" \
      | tr -d '\n')" >> "$WORK/stats-$1.log"
    sleep 0.2
  done
}

# starve: the chosen starvation, bounded by the run's length plus a margin
starve() {
  local limit=$((DURATION + 15))
  case "$STARVE" in
    none|gc) ;;
    hogs:*)
      local count nice
      count=$(echo "$STARVE" | cut -d: -f2)
      nice=$(echo "$STARVE" | cut -d: -f3)
      for _ in $(seq 1 "$count"); do
        runner "$SERVER_CPU" "$nice"
        "${RUN[@]}" timeout "$limit" sh -c 'while :; do :; done' &
        HOG_PIDS+=($!)
      done ;;
    quota:*)
      local percent quota
      percent=$(echo "$STARVE" | cut -d: -f2)
      quota=$((percent * 1000))
      if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        CGROUP=/sys/fs/cgroup/cpu/reuseport-starve-$$
        mkdir -p "$CGROUP"
        echo 100000 > "$CGROUP/cpu.cfs_period_us"
        echo "$quota" > "$CGROUP/cpu.cfs_quota_us"
      else
        CGROUP=/sys/fs/cgroup/reuseport-starve-$$
        mkdir -p "$CGROUP"
        echo "$quota 100000" > "$CGROUP/cpu.max"
      fi
      echo "$SERVER_PID" > "$CGROUP/cgroup.procs" ;;
    *) log "unknown --starve $STARVE"; exit 2 ;;
  esac
}

LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOADAVG_BEFORE; $ROUNDS rounds of ${DURATION}s, starvation $STARVE"
for round in $(seq 1 "$ROUNDS"); do
  order=$MODES
  if [ $((round % 2)) = 0 ]; then
    order=$(echo "$MODES" | tr ' ' '\n' | tac | tr '\n' ' ')
  fi
  for mode in $order; do
    tag=$mode-$round
    start_server "$mode" "$tag"
    # warm-up, unstarved, uncounted
    runner "$CLIENT_CPU" "$NICE"
    "${RUN[@]}" "$WORK/churn" 127.0.0.1 "$PORT" "$CONCURRENCY" 2 0 64 > /dev/null
    starve
    poll "$tag" &
    POLLER_PID=$!
    echo "$(date +%T.%3N) $(cut -d' ' -f1 /proc/loadavg)" > "$WORK/window-$tag.log"
    runner "$CLIENT_CPU" "$NICE"
    "${RUN[@]}" "$WORK/churn" 127.0.0.1 "$PORT" "$CONCURRENCY" "$DURATION" 1 64 \
      > "$WORK/churn-$tag.json"
    echo "$(date +%T.%3N) $(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/window-$tag.log"
    stop_starvation
    stop_server
    log "round $round $mode: $(cat "$WORK/churn-$tag.json")"
  done
done
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# summary TAG: the client's figures, the load average at the start and end, and from the server's log (the
# watchdog's lines) how long, inside the measured window, one instance or more was steered around while another
# took its buckets (traffic concentrated on fewer loops), and how long every instance was judged stalled at once
summary() {
  python3 - "$WORK" "$1" "$INSTANCES" <<'EOF'
import datetime, json, re, sys
work, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.loads(open(f"{work}/churn-{tag}.json").read().strip().splitlines()[-1])
(start, load0), (end, load1) = [l.split() for l in open(f"{work}/window-{tag}.log")]
clock = lambda t: datetime.datetime.strptime(t, "%H:%M:%S.%f")
start, end = clock(start), clock(end)
out, since, some, every, stalls = set(), start, 0.0, 0.0, 0
for line in open(f"{work}/server-{tag}.log"):
    m = re.match(r"(\S+) .*steering: instance (\d+) (stalled|runs again)", line)
    if not m:
        continue
    t = min(max(clock(m.group(1)), start), end)
    if out:
        some += (t - since).total_seconds() if len(out) < n else 0
        every += (t - since).total_seconds() if len(out) == n else 0
    since = t
    if m.group(3) == "stalled":
        out.add(m.group(2))
        stalls += start < clock(m.group(1)) < end
    else:
        out.discard(m.group(2))
if out:
    some += (end - since).total_seconds() if len(out) < n else 0
    every += (end - since).total_seconds() if len(out) == n else 0
span = (end - start).total_seconds()
print(f"| {tag} | {c['throughput']:.0f} | {c['errors'] + c['timeouts']} of {c['requests']} | "
      f"{c['latencyUs']['p99'] / 1000:.0f} | {load0}-{load1} | {stalls} | {100 * some / span:.0f} % | "
      f"{100 * every / span:.0f} % |")
EOF
}

report() {
  echo "Machine: $(nproc) cores, $(uname -r). Load average before: $LOADAVG_BEFORE; after: $LOADAVG_AFTER."
  echo "Command: \`bench/starve.sh --rounds $ROUNDS --duration $DURATION --instances $INSTANCES" \
    "--concurrency $CONCURRENCY --starve $STARVE --threshold $THRESHOLD${SERVER_CPU:+ --server-cpu $SERVER_CPU}" \
    "${CLIENT_CPU:+--client-cpu $CLIENT_CPU }--nice $NICE\`"
  echo
  echo "| run | conn/s | failed | p99 ms | load avg (start-end) | stalls judged | time some (not all)" \
    "instances steered around | time all judged stalled |"
  echo "|---|---:|---:|---:|---|---:|---:|---:|"
  for round in $(seq 1 "$ROUNDS"); do
    for mode in $MODES; do
      summary "$mode-$round"
    done
  done
}
print_report
