#!/usr/bin/env bash
# CPU profile of the server under one load, with async-profiler (Maven tools.profiler:async-profiler:4.2, fetched
# into ~/.m2 on first use): starts the fat jar on a free loopback port, warms it up, profiles the middle of a
# bounded load, and writes a flame graph (flame.html), the collapsed stacks (profile.collapsed) and a summary of
# where the samples end: kernel vs Java, per system call, per code owner (Netty, Vert.x, this server, JVM) and the
# hottest frames. This is how bench/ANALYSIS.md's profiles were taken; loopback only, every load bounded.
#
#   bench/profile.sh [--load tcp-churn|tcp-echo|udp-echo|http-keep-alive|http-close|h2c] [--instances N]
#                    [--transport epoll|io_uring] [--warmup SECONDS] [--duration SECONDS] [--interval 500us]
#                    [--http-peer shared|per-vertx] [--out DIR] [-- SERVER_ARGS...]
#
# tcp-churn is driven by bench/churn.c (built with gcc), tcp-echo and udp-echo by the `load` command, 64
# connections or flows; the HTTP loads as bench/http.sh drives them: wrk keep-alive and `Connection: close` (64
# connections), h2load h2c (32 x 10), against `--service hello-http` (or, with --http-peer, Vert.x's own HTTP
# server from src/test/java/io/reuseport/bench/HttpPeers.java, to compare). Needs the fat jar (mvn -DskipTests
# package) and a JDK (its attach API).
set -euo pipefail

LOAD=tcp-churn
INSTANCES=$(nproc)
TRANSPORT=epoll
WARMUP=15
DURATION=10
INTERVAL=500us
HTTP_PEER=
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=
SERVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --load) LOAD=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --http-peer) HTTP_PEER=$2; shift 2 ;;
    --) shift; SERVER_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$LOAD" in
  tcp-churn) PAYLOAD=32 ;;
  tcp-echo|udp-echo) PAYLOAD=64 ;;
  http-keep-alive|http-close|h2c)
    PAYLOAD=0
    command -v wrk >/dev/null && command -v h2load >/dev/null ||
      { echo "profile.sh: the HTTP loads need wrk and h2load (Debian: wrk, nghttp2-client)" >&2; exit 2; }
    [ ${#SERVER_ARGS[@]} -gt 0 ] || SERVER_ARGS=(--service hello-http) ;;
  *) echo "profile.sh: --load must be tcp-churn, tcp-echo, udp-echo, http-keep-alive, http-close or h2c," \
    "not $LOAD" >&2; exit 2 ;;
esac
case "$HTTP_PEER" in
  ''|shared|per-vertx) ;;
  *) echo "profile.sh: --http-peer must be shared or per-vertx, not $HTTP_PEER" >&2; exit 2 ;;
esac
[[ "$WARMUP" =~ ^[0-9]+$ && "$DURATION" =~ ^[1-9][0-9]*$ && "$DURATION" -le 120 ]] ||
  { echo "profile.sh: --warmup and --duration are whole seconds, the duration 1..120" >&2; exit 2; }

JAR=$REPO/target/reuseport-server.jar
[ -f "$JAR" ] || { echo "profile.sh: no $JAR; build it first: mvn -B -DskipTests package" >&2; exit 2; }
java --list-modules 2>/dev/null | grep -q '^jdk.attach' ||
  { echo "profile.sh: needs a JDK with the attach API (jdk.attach), not a JRE" >&2; exit 2; }

AP_JAR=$HOME/.m2/repository/tools/profiler/async-profiler/4.2/async-profiler-4.2.jar
if [ ! -f "$AP_JAR" ]; then
  mvn -B -q dependency:get -Dartifact=tools.profiler:async-profiler:4.2 >&2 ||
    { echo "profile.sh: cannot fetch tools.profiler:async-profiler:4.2 from Maven Central" >&2; exit 2; }
