#!/usr/bin/env bash
# Stops the moto server that start.sh started on <port>.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/process-group.sh
source "$root/scripts/lib/process-group.sh"
stop_group "$root/.emulator/moto-${1:?usage: stop.sh <port>}/pid"
