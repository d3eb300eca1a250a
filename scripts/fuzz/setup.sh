#!/usr/bin/env bash
# Installs the pinned Schemathesis (scripts/fuzz/requirements.txt) into the project's .venv, beside
# MiniStack; both requirement files go to one pip call so that their pins are resolved together.
# Idempotent: when the venv already holds exactly these pins it returns at once without the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_EMULATOR_VENV:-$root/.venv}"
requirements="$root/scripts/fuzz/requirements.txt"
shared="$root/scripts/emulator/requirements.txt"
stamp="$venv/.bcs-fuzz-requirements"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ -x "$venv/bin/schemathesis" && -f "$stamp" ]] && cmp -s <(cat "$shared" "$requirements") "$stamp"; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$shared" -r "$requirements"
cat "$shared" "$requirements" > "$stamp"
echo "Schemathesis installed in $venv: $("$venv/bin/schemathesis" --version)"
