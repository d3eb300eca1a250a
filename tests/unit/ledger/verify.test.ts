import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  blockHash,
  buildBlocks,
  computeDigest,
  GENESIS_HASH,
  genesisBlock,
  toTimestamp,
  transactionsRoot,
  verifyChain,
} from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { buildChain, clone, sampleTransactions, T0 } from './helpers/transactions';

const chain = buildChain(sampleTransactions(40, 7), 4); // genesis + 10 blocks
const last = chain[chain.length - 1]!;
const head = { height: last.height, hash: last.block_hash };

/** Recomputes a block's root and hash after an edit, as a forger who knows the format would. */
function rehash(block: Block): Block {
  block.transaction_count = block.transactions.length;
  block.merkle_root = transactionsRoot(block.transactions);
  block.block_hash = blockHash(block);
  return block;
}

/** A mutation that edits the blocks in place. */
function edit(change: (blocks: Block[]) => void): (blocks: Block[]) => Block[] {
  return (blocks) => {
    change(blocks);
    return blocks;
  };
}

async function* slowly(blocks: Block[]): AsyncIterable<Block> {
  for (const b of blocks) {
    await Promise.resolve();
    yield b;
  }
}

describe('verifyChain on a valid chain', () => {
  it('reports the head, counts and the digest, from a sync or an async source', async () => {
    for (const source of [chain, slowly(chain)]) {
      const report = await verifyChain(source, { expectedHead: head });
      expect(report).toMatchObject({
        valid: true,
        height: 10,
        head_hash: last.block_hash,
        blocks_checked: 11,
        transactions_checked: 40,
        first_bad_height: null,
        problem: null,
        detail: null,
      });
      expect(report.digest).toEqual(computeDigest(chain, last.timestamp));
    }
  });

  it('accepts the genesis block alone', async () => {
    const report = await verifyChain([genesisBlock()]);
    expect(report).toMatchObject({ valid: true, height: 0, head_hash: GENESIS_HASH, blocks_checked: 1 });
  });
});

describe('verifyChain names the first bad block and the problem', () => {
  const cases: [string, (blocks: Block[]) => Block[], number, string][] = [
    ['an empty chain', () => [], 0, 'bad-genesis'],
    [
      'a changed genesis',
      edit((b) => {
        b[0]!.timestamp = toTimestamp(1);
      }),
      0,
      'bad-genesis',
    ],
    ['a missing genesis', (b) => b.slice(1), 0, 'height-gap'],
    ['a deleted block', (b) => [...b.slice(0, 4), ...b.slice(5)], 4, 'height-gap'],
    ['two swapped blocks', (b) => [...b.slice(0, 3), b[4]!, b[3]!, ...b.slice(5)], 3, 'height-gap'],
    ['a repeated block', (b) => [...b.slice(0, 6), b[5]!, ...b.slice(6)], 6, 'height-gap'],
    [
      'an edited transaction',
      edit((b) => {
        b[2]!.transactions[1]!.reason += '!';
      }),
      2,
      'wrong-merkle-root',
    ],
    [
      'a removed transaction',
      edit((b) => {
        b[3]!.transactions.pop();
      }),
      3,
      'wrong-transaction-count',
    ],
    [
      'an edited merkle_root',
      edit((b) => {
        b[5]!.merkle_root = 'f'.repeat(64);
      }),
      5,
      'wrong-merkle-root',
    ],
    [
      'an edited block_hash',
      edit((b) => {
        b[6]!.block_hash = 'e'.repeat(64);
      }),
      6,
      'wrong-block-hash',
    ],
    [
      'an edited timestamp',
      edit((b) => {
        b[7]!.timestamp = toTimestamp(T0 + 1);
      }),
      7,
      'wrong-block-hash',
    ],
    [
      'an edited previous_hash',
      edit((b) => {
        b[8]!.previous_hash = 'd'.repeat(64);
      }),
      8,
      'broken-link',
    ],
    [
      'a rehashed edit in the middle',
      edit((b) => {
        b[4]!.transactions[0]!.reason = 'edited';
        rehash(b[4]!);
      }),
      5,
      'broken-link',
    ],
    [
      'a malformed field',
      edit((b) => {
        b[9]!.transactions[0]!.timestamp = 'noon';
      }),
      9,
      'malformed',
    ],
    [
      'a rehashed transaction whose id is not derived from its task and status',
      edit((b) => {
        const tx = b[10]!.transactions[0]!;
        tx.status = tx.status === 'assigned' || tx.status === 'rejected' ? 'completed' : 'assigned';
        rehash(b[10]!);
      }),
      10,
      'malformed',
    ],
    ['a block that is not an object', (b) => [...b.slice(0, 2), 'block' as unknown as Block], 2, 'malformed'],
    [
      'a transaction recorded twice',
      (b) => {
        b[9]!.transactions[0] = clone(b[2]!.transactions[0]!);
        rehash(b[9]!);
        return [...b.slice(0, 10), rehash(b[10]!)].map((x, i, all) => (i === 10 ? relink(x, all[9]!) : x));
      },
      9,
      'duplicate-transaction',
    ],
  ];

  function relink(block: Block, previous: Block): Block {
    block.previous_hash = previous.block_hash;
    return rehash(block);
  }

  it.each(cases)('%s', async (_label, mutate, height, problem) => {
    const report = await verifyChain(mutate(clone(chain)));
    expect(report).toMatchObject({ valid: false, first_bad_height: height, problem });
    expect(report.detail).toEqual(expect.any(String));
    expect(report.blocks_checked).toBe(height);
    expect(report.digest).toBeUndefined();
  });

  it('reports a ValidationError thrown by the source as malformed at the next height', async () => {
    async function* failing(): AsyncIterable<Block> {
      yield chain[0]!;
      yield chain[1]!;
      throw new ValidationError([{ field: 'height', message: 'bad' }], 'line 3');
    }
    expect(await verifyChain(failing())).toMatchObject({
      valid: false,
      first_bad_height: 2,
      problem: 'malformed',
    });
  });

  it('lets other source errors propagate', async () => {
    async function* broken(): AsyncIterable<Block> {
      yield chain[0]!;
      throw new Error('disk on fire');
    }
    await expect(verifyChain(broken())).rejects.toThrow('disk on fire');
  });
});

