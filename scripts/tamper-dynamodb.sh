#!/usr/bin/env bash
# The full DynamoDB tamper run of docs/reliability.md: N seeded mutations of stored ledger items (default
# 1000; CI runs 300), each verified by the verify handler against the emulator table. Uses the emulator at
# LOCALSTACK_ENDPOINT when set, otherwise the aws test project starts its own.
#   scripts/tamper-dynamodb.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BCS_TAMPER_MUTATIONS="${1:-1000}" exec npx vitest run --project aws tests/aws/tamper-dynamodb.test.ts
