#!/usr/bin/env bash
# Creates .venv-oracles/ with the pinned cfn-lint and checkov (scripts/oracles/requirements.txt) that
# tests/unit/cdk/oracles.test.ts runs on the synthesized templates. Idempotent: when the venv already
# holds exactly the pinned requirements it returns at once without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${BCS_ORACLES_VENV:-$root/.venv-oracles}"
# shellcheck source=../lib/pinned-venv.sh
source "$root/scripts/lib/pinned-venv.sh"
pinned_venv "$venv" "$root/scripts/oracles/requirements.txt" .bcs-oracles-requirements cfn-lint checkov
if [[ -n "${PINNED_VENV_INSTALLED:-}" ]]; then
  echo "cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}') and checkov $("$venv/bin/checkov" --version) installed in $venv"
fi
