#!/usr/bin/env bash
# Starts moto's server on 127.0.0.1:<port> in the background and waits until it answers.
# Its pid file and log live under .emulator/moto-<port>/, apart from MiniStack's.
#   scripts/moto/start.sh <port>      prints the endpoint, e.g. http://127.0.0.1:5000
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${1:?usage: start.sh <port>}"
venv="${BCS_MOTO_VENV:-$root/.venv-moto}"
dir="$root/.emulator/moto-$port"
endpoint="http://127.0.0.1:$port"
timeout_s="${EMULATOR_START_TIMEOUT:-60}"

# shellcheck source=../lib/process-group.sh
source "$root/scripts/lib/process-group.sh"
"$root/scripts/moto/setup.sh"

if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
  echo "$endpoint"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
# Loopback only: moto accepts any credentials. One request at a time (serve.py says why).
# setsid: stop.sh ends its process group.
setsid "$venv/bin/python" "$root/scripts/moto/serve.py" 127.0.0.1 "$port" >"$dir/moto.log" 2>&1 </dev/null &
echo $! >"$dir/pid"

if wait_healthy moto "$endpoint/moto-api/data.json" "$dir/pid" "$dir/moto.log" "$timeout_s"; then
  echo "$endpoint"
  exit 0
fi
"$root/scripts/moto/stop.sh" "$port" || true
exit 1
