#!/usr/bin/env bash
# Stops the MiniStack that start.sh started on <port> (default 4566), with the Lambda workers it spawned.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${1:-${EMULATOR_PORT:-4566}}"
pidfile="$root/.emulator/$port/pid"

[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
# start.sh ran it under setsid, so its pid is also its process group id.
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
# Keep the log for a failed run to be read; the emulator's state is worthless once it stopped.
rm -rf "$root/.emulator/$port/state" "$root/.emulator/$port/s3" "$root/.emulator/$port/tmp"
