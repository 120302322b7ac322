#!/usr/bin/env bash
# Server memory per idle TCP connection, loopback only: starts a server, opens N connections that then stay idle,
# and reports per connection the growth of the server's resident memory (VmRSS) and, for a Java server, of its live
# heap (used after a full GC, from jcmd), with the classes that grew most (class histograms before and after).
# Then closes everything. Bounded: N is at most 15000 (the open-file limit here is 20000), each step waits at most
# 60 s, the warm-up runs at most 60 s.
#
#   bench/idle-memory.sh [--connections N] [--warmup SECONDS] [--top K] [--server 'COMMAND with PORT']
#
# Default server: java -jar target/reuseport-server.jar --port PORT --admin-port 0 --instances 2 (reuseport, epoll).
# A fresh server each run. --warmup runs bench/churn.c (built with gcc) against it for that long first, as a server
# that has served traffic would have: a JVM that has just started has not yet touched the pages of its young
# generation, and the garbage of accepting N connections touches them, which a fresh server's RSS counts against
# the connections (see bench/ANALYSIS.md). The RSS baseline is taken without a full GC (G1 gives memory back on a
# full GC, and would grow it again during the measurement); the live heap is measured by full GCs before the
# warm-up and after the RSS reading. --top: how many classes of the histogram difference to show (default 12; 0
# for none).
set -euo pipefail

N=5000
WARMUP=0
TOP=12
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER="java -jar $REPO/target/reuseport-server.jar --port PORT --admin-port 0 --instances 2 --transport epoll"
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) N=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --top) TOP=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "idle-memory.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$N" -lt 1 ] || [ "$N" -gt 15000 ]; then
  echo "idle-memory.sh: --connections must be 1..15000, not $N" >&2
  exit 2
fi
if [ "$WARMUP" -lt 0 ] || [ "$WARMUP" -gt 60 ]; then
  echo "idle-memory.sh: --warmup must be 0..60 seconds, not $WARMUP" >&2
  exit 2
fi

PORT=${BENCH_BASE_PORT:-19700}
while ss -Htan "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
LOG=$(mktemp /tmp/idle-memory.XXXXXX)
${SERVER//PORT/$PORT} >"$LOG" 2>&1 &
PID=$!
CLIENT=""
cleanup() {
  [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null || true
  kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$LOG" "$LOG".*
}
trap cleanup EXIT

for _ in $(seq 1 300); do
  ss -Hltn "sport = :$PORT" | grep -q . && break
  kill -0 "$PID" 2>/dev/null || { echo "idle-memory.sh: server died: $(tail -n 3 "$LOG")" >&2; exit 1; }
  sleep 0.2
done
sleep 2

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
java_pid=0
if [[ "$(readlink "/proc/$PID/exe")" == */java ]]; then
  java_pid=$PID
fi
# live_heap_kb FILE: used heap after a full GC, in KB (Java servers only); the class histogram (itself taken after
# a full GC) goes to FILE
live_heap_kb() {
  if [ "$java_pid" = 0 ]; then echo 0; return; fi
  jcmd "$PID" GC.class_histogram >"$1"
  jcmd "$PID" GC.heap_info | awk '/ used / { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1);
    sub(/K$/, "", v); print v; exit } }'
}

heap_before=$(live_heap_kb "$LOG.histo0")
if [ "$WARMUP" != 0 ]; then
  gcc -O2 -o "$LOG.churn" "$REPO/bench/churn.c" || { echo "idle-memory.sh: --warmup needs gcc" >&2; exit 2; }
  "$LOG.churn" 127.0.0.1 "$PORT" 64 "$WARMUP" 0 32 >/dev/null
  # closed connections leave TIME_WAIT on the client side only; the server's sockets are gone
  sleep 1
fi
rss_before=$(rss_kb)
mkfifo "$LOG.fifo"
# the client: opens N connections, says how many, then holds them until its stdin closes (or 60 s)
python3 -c '
import resource, socket, sys, select
n, port = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.append(s)
print(len(held), flush=True)
select.select([sys.stdin], [], [], 60)
' "$N" "$PORT" <"$LOG.fifo" >"$LOG.opened" &
CLIENT=$!
exec 3>"$LOG.fifo"
for _ in $(seq 1 600); do
  [ -s "$LOG.opened" ] && break
  kill -0 "$CLIENT" 2>/dev/null || { echo "idle-memory.sh: client failed" >&2; exit 1; }
  sleep 0.1
done
opened=$(cat "$LOG.opened")
sleep 2
established=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
rss_after=$(rss_kb)
heap_after=$(live_heap_kb "$LOG.histo1")
exec 3>&-
awk -v n="$opened" -v e="$established" -v r0="$rss_before" -v r1="$rss_after" -v h0="$heap_before" \
  -v h1="$heap_after" -v j="$java_pid" -v w="$WARMUP" 'BEGIN {
  how = " (fresh server)"
  if (w > 0) how = sprintf(" (after %d s of churn)", w)
  printf "connections opened %d, established on the server %d%s\n", n, e, how
  printf "server RSS %d KB -> %d KB: %.2f KB per idle connection\n", r0, r1, (r1 - r0) / n
  if (j != 0) printf "live heap after full GC %d KB -> %d KB: %.2f KB per idle connection\n", h0, h1, (h1 - h0) / n
}'
if [ "$java_pid" != 0 ] && [ "$TOP" != 0 ]; then
  # the classes whose live instances grew most, per connection
  awk -v n="$opened" -v top="$TOP" '
    FNR == 1 { file++ }
    $1 ~ /^[0-9]+:$/ { count[file, $4] = $2; bytes[file, $4] = $3; names[$4] = 1 }
    END {
      for (c in names) {
        d = bytes[2, c] - bytes[1, c]; total += d
        if (d > 0) printf "%d\t%.1f\t%.2f\t%s\n", d, d / n, (count[2, c] - count[1, c]) / n, c
      }
      printf "%d\t%.1f\t-\t(all classes)\n", 1e15, total / n
    }' "$LOG.histo0" "$LOG.histo1" | sort -t$'\t' -k1,1nr | head -n $((TOP + 1)) |
    awk -F'\t' 'NR == 1 { printf "class histogram difference: %s bytes per connection in all\n", $2; next }
      { printf "  %7s B  %5s objects  %s\n", $2, $3, $4 }'
fi