fi
WORK=$(mktemp -d /tmp/reuseport-profile.XXXXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
arch=$(uname -m)
case "$arch" in x86_64) AP_DIR=linux-x64 ;; aarch64) AP_DIR=linux-arm64 ;; *) AP_DIR=unknown ;; esac
(cd "$WORK" && unzip -q -o "$AP_JAR" "$AP_DIR/libasyncProfiler.so") 2>/dev/null ||
  { echo "profile.sh: the async-profiler jar has no native library for $arch" >&2; exit 2; }
LIB=$WORK/$AP_DIR/libasyncProfiler.so
# the JDK's attach API loads the agent into the running server (jcmd's JVMTI.agent_load drops its options)
cat >"$WORK/Attach.java" <<'JAVA'
public class Attach {
  public static void main(String[] args) throws Exception {
    com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(args[0]);
    try {
      vm.loadAgentPath(args[1], args[2]);
    } finally {
      vm.detach();
    }
  }
}
JAVA
profiler() { # command: async-profiler's agent arguments
  java "$WORK/Attach.java" "$SERVER" "$LIB" "$1" >/dev/null
}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
ADMIN_PORT=$(free_port)
# DebugNonSafepoints: frames attributed to the line that ran, not to the nearest safepoint
if [ -n "$HTTP_PEER" ]; then
  java -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -cp "$JAR:$REPO/target/test-classes" \
    io.reuseport.bench.HttpPeers "$HTTP_PEER" "$PORT" "$INSTANCES" >"$WORK/server.log" 2>&1 &
else
  java -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -jar "$JAR" --host 127.0.0.1 --port "$PORT" \
    --admin-host 127.0.0.1 --admin-port "$ADMIN_PORT" --instances "$INSTANCES" --transport "$TRANSPORT" \
    "${SERVER_ARGS[@]}" >"$WORK/server.log" 2>&1 &
