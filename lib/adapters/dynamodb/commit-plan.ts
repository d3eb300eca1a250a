import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { checkCommitShape, headAfter, netReservationChanges } from '../../engine/commit';
import type { ChainHead } from '../../ledger/types';
import { subtractAmounts } from '../../model/amount';
import type { Commit, ReservationChange } from '../../ports/ledger-store';
import { CommitTooLargeError } from './errors';
import { blockToItem, taskToItem } from './items';
import {
  CAPACITY_ATTRIBUTE_PREFIX,
  DEVICE_ATTRIBUTE_PREFIX,
  HEAD_KEY,
  PARTITION_KEY,
  RESERVED_ATTRIBUTE_PREFIX,
  transactionKey,
  vmKey,
} from './keys';
import { VM_DIRECTORY_ITEMS_PER_COMMIT } from './vm-directory';

/** DynamoDB TransactWriteItems limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html). */
export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
export const MAX_ITEM_BYTES = 400 * 1024;
/**
 * Items an append may add for the block-hash tree (merkle-items.ts): at most 2 level-0 tiles and one
 * tile per higher level (levels 1-6 cover every safe-integer height), so 8. The engine's limits below
 * keep this room free in every commit.
 */
export const MERKLE_ITEMS_PER_COMMIT = 8;
/** Items left for blocks, transaction ids, tasks, VMs and HEAD (besides the tiles and one VM directory page, vm-directory.ts). */
export const MAX_LEDGER_ITEMS =
  MAX_TRANSACTION_ITEMS - MERKLE_ITEMS_PER_COMMIT - VM_DIRECTORY_ITEMS_PER_COMMIT;

/** What each transaction item guards, so a cancellation reason maps back to a port conflict. */
export type PlannedItemKind =
  | 'block'
  | 'head'
  | 'reservation'
  | 'task'
  | 'transaction'
  | 'tile'
  | 'vm-counts'
  | 'vm-directory';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface CommitPlan {
  items: TransactItem[];
  kinds: PlannedItemKind[];
  /** The key of each item, for conflict details. */
  keys: string[];
  head: ChainHead;
}

/**
 * Items one commit writes: one per block, one per transaction id, one per task change, one per VM
 * (changes to the same VM are merged) and the head. The engine keeps this <= MAX_TRANSACTION_ITEMS;
 * e.g. with blocks of 5 and one VM, 30 new tasks cost 6 + 30 + 30 + 1 + 1 = 68 items.
 */
export function commitItemCount(commit: Commit): number {
  const transactions = commit.blocks.reduce((n, b) => n + b.transactions.length, 0);
  const vms = new Set(commit.reservations.map((r) => r.vm_id)).size;
  return commit.blocks.length + transactions + commit.tasks.length + vms + 1;
}

/**
 * The most tasks one commit can decide or close whatever VMs they land on: each task costs its
 * transaction id, its task record and (worst case) its own VM item, each block one item, plus HEAD.
 * For blocks of 5 that is 30 (30 x 3 + 6 + 1 = 97 items); the engine's maxTasksPerCommit must not exceed it.
 */
export function maxTasksPerCommit(blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new RangeError(`blockSize must be an integer >= 1, got ${blockSize}`);
  let tasks = 0;
  while (worstCaseCommitItems(tasks + 1, blockSize) <= MAX_LEDGER_ITEMS) tasks++;
  return tasks;
}

/** Items a commit of `tasks` new decisions may write in the worst case (every task on its own VM). */
export function worstCaseCommitItems(tasks: number, blockSize: number): number {
  return Math.ceil(tasks / blockSize) + 3 * tasks + 1;
}

/**
 * The most tasks one commit can hold when they land on at most `vmCount` distinct VMs (the fleet the
 * engine decides on): a VM item is written once per commit however many tasks it takes, so with a
 * small fleet far more fit than maxTasksPerCommit's worst case: 42 instead of 31 for blocks of 10 on
 * 10 VMs (84 TX + TASK items, 5 blocks, 10 VMs, HEAD = 100 items). A rejection writes no VM item, so
 * this holds whatever the decisions are.
 */
