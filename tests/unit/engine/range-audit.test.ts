import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditRange,
  mergeRangeResults,
  planAuditRanges,
  type RangeResult,
  verifyStoreRange,
} from '../../../lib/engine/range-audit';
import {
  blockHash,
  computeDigest,
  leafHash,
  rootFromLeafHashes,
  toHex,
  transactionId,
  verifyChain,
} from '../../../lib/ledger';
import { appendLeaf, emptyRange, mergeRanges, rangeRoot } from '../../../lib/ledger/merkle/range';
import { transactionsRoot } from '../../../lib/ledger/transactions';
import type { Block, ChainHead, Digest } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import {
  FIELD_RUNS,
  fieldMutation,
  fieldMutationArgs,
  STRUCTURE_RUNS,
  structureMutation,
  structureOperation,
  TAMPER_CHAIN,
  TAMPER_HEAD,
} from '../ledger/helpers/tamper';
import { buildChain, sampleTransactions } from '../ledger/helpers/transactions';

/**
 * A store whose item at height h is blocks[h] whatever it holds (as tampering with a table leaves it),
 * and whose transaction index points each id at its first position, as the stores' write-once index does.
 */
function storeOf(
  blocks: readonly Block[],
  index?: Map<string, { height: number; index: number }>,
): LedgerStore {
  const idx = index ?? new Map<string, { height: number; index: number }>();
  if (!index) {
    for (const [h, block] of blocks.entries()) {
      const txs = (block as { transactions?: unknown }).transactions;
      if (!Array.isArray(txs)) continue;
      for (const [i, tx] of txs.entries()) {
        const id = (tx as { transaction_id?: unknown })?.transaction_id;
        if (typeof id === 'string' && !idx.has(id)) idx.set(id, { height: h, index: i });
      }
    }
  }
  const last = blocks.length - 1;
  const store: Partial<LedgerStore> = {
    readHead: async () => ({ height: last, hash: blocks[last]!.block_hash }),
    getBlocks: async (from, limit) => blocks.slice(from, from + limit),
    getBlock: async (height) => blocks[height] ?? null,
    findTransaction: async (id) => idx.get(id) ?? null,
  };
  return store as LedgerStore;
}

async function fullAudit(
  store: LedgerStore,
  head: ChainHead,
  ranges: readonly AuditRange[],
  trusted?: Digest,
): Promise<ReturnType<typeof mergeRangeResults>> {
  const results: RangeResult[] = [];
  for (const range of ranges) results.push(await verifyStoreRange(store, range, { pageSize: 4 }));
  return mergeRangeResults(results, { expectedHead: head, ...(trusted ? { trusted } : {}) });
}

/** Ranges starting at the given heights (0 added), ending at `last`. */
function rangesAt(starts: readonly number[], last: number): AuditRange[] {
  const from = [...new Set([0, ...starts.filter((s) => s > 0 && s <= last)])].sort((a, b) => a - b);
  return from.map((f, i) => ({ from: f, to: (from[i + 1] ?? last + 1) - 1 }));
}

const verdict = (r: { valid: boolean; first_bad_height: number | null; problem: string | null }) => ({
  valid: r.valid,
  first_bad_height: r.first_bad_height,
  problem: r.problem,
});

describe('compact ranges of the block-hash tree', () => {
  it('merge, for every split of every size up to 70, into the range a single pass builds, and fold to MTH', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
    const build = (begin: number, end: number) => {
      let range = emptyRange(begin);
      for (let i = begin; i < end; i++) range = appendLeaf(range, leaves[i]!);
      return range;
    };
    for (let end = 0; end <= 70; end++) {
      const whole = build(0, end);
      expect(toHex(rangeRoot(whole))).toBe(toHex(rootFromLeafHashes(leaves.slice(0, end))));
      for (let a = 0; a <= end; a += 3) {
        for (let b = a; b <= end; b += 5) {
          const merged = mergeRanges(mergeRanges(build(0, a), build(a, b)), build(b, end));
          expect(merged.hashes.map(toHex)).toEqual(whole.hashes.map(toHex));
        }
      }
    }
  });

  it('refuses ranges that are not adjacent or hold the wrong number of hashes', () => {
    const leaf = leafHash(new Uint8Array([1]));
    const one = appendLeaf(emptyRange(4), leaf);
    expect(() => mergeRanges(emptyRange(0), one)).toThrow(/not adjacent/);
    expect(() => mergeRanges(emptyRange(4), { begin: 4, end: 7, hashes: [leaf] })).toThrow(
      /must hold 2 hashes/,
    );
    expect(() => rangeRoot(one)).toThrow(/no tree head/);
  });
});

