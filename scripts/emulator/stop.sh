#!/usr/bin/env bash
# Stops the MiniStack that start.sh started on <port> (default 4566), with the Lambda workers it spawned.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${1:-${EMULATOR_PORT:-4566}}"
pidfile="$root/.emulator/$port/pid"

# shellcheck source=../lib/process-group.sh
source "$root/scripts/lib/process-group.sh"
[[ -f "$pidfile" ]] || exit 0
stop_group "$pidfile"
# Keep the log for a failed run to be read; the emulator's state is worthless once it stopped.
rm -rf "$root/.emulator/$port/state" "$root/.emulator/$port/s3" "$root/.emulator/$port/tmp"
