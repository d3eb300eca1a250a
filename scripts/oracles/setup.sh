#!/usr/bin/env bash
# Creates .venv-oracles/ with the pinned cfn-lint and checkov (scripts/oracles/requirements.txt) that
# tests/unit/cdk/oracles.test.ts runs on the synthesized templates. Idempotent: when the venv already
# holds exactly the pinned requirements it returns at once without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_ORACLES_VENV:-$root/.venv-oracles}"
requirements="$root/scripts/oracles/requirements.txt"
stamp="$venv/.bcs-oracles-requirements"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ -x "$venv/bin/cfn-lint" && -x "$venv/bin/checkov" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}') and checkov $("$venv/bin/checkov" --version) installed in $venv"
