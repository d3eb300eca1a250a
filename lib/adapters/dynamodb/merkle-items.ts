import * as z from 'zod';
import type { MerkleStep } from '../../engine/merkle-state';
import { HASH_SIZE } from '../../ledger/hash';
import { decodeFrontier, encodeFrontier } from '../../ledger/tiles';
import type { TreeHead, VmCounts } from '../../ports/ledger-store';
import { type CommitPlan, checkLimits } from './commit-plan';
import { PARTITION_KEY, tileKey, vmKey } from './keys';

/**
 * The persistent Merkle state on the ledger table, written in the append's TransactWriteItems
 * (docs/ledger-format.md "Stored Merkle tiles"):
 * - HEAD carries the tree head: tile_height, tree_size, frontier (Binary, 32 bytes per root, largest
 *   subtree first), head_timestamp and the counts (count_transactions, count_assigned, ...). HEAD is
 *   replaced by every append under its compare-and-set, so these need no condition of their own.
 * - TILE#<level>#<index> items hold each tile's hashes as a List of Binary, extended with list_append
 *   on the condition that the list holds exactly the hashes the append expects, so a tile can never get
 *   a hash at the wrong position even if the table were edited by hand.
 * - per-VM counts (vmcount_assigned, vmcount_completed, vmcount_failed, vmcount_expired) are ADDed to the VM item the
 *   commit already updates for its reservation (TransactWriteItems takes one operation per item).
 */

const COUNT_ATTRIBUTES = {
  transactions: 'count_transactions',
  assigned: 'count_assigned',
  rejected: 'count_rejected',
  completed: 'count_completed',
  failed: 'count_failed',
  expired: 'count_expired',
} as const;

const VM_COUNT_ATTRIBUTES = {
  assigned: 'vmcount_assigned',
  completed: 'vmcount_completed',
  failed: 'vmcount_failed',
  expired: 'vmcount_expired',
} as const;

type Item = Record<string, unknown>;

/** The HEAD attributes of a tree head (merged into the HEAD item). */
export function treeHeadAttributes(treeHead: TreeHead, tileHeight: number): Item {
  const item: Item = {
    tile_height: tileHeight,
    tree_size: treeHead.tree_size,
    frontier: encodeFrontier({ size: treeHead.tree_size, roots: treeHead.frontier }),
    head_timestamp: treeHead.head_timestamp,
  };
  for (const [name, attribute] of Object.entries(COUNT_ATTRIBUTES)) {
    item[attribute] = treeHead.counts[name as keyof typeof COUNT_ATTRIBUTES];
  }
  return item;
}

const count = z.number().int().min(0);
const treeHeadItemSchema = z.object({
  height: count,
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  tile_height: z.number().int().min(1).max(16),
  tree_size: count,
  frontier: z.instanceof(Uint8Array),
  head_timestamp: z.string(),
  count_transactions: count,
  count_assigned: count,
  count_rejected: count,
  count_completed: count,
  // Written since the failed status exists (ledger format 3); a HEAD from before has none: 0.
  count_failed: count.default(0),
  count_expired: count,
});

/** The tree head a HEAD item carries; null for a HEAD written before the Merkle state existed. */
export function treeHeadFromItem(item: Item): { treeHead: TreeHead; tileHeight: number } | null {
  if (item.tree_size === undefined) return null;
  const parsed = treeHeadItemSchema.safeParse(item);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`malformed tree head on item ${String(item[PARTITION_KEY])}: ${issues}`);
  }
  const h = parsed.data;
  if (h.tree_size !== h.height + 1) {
    throw new Error(`HEAD tree_size ${h.tree_size} is not height ${h.height} + 1`);
  }
  return {
    tileHeight: h.tile_height,
    treeHead: {
      head: { height: h.height, hash: h.hash },
      tree_size: h.tree_size,
      frontier: decodeFrontier(h.tree_size, new Uint8Array(h.frontier)).roots,
      head_timestamp: h.head_timestamp,
      counts: {
        transactions: h.count_transactions,
        assigned: h.count_assigned,
        rejected: h.count_rejected,
        completed: h.count_completed,
        failed: h.count_failed,
        expired: h.count_expired,
      },
    },
  };
}

/** A tile item's hashes, concatenated. */
export function tileFromItem(item: Item): Uint8Array {
  const hashes = item.hashes;
  if (!Array.isArray(hashes) || !hashes.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) {
    throw new Error(
      `malformed tile item ${String(item[PARTITION_KEY])}: hashes is not a list of 32-byte binaries`,
    );
  }
  const bytes = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h: Uint8Array, i) => {
    bytes.set(h, i * HASH_SIZE);
  });
  return bytes;
}

