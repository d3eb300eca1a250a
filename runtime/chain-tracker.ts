import { DigestBuilder } from '../lib/ledger/digest';
import type { Block, Digest } from '../lib/ledger/types';
import type { LedgerStore } from '../lib/ports/ledger-store';

export interface VmCounts {
  assignments: number;
  rejections: number;
  completed: number;
  expired: number;
}

/**
 * What the read routes need about the whole chain (per-VM counts, the block-hash tree for digests
 * and proofs), kept in memory: scanning the chain per request would grow with the chain. Built once
 * at start, then moved forward block by block; 32 bytes of hash per block is the price.
 */
export class ChainTracker {
  private readonly byVm = new Map<string, VmCounts>();
  private readonly hashes: string[] = [];
  private readonly digestBuilder = new DigestBuilder();
  private headTimestamp = '';

  get height(): number {
    return this.hashes.length - 1;
  }

  get transactionCount(): number {
    return this.digestBuilder.transactionCount;
  }

  /** Hex block hashes of heights 0..height. */
  get blockHashes(): readonly string[] {
    return this.hashes;
  }

  vmCounts(): [string, VmCounts][] {
    return [...this.byVm.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** The digest of the chain as far as it has been tracked, stamped with the head block's time. */
  digest(): Digest {
    return this.digestBuilder.digest(this.headTimestamp);
  }

  /** Reads the blocks not tracked yet, page by page. */
  async catchUp(store: LedgerStore, pageSize = 500): Promise<void> {
    for (;;) {
      const blocks = await store.getBlocks(this.height + 1, pageSize);
      for (const block of blocks) this.add(block);
      if (blocks.length < pageSize) return;
    }
  }

  /**
   * Tracks the block if it is the next one; any other is ignored (a later `catchUp` fills the gap),
   * so a block counts exactly once whatever order the loops report their commits in.
   */
  add(block: Block): void {
    if (block.height !== this.height + 1) return;
    this.hashes.push(block.block_hash);
    this.digestBuilder.append(block);
    this.headTimestamp = block.timestamp;
    for (const tx of block.transactions) {
      if (tx.vm_id === null) continue;
      let counts = this.byVm.get(tx.vm_id);
      if (!counts) {
        counts = { assignments: 0, rejections: 0, completed: 0, expired: 0 };
        this.byVm.set(tx.vm_id, counts);
      }
      if (tx.status === 'assigned') counts.assignments += 1;
      else if (tx.status === 'rejected') counts.rejections += 1;
      else if (tx.status === 'completed') counts.completed += 1;
      else counts.expired += 1;
    }
  }
}
