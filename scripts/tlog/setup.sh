#!/usr/bin/env bash
# Builds the Go transparency-log clients the tests run (tests/tlog): tlogcheck (our verifier on
# published modules only) and the witness litewitness with its witnessctl (filippo.io/torchwood),
# from the modules pinned in tests/tlog/go.mod and go.sum, downloaded from the Go module proxy.
# Idempotent: a binary newer than go.mod, go.sum and the sources is kept. Needs Go >= 1.26 on PATH.
set -euo pipefail
cd "$(dirname "$0")/../../tests/tlog"
out=bin
mkdir -p "$out"
stale() {
  [ ! -x "$out/$1" ] && return 0
  [ -n "$(find go.mod go.sum ./*.go -newer "$out/$1" 2>/dev/null)" ]
}
export GOFLAGS=-mod=readonly
go mod download
if stale tlogcheck; then go build -o "$out/tlogcheck" .; fi
if stale litewitness; then go build -o "$out/litewitness" filippo.io/torchwood/cmd/litewitness; fi
if stale witnessctl; then go build -o "$out/witnessctl" filippo.io/torchwood/cmd/witnessctl; fi
