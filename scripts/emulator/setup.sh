#!/usr/bin/env bash
# Creates .venv/ with the pinned MiniStack (scripts/emulator/requirements.txt). Idempotent: when the
# venv already holds exactly the pinned requirements it returns at once without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_EMULATOR_VENV:-$root/.venv}"
# shellcheck source=../lib/pinned-venv.sh
source "$root/scripts/lib/pinned-venv.sh"
pinned_venv "$venv" "$root/scripts/emulator/requirements.txt" .bcs-emulator-requirements ministack
if [[ -n "${PINNED_VENV_INSTALLED:-}" ]]; then
  echo "MiniStack installed in $venv: $("$venv/bin/python" -m pip show ministack | sed -n 's/^Version: //p')"
fi
