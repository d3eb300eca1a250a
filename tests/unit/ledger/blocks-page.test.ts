import { describe, expect, it } from 'vitest';
import { buildBlocks, genesisBlock, toTimestamp, transactionId } from '../../../lib/ledger';
import { blocksPage, MAX_BLOCKS_PAGE_BYTES } from '../../../lib/ledger/blocks-page';
import type { Block, Transaction } from '../../../lib/ledger/types';

const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

/**
 * `count` blocks of `perBlock` rejections whose reasons are 4,000 quotes (8 KB once escaped into the
 * proxy response).
 */
function blocksOf(count: number, perBlock: number): Block[] {
  const txs: Transaction[] = Array.from({ length: count * perBlock }, (_, i) => ({
    transaction_id: transactionId(`p-${i}`, 'decision'),
    timestamp: toTimestamp(T0 + i),
    task_id: `p-${i}`,
    vm_id: null,
    status: 'rejected',
    algorithm: 'page',
    score: null,
    reason: '"'.repeat(4000),
    task_requirements: { cpu: 1 },
    vm_state_before: null,
    vm_state_after: null,
  }));
  const genesis = genesisBlock();
  return buildBlocks({ height: genesis.height, hash: genesis.block_hash }, txs, {
    maxPerBlock: perBlock,
    timestamp: toTimestamp(T0),
  });
}

/** The size of the Lambda proxy response that carries `body` as its JSON body. */
function responseBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify({ statusCode: 200, body: JSON.stringify(body) }));
}

describe('blocksPage (GET /ledger/blocks)', () => {
  it('keeps every block of a page that fits', () => {
    const blocks = blocksOf(5, 1);
    expect(blocksPage(7, blocks)).toEqual({ height: 7, blocks });
  });

  it('cuts a page after the longest prefix whose proxy response stays within the limit, escaping counted', () => {
    const blocks = blocksOf(40, 5); // each ~40 KB once its quotes are escaped
    for (const limit of [100_000, 250_000, 400_000]) {
      const page = blocksPage(5, blocks, limit);
      expect(page.blocks).toEqual(blocks.slice(0, page.blocks.length));
      expect(page.blocks.length).toBeGreaterThan(0);
      expect(responseBytes(page) - responseBytes({})).toBeLessThanOrEqual(limit);
      // One block more would not have fitted.
      const more = { height: 5, blocks: blocks.slice(0, page.blocks.length + 1) };
      expect(responseBytes(more) - responseBytes({})).toBeGreaterThan(limit);
    }
  });

  it('returns one block even when it alone is over the limit, and stays under 6 MB for 100 blocks of 400 KB', () => {
    expect(blocksPage(1, blocksOf(3, 1), 100).blocks).toHaveLength(1);
    const big = blocksOf(100, 50); // 400 KB each, DynamoDB's item limit
    const page = blocksPage(99, big);
    expect(page.blocks.length).toBeLessThan(100);
    expect(responseBytes(page)).toBeLessThanOrEqual(MAX_BLOCKS_PAGE_BYTES + 64 * 1024);
    expect(responseBytes(page)).toBeLessThanOrEqual(6 * 1024 * 1024);
  });
});
