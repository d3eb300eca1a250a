#!/usr/bin/env bash
# Starts MiniStack in the background on 127.0.0.1:<port> (default 4566) and waits for its health endpoint.
# State, logs and the pid file live under .emulator/<port>/ so parallel runs on other ports never collide.
#   scripts/emulator/start.sh [port]      prints the endpoint, e.g. http://127.0.0.1:4566
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${1:-${EMULATOR_PORT:-4566}}"
venv="${BCS_EMULATOR_VENV:-$root/.venv}"
dir="$root/.emulator/$port"
endpoint="http://127.0.0.1:$port"
timeout_s="${EMULATOR_START_TIMEOUT:-60}"

# shellcheck source=../lib/process-group.sh
source "$root/scripts/lib/process-group.sh"
"$root/scripts/emulator/setup.sh"

already_serving "$dir" "$endpoint" && exit 0
rm -rf "$dir"
mkdir -p "$dir/tmp" "$dir/state" "$dir/s3"
# MiniStack writes its CommonJS Lambda worker script (_worker.js) under TMPDIR; inside this repository
# Node would read our package.json ("type": "module") and refuse its `require`, so every Node.js
# function would fail with "Worker process exited immediately". Scope .emulator/ back to CommonJS.
printf '{ "type": "commonjs" }\n' >"$root/.emulator/package.json"

# MiniStack binds 0.0.0.0 unless BIND_HOST says otherwise; the emulator accepts any credentials,
# so it must only ever listen on loopback. Two of its listeners ignore BIND_HOST (MiniStack 1.5.33):
# the IoT mTLS MQTT listener binds 0.0.0.0:8883 whenever `cryptography` is installed (it is, for KMS),
# so IOT_MTLS_ENABLED=0 turns it off (nothing here uses IoT); Transfer's SFTP listeners bind SFTP_HOST
# (default 0.0.0.0) when a server is created, so SFTP_HOST pins them to loopback. The ElastiCache/RDS
# proxies (core/pgproxy.py) also bind 0.0.0.0 but start only with Docker-backed clusters, which
# nothing here creates. tests/aws/setup/emulator.test.ts checks every listening socket of the process group.
# Its pid file and scratch files follow TMPDIR.
# serve_in_group (setsid) puts it and the Lambda worker processes it spawns in one process group that
# stop.sh ends.
if serve_in_group MiniStack "$dir" "$endpoint/_localstack/health" "$dir/ministack.log" "$timeout_s" \
  env BIND_HOST=127.0.0.1 \
  IOT_MTLS_ENABLED=0 \
  SFTP_HOST=127.0.0.1 \
  GATEWAY_PORT="$port" \
  MINISTACK_HOST=127.0.0.1 \
  MINISTACK_REGION="${AWS_REGION:-us-east-1}" \
  TMPDIR="$dir/tmp" \
  STATE_DIR="$dir/state" \
  S3_DATA_DIR="$dir/s3" \
  LOG_LEVEL="${EMULATOR_LOG_LEVEL:-WARNING}" \
  "$venv/bin/ministack"; then
  echo "$endpoint"
  exit 0
fi
"$root/scripts/emulator/stop.sh" "$port" || true
exit 1