export function maxTasksPerCommitOnFleet(blockSize: number, vmCount: number): number {
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new RangeError(`blockSize must be an integer >= 1, got ${blockSize}`);
  if (!Number.isInteger(vmCount) || vmCount < 0)
    throw new RangeError(`vmCount must be an integer >= 0, got ${vmCount}`);
  let tasks = 0;
  const items = (n: number) => 2 * n + Math.ceil(n / blockSize) + Math.min(n, vmCount) + 1;
  while (items(tasks + 1) <= MAX_LEDGER_ITEMS) tasks++;
  return tasks;
}

/**
 * Turns a commit into one all-or-nothing TransactWriteItems request:
 * - each BLOCK is put only if its height is free,
 * - HEAD is replaced only if it still holds the expected height and hash (compare-and-set),
 * - each VM's reservation grows only while every growing dimension stays within capacity,
 * - each TASK is recorded once ('absent') or moved only from the expected status,
 * - each TX is put only if the transaction id is new.
 * Throws MalformedCommitError (lib/engine/commit.ts) or CommitTooLargeError before anything is sent.
 */
export function planCommit(tableName: string, expected: ChainHead, commit: Commit): CommitPlan {
  checkCommitShape(expected, commit);
  const plan: CommitPlan = { items: [], kinds: [], keys: [], head: expected };
  const add = (kind: PlannedItemKind, key: string, item: TransactItem) => {
    plan.items.push(item);
    plan.kinds.push(kind);
    plan.keys.push(key);
  };

  for (const block of commit.blocks) {
    const item = blockToItem(block);
    add('block', item[PARTITION_KEY] as string, {
      Put: {
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      },
    });
    block.transactions.forEach((tx, index) => {
      const key = transactionKey(tx.transaction_id);
      add('transaction', key, {
        Put: {
          TableName: tableName,
          Item: { [PARTITION_KEY]: key, height: block.height, index },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        },
      });
    });
  }

  plan.head = headAfter(commit);
  add('head', HEAD_KEY, {
    Put: {
      TableName: tableName,
      Item: { [PARTITION_KEY]: HEAD_KEY, height: plan.head.height, hash: plan.head.hash },
      ConditionExpression: '#height = :expectedHeight AND #hash = :expectedHash',
      ExpressionAttributeNames: { '#height': 'height', '#hash': 'hash' },
      ExpressionAttributeValues: { ':expectedHeight': expected.height, ':expectedHash': expected.hash },
      // A lost race then reports the winner's head (conflicts.ts), saving the loser a read.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  });

  for (const change of netReservationChanges(commit.reservations)) {
    add('reservation', vmKey(change.vm_id), reservationUpdate(tableName, change));
  }

  for (const { record, expect } of commit.tasks) {
    const item = taskToItem(record);
    add(
      'task',
      item[PARTITION_KEY] as string,
      expect === 'absent'
        ? {
            Put: {
              TableName: tableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PARTITION_KEY },
            },
          }
        : {
            Put: {
              TableName: tableName,
              Item: item,
              ConditionExpression: '#status = :expectedStatus',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':expectedStatus': expect.status },
            },
          },
    );
  }

  checkLimits(plan);
  return plan;
}

/**
 * `reserved_<d> = if_not_exists(reserved_<d>, 0) + delta` creates the VM item on first use. Conditions
 * cannot do arithmetic, so "reserved + delta <= capacity" is sent as "reserved <= capacity - delta".
 * Only growing dimensions are checked against capacity: a release must always succeed, even on a VM
 * whose capacity shrank below what is already reserved on it. A release is checked against what is
 * reserved, so that the books never go below zero.
 */
function reservationUpdate(tableName: string, change: ReservationChange): TransactItem {
  const names: Record<string, string> = { '#vm': 'vm_id', '#active': 'active_tasks' };
  const values: Record<string, unknown> = {
    ':vm': change.vm_id,
    ':zero': 0,
    ':activeDelta': change.active_delta,
  };
  const sets = ['#vm = :vm', '#active = if_not_exists(#active, :zero) + :activeDelta'];
  const conditions: string[] = [];
  const dimensions = [...new Set([...Object.keys(change.delta), ...Object.keys(change.capacity)])];
  dimensions.forEach((dimension, i) => {
    const delta = change.delta[dimension] ?? 0;
    const capacity = change.capacity[dimension];
    if (capacity !== undefined) {
      names[`#c${i}`] = `${CAPACITY_ATTRIBUTE_PREFIX}${dimension}`;
      values[`:c${i}`] = capacity;
      sets.push(`#c${i} = :c${i}`);
    }
    if (dimension in change.delta) {
      names[`#r${i}`] = `${RESERVED_ATTRIBUTE_PREFIX}${dimension}`;
      values[`:d${i}`] = delta;
      sets.push(`#r${i} = if_not_exists(#r${i}, :zero) + :d${i}`);
    }
    if (delta > 0) {
      values[`:limit${i}`] = subtractAmounts(capacity ?? 0, delta);
      conditions.push(`(attribute_not_exists(#r${i}) OR #r${i} <= :limit${i})`);
    } else if (delta < 0) {
      // Releasing more than is reserved means the books are wrong; the store then throws (see append).
      values[`:floor${i}`] = -delta;
      conditions.push(`#r${i} >= :floor${i}`);
    }
  });
  // GPU devices the same way, one `device_<index>` number each, checked against the device's capacity.
  for (const device of change.devices ?? []) {
    const g = device.index;
    names[`#g${g}`] = `${DEVICE_ATTRIBUTE_PREFIX}${g}`;
    values[`:gd${g}`] = device.delta;
    sets.push(`#g${g} = if_not_exists(#g${g}, :zero) + :gd${g}`);
    if (device.delta > 0) {
      values[`:glimit${g}`] = subtractAmounts(device.capacity, device.delta);
      conditions.push(`(attribute_not_exists(#g${g}) OR #g${g} <= :glimit${g})`);
    } else if (device.delta < 0) {
      values[`:gfloor${g}`] = -device.delta;
      conditions.push(`#g${g} >= :gfloor${g}`);
    }
  }
  if (change.active_delta < 0) {
    values[':activeFloor'] = -change.active_delta;
    conditions.push('#active >= :activeFloor');
  }
  return {
    Update: {
      TableName: tableName,
      Key: { [PARTITION_KEY]: vmKey(change.vm_id) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * A reservation that exceeds capacity on its own can never succeed, whatever is reserved already;
 * the update's condition only covers VMs that have a reservation item, so this catches a fresh VM.
 */
export function exceedsCapacityAlone(changes: readonly ReservationChange[]): string | null {
  for (const change of netReservationChanges(changes)) {
    for (const [dimension, delta] of Object.entries(change.delta)) {
      const capacity = change.capacity[dimension] ?? 0;
      if (delta > 0 && delta > capacity) {
        return `VM ${change.vm_id}: ${dimension} needs ${delta} of capacity ${capacity}`;
      }
    }
    for (const device of change.devices ?? []) {
      if (device.delta > 0 && device.delta > device.capacity) {
        return `VM ${change.vm_id}: GPU device ${device.index} needs ${device.delta} of capacity ${device.capacity}`;
      }
    }
  }
  return null;
}

export function checkLimits(plan: CommitPlan): void {
  if (plan.items.length > MAX_TRANSACTION_ITEMS) {
    throw new CommitTooLargeError(
      'items',
      plan.items.length,
      MAX_TRANSACTION_ITEMS,
      `${plan.items.length} items; split the batch (see commitItemCount)`,
    );
  }
  let total = 0;
  plan.items.forEach((item, i) => {
    // JSON length over-approximates DynamoDB's item size (names + values), which keeps the check safe.
    const bytes = Buffer.byteLength(JSON.stringify(item));
    if (bytes > MAX_ITEM_BYTES) {
      throw new CommitTooLargeError(
        'item-bytes',
        bytes,
        MAX_ITEM_BYTES,
        `item ${plan.keys[i]} is ${bytes} bytes`,
      );
    }
    total += bytes;
  });
  if (total > MAX_TRANSACTION_BYTES) {
    throw new CommitTooLargeError(
      'transaction-bytes',
      total,
      MAX_TRANSACTION_BYTES,
      `${total} bytes in total`,
    );
  }
}
