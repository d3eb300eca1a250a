import { ValidationError } from '../errors';
import type { Block } from '../ledger/types';
import type { LedgerStore } from '../ports/ledger-store';

/**
 * How stores refuse a stored block they cannot parse: the DynamoDB store with an Error whose message
 * starts "malformed <kind> item " (adapters/dynamodb/items.ts), the SQLite store with the SyntaxError
 * of JSON.parse on a row's text. Nothing else a store reads throws a SyntaxError.
 */
export function isMalformedStoredBlock(error: unknown): error is Error {
  return (
    error instanceof SyntaxError || (error instanceof Error && /^malformed \w+ item /.test(error.message))
  );
}

/**
 * Blocks from..upTo (from 0 unless given) a page at a time (every reader of the whole chain: verify, export, import checks), naming the bad
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
  from = 0,
): AsyncGenerator<Block> {
  let next = from;
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
    if (isMalformedStoredBlock(error)) return null;
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
      if (!isMalformedStoredBlock(error)) throw error;
      throw new ValidationError(
        [{ field: `blocks.${from}`, message: `stored block ${from} cannot be parsed: ${error.message}` }],
        `block ${from}`,
      );
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
