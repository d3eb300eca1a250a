#!/usr/bin/env bash
# Installs what `npm test` needs beyond node_modules, only when missing:
#  - the emulator's project-local virtualenv with a pinned MiniStack (scripts/emulator/setup.sh)
#  - the pinned Schemathesis API fuzzer in the same venv (scripts/fuzz/setup.sh)
#  - moto's server, the second DynamoDB emulator, in its own pinned venv (scripts/moto/setup.sh)
#  - cfn-lint and checkov in their own pinned virtualenv (scripts/oracles/setup.sh), for the template oracles
#  - Debian's chromium for the browser test (scripts/install-chromium.sh); never a downloaded browser
#  - the Go transparency-log clients and witness (scripts/tlog/setup.sh: tests/tlog/go.mod, pinned in go.sum)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${LOCALSTACK_ENDPOINT:-}" ] && [ -f scripts/emulator/setup.sh ]; then
  bash scripts/emulator/setup.sh
fi
if [ -f scripts/fuzz/setup.sh ]; then
  bash scripts/fuzz/setup.sh
fi
if [ -f scripts/moto/setup.sh ]; then
  bash scripts/moto/setup.sh
fi
if [ -f scripts/oracles/setup.sh ]; then
  bash scripts/oracles/setup.sh
fi
if [ -f scripts/install-chromium.sh ]; then
  bash scripts/install-chromium.sh
fi
if [ -f scripts/tlog/setup.sh ]; then
  bash scripts/tlog/setup.sh
fi
