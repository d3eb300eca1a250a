import canonicalize from 'canonicalize';
import { canonicalTextOfValidated, leafHashOfText } from '../lib/ledger/canonical-transaction';
import { toHex } from '../lib/ledger/hash';
import { CompactRange } from '../lib/ledger/merkle/compact-range';
import { toTimestamp } from '../lib/ledger/time';
import { transactionId, transactionsRootOfValidated } from '../lib/ledger/transactions';
import type { Transaction } from '../lib/ledger/types';
import { spread } from './stats';

/**
 * How long the canonical text of one engine-built transaction takes: the `canonicalize` package (what
 * buildBlocks uses through canonicalBytesOfValidated) against canonicalTextOfValidated; then a block's
 * merkle_root per transaction as buildBlocks computes it (transactionsRootOfValidated) against the same
 * root from canonicalTextOfValidated and leafHashOfText, blocks of 5. Not a test.
 *   node --import tsx bench/canonical-transaction.ts [transactions=200000] [runs=5]
 */

const count = Number(process.argv[2] ?? 200_000);
const runs = Number(process.argv[3] ?? 5);

// The engine's key order (lib/engine builds transactions field by field, not sorted).
const transactions: Transaction[] = Array.from({ length: count }, (_, i) => {
  const taskId = `task-${i}`;
  const req = { cpu: 100 + (i % 1400), mem: 128 + (i % 6000), io: 5 + (i % 140), bw: 10 + (i % 1400) };
  const reserved = { cpu: 2000, mem: 8192, io: 120, bw: 900 };
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(Date.UTC(2026, 0, 1) + i),
    task_id: taskId,
    vm_id: `vm-${String(i % 1000).padStart(4, '0')}`,
    status: 'assigned',
    algorithm: 'blockchain',
    score: (i % 997) / 7.3,
    reason: 'highest UF/DW among 812 feasible VMs: UF 0.003333, DW 0.4210',
    task_requirements: req,
    vm_state_before: { reserved, usage: reserved, active_tasks: 3 },
    vm_state_after: {
      reserved: { ...reserved, cpu: reserved.cpu + req.cpu },
      usage: reserved,
      active_tasks: 4,
    },
  };
});

function rootFromText(block: readonly Transaction[]): string {
  const range = new CompactRange();
  for (const tx of block) range.append(leafHashOfText(canonicalTextOfValidated(tx)));
  return toHex(range.root());
}

const blocks: Transaction[][] = [];
for (let i = 0; i < count; i += 5) blocks.push(transactions.slice(i, i + 5));
for (const block of blocks.slice(0, 1000)) {
  if (rootFromText(block) !== transactionsRootOfValidated(block)) throw new Error('the two roots differ');
}

// Each way returns a string per transaction (or per block of five, for the roots).
const ways: [string, (tx: Transaction) => string][] = [
  ['canonicalize', (tx) => canonicalize(tx) as string],
  ['canonicalTextOfValidated', canonicalTextOfValidated],
];
const rootWays: [string, (block: readonly Transaction[]) => string][] = [
  ['merkle_root, transactionsRootOfValidated', transactionsRootOfValidated],
  ['merkle_root, canonicalTextOfValidated + leafHashOfText', rootFromText],
];
const nsPerTx: Record<string, number[]> = {};
let length = 0;
// One warm-up run each, then the two back to back in every run.
for (let run = -1; run < runs; run++) {
  for (const [name, text] of ways) {
    const t0 = process.hrtime.bigint();
    for (const tx of transactions) length += text(tx).length;
    const ns = Number(process.hrtime.bigint() - t0) / count;
    if (run >= 0) nsPerTx[name] = [...(nsPerTx[name] ?? []), ns];
  }
  for (const [name, root] of rootWays) {
    const t0 = process.hrtime.bigint();
    for (const block of blocks) length += root(block).length;
    const ns = Number(process.hrtime.bigint() - t0) / count;
    if (run >= 0) nsPerTx[name] = [...(nsPerTx[name] ?? []), ns];
  }
}
for (const [name, values] of Object.entries(nsPerTx)) {
  const s = spread(values);
  console.log(
    `${name}: ${s.median.toFixed(0)} ns per transaction (runs ${s.min.toFixed(0)}-${s.max.toFixed(0)})`,
  );
}
console.log(`(${length} characters written)`);
