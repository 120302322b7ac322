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
