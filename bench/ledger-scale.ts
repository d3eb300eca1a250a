import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedgerStore } from '../lib/adapters/dynamodb/dynamodb-ledger-store';
import { MemoryLedgerStore } from '../lib/adapters/memory/memory-ledger-store';
import { SqliteLedgerStore } from '../lib/adapters/sqlite/sqlite-ledger-store';
import { type AuditCheckpoint, auditSince } from '../lib/engine/incremental-audit';
import { LedgerReader } from '../lib/engine/ledger-reader';
import { toHex } from '../lib/ledger/hash';
import { transactionId } from '../lib/ledger/transactions';
import type { LedgerStore, MerkleLedgerStore } from '../lib/ports/ledger-store';
import { seededRandom } from '../lib/simulation/rng';
import { seedBlocks, T0 } from './ledger-scale-chain';
import { median, round } from './stats';

/**
 * The ledger at scale (issue "the ledger at any size"): per store and chain height, what a cold reader,
 * a summary, an inclusion proof, a consistency proof and an incremental audit of 1,000 new blocks cost.
 * Each (store, height) runs in its own process so that RSS is that case's alone. Memory and SQLite chains
 * are seeded in bulk (1,000 blocks of one decision per append) through the store's own append, tiles
 * included; DynamoDB chains (on MiniStack) are the same blocks written as pre-built items with
 * BatchWriteItem (bench/ledger-scale-dynamodb.ts), since one commit per 1,000 blocks does not fit a
 * 100-item transaction.
 */
export type LedgerScaleStore = 'memory' | 'sqlite' | 'dynamodb';

export interface LedgerScaleRow {
  store: LedgerScaleStore;
  blocks: number;
  cold_start_ms: number;
  summary_ms: number;
  proof_ms: number;
  consistency_proof_ms: number;
  incremental_verify_ms_per_1000_blocks: number;
  rss_mb: number;
  seed_s: number;
  /** The machine's 1-minute load average when the row was measured (the machine is shared). */
  load_avg_1m: number;
}

/** Appends blocks up to `height` (one decision each); assigned ones reserve nothing (seed only). */
export async function seed(store: LedgerStore, height: number): Promise<void> {
  for (let head = await store.readHead(); head.height < height; head = await store.readHead()) {
    const blocks = seedBlocks(head, height);
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

async function measure(kind: LedgerScaleStore, blocks: number): Promise<LedgerScaleRow> {
  const dir = mkdtempSync(join(tmpdir(), 'bcs-ledger-scale-'));
  let dynamo: { client: DynamoDBClient; drop(): Promise<void> } | undefined;
  try {
    const path = join(dir, 'ledger.db');
    let open: () => LedgerStore & MerkleLedgerStore;
    let store: LedgerStore & MerkleLedgerStore;
    let checkpoint: AuditCheckpoint;
    const seedStart = performance.now();
    if (kind === 'dynamodb') {
      const endpoint = process.env.LEDGER_SCALE_DYNAMODB_ENDPOINT;
      if (!endpoint) throw new Error('LEDGER_SCALE_DYNAMODB_ENDPOINT is not set (benchLedgerScale sets it)');
      const { seedDynamoDb } = await import('./ledger-scale-dynamodb');
      const client = () =>
        new DynamoDBClient({
          endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        });
      const seeded = await seedDynamoDb(client(), blocks, 1000);
      dynamo = seeded;
      checkpoint = seeded.checkpoint;
      // A new client per open: the cold start pays for its own connection, as a new container does.
      open = () => new DynamoDbLedgerStore({ client: client(), tableName: seeded.tableName });
      store = open();
    } else {
      open = () =>
        kind === 'memory' ? new MemoryLedgerStore() : new SqliteLedgerStore(path, { synchronous: 'NORMAL' });
      store = open();
      await seed(store, blocks - 1000);
      const tree = await store.readTreeHead();
      checkpoint = {
        height: tree.head.height,
        head_hash: tree.head.hash,
        tree_size: tree.tree_size,
        frontier: tree.frontier.map(toHex),
        transaction_count: tree.counts.transactions,
        timestamp: tree.head_timestamp,
      };
      await seed(store, blocks);
    }
    const seed_s = (performance.now() - seedStart) / 1000;

    // Cold: a new reader (for SQLite a new connection on the file, for DynamoDB a new store and client)
    // answering its first digest.
    const coldStart = performance.now();
    if (kind !== 'memory') {
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
      load_avg_1m: round(loadavg()[0]!),
    };
  } finally {
    await dynamo?.drop();
    dynamo?.client.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every case in a child process (node --import tsx this file --case store:blocks). */
export async function benchLedgerScale(options: {
  sizes: number[];
  /** DynamoDB (MiniStack) sizes; [] leaves DynamoDB out. */
  dynamoDbSizes?: number[];
  stores?: ('memory' | 'sqlite')[];
  log?: (line: string) => void;
}): Promise<LedgerScaleRow[]> {
  const rows: LedgerScaleRow[] = [];
  const runCase = (store: LedgerScaleStore, blocks: number, env: NodeJS.ProcessEnv = process.env) => {
    options.log?.(`ledger-scale: ${store} at ${blocks} blocks (load ${loadavg()[0]!.toFixed(1)}) ...`);
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', `${store}:${blocks}`],
      { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'], env },
    );
    const row = JSON.parse(out.trim().split('\n').at(-1)!) as LedgerScaleRow;
    options.log?.(`ledger-scale: ${JSON.stringify(row)}`);
    rows.push(row);
  };
  for (const store of options.stores ?? ['memory', 'sqlite']) {
    for (const blocks of options.sizes) runCase(store, blocks);
  }
  const dynamoDbSizes = options.dynamoDbSizes ?? [];
  if (dynamoDbSizes.length > 0) {
    const { withMiniStack } = await import('./ledger-scale-dynamodb');
    await withMiniStack(options.log ?? (() => {}), async (endpoint) => {
      for (const blocks of dynamoDbSizes) {
        runCase('dynamodb', blocks, { ...process.env, LEDGER_SCALE_DYNAMODB_ENDPOINT: endpoint });
      }
    });
  }
  return rows;
}

if (process.argv[2] === '--case' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [store, blocks] = process.argv[3]!.split(':');
  if (
    (store !== 'memory' && store !== 'sqlite' && store !== 'dynamodb') ||
    !Number.isInteger(Number(blocks)) ||
    Number(blocks) < 2000
  ) {
    throw new Error(`--case must be memory|sqlite|dynamodb:<blocks >= 2000>, got ${process.argv[3]}`);
  }
  process.stdout.write(`${JSON.stringify(await measure(store, Number(blocks)))}\n`);
}
