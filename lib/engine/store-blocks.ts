import type { Block } from '../ledger/types';
import type { LedgerStore } from '../ports/ledger-store';

/**
 * Blocks 0..upTo from a store, a page at a time, so that verifying or exporting a long chain holds
 * one page in memory. Stopping at a height read beforehand gives a consistent snapshot while the
 * scheduler keeps appending.
 */
export async function* blocksFromStore(
  store: LedgerStore,
  upTo: number,
  pageSize = 200,
): AsyncGenerator<Block> {
  let next = 0;
  while (next <= upTo) {
    const page = await store.getBlocks(next, Math.min(pageSize, upTo - next + 1));
    if (page.length === 0) return;
    for (const block of page) yield block;
    next = page[page.length - 1]!.height + 1;
  }
}
