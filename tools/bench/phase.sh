# phase <name> <command...>: run one phase of a bench script as its own process under /usr/bin/time (wall time and
# peak RSS into $W/<name>.time, output into $W/<name>.log), stopping it (and the script) when the machine's available
# memory falls under 2 GiB, so a shared machine is not pushed into the OOM killer. Sourced by the bench .sh scripts;
# needs $W (the work dir).
phase() {
  local name=$1; shift
  /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o "$W/$name.time" "$@" > "$W/$name.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(awk '/MemAvailable/ {print $2}' /proc/meminfo)" -lt 2097152 ]; then
      kill -- "$pid" 2>/dev/null; pkill -P "$pid" 2>/dev/null || true
      echo "$name STOPPED: machine memory available fell under 2 GiB"; exit 1
    fi
    sleep 1
  done
  wait "$pid" || { echo "$name FAILED"; tail -3 "$W/$name.log"; cat "$W/$name.time"; exit 1; }
  cat "$W/$name.time"; tail -1 "$W/$name.log"
}
