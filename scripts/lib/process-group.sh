# Sourced by the emulator scripts (scripts/emulator, scripts/moto): the background server they start
# runs under setsid, so its pid is also its process group id.

# stop_group <pidfile>: TERM the group, wait up to 10 s, then KILL it; removes the pid file.
stop_group() {
  local pidfile="$1" pid i
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# wait_healthy <name> <url> <pidfile> <log> <timeout seconds>: returns 0 once <url> answers, 1 when
# the process exited (with the log's tail on stderr) or the time ran out.
wait_healthy() {
  local name="$1" url="$2" pidfile="$3" log="$4" timeout_s="$5" i
  for ((i = 0; i < timeout_s * 4; i++)); do
    curl -fsS "$url" >/dev/null 2>&1 && return 0
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "$name exited during start; last log lines:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.25
  done
  echo "$name did not answer $url within ${timeout_s}s; log: $log" >&2
  return 1
}

# already_serving <dir> <endpoint>: prints <endpoint> and returns 0 when the server whose pid file is
# <dir>/pid still runs (a second start is a no-op); returns 1 otherwise.
already_serving() {
  local dir="$1" endpoint="$2"
  if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "$endpoint"
    return 0
  fi
  return 1
}

# serve_in_group <name> <dir> <health url> <log> <timeout s> <command...>: starts <command> under
# setsid (its own process group, which stop_group ends), records its pid in <dir>/pid, and waits
# until <health url> answers (wait_healthy). Returns wait_healthy's status.
serve_in_group() {
  local name="$1" dir="$2" url="$3" log="$4" timeout_s="$5"
  shift 5
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_healthy "$name" "$url" "$dir/pid" "$log" "$timeout_s"
}
