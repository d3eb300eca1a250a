import * as z from 'zod';
import type { Block, ChainHead, Transaction } from '../../ledger/types';
import { fromMicro, toMicro } from '../../model/amount';
import type { ResourceVector } from '../../model/resources';
import type { HeightState, Reservation, TaskRecord } from '../../ports/ledger-store';
import {
  blockKey,
  CAPACITY_ATTRIBUTE_PREFIX,
  DEVICE_ATTRIBUTE_PREFIX,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_PARTITION,
  PARTITION_KEY,
  RESERVED_ATTRIBUTE_PREFIX,
  taskKey,
} from './keys';

/**
 * Translation between the ledger model and table items. Items read back are parsed with zod: the
 * table is shared infrastructure, and a malformed item must fail loudly here, not deep in the engine.
 */

type Item = Record<string, unknown>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const height = z.number().int().min(0);

const headItemSchema = z.object({ height, hash: hex64 });

const blockItemSchema = z.object({
  height,
  timestamp: z.string(),
  previous_hash: hex64,
  merkle_root: hex64,
  transaction_count: z.number().int().min(0),
  block_hash: hex64,
  transactions: z.string(),
});

const resourceVector = z.record(z.string(), z.number());

const taskItemSchema = z.object({
  task_id: z.string(),
  status: z.enum(['assigned', 'rejected', 'completed', 'failed', 'expired']),
  vm_id: z.string().nullable(),
  block_height: height,
  transaction_id: z.string(),
  requirements: resourceVector,
  deadline: z.number(),
  duration: z.number(),
  lease_expires_at: z.number().nullable().default(null),
  updated_at: z.number(),
  devices: z.array(z.number().int().min(0)).optional(),
});

const transactionLocationSchema = z.object({ height, index: z.number().int().min(0) });

function parseItem<S extends z.ZodType>(schema: S, item: Item, what: string): z.output<S> {
  const result = schema.safeParse(item);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new Error(`malformed ${what} item ${String(item[PARTITION_KEY])}: ${issues}`);
  }
  return result.data;
}

export function headFromItem(item: Item): ChainHead {
  const { height, hash } = parseItem(headItemSchema, item, 'head');
  return { height, hash };
}

/** Transactions are kept as JSON text: it round-trips every number and string exactly as written. */
export function blockToItem(block: Block): Item {
  return {
    [PARTITION_KEY]: blockKey(block.height),
    height: block.height,
    timestamp: block.timestamp,
    previous_hash: block.previous_hash,
    merkle_root: block.merkle_root,
    transaction_count: block.transaction_count,
    block_hash: block.block_hash,
    transactions: JSON.stringify(block.transactions),
  };
}

const heightStateSchema = z.object({
  height,
  timestamp: z.string(),
  block_hash: hex64,
  transaction_total: z.number().int().min(0).optional(),
});

/**
 * A block item's place in the chain (HeightState); null for an item written before blocks carried
 * `transaction_total` (the chain's transaction total through that block).
 */
export function heightStateFromItem(item: Item): HeightState | null {
  const b = parseItem(heightStateSchema, item, 'block');
  if (b.transaction_total === undefined) return null;
  return {
    height: b.height,
    block_hash: b.block_hash,
    timestamp: b.timestamp,
    transaction_total: b.transaction_total,
  };
}

export function blockFromItem(item: Item): Block {
  const b = parseItem(blockItemSchema, item, 'block');
  let transactions: unknown;
  try {
    transactions = JSON.parse(b.transactions);
  } catch (error) {
    throw new Error(`malformed block item ${blockKey(b.height)}: transactions is not JSON`, { cause: error });
  }
  if (!Array.isArray(transactions)) {
    throw new Error(`malformed block item ${blockKey(b.height)}: transactions is not an array`);
  }
  return {
    height: b.height,
    timestamp: b.timestamp,
    previous_hash: b.previous_hash,
    merkle_root: b.merkle_root,
    transaction_count: b.transaction_count,
    block_hash: b.block_hash,
    transactions: transactions as Transaction[],
  };
}

/**
 * Assigned tasks also carry the lease-index key, which makes the optional lease index sparse. A null
 * lease is left out rather than stored as NULL: DynamoDB refuses a NULL where an index expects a number.
 */
export function taskToItem(record: TaskRecord): Item {
  const { lease_expires_at, ...rest } = record;
  const item: Item = { [PARTITION_KEY]: taskKey(record.task_id), ...rest };
  if (lease_expires_at !== null) item.lease_expires_at = lease_expires_at;
  if (record.status === 'assigned' && lease_expires_at !== null)
    item[LEASE_INDEX_PARTITION_KEY] = LEASE_PARTITION;
  return item;
}

export function taskFromItem(item: Item): TaskRecord {
  return parseItem(taskItemSchema, item, 'task');
}

export function transactionLocationFromItem(item: Item): { height: number; index: number } {
  return parseItem(transactionLocationSchema, item, 'transaction');
}

/**
 * VM items keep one top-level number per dimension so that an update can create them atomically.
 * Reserved amounts are put back on the micro-unit grid (lib/model/amount.ts): DynamoDB sums them
 * exactly, but an emulator that sums in binary floating point or an item written before amounts
 * were exact could hold a value a hair off it.
 */
export function reservationFromItem(item: Item): Reservation {
  const reserved: ResourceVector = {};
  const capacity: ResourceVector = {};
  let gpus: number[] | undefined;
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number') continue;
    if (name.startsWith(RESERVED_ATTRIBUTE_PREFIX))
      reserved[name.slice(RESERVED_ATTRIBUTE_PREFIX.length)] = fromMicro(toMicro(value));
    else if (name.startsWith(CAPACITY_ATTRIBUTE_PREFIX))
      capacity[name.slice(CAPACITY_ATTRIBUTE_PREFIX.length)] = value;
    else if (DEVICE_ATTRIBUTE.test(name)) {
      const index = Number(name.slice(DEVICE_ATTRIBUTE_PREFIX.length));
      gpus ??= [];
      while (gpus.length <= index) gpus.push(0);
      gpus[index] = fromMicro(toMicro(value));
    }
  }
  const { vm_id, active_tasks } = parseItem(
    z.object({ vm_id: z.string(), active_tasks: z.number().int() }),
    item,
    'vm',
  );
  return { vm_id, reserved, active_tasks, capacity, ...(gpus === undefined ? {} : { gpus }) };
}

/** `device_0` .. `device_63` (lib/scheduling/devices.ts MAX_DEVICES_PER_VM). */
const DEVICE_ATTRIBUTE = new RegExp(`^${DEVICE_ATTRIBUTE_PREFIX}([0-9]|[1-5][0-9]|6[0-3])$`);
