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

already_serving "$dir" "$endpoint" && exit 0
rm -rf "$dir"
mkdir -p "$dir"
# Loopback only: moto accepts any credentials. One request at a time (serve.py says why).
if serve_in_group moto "$dir" "$endpoint/moto-api/data.json" "$dir/moto.log" "$timeout_s" \
  "$venv/bin/python" "$root/scripts/moto/serve.py" 127.0.0.1 "$port"; then
  echo "$endpoint"
  exit 0
fi
"$root/scripts/moto/stop.sh" "$port" || true
exit 1
