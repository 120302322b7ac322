# Shell functions the bench scripts share (source it: . "$(dirname "$0")/lib.sh"); bash only.

# log MESSAGE...: one line on stderr, named after the script
log() { echo "$(basename "$0"): $*" >&2; }

# stop_pid PID: stops a process this script started (a background job) and reaps it; nothing when PID is empty
stop_pid() {
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

# await_ready LOG PID: waits (60 s at most) for the server's "ready:" line in LOG; fails, with the log on stderr,
# when the server exited first or was not ready in time
await_ready() {
  for _ in $(seq 1 600); do
    grep -q 'ready:' "$1" && return 0
    kill -0 "$2" 2>/dev/null || { log "server exited before it was ready:"; cat "$1" >&2; return 1; }
    sleep 0.1
  done
  log "server not ready in 60 s:"; cat "$1" >&2
  return 1
}

# print_report: runs the script's report function, to stdout and, when OUT is set, to that file as well
print_report() {
  if [ -n "$OUT" ]; then
    report | tee "$OUT"
  else
    report
  fi
}

# stop_pids PID...: stops processes this script started (background jobs): signals them all first, so that they end
# together, then reaps each
stop_pids() {
  local pid
  for pid in "$@"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    wait "$pid" 2>/dev/null || true
  done
}

# port_free PORT: nothing on the loopback's PORT, TCP or UDP
port_free() {
  ! ss -Htan "sport = :$1" | grep -q . && ! ss -Huan "sport = :$1" | grep -q .
}

# await_listener PORT PID: waits (30 s at most) for a TCP listener on PORT; fails when the process exited first or
# no listener came in time
await_listener() {
  for _ in $(seq 1 300); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# cpu_ticks PID: user + system CPU time so far of the process and of its children (nginx's workers), in clock ticks;
# nothing when the process is gone
cpu_ticks() {
  [ -r "/proc/$1/stat" ] || return 0
  local total=0 p t
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}

# loadavg: the 1, 5 and 15-minute load averages, "0.52 0.60 0.71"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_model: the CPU's model name (/proc/cpuinfo)
cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'; }

# commit_text: the repository's short commit (REPO), "with uncommitted changes" when the work tree differs from it
commit_text() {
  echo "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
    git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
}

# wait_quiet SECONDS: waits up to SECONDS for the 1-minute load average to drop below 1 (other work on the machine
# skews every number)
wait_quiet() {
  local waited=0
  while [ "$waited" -lt "$1" ] && awk '{ exit !($1 >= 1) }' /proc/loadavg; do
    [ $((waited % 30)) = 0 ] && log "load average $(cut -d' ' -f1 /proc/loadavg): waiting for a quieter machine"
    sleep 5
    waited=$((waited + 5))
  done
}

# note_idle_load: with the servers started but idle, sets LOADAVG_START (loadavg) and BUSY (1 when the 1-minute load
# average is 1 or more: other work is running now and squeezes every number of the run, which the report must say)
note_idle_load() {
  LOADAVG_START=$(loadavg)
  BUSY=0
  if awk -v a="${LOADAVG_START%% *}" 'BEGIN { exit !(a >= 1) }'; then
    BUSY=1
    log "load average $LOADAVG_START with the servers idle: other work is running; the report will say so"
  fi
}

# log_machine LOADAVG: one line on stderr with the machine's cores, CPU and kernel, and the load average given
log_machine() {
  log "machine: $(nproc) cores, $(cpu_model), kernel $(uname -r), load average $1 (1/5/15 min)"
}

# loadavg_summary FILE: the 1-minute load averages sampled into FILE, one a line, as "min M, median M, max M over N
# samples" ("not sampled" when none)
loadavg_summary() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "not sampled"
    else printf "min %s, median %s, max %s over %d samples", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}

# The results table: RESULTS, a tab-separated file with a row per run, its first columns the load and the server's
# name. A cell that is empty, "-" or "null" is a figure the run did not give.

# median LOAD NAME COLUMN: the median of COLUMN over the runs of that load against that server; empty when none
median() {
  awk -F'\t' -v l="$1" -v n="$2" -v c="$3" '$1 == l && $2 == n && $c != "" && $c != "-" && $c != "null" { print $c }' \
    "$RESULTS" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# sum_col LOAD NAME COLUMN: the sum of COLUMN over the runs of that load against that server
sum_col() { awk -F'\t' -v l="$1" -v n="$2" -v c="$3" '$1 == l && $2 == n { s += $c } END { print s + 0 }' "$RESULTS"; }

# ratio A B: A / B with two decimals; "—" when either is missing or B is 0
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf "%.2f", a / b }'
}

# num A: A rounded to a whole number; "—" when missing
num() { awk -v a="$1" 'BEGIN { if (a == "") print "—"; else printf "%.0f", a }'; }

# verdict RELATION WANTED MEASURED: "met" when MEASURED RELATION (<= or >=) WANTED holds, "missed" when not, "not
# measured" when MEASURED is missing ("" or "—")
verdict() {
  awk -v r="$1" -v t="$2" -v v="$3" 'BEGIN { if (v == "—" || v == "") print "not measured";
    else if ((r == "<=" && v + 0 <= t + 0) || (r == ">=" && v + 0 >= t + 0)) print "met"; else print "missed" }'
}

# copy_test_classpath: compiles the tests (offline), copies target/classes and target/test-classes into WORK (a
# rebuild in the repository during the run must not change what runs) and sets CP to the copies and every
# test-scope dependency
copy_test_classpath() {
  (cd "$REPO" && mvn -q -o test-compile && mvn -q -o dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$WORK/cp" >/dev/null)
  cp -r "$REPO/target/classes" "$WORK/classes" && cp -r "$REPO/target/test-classes" "$WORK/test-classes"
  CP=$WORK/test-classes:$WORK/classes:$(cat "$WORK/cp")
}
