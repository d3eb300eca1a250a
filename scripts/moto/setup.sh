#!/usr/bin/env bash
# Creates .venv-moto/ with the pinned moto server (scripts/moto/requirements.txt), the second DynamoDB
# emulator. Idempotent: when the venv already holds exactly the pinned requirements it returns at once
# without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_MOTO_VENV:-$root/.venv-moto}"
# shellcheck source=../lib/pinned-venv.sh
source "$root/scripts/lib/pinned-venv.sh"
pinned_venv "$venv" "$root/scripts/moto/requirements.txt" .bcs-moto-requirements moto_server
if [[ -n "${PINNED_VENV_INSTALLED:-}" ]]; then
  echo "moto $("$venv/bin/python" -m pip show moto | sed -n 's/^Version: //p') installed in $venv"
fi