fi
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 300); do
  if [ -n "$HTTP_PEER" ]; then
    grep -q 'HttpPeers:' "$WORK/server.log" && break
  else
    curl -sf "http://127.0.0.1:$ADMIN_PORT/health/ready" >/dev/null 2>&1 && break
  fi
  kill -0 "$SERVER" 2>/dev/null || { echo "profile.sh: the server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done

run_load() { # seconds
  if [ "$LOAD" = tcp-churn ]; then
    "$WORK/churn" 127.0.0.1 "$PORT" 64 "$1" 0 "$PAYLOAD"
  elif [ "$LOAD" = http-keep-alive ]; then
    wrk -t 1 -c 64 -d "${1}s" "http://127.0.0.1:$PORT/plaintext" | grep -E 'requests in|Requests/sec|errors'
  elif [ "$LOAD" = http-close ]; then
    wrk -t 1 -c 64 -d "${1}s" -H 'Connection: close' "http://127.0.0.1:$PORT/plaintext" |
      grep -E 'requests in|Requests/sec|errors'
  elif [ "$LOAD" = h2c ]; then
    h2load -t 1 -c 32 -m 10 -D "$1" "http://127.0.0.1:$PORT/plaintext" | grep -E '^(finished|requests:)'
  else
    java -jar "$JAR" load --mode "$LOAD" --target "127.0.0.1:$PORT" --concurrency 64 --payload "$PAYLOAD" \
      --duration "${1}s" --json 2>/dev/null | tail -n 1
  fi
}
if [ "$LOAD" = tcp-churn ]; then
  gcc -O2 -o "$WORK/churn" "$REPO/bench/churn.c" || { echo "profile.sh: tcp-churn needs gcc" >&2; exit 2; }
fi

echo "profile.sh: server pid $SERVER (${HTTP_PEER:+Vert.x HTTP peer $HTTP_PEER, }$INSTANCES instances on" \
  "$TRANSPORT), port $PORT; warming up ${WARMUP} s" >&2
[ "$WARMUP" = 0 ] || run_load "$WARMUP" >/dev/null
# the load runs 2 s longer on each side than the profile, so the profile sees only the steady middle
run_load $((DURATION + 4)) >"$WORK/load.json" &
LOADER=$!
PIDS+=("$LOADER")
sleep 2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
profiler "start,event=cpu,interval=$INTERVAL"
sleep "$DURATION"
profiler "dump,file=$OUT/profile.collapsed,collapsed,ann"
profiler "stop,file=$OUT/flame.html,flamegraph,ann"
wait "$LOADER" || true
cp "$WORK/server.log" "$OUT/server.log"

# Summary of the collapsed stacks ("frame;frame;... COUNT"; kernel frames end in _[k], Java ones in _[j], _[i]
# (inlined), _[1] (C1) or _[0] (interpreted))
awk -v load="$LOAD" -v transport="$TRANSPORT" -v instances="$INSTANCES" -v la="$LOAD_BEFORE" \
    -v result="$(tr -s '\n ' ' ' <"$WORK/load.json")" '
  {
    n = $NF; $NF = ""; stack = $0; sub(/ $/, "", stack)
    total += n
    k = split(stack, f, ";")
    leaf = f[k]
    if (leaf ~ /_\[k\]$/) kernel += n
    # the system call a kernel stack is in: the first __x64_sys_/__arm64_sys_ frame
    for (i = 1; i <= k; i++) {
      if (f[i] ~ /^__(x64|arm64)_sys_/) {
        s = f[i]; sub(/^__(x64|arm64)_sys_/, "", s); sub(/_\[k\]$/, "", s); sys[s] += n; break
      }
    }
    # owner: the innermost Java frame, by package
    owner = "JVM and native"
    for (i = k; i >= 1; i--) {
      if (f[i] ~ /_\[[ji01]\]$/) {
        if (f[i] ~ /^io\/netty\//) owner = "Netty"
        else if (f[i] ~ /^io\/vertx\//) owner = "Vert.x"
        else if (f[i] ~ /^io\/reuseport\//) owner = "this server"
        else owner = "JDK and other Java"
        break
      }
    }
    if (leaf ~ /_\[k\]$/) owner = "kernel"
    if (owner !~ /^(Netty|Vert.x|this server|JDK and other Java)$/) {
      if (stack ~ /CompileBroker::|C2Compiler::|Compilation::/) owner = "JIT compiler"
      else if (stack ~ /(^|;)(G1|GangWorker|WorkerThread::run|ConcurrentGCThread|VM_G1)/) owner = "GC"
    }
    owners[owner] += n
  }
  END {
    if (total == 0) { print "no samples"; exit 1 }
    printf "# Profile: %s, %s instances on %s\n\n", load, instances, transport
    printf "%d samples; 1-min load average %s at the start. Load result: %s\n\n", total, la, result
    printf "| where the samples end | share |\n|---|---:|\n"
    for (o in owners) printf "| %s | %.1f %% |\n", o, 100 * owners[o] / total
    printf "\n| system call (kernel time under it) | share |\n|---|---:|\n"
    for (s in sys) if (100 * sys[s] / total >= 0.5) printf "| %s | %.1f %% |\n", s, 100 * sys[s] / total
  }' "$OUT/profile.collapsed" >"$OUT/summary.md"
{
  printf '\n| hottest frames (self) | share |\n|---|---:|\n'
  awk '{ n = $NF; $NF = ""; sub(/ $/, ""); k = split($0, f, ";"); self[f[k]] += n; total += n }
    END { for (l in self) printf "%d\t%.1f\t%s\n", self[l], 100 * self[l] / total, l }' "$OUT/profile.collapsed" |
    sort -rn | head -n 15 | awk -F'\t' '{ printf "| `%s` | %s %% |\n", $3, $2 }'
} >>"$OUT/summary.md"
cat "$OUT/summary.md"
echo >&2
echo "profile.sh: flame graph $OUT/flame.html, stacks $OUT/profile.collapsed, summary $OUT/summary.md" >&2
