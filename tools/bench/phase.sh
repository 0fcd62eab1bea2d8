# phase <name> <command...>: run one phase of a bench script as its own process under /usr/bin/time (wall time and
# peak RSS into $W/<name>.time, output into $W/<name>.log), stopping it (and the script) when the machine's available
# memory falls under 2 GiB, so a shared machine is not pushed into the OOM killer, or when the phase's processes
# together hold more than $PHASE_MAX_RSS_GB GiB (optional: a measured "needs more than" instead of a machine-wide
# squeeze). Sourced by the bench .sh scripts; needs $W (the work dir).
tree_rss_kb() { # RSS of a process and all its descendants, in KB
  local total=0 p
  for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
    if [ "$p" = "$1" ]; then total=$((total + $(ps -o rss= -p "$p" 2>/dev/null || echo 0))); else total=$((total + $(tree_rss_kb "$p"))); fi
  done
  echo "$total"
}
kill_tree() { # a process and all its descendants (children first), by pid
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
phase() {
  local name=$1; shift
  local cap_kb=$(( ${PHASE_MAX_RSS_GB:-0} * 1048576 )) peak_kb=0 rss
  /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o "$W/$name.time" "$@" > "$W/$name.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(tree_rss_kb "$pid"); [ "$rss" -gt "$peak_kb" ] && peak_kb=$rss
    if [ "$cap_kb" -gt 0 ] && [ "$rss" -gt "$cap_kb" ]; then
      kill_tree "$pid"
      echo "$name STOPPED: its processes held $((rss / 1024)) MiB, over PHASE_MAX_RSS_GB=$PHASE_MAX_RSS_GB ($(tail -1 "$W/$name.log" | cut -c1-200))"; exit 1
    fi
    if [ "$(awk '/MemAvailable/ {print $2}' /proc/meminfo)" -lt 2097152 ]; then
      kill_tree "$pid"
      echo "$name STOPPED: machine memory available fell under 2 GiB (phase RSS $((peak_kb / 1024)) MiB at most)"; exit 1
    fi
    sleep 1
  done
  wait "$pid" || { echo "$name FAILED"; tail -3 "$W/$name.log"; cat "$W/$name.time"; exit 1; }
  cat "$W/$name.time"; tail -1 "$W/$name.log"
}
