#!/usr/bin/env bash
# Server memory per idle TCP connection, loopback only: starts a server, opens N connections that then stay idle,
# and reports the growth of the server's resident memory (VmRSS) per connection, and for a Java server also the
# growth of its live heap (used after a full GC, from jcmd) per connection. Then closes everything. Bounded: N is at
# most 15000 (the open-file limit here is 20000), each step waits at most 60 s.
#
#   bench/idle-memory.sh [--connections N] [--server 'COMMAND with PORT']
#
# Default server: java -jar target/reuseport-server.jar --port PORT --admin-port 0 --instances 2 (reuseport, epoll).
# A fresh server each run: the first N connections are measured, so that no heap or kernel page touched by
# earlier ones hides their cost.
set -euo pipefail

N=5000
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER="java -jar $REPO/target/reuseport-server.jar --port PORT --admin-port 0 --instances 2 --transport epoll"
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) N=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "idle-memory.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$N" -lt 1 ] || [ "$N" -gt 15000 ]; then
  echo "idle-memory.sh: --connections must be 1..15000, not $N" >&2
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
  rm -f "$LOG" "$LOG.fifo"
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
live_heap_kb() { # used heap after a full GC, in KB (Java servers only)
  if [ "$java_pid" = 0 ]; then echo 0; return; fi
  jcmd "$PID" GC.run >/dev/null
  jcmd "$PID" GC.heap_info | awk '/ used / { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1);
    sub(/K$/, "", v); print v; exit } }'
}

heap_before=$(live_heap_kb)
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
rm -f "$LOG.opened"
sleep 2
established=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
rss_after=$(rss_kb)
heap_after=$(live_heap_kb)
exec 3>&-
awk -v n="$opened" -v e="$established" -v r0="$rss_before" -v r1="$rss_after" -v h0="$heap_before" \
  -v h1="$heap_after" -v j="$java_pid" 'BEGIN {
  printf "connections opened %d, established on the server %d\n", n, e
  printf "server RSS %d KB -> %d KB: %.2f KB per idle connection\n", r0, r1, (r1 - r0) / n
  if (j != 0) printf "live heap after full GC %d KB -> %d KB: %.2f KB per idle connection\n", h0, h1, (h1 - h0) / n
}'