describe('verifyChain against an expected head', () => {
  it('detects truncation: the first missing block is named', async () => {
    const report = await verifyChain(chain.slice(0, 7), { expectedHead: head });
    expect(report).toMatchObject({ valid: false, problem: 'head-mismatch', first_bad_height: 7, height: 6 });
  });

  it('detects a chain that goes past the expected head', async () => {
    const report = await verifyChain(chain, { expectedHead: { height: 5, hash: chain[5]!.block_hash } });
    expect(report).toMatchObject({ valid: false, problem: 'head-mismatch', first_bad_height: 6 });
  });

  it('detects a rewritten, rehashed last block', async () => {
    const forged = clone(chain);
    forged[10]!.transactions[0]!.reason = 'rewritten';
    rehash(forged[10]!);
    expect(await verifyChain(forged)).toMatchObject({ valid: true });
    const report = await verifyChain(forged, { expectedHead: head });
    expect(report).toMatchObject({ valid: false, problem: 'head-mismatch', first_bad_height: 10 });
  });

  it('refuses a malformed expected head', async () => {
    await expect(verifyChain(chain, { expectedHead: { height: 1, hash: 'nope' } })).rejects.toThrow(
      ValidationError,
    );
  });
});

describe('verifyChain against a trusted digest (rollback detection)', () => {
  const earlier = computeDigest(chain.slice(0, 8), toTimestamp(T0));

  it('accepts the same chain and any extension of it', async () => {
    expect(await verifyChain(chain.slice(0, 8), { trustedDigest: earlier })).toMatchObject({ valid: true });
    const more = buildBlocks(head, sampleTransactions(3, 99, 1000), { timestamp: toTimestamp(T0) });
    expect(await verifyChain([...chain, ...more], { trustedDigest: earlier })).toMatchObject({ valid: true });
  });

  it('fails a chain rolled back below the digest', async () => {
    const report = await verifyChain(chain.slice(0, 6), { trustedDigest: earlier });
    expect(report).toMatchObject({ valid: false, problem: 'digest-mismatch', first_bad_height: 6 });
  });

  it('fails a chain rewritten from an earlier block on, though internally consistent', async () => {
    const forged = clone(chain);
    forged[4]!.transactions[2]!.reason = 'rewritten';
    rehash(forged[4]!);
    for (let h = 5; h < forged.length; h++) {
      forged[h]!.previous_hash = forged[h - 1]!.block_hash;
      rehash(forged[h]!);
    }
    expect(await verifyChain(forged)).toMatchObject({ valid: true });
    const report = await verifyChain(forged, { trustedDigest: earlier });
    expect(report).toMatchObject({ valid: false, problem: 'digest-mismatch', first_bad_height: 7 });
  });

  it('fails when the digest does not describe the chain it names', async () => {
    const wrongRoot = { ...earlier, blocks_root: 'a'.repeat(64) };
    const report = await verifyChain(chain, { trustedDigest: wrongRoot });
    expect(report).toMatchObject({ valid: false, problem: 'inconsistent-with-digest', first_bad_height: 7 });
  });

  it('refuses a malformed digest, naming the field', async () => {
    await expect(verifyChain(chain, { trustedDigest: { ...earlier, tree_size: 3 } })).rejects.toThrow(
      /tree_size/,
    );
  });
});