describe('planAuditRanges', () => {
  it('covers 0..head in order, cuts at the trusted height and caps the number of ranges', () => {
    expect(planAuditRanges(9, { blocksPerRange: 4 })).toEqual([
      { from: 0, to: 3 },
      { from: 4, to: 7 },
      { from: 8, to: 9 },
    ]);
    expect(planAuditRanges(9, { blocksPerRange: 4, cutAfter: [5] })).toEqual([
      { from: 0, to: 3 },
      { from: 4, to: 5 },
      { from: 6, to: 9 },
    ]);
    const capped = planAuditRanges(999_999, { blocksPerRange: 10, maxRanges: 100 });
    expect(capped).toHaveLength(100);
    expect(capped[99]).toEqual({ from: 990_000, to: 999_999 });
    expect(planAuditRanges(-1, { blocksPerRange: 4 })).toEqual([]);
  });
});

describe('a full audit split into ranges', () => {
  const chain = buildChain(sampleTransactions(300, 77), 3);
  const head = { height: chain.length - 1, hash: chain[chain.length - 1]!.block_hash };

  it('gives verifyChain report, digest included, for any split of a valid chain (closings across ranges)', async () => {
    const sequential = await verifyChain(chain, { expectedHead: head });
    expect(sequential.valid).toBe(true);
    // The sample chain closes decisions of earlier blocks: some closings land in a later range.
    expect(
      chain.some((b) => b.transactions.some((t) => t.status === 'completed' || t.status === 'expired')),
    ).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(head.height), { maxLength: 6 }), async (starts) => {
        const merged = await fullAudit(storeOf(chain), head, rangesAt(starts, head.height));
        expect(merged).toEqual(sequential);
      }),
      { numRuns: 40, seed: 14 },
    );
  });

  it('holds the merged tree to a trusted digest at a range boundary, as verifyChain does', async () => {
    const trusted = computeDigest(chain.slice(0, 41), chain[40]!.timestamp);
    const ranges = planAuditRanges(head.height, { blocksPerRange: 17, cutAfter: [trusted.height] });
    expect((await fullAudit(storeOf(chain), head, ranges, trusted)).valid).toBe(true);
    const forged = { ...trusted, blocks_root: 'a'.repeat(64) };
    const seq = await verifyChain(chain, { expectedHead: head, trustedDigest: forged });
    expect(verdict(await fullAudit(storeOf(chain), head, ranges, forged))).toEqual(verdict(seq));
    expect(seq.problem).toBe('inconsistent-with-digest');
    const otherHead = { ...trusted, head_hash: 'b'.repeat(64) };
    expect(verdict(await fullAudit(storeOf(chain), head, ranges, otherHead))).toMatchObject({
      valid: false,
      problem: 'digest-mismatch',
      first_bad_height: trusted.height,
    });
  });

  it('finds every altered field where verifyChain does, whatever the split', async () => {
    await fc.assert(
      fc.asyncProperty(
        ...fieldMutationArgs,
        fc.array(fc.nat(TAMPER_HEAD.height), { maxLength: 4 }),
        async (h, pick, salt, starts) => {
          const { blocks } = fieldMutation(h, pick, salt);
          const seq = await verifyChain(blocks, { expectedHead: TAMPER_HEAD });
          const merged = await fullAudit(storeOf(blocks), TAMPER_HEAD, rangesAt(starts, TAMPER_HEAD.height));
          expect(merged.valid).toBe(false);
          expect(verdict(merged)).toEqual(verdict(seq));
        },
      ),
      { ...FIELD_RUNS, numRuns: 150 },
    );
  });

  it('finds deleted, swapped, duplicated, truncated and moved blocks, whatever the split', async () => {
    await fc.assert(
      fc.asyncProperty(
        structureOperation,
        fc.array(fc.nat(TAMPER_HEAD.height), { maxLength: 4 }),
        async (op, starts) => {
          const { blocks } = structureMutation(op);
          const merged = await fullAudit(storeOf(blocks), TAMPER_HEAD, rangesAt(starts, TAMPER_HEAD.height));
          expect(merged.valid).toBe(false);
          expect(merged.first_bad_height).not.toBeNull();
        },
      ),
      { ...STRUCTURE_RUNS, numRuns: 100 },
    );
  });

  it('finds a block rewritten with a valid hash at a range boundary: the link into the next range breaks', async () => {
    const blocks = structuredClone(TAMPER_CHAIN);
    const { block_hash: _h, transactions, ...header } = blocks[20]!;
    const rewritten = { ...header, timestamp: '2027-01-01T00:00:00.000Z' };
    blocks[20] = { ...rewritten, block_hash: blockHash(rewritten), transactions };
    const ranges = rangesAt([11, 21], TAMPER_HEAD.height);
    // Range 11..20 is valid on its own: only the merge sees block 21 point at the old block 20.
    expect((await verifyStoreRange(storeOf(blocks), ranges[1]!)).valid).toBe(true);
    const merged = await fullAudit(storeOf(blocks), TAMPER_HEAD, ranges);
    expect(verdict(merged)).toEqual({ valid: false, first_bad_height: 21, problem: 'broken-link' });
    expect(verdict(merged)).toEqual(verdict(await verifyChain(blocks, { expectedHead: TAMPER_HEAD })));
  });

  it('refuses range results that are swapped, missing, or from another chain', async () => {
    const store = storeOf(TAMPER_CHAIN);
    const ranges = rangesAt([10, 30], TAMPER_HEAD.height);
    const results = await Promise.all(ranges.map((r) => verifyStoreRange(store, r)));
    expect(mergeRangeResults(results, { expectedHead: TAMPER_HEAD }).valid).toBe(true);
    const swapped = [results[0]!, results[2]!, results[1]!];
    expect(verdict(mergeRangeResults(swapped, { expectedHead: TAMPER_HEAD }))).toEqual({
      valid: false,
      first_bad_height: 10,
      problem: 'height-gap',
    });
    expect(mergeRangeResults([results[0]!, results[1]!], { expectedHead: TAMPER_HEAD })).toMatchObject({
      valid: false,
      problem: 'head-mismatch',
    });
    // The same heights verified on another chain: valid alone, but it does not link to this one.
    const other = buildChain(sampleTransactions(150, 9), 3);
    const foreign = await verifyStoreRange(storeOf(other), ranges[1]!);
    expect(foreign.valid).toBe(true);
    expect(
      verdict(mergeRangeResults([results[0]!, foreign, results[2]!], { expectedHead: TAMPER_HEAD })),
    ).toEqual({
      valid: false,
      first_bad_height: 10,
      problem: 'broken-link',
    });
    // A range whose compact range was altered: the merged root is not the head's.
    const altered = {
      ...results[1]!,
      compact: (results[1] as { compact: string[] }).compact.map(() => 'c'.repeat(64)),
    };
    const forgedTree = mergeRangeResults([results[0]!, altered as RangeResult, results[2]!], {
      expectedHead: TAMPER_HEAD,
      trusted: computeDigest(TAMPER_CHAIN, TAMPER_CHAIN[TAMPER_HEAD.height]!.timestamp),
    });
    expect(forgedTree).toMatchObject({ valid: false, problem: 'inconsistent-with-digest' });
  });

  it('checks a closing against its decision in an earlier range, read back through the index', async () => {
    const where = new Map<string, { height: number; index: number }>();
    for (const block of chain)
      for (const [index, tx] of block.transactions.entries())
        where.set(tx.transaction_id, { height: block.height, index });
    // A closing whose assigned decision is in an earlier block: cut the chain between the two.
    const closing = chain
      .flatMap((b) => b.transactions.map((tx) => ({ tx, height: b.height })))
      .find(
        ({ tx, height }) =>
          tx.status === 'completed' && where.get(transactionId(tx.task_id, 'decision'))!.height < height,
      )!;
    const decision = where.get(transactionId(closing.tx.task_id, 'decision'))!;
    const ranges = rangesAt([closing.height], head.height);
    expect((await fullAudit(storeOf(chain), head, ranges)).valid).toBe(true);
    // An index that places the decision on a rejected transaction: the closing follows no assigned decision.
    const rejected = chain
      .flatMap((b) => b.transactions.map((tx, index) => ({ tx, height: b.height, index })))
      .find(({ tx, height }) => tx.status === 'rejected' && height < closing.height)!;
    const index = new Map(where);
    index.set(transactionId(closing.tx.task_id, 'decision'), {
      height: rejected.height,
      index: rejected.index,
    });
    const result = await verifyStoreRange(storeOf(chain, index), ranges[1]!);
    expect(result).toMatchObject({
      valid: false,
      problem: 'unmatched-closing',
      first_bad_height: closing.height,
    });
    expect(decision.height).toBeLessThan(closing.height);
  });

  it('catches a transaction id repeated in another range through the index', async () => {
    const blocks = structuredClone(chain);
    // Block 60 carries a copy of block 5's first transaction (recomputed root and hash: well formed).
    const copy = blocks[5]!.transactions[0]!;
    const victim = blocks[60]!;
    const txs = [...victim.transactions.slice(0, -1), copy];
    const { merkle_root: _m, block_hash: _b, transactions: _t, ...header } = victim;
    const withRoot = { ...header, merkle_root: transactionsRoot(txs) };
    blocks[60] = { ...withRoot, block_hash: blockHash(withRoot), transactions: txs };
    for (let h = 61; h < blocks.length; h++) {
      const { block_hash: _x, transactions, ...hdr } = blocks[h]!;
      const linked = { ...hdr, previous_hash: blocks[h - 1]!.block_hash };
      blocks[h] = { ...linked, block_hash: blockHash(linked), transactions };
    }
    const last = blocks.length - 1;
    const newHead = { height: last, hash: blocks[last]!.block_hash };
    const seq = await verifyChain(blocks, { expectedHead: newHead });
    expect(seq).toMatchObject({ valid: false, problem: 'duplicate-transaction', first_bad_height: 60 });
    const merged = await fullAudit(storeOf(blocks), newHead, rangesAt([30, 60], last));
    expect(verdict(merged)).toEqual(verdict(seq));
  });
});
