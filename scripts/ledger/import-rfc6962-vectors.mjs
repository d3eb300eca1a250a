#!/usr/bin/env node
// Converts the published RFC 6962 happy-path proof vectors of transparency-dev/merkle (base64) into the
// hex form tests/vectors/rfc6962/proofs.json holds. Usage:
//   git clone https://github.com/transparency-dev/merkle /tmp/merkle
//   node scripts/ledger/import-rfc6962-vectors.mjs /tmp/merkle > tests/vectors/rfc6962/proofs.json
import { execFileSync } from 'node:child_process';

const repo = process.argv[2];
if (!repo) {
  console.error('usage: import-rfc6962-vectors.mjs <path to a transparency-dev/merkle checkout>');
  process.exit(2);
}
const git = (...args) => execFileSync('git', ['-C', repo, ...args]).toString();
const commit = git('rev-parse', 'HEAD').trim();
const read = (path) => JSON.parse(git('show', `HEAD:${path}`));
const hex = (b64) => Buffer.from(b64, 'base64').toString('hex');
const cases = [0, 1, 2, 3, 4];

const inclusion = cases.map((i) => {
  const source = `testdata/inclusion/${i}/happy-path.json`;
  const v = read(source);
  return {
    source,
    leaf_index: v.leafIdx,
    tree_size: v.treeSize,
    leaf_hash: hex(v.leafHash),
    root: hex(v.root),
    proof: (v.proof ?? []).map(hex),
  };
});
const consistency = cases.map((i) => {
  const source = `testdata/consistency/${i}/happy-path.json`;
  const v = read(source);
  return {
    source,
    size1: v.size1,
    size2: v.size2,
    root1: hex(v.root1),
    root2: hex(v.root2),
    proof: (v.proof ?? []).map(hex),
  };
});
console.log(
  JSON.stringify(
    { origin: `https://github.com/transparency-dev/merkle at ${commit}`, inclusion, consistency },
    null,
    2,
  ),
);
