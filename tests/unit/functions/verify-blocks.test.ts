import { describe, expect, it } from 'vitest';
import { verifiableBlocks } from '../../../lib/engine/verifiable-blocks';
import type { Block } from '../../../lib/ledger/types';
import { verifyChain } from '../../../lib/ledger/verify';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { buildChain, sampleTransactions } from '../ledger/helpers/transactions';

const chain = buildChain(sampleTransactions(90, 7), 2); // genesis + 45 blocks
const last = chain.length - 1;
const head = { height: last, hash: chain[last]!.block_hash };

/** A store whose item at `bad` cannot be parsed, as the DynamoDB store reports it; counts reads. */
function storeWithBadItem(bad: number | null, failure?: Error) {
  const reads = { pages: 0, single: 0 };
  const refuse = (h: number) => {
    if (failure) throw failure;
    throw new Error(
      `malformed block item BLOCK#${String(h).padStart(12, '0')}: previous_hash: must be 64 lowercase hex digits`,
    );
  };
  const store = {
    async getBlocks(from: number, limit: number): Promise<Block[]> {
      reads.pages++;
      const page = chain.slice(from, from + limit);
      if (bad !== null && bad >= from && bad < from + limit) refuse(bad);
      return page;
    },
    async getBlock(height: number): Promise<Block | null> {
      reads.single++;
      if (height === bad) refuse(height);
      return chain[height] ?? null;
    },
  } as unknown as LedgerStore;
  return { store, reads };
}

describe('verifiableBlocks', () => {
  it('yields the whole chain, a page at a time, when every item reads', async () => {
    const { store, reads } = storeWithBadItem(null);
    expect(await verifyChain(verifiableBlocks(store, last, 10), { expectedHead: head })).toMatchObject({
      valid: true,
      blocks_checked: last + 1,
    });
    expect(reads).toEqual({ pages: 5, single: 0 });
  });

  it.each([0, 1, 9, 10, 23, 37, last])(
    'an unreadable item at %i is reported as malformed at that height, naming the item',
    async (bad) => {
      const { store, reads } = storeWithBadItem(bad);
      const report = await verifyChain(verifiableBlocks(store, last, 16), { expectedHead: head });
      expect(report).toMatchObject({ valid: false, problem: 'malformed', first_bad_height: bad });
      expect(report.detail).toContain(`BLOCK#${String(bad).padStart(12, '0')}`);
      // Bisection: a 16-block page costs at most 2 reads per halving, not 16 single reads.
      expect(reads.single).toBeLessThanOrEqual(2);
      expect(reads.pages).toBeLessThanOrEqual(Math.floor(bad / 16) + 1 + 2 * 4);
    },
  );

  it('any other store error propagates: an unreachable table is not a finding', async () => {
    const { store } = storeWithBadItem(5, new Error('socket hang up'));
    await expect(verifyChain(verifiableBlocks(store, last, 16))).rejects.toThrow('socket hang up');
  });
});
