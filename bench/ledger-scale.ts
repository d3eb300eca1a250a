import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryLedgerStore } from '../lib/adapters/memory/memory-ledger-store';
import { SqliteLedgerStore } from '../lib/adapters/sqlite/sqlite-ledger-store';
import { type AuditCheckpoint, auditSince } from '../lib/engine/incremental-audit';
import { LedgerReader } from '../lib/engine/ledger-reader';
import { buildBlocks } from '../lib/ledger/blocks';
import { toHex } from '../lib/ledger/hash';
import { toTimestamp } from '../lib/ledger/time';
import { transactionId } from '../lib/ledger/transactions';
import type { Transaction } from '../lib/ledger/types';
import type { LedgerStore, MerkleLedgerStore } from '../lib/ports/ledger-store';
import { seededRandom } from '../lib/simulation/rng';
import { median, round } from './stats';

/**
 * The ledger at scale (issue "the ledger at any size"): per store and chain height, what a cold reader,
 * a summary, an inclusion proof, a consistency proof and an incremental audit of 1,000 new blocks cost.
 * Each (store, height) runs in its own process so that RSS is that case's alone. Chains are seeded in
 * bulk (1,000 blocks of one decision per append) through the store's own append, tiles included.
 */
export interface LedgerScaleRow {
  store: 'memory' | 'sqlite';
  blocks: number;
  cold_start_ms: number;
  summary_ms: number;
  proof_ms: number;
  consistency_proof_ms: number;
  incremental_verify_ms_per_1000_blocks: number;
  rss_mb: number;
  seed_s: number;
}

const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);
const SEED_BATCH = 1000;

function decision(n: number): Transaction {
  const assigned = n % 4 !== 0;
  return {
    transaction_id: transactionId(`s-${n}`, 'decision'),
    timestamp: toTimestamp(T0 + n),
    task_id: `s-${n}`,
    vm_id: assigned ? `vm-${n % 50}` : null,
    status: assigned ? 'assigned' : 'rejected',
    algorithm: 'bench',
    score: assigned ? 0.5 : null,
    reason: assigned ? 'bench placement' : 'no feasible VM',
    task_requirements: { cpu: 1, mem: 1 },
    vm_state_before: null,
    vm_state_after: null,
  };
}

/** Appends blocks up to `height` (one decision each); assigned ones reserve nothing (seed only). */
export async function seed(store: LedgerStore, height: number): Promise<void> {
  for (let head = await store.readHead(); head.height < height; head = await store.readHead()) {
    const count = Math.min(SEED_BATCH, height - head.height);
    const txs = Array.from({ length: count }, (_, i) => decision(head.height + i));
    const blocks = buildBlocks(head, txs, { maxPerBlock: 1, timestamp: toTimestamp(T0 + head.height) });
    const result = await store.append(head, {
      blocks,
      reservations: [],
      tasks: blocks.map((b) => {
        const tx = b.transactions[0]!;
        return {
          record: {
            task_id: tx.task_id,
            status: tx.status,
            vm_id: tx.vm_id,
            block_height: b.height,
            transaction_id: tx.transaction_id,
            requirements: tx.task_requirements,
            deadline: T0 / 1000 + 3600,
            duration: 60,
            lease_expires_at: tx.status === 'assigned' ? T0 + 3_600_000 : null,
            updated_at: T0,
          },
          expect: 'absent' as const,
        };
      }),
    });
    if (!result.ok) throw new Error(`seeding failed: ${result.detail}`);
  }
}

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function measure(kind: 'memory' | 'sqlite', blocks: number): Promise<LedgerScaleRow> {
  const dir = mkdtempSync(join(tmpdir(), 'bcs-ledger-scale-'));
  try {
    const path = join(dir, 'ledger.db');
    const open = (): LedgerStore & MerkleLedgerStore =>
      kind === 'memory' ? new MemoryLedgerStore() : new SqliteLedgerStore(path, { synchronous: 'NORMAL' });
    let store = open();
    const seedStart = performance.now();
    await seed(store, blocks - 1000);
    const tree = await store.readTreeHead();
    const checkpoint: AuditCheckpoint = {
      height: tree.head.height,
      head_hash: tree.head.hash,
      tree_size: tree.tree_size,
      frontier: tree.frontier.map(toHex),
      transaction_count: tree.counts.transactions,
      timestamp: tree.head_timestamp,
    };
    await seed(store, blocks);
    const seed_s = (performance.now() - seedStart) / 1000;

    // Cold: a new reader (and for SQLite a new connection on the file) answering its first digest.
    const coldStart = performance.now();
    if (kind === 'sqlite') {
      await store.close();
      store = open();
    }
    const reader = new LedgerReader(store);
    await reader.digest();
    const cold_start_ms = performance.now() - coldStart;

    const random = seededRandom(42);
    const pick = () => Math.floor(random.next() * (blocks - 1));
    const summary_ms = await time(() => reader.summary(), 5);
    const proof_ms = await time(() => reader.transaction(transactionId(`s-${pick()}`, 'decision')), 20);
    const consistency_proof_ms = await time(() => reader.consistency(1 + pick()), 20);
    const audit = await time(async () => {
      const run = await auditSince(store, checkpoint, { pageSize: 500 });
      if (!run.valid || run.blocks_checked !== 1000) throw new Error(`audit: ${JSON.stringify(run)}`);
    }, 3);
    const rss_mb = process.memoryUsage().rss / 2 ** 20;
    await store.close();
    return {
      store: kind,
      blocks,
      cold_start_ms: round(cold_start_ms),
      summary_ms: round(summary_ms),
      proof_ms: round(proof_ms),
      consistency_proof_ms: round(consistency_proof_ms),
      incremental_verify_ms_per_1000_blocks: round(audit),
      rss_mb: round(rss_mb),
      seed_s: round(seed_s),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every case in a child process (node --import tsx this file --case store:blocks). */
export function benchLedgerScale(options: {
  sizes: number[];
  stores?: ('memory' | 'sqlite')[];
  log?: (line: string) => void;
}): LedgerScaleRow[] {
  const rows: LedgerScaleRow[] = [];
  for (const store of options.stores ?? ['memory', 'sqlite']) {
    for (const blocks of options.sizes) {
      options.log?.(`ledger-scale: ${store} at ${blocks} blocks ...`);
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', `${store}:${blocks}`],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      rows.push(JSON.parse(out.trim().split('\n').at(-1)!) as LedgerScaleRow);
    }
  }
  return rows;
}

if (process.argv[2] === '--case' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [store, blocks] = process.argv[3]!.split(':');
  if (
    (store !== 'memory' && store !== 'sqlite') ||
    !Number.isInteger(Number(blocks)) ||
    Number(blocks) < 2000
  ) {
    throw new Error(`--case must be memory|sqlite:<blocks >= 2000>, got ${process.argv[3]}`);
  }
  process.stdout.write(`${JSON.stringify(await measure(store, Number(blocks)))}\n`);
}
