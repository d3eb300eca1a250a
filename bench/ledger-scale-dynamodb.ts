import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { blockToItem } from '../lib/adapters/dynamodb/items';
import {
  HEAD_KEY,
  PARTITION_KEY,
  tileKey,
  transactionKey,
  vmDirectoryKey,
  vmKey,
} from '../lib/adapters/dynamodb/keys';
import { treeHeadAttributes } from '../lib/adapters/dynamodb/merkle-items';
import { directoryAttributes } from '../lib/adapters/dynamodb/vm-directory';
import type { AuditCheckpoint } from '../lib/engine/incremental-audit';
import { advance, genesisStep, type MerkleStep } from '../lib/engine/merkle-state';
import { genesisBlock } from '../lib/ledger/blocks';
import { toHex } from '../lib/ledger/hash';
import { TILE_HEIGHT, tileId } from '../lib/ledger/tiles';
import type { ChainHead } from '../lib/ledger/types';
import { freePort } from '../scripts/emulator/free-port';
import { seedBlocks } from './ledger-scale-chain';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
/** BatchWriteItem takes at most 25 puts per request. */
const BATCH_WRITE_ITEMS = 25;
/** Requests in flight while seeding (MiniStack answers them one at a time; this hides the round trips). */
const IN_FLIGHT = 4;

type Item = Record<string, unknown>;

/**
 * The ledger-scale chain on a DynamoDB table in bulk: the same blocks as the memory and SQLite cases
 * (seedBlocks), written as the items an append writes (BLOCK# with transaction_total, TX#, the Merkle
 * tiles, the tree head and counts on HEAD, per-VM counts on VM#, the VM directory) by BatchWriteItem,
 * 25 items a request, instead of one commit per few blocks. TASK# records are left out: no path the
 * benchmark measures reads them. HEAD is written last, so a reader never sees a head without its blocks.
 */
export async function seedDynamoDb(
  client: DynamoDBClient,
  height: number,
  tail: number,
): Promise<{
  tableName: string;
  checkpoint: AuditCheckpoint;
  client: DynamoDBClient;
  drop(): Promise<void>;
}> {
  const tableName = `ledger-scale-${Date.now().toString(36)}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: 'S' }],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
  const drop = async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  };
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const writer = new BulkWriter(documents, tableName);

  const genesis = genesisBlock();
  let step: MerkleStep = genesisStep(genesis, TILE_HEIGHT);
  const tiles = new Map<string, { level: number; index: number; hashes: Uint8Array[] }>();
  const vmCounts = new Map<string, { assigned: number; completed: number; expired: number }>();
  const collect = (s: MerkleStep) => {
    for (const a of s.tiles) {
      const id = tileId(a);
      const tile = tiles.get(id) ?? { level: a.level, index: a.index, hashes: [] };
      if (tile.hashes.length !== a.offset)
        throw new Error(`tile ${id}: append at ${a.offset}, holds ${tile.hashes.length}`);
      tile.hashes.push(...a.hashes.map((h) => Uint8Array.from(h)));
      tiles.set(id, tile);
    }
    for (const d of s.vmCounts) {
      const c = vmCounts.get(d.vm_id) ?? { assigned: 0, completed: 0, expired: 0 };
      vmCounts.set(d.vm_id, {
        assigned: c.assigned + d.assigned,
        completed: c.completed + d.completed,
        expired: c.expired + d.expired,
      });
    }
  };
  collect(step);
  await writer.put({ ...blockToItem(genesis), transaction_total: genesis.transactions.length });

  let head: ChainHead = { height: genesis.height, hash: genesis.block_hash };
  let total = genesis.transactions.length;
  let checkpoint: AuditCheckpoint | undefined;
  while (head.height < height) {
    if (head.height === height - tail) checkpoint = checkpointOf(step);
    const blocks = seedBlocks(head, head.height < height - tail ? height - tail : height);
    step = advance(step.treeHead, blocks, TILE_HEIGHT);
    collect(step);
    for (const block of blocks) {
      total += block.transactions.length;
      await writer.put({ ...blockToItem(block), transaction_total: total });
      for (const [index, tx] of block.transactions.entries()) {
        await writer.put({ [PARTITION_KEY]: transactionKey(tx.transaction_id), height: block.height, index });
      }
    }
    const last = blocks.at(-1)!;
    head = { height: last.height, hash: last.block_hash };
  }
  if (!checkpoint) throw new Error(`height ${height} is not above the tail ${tail}`);
  for (const tile of tiles.values()) {
    await writer.put({ [PARTITION_KEY]: tileKey(tile.level, tile.index), ...tile });
  }
  for (const [vmId, c] of vmCounts) {
    await writer.put({
      [PARTITION_KEY]: vmKey(vmId),
      vm_id: vmId,
      active_tasks: 0,
      vmcount_assigned: c.assigned,
      vmcount_completed: c.completed,
      vmcount_expired: c.expired,
    });
  }
  const vmIds = [...vmCounts.keys()].sort();
  if (vmIds.length > 0) await writer.put({ [PARTITION_KEY]: vmDirectoryKey(0), vm_ids: new Set(vmIds) });
  await writer.flush();
  await documents.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        [PARTITION_KEY]: HEAD_KEY,
        height: head.height,
        hash: head.hash,
        ...treeHeadAttributes(step.treeHead, TILE_HEIGHT),
        ...directoryAttributes({ pages: 1, tail: vmIds.length }),
      },
    }),
  );
  return { tableName, checkpoint, client, drop };
}

function checkpointOf(step: MerkleStep): AuditCheckpoint {
  const t = step.treeHead;
  return {
    height: t.head.height,
    head_hash: t.head.hash,
    tree_size: t.tree_size,
    frontier: t.frontier.map(toHex),
    transaction_count: t.counts.transactions,
    timestamp: t.head_timestamp,
  };
}

/** BatchWriteItem in requests of 25, a few in flight, unprocessed items sent again after a pause. */
class BulkWriter {
  private batch: Item[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(item: Item): Promise<void> {
    this.batch.push(item);
    if (this.batch.length < BATCH_WRITE_ITEMS) return;
    const items = this.batch;
    this.batch = [];
    while (this.inFlight.size >= IN_FLIGHT) await Promise.race(this.inFlight);
    const sending = this.send(items).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  async flush(): Promise<void> {
    const items = this.batch;
    this.batch = [];
    if (items.length > 0) await this.send(items);
    await Promise.all(this.inFlight);
  }

  private async send(items: Item[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= 10) throw new Error(`BatchWriteItem left ${requests.length} items unprocessed`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      const result = await this.documents.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }
}

/** Runs `fn` against LOCALSTACK_ENDPOINT when set, else a MiniStack of its own on a free port. */
export async function withMiniStack(log: (line: string) => void, fn: (endpoint: string) => Promise<void>) {
  const external = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  if (external) return fn(external);
  const port = await freePort();
  log(`ledger-scale: starting MiniStack on 127.0.0.1:${port} ...`);
  const { stdout } = await run(join(ROOT, 'scripts/emulator/start.sh'), [String(port)], { timeout: 300_000 });
  try {
    await fn(stdout.trim().split('\n').at(-1)!);
  } finally {
    await run(join(ROOT, 'scripts/emulator/stop.sh'), [String(port)]);
  }
}
