//go:build tools

// The witness the tests run (tests/local/tlog-witness.test.ts): pinned here so that go.sum covers it.
package main

import (
	_ "filippo.io/torchwood/cmd/litewitness"
	_ "filippo.io/torchwood/cmd/witnessctl"
)
