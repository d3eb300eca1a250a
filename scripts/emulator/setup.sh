#!/usr/bin/env bash
# Creates .venv/ with the pinned MiniStack (scripts/emulator/requirements.txt). Idempotent: when the
# venv already holds exactly the pinned requirements it returns at once without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_EMULATOR_VENV:-$root/.venv}"
requirements="$root/scripts/emulator/requirements.txt"
stamp="$venv/.bcs-emulator-requirements"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ -x "$venv/bin/ministack" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "MiniStack installed in $venv: $("$venv/bin/python" -m pip show ministack | sed -n 's/^Version: //p')"
