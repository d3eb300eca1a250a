/**
 * The worked example of docs/ledger-format.md, computed by the ledger code. Run
 *   npx tsx scripts/ledger/example.ts
 * to rewrite tests/vectors/ledger-example.json (every value the document shows) and
 * tests/vectors/ledger-example.jsonl (the example chain as an export); tests/unit/ledger/doc-example.test.ts
 * fails when the document, the vectors and the code disagree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildBlocks,
  canonicalString,
  computeDigest,
  digestConsistencyProof,
  GENESIS_HASH,
  genesisBlock,
  leafHash,
  nodeHash,
  sha256Hex,
  toHex,
  transactionEntry,
  transactionId,
  transactionProof,
} from '../../lib/ledger';
import type { Block, Transaction } from '../../lib/ledger/types';

const T = '2026-11-21T06:00:00.000Z';

function tx(fields: Omit<Transaction, 'transaction_id'>, phase: 'decision' | 'close'): Transaction {
  return { transaction_id: transactionId(fields.task_id, phase), ...fields };
}

export function exampleTransactions(): Transaction[] {
  const requirements = { bw: 10, cpu: 250, io: 5, mem: 512 };
  return [
    tx(
      {
        timestamp: '2026-11-21T06:00:00.120Z',
        task_id: 't-1',
        vm_id: 'vm-a',
        status: 'assigned',
        algorithm: 'least-loaded',
        score: 0.8125,
        reason: 'lowest normalised load (cpu 0.25)',
        task_requirements: requirements,
        vm_state_before: {
          reserved: { bw: 0, cpu: 0, io: 0, mem: 0 },
          usage: { bw: 1, cpu: 40, io: 0, mem: 300 },
          active_tasks: 0,
        },
        vm_state_after: {
          reserved: requirements,
          usage: { bw: 1, cpu: 40, io: 0, mem: 300 },
          active_tasks: 1,
        },
      },
      'decision',
    ),
    tx(
      {
        timestamp: '2026-11-21T06:00:00.350Z',
        task_id: 't-2',
        vm_id: null,
        status: 'rejected',
        algorithm: 'least-loaded',
        score: null,
        reason: 'no feasible VM: cpu 4000 > free 750 on every VM',
        task_requirements: { bw: 0, cpu: 4000, io: 0, mem: 1024 },
        vm_state_before: null,
        vm_state_after: null,
      },
      'decision',
    ),
    tx(
      {
        timestamp: '2026-11-21T06:05:00.000Z',
        task_id: 't-1',
        vm_id: 'vm-a',
        status: 'completed',
        algorithm: 'least-loaded',
        score: null,
        reason: 'completed after 300 s',
        task_requirements: requirements,
        vm_state_before: {
          reserved: requirements,
          usage: { bw: 2, cpu: 260, io: 4, mem: 800 },
          active_tasks: 1,
        },
        vm_state_after: {
          reserved: { bw: 0, cpu: 0, io: 0, mem: 0 },
          usage: { bw: 2, cpu: 260, io: 4, mem: 800 },
          active_tasks: 0,
        },
      },
      'close',
    ),
  ];
}

/** Genesis, block 1 (two decisions), block 2 (the completion). */
export function exampleChain(): Block[] {
  const txs = exampleTransactions();
  const one = buildBlocks({ height: 0, hash: GENESIS_HASH }, txs.slice(0, 2), { timestamp: T });
  const two = buildBlocks({ height: 1, hash: one[0]!.block_hash }, txs.slice(2), {
    timestamp: '2026-11-21T06:05:00.010Z',
  });
  return [genesisBlock(), ...one, ...two];
}

export function buildExample() {
  const chain = exampleChain();
  const [genesis, block1, block2] = chain as [Block, Block, Block];
  const header = (b: Block) =>
    canonicalString({
      height: b.height,
      timestamp: b.timestamp,
      previous_hash: b.previous_hash,
      merkle_root: b.merkle_root,
      transaction_count: b.transaction_count,
    });
  const hashes = chain.map((b) => b.block_hash);
  const digest1 = computeDigest(chain.slice(0, 2), block1.timestamp);
  const digest2 = computeDigest(chain, block2.timestamp);
  return {
    transaction_id_input_hex: toHex(new TextEncoder().encode('bcs/transaction-id/v1\u0000decision\u0000t-1')),
    transaction_id_t1_decision: transactionId('t-1', 'decision'),
    transaction_id_t1_close: transactionId('t-1', 'close'),
    genesis: { header: header(genesis), block_hash: genesis.block_hash, merkle_root: genesis.merkle_root },
    block1: {
      transactions_canonical: block1.transactions.map((t) => canonicalString(t)),
      leaf_hashes: block1.transactions.map((t) => toHex(leafHash(transactionEntry(t)))),
      merkle_root: block1.merkle_root,
      merkle_root_check: toHex(
        nodeHash(
          leafHash(transactionEntry(block1.transactions[0]!)),
          leafHash(transactionEntry(block1.transactions[1]!)),
        ),
      ),
      header: header(block1),
      header_sha256: sha256Hex(new TextEncoder().encode(header(block1))),
      block_hash: block1.block_hash,
    },
    block2: {
      leaf_hashes: block2.transactions.map((t) => toHex(leafHash(transactionEntry(t)))),
      merkle_root: block2.merkle_root,
      header: header(block2),
      block_hash: block2.block_hash,
    },
    block_leaf_hashes: hashes.map((h) => toHex(leafHash(Buffer.from(h, 'hex')))),
    digest_height_1: digest1,
    digest_height_2: digest2,
    consistency_proof_1_to_2: digestConsistencyProof(hashes, 2),
    transaction_proof: transactionProof(block1, 1, hashes, digest2),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const vectors = new URL('../../tests/vectors/', import.meta.url);
  writeFileSync(new URL('ledger-example.json', vectors), `${JSON.stringify(buildExample(), null, 2)}\n`);
  writeFileSync(
    new URL('ledger-example.jsonl', vectors),
    exampleChain()
      .map((b) => `${canonicalString(b)}\n`)
      .join(''),
  );
  console.log(JSON.stringify(buildExample(), null, 2));
}
