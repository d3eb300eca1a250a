// Command tlogcheck is an auditor this project did not write the libraries of: it verifies the
// ledger published as a C2SP tiled transparency log (docs/ledger-format.md section 12) with published
// Go modules only (golang.org/x/mod/sumdb/note and tlog, github.com/transparency-dev/formats/note,
// filippo.io/torchwood). tests/local/tlog-clients.test.ts and tests/aws/tlog-s3.test.ts run it.
//
//	tlogcheck verify -url BASE -vkey VKEY [-witness VKEY]... [-quorum N] [-samples K] [-old FILE] [-save FILE]
//
// fetches BASE/checkpoint, checks the log's signature (and a quorum of witness cosignatures), checks
// that the tiles hash to the checkpoint's root, proves K random entries (block hashes) included, and,
// with -old, proves the checkpoint consistent with an older one. It prints a JSON report on stdout and
// exits 1 naming the first failure.
//
//	tlogcheck agent -socket PATH
//
// serves an ssh-agent holding a fresh Ed25519 key on PATH (for litewitness, which signs through an
// agent) and prints the key's SSH fingerprint on stdout.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"filippo.io/torchwood"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type report struct {
	Origin          string   `json:"origin"`
	TreeSize        int64    `json:"tree_size"`
	RootHash        string   `json:"root_hash"`
	Extensions      []string `json:"extensions"`
	Cosignatures    []string `json:"cosignatures"`
	Samples         []sample `json:"samples"`
	ConsistencyFrom *int64   `json:"consistency_from,omitempty"`
}

type sample struct {
	Index int64  `json:"index"`
	Entry string `json:"entry"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: tlogcheck verify|agent ...")
	}
	switch os.Args[1] {
	case "verify":
		verify(os.Args[2:])
	case "agent":
		serveAgent(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

// openCheckpoint verifies the log's signature and counts valid witness cosignatures.
func openCheckpoint(text []byte, logKey note.Verifier, witnesses []note.Verifier) (torchwood.Checkpoint, []string, error) {
	n, err := note.Open(text, note.VerifierList(append([]note.Verifier{logKey}, witnesses...)...))
	if err != nil {
		return torchwood.Checkpoint{}, nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	logSigned := false
	var cosigners []string
	for _, s := range n.Sigs {
		if s.Name == logKey.Name() && s.Hash == logKey.KeyHash() {
			logSigned = true
			continue
		}
		cosigners = append(cosigners, s.Name)
	}
	if !logSigned {
		return torchwood.Checkpoint{}, nil, errors.New("checkpoint carries no valid signature by the log key")
	}
	c, err := torchwood.ParseCheckpoint(n.Text)
	if err != nil {
		return torchwood.Checkpoint{}, nil, err
	}
	if c.Origin != logKey.Name() {
		return torchwood.Checkpoint{}, nil, fmt.Errorf("origin %q is not the log key's name %q", c.Origin, logKey.Name())
	}
	return c, cosigners, nil
}

func verify(args []string) {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	base := fs.String("url", "", "the log's URL prefix (checkpoint and tile/ under it)")
	vkey := fs.String("vkey", "", "the log's verifier key (type 0x02 ECDSA P-256)")
	var witnessKeys listFlag
	fs.Var(&witnessKeys, "witness", "a witness verifier key (repeatable)")
	quorum := fs.Int("quorum", 0, "valid witness cosignatures required")
	samples := fs.Int("samples", 8, "random entries to prove included")
	old := fs.String("old", "", "an older checkpoint to prove this one consistent with")
	save := fs.String("save", "", "write the checkpoint to this file")
	fs.Parse(args)

	logKey, err := fnote.NewVerifier(*vkey)
	if err != nil {
		fail("log key: %v", err)
	}
	var witnesses []note.Verifier
	for _, k := range witnessKeys {
		v, err := fnote.NewVerifier(k)
		if err != nil {
			fail("witness key: %v", err)
		}
		witnesses = append(witnesses, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fetcher, err := torchwood.NewTileFetcher(*base)
	if err != nil {
		fail("%v", err)
	}
	text, err := fetcher.ReadEndpoint(ctx, "checkpoint")
	if err != nil {
		fail("fetching the checkpoint: %v", err)
	}
	c, cosigners, err := openCheckpoint(text, logKey, witnesses)
	if err != nil {
		fail("%v", err)
	}
	if len(cosigners) < *quorum {
		fail("checkpoint has %d valid witness cosignatures, the quorum is %d", len(cosigners), *quorum)
	}
	out := report{
		Origin:       c.Origin,
		TreeSize:     c.N,
		RootHash:     hex.EncodeToString(c.Hash[:]),
		Extensions:   strings.Split(strings.TrimSuffix(c.Extension, "\n"), "\n"),
		Cosignatures: cosigners,
		Samples:      []sample{},
	}
	hashes := torchwood.TileHashReaderWithContext(ctx, c.Tree, fetcher)
	// The tiles hash to the signed root.
	root, err := tlog.TreeHash(c.N, hashes)
	if err != nil {
		fail("reading the tree from the tiles: %v", err)
	}
	if root != c.Hash {
		fail("the tiles hash to %x, the checkpoint says %x", root[:], c.Hash[:])
	}
	client, err := torchwood.NewClient(fetcher)
	if err != nil {
		fail("%v", err)
	}
	for i := 0; i < *samples && c.N > 0; i++ {
		n, err := rand.Int(rand.Reader, big.NewInt(c.N))
		if err != nil {
			fail("%v", err)
		}
		index := n.Int64()
		if i == 0 {
			index = c.N - 1 // always the newest block
		}
		// Entry reads the entry bundle, proves the entry's record hash in the tree and checks the proof.
		entry, proof, err := client.Entry(ctx, c.Tree, index)
		if err != nil {
			fail("entry %d: %v", index, err)
		}
		if len(entry) != 32 {
			fail("entry %d is %d bytes, a block hash is 32", index, len(entry))
		}
		if err := tlog.CheckRecord(proof, c.N, c.Hash, index, tlog.RecordHash(entry)); err != nil {
			fail("inclusion of entry %d: %v", index, err)
		}
		out.Samples = append(out.Samples, sample{Index: index, Entry: hex.EncodeToString(entry)})
	}
	if *old != "" {
		oldText, err := os.ReadFile(*old)
		if err != nil {
			fail("%v", err)
		}
		oc, _, err := openCheckpoint(oldText, logKey, nil)
		if err != nil {
			fail("old checkpoint: %v", err)
		}
		if oc.N > c.N {
			fail("the log shrank: old size %d, new size %d", oc.N, c.N)
		}
		proof, err := tlog.ProveTree(c.N, oc.N, hashes)
		if err != nil {
			fail("consistency proof %d -> %d: %v", oc.N, c.N, err)
		}
		if err := tlog.CheckTree(proof, c.N, c.Hash, oc.N, oc.Hash); err != nil {
			fail("the checkpoint of size %d is not consistent with the old one of size %d: %v", c.N, oc.N, err)
		}
		from := oc.N
		out.ConsistencyFrom = &from
	}
	if *save != "" {
		if err := os.WriteFile(*save, text, 0o644); err != nil {
			fail("%v", err)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func serveAgent(args []string) {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket to serve the agent on")
	fs.Parse(args)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fail("%v", err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		fail("%v", err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		fail("%v", err)
	}
	listener, err := net.Listen("unix", *socket)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(ssh.FingerprintSHA256(pub))
	for {
		conn, err := listener.Accept()
		if err != nil {
			fail("%v", err)
		}
		go func() {
			defer conn.Close()
			agent.ServeAgent(keyring, conn)
		}()
	}
}
