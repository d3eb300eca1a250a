import { genesisBlock } from '../ledger/blocks';
import { blockLeafHash } from '../ledger/digest';
import { appendLeaves, emptyFrontier, type TileAppend } from '../ledger/tiles';
import type { Block } from '../ledger/types';
import type { LedgerCounts, TreeHead, VmCounts } from '../ports/ledger-store';

/**
 * What every store writes with an append besides the blocks (lib/ports/ledger-store.ts
 * MerkleLedgerStore): the new tree head, the tile appends and the per-VM count increments. Pure, so
 * the three stores write exactly the same state and the contract suite compares them with one reference.
 */
export interface MerkleStep {
  treeHead: TreeHead;
  tiles: TileAppend[];
  /** Increments per VM (only VMs whose counts change), sorted by vm_id. */
  vmCounts: VmCounts[];
}

export function zeroCounts(): LedgerCounts {
  return { transactions: 0, assigned: 0, rejected: 0, completed: 0, failed: 0, expired: 0 };
}

/** The tree head of a chain holding only `genesis`, and the tiles it writes. */
export function genesisStep(genesis: Block = genesisBlock(), tileHeight?: number): MerkleStep {
  const empty: TreeHead = {
    head: { height: -1, hash: '' },
    tree_size: 0,
    frontier: emptyFrontier().roots,
    head_timestamp: genesis.timestamp,
    counts: zeroCounts(),
  };
  return advance(empty, [genesis], tileHeight);
}

/**
 * The state after `blocks` (consecutive, the first at previous.tree_size) are appended to the chain
 * `previous` describes. Throws RangeError when they do not follow it: a store must never write tiles
 * for a chain it does not hold.
 */
export function advance(previous: TreeHead, blocks: readonly Block[], tileHeight?: number): MerkleStep {
  if (blocks.length === 0) return { treeHead: previous, tiles: [], vmCounts: [] };
  blocks.forEach((block, i) => {
    if (block.height !== previous.tree_size + i) {
      throw new RangeError(`block ${block.height} appended to a tree of ${previous.tree_size + i} leaves`);
    }
  });
  const { frontier, appends } = appendLeaves(
    { size: previous.tree_size, roots: previous.frontier },
    blocks.map((b) => blockLeafHash(b.block_hash)),
    tileHeight,
  );
  const counts = { ...previous.counts };
  const perVm = new Map<string, VmCounts>();
  for (const block of blocks) {
    for (const tx of block.transactions) {
      counts.transactions += 1;
      counts[tx.status] += 1;
      if (tx.status === 'rejected' || tx.vm_id === null) continue;
      let vm = perVm.get(tx.vm_id);
      if (!vm) {
        vm = { vm_id: tx.vm_id, assigned: 0, completed: 0, failed: 0, expired: 0 };
        perVm.set(tx.vm_id, vm);
      }
      vm[tx.status] += 1;
    }
  }
  const last = blocks[blocks.length - 1]!;
  return {
    treeHead: {
      head: { height: last.height, hash: last.block_hash },
      tree_size: frontier.size,
      frontier: frontier.roots,
      head_timestamp: last.timestamp,
      counts,
    },
    tiles: appends,
    vmCounts: [...perVm.values()].sort((a, b) => (a.vm_id < b.vm_id ? -1 : a.vm_id > b.vm_id ? 1 : 0)),
  };
}

/** Adds count increments to stored per-VM counts. */
export function addVmCounts(current: VmCounts | undefined, delta: VmCounts): VmCounts {
  return {
    vm_id: delta.vm_id,
    assigned: (current?.assigned ?? 0) + delta.assigned,
    completed: (current?.completed ?? 0) + delta.completed,
    // Stored before failed existed: none then.
    failed: (current?.failed ?? 0) + delta.failed,
    expired: (current?.expired ?? 0) + delta.expired,
  };
}