/** Per-VM counts on a VM item; null when the item has none. */
export function vmCountsFromItem(item: Item): VmCounts | null {
  if (typeof item.vm_id !== 'string') return null;
  const read = (attribute: string) => (typeof item[attribute] === 'number' ? (item[attribute] as number) : 0);
  const counts = {
    vm_id: item.vm_id,
    assigned: read(VM_COUNT_ATTRIBUTES.assigned),
    completed: read(VM_COUNT_ATTRIBUTES.completed),
    failed: read(VM_COUNT_ATTRIBUTES.failed),
    expired: read(VM_COUNT_ATTRIBUTES.expired),
  };
  return counts.assigned + counts.completed + counts.failed + counts.expired > 0 ? counts : null;
}

/**
 * Adds the Merkle state of `step` to a planned commit: tree head on HEAD, tile updates, per-VM counts.
 * Checks the transaction limits again (the engine leaves MERKLE_ITEMS_PER_COMMIT items free).
 */
export function addMerkleState(
  plan: CommitPlan,
  tableName: string,
  step: MerkleStep,
  tileHeight: number,
): void {
  const head = plan.kinds.indexOf('head');
  const put = plan.items[head]?.Put;
  if (!put?.Item) throw new Error('planned commit has no HEAD put');
  put.Item = { ...put.Item, ...treeHeadAttributes(step.treeHead, tileHeight) };

  // Each block item carries the chain's transaction total through it (a digest at its height).
  const blockItems = plan.items.flatMap((item, i) => (plan.kinds[i] === 'block' ? [item.Put!.Item!] : []));
  let total =
    step.treeHead.counts.transactions -
    blockItems.reduce((sum, item) => sum + (item.transaction_count as number), 0);
  for (const item of blockItems) {
    total += item.transaction_count as number;
    item.transaction_total = total;
  }

  for (const append of step.tiles) {
    const key = tileKey(append.level, append.index);
    plan.items.push({
      Update: {
        TableName: tableName,
        Key: { [PARTITION_KEY]: key },
        UpdateExpression:
          'SET #hashes = list_append(if_not_exists(#hashes, :empty), :new), #level = :level, #index = :index',
        ConditionExpression: append.offset === 0 ? 'attribute_not_exists(#pk)' : 'size(#hashes) = :offset',
        ExpressionAttributeNames: {
          '#hashes': 'hashes',
          '#level': 'level',
          '#index': 'index',
          ...(append.offset === 0 ? { '#pk': PARTITION_KEY } : {}),
        },
        ExpressionAttributeValues: {
          ':empty': [],
          ':new': append.hashes.map((h) => Uint8Array.from(h)),
          ':level': append.level,
          ':index': append.index,
          ...(append.offset === 0 ? {} : { ':offset': append.offset }),
        },
      },
    });
    plan.kinds.push('tile');
    plan.keys.push(key);
  }

  for (const delta of step.vmCounts) {
    const key = vmKey(delta.vm_id);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds: string[] = [];
    for (const [name, attribute] of Object.entries(VM_COUNT_ATTRIBUTES)) {
      const n = delta[name as keyof typeof VM_COUNT_ATTRIBUTES];
      if (n === 0) continue;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = n;
      adds.push(`#${attribute} :${attribute}`);
    }
    if (adds.length === 0) continue;
    const existing = plan.keys.findIndex((k, i) => k === key && plan.kinds[i] === 'reservation');
    const update = existing >= 0 ? plan.items[existing]!.Update : undefined;
    if (update) {
      update.UpdateExpression = `${update.UpdateExpression} ADD ${adds.join(', ')}`;
      update.ExpressionAttributeNames = { ...update.ExpressionAttributeNames, ...names };
      update.ExpressionAttributeValues = { ...update.ExpressionAttributeValues, ...values };
      continue;
    }
    // Counts on a VM whose reservation this commit does not change (no store caller does this today).
    plan.items.push({
      Update: {
        TableName: tableName,
        Key: { [PARTITION_KEY]: key },
        UpdateExpression: `SET #vm = :vm, #active = if_not_exists(#active, :zero) ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: { '#vm': 'vm_id', '#active': 'active_tasks', ...names },
        ExpressionAttributeValues: { ':vm': delta.vm_id, ':zero': 0, ...values },
      },
    });
    plan.kinds.push('vm-counts');
    plan.keys.push(key);
  }
  checkLimits(plan);
}

/** The genesis HEAD attributes and tile items of a fresh table. */
export function genesisMerkleItems(step: MerkleStep, tileHeight: number): { head: Item; tiles: Item[] } {
  return {
    head: treeHeadAttributes(step.treeHead, tileHeight),
    tiles: step.tiles.map((append) => ({
      [PARTITION_KEY]: tileKey(append.level, append.index),
      level: append.level,
      index: append.index,
      hashes: append.hashes.map((h) => Uint8Array.from(h)),
    })),
  };
}
