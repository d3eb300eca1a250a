import { ValidationError } from '../../lib/errors';
import type { Block } from '../../lib/ledger/types';
import type { LedgerStore } from '../../lib/ports/ledger-store';

/** Stores refuse an item they cannot parse with an Error whose message starts this way (dynamodb/items.ts). */
const MALFORMED_ITEM = /^malformed \w+ item /;

const isMalformedItem = (error: unknown): error is Error =>
  error instanceof Error && MALFORMED_ITEM.test(error.message);

/**
 * Blocks 0..upTo a page at a time, like runtime/store-blocks.ts, for a verifier that must name the bad
 * block even when the bad block is an item the store cannot parse. One such item fails its whole page,
 * so the page is halved until the item is found (about 2 log2(page) reads): the blocks before it are
 * yielded, and the item itself becomes a ValidationError, which verifyChain reports as `malformed` at
 * that height. A missing item is skipped, which verifyChain reports as a height gap. Other errors (the
 * store unreachable) propagate.
 */
export async function* verifiableBlocks(
  store: LedgerStore,
  upTo: number,
  pageSize = 200,
): AsyncGenerator<Block> {
  let next = 0;
  while (next <= upTo) {
    const count = Math.min(pageSize, upTo - next + 1);
    const page = await readPage(store, next, count);
    if (page === null) {
      yield* bisect(store, next, count);
      next += count;
      continue;
    }
    if (page.length === 0) return;
    yield* page;
    next = page[page.length - 1]!.height + 1;
  }
}

/** The page, or null when one of its items is malformed. */
async function readPage(store: LedgerStore, from: number, count: number): Promise<Block[] | null> {
  try {
    return await store.getBlocks(from, count);
  } catch (error) {
    if (isMalformedItem(error)) return null;
    throw error;
  }
}

async function* bisect(store: LedgerStore, from: number, count: number): AsyncGenerator<Block> {
  if (count === 1) {
    try {
      const block = await store.getBlock(from);
      if (block !== null) yield block;
      return;
    } catch (error) {
      if (!isMalformedItem(error)) throw error;
      throw new ValidationError([{ field: `blocks.${from}`, message: error.message }], `block ${from}`);
    }
  }
  const half = Math.ceil(count / 2);
  for (const [start, size] of [
    [from, half],
    [from + half, count - half],
  ] as const) {
    const page = await readPage(store, start, size);
    if (page === null) yield* bisect(store, start, size);
    else yield* page;
  }
}
