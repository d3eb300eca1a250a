import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { auditSince, digestOfCheckpoint, emptyCheckpoint } from '../../../lib/engine/incremental-audit';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import { blockHash } from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { grow, watched } from './audit-chain';

describe('auditSince', () => {
  it('verifies from genesis, then only the blocks after its checkpoint, ending on the digest the reader gives', async () => {
    const base = new MemoryLedgerStore();
    await grow(base, 0, 40);
    const { store, read } = watched(base);
    const first = await auditSince(store, emptyCheckpoint(), { pageSize: 7 });
    expect(first).toMatchObject({ valid: true, incomplete: false, blocks_checked: 21 });
    expect(digestOfCheckpoint(first.checkpoint)).toEqual(await new LedgerReader(base).digest());

    await grow(base, 40, 10);
    read.length = 0;
    const second = await auditSince(store, first.checkpoint, { pageSize: 7 });
    expect(second).toMatchObject({ valid: true, blocks_checked: 5 });
    expect(read).toEqual([21, 22, 23, 24, 25]);
    expect(digestOfCheckpoint(second.checkpoint)).toEqual(await new LedgerReader(base).digest());
    // Nothing new: nothing read.
    read.length = 0;
    expect(await auditSince(store, second.checkpoint)).toMatchObject({ valid: true, blocks_checked: 0 });
    expect(read).toEqual([]);
  });

  it('stops at its time budget with a checkpoint the next run resumes from, to the same end', async () => {
    const base = new MemoryLedgerStore();
    await grow(base, 0, 60);
    let clock = 0;
    const now = () => (clock += 10);
    let checkpoint = emptyCheckpoint();
    const runs: number[] = [];
    for (;;) {
      const run = await auditSince(base, checkpoint, { pageSize: 4, budgetMs: 25, now });
      expect(run.valid).toBe(true);
      runs.push(run.blocks_checked);
      checkpoint = run.checkpoint;
      if (!run.incomplete) break;
    }
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(31);
    expect(digestOfCheckpoint(checkpoint)).toEqual(await new LedgerReader(base).digest());
  });

  it.each([
    [
      'a rewritten transaction',
      (b: Block) =>
        b.height === 12
          ? { ...b, transactions: [{ ...b.transactions[0]!, reason: 'x' }, ...b.transactions.slice(1)] }
          : b,
      'wrong-merkle-root',
      12,
    ],
    [
      'a well-formed block that does not link to the checkpoint',
      (b: Block) => {
        if (b.height !== 11) return b;
        const { block_hash: _h, transactions, ...header } = b;
        const moved = { ...header, previous_hash: 'f'.repeat(64) };
        return { ...moved, block_hash: blockHash(moved), transactions };
      },
      'broken-link',
      11,
    ],
  ] as const)('reports %s after the checkpoint', async (_name, alter, problem, height) => {
    const base = new MemoryLedgerStore();
    await grow(base, 0, 20);
    const first = await auditSince(base, emptyCheckpoint());
    await grow(base, 20, 10);
    const { store } = watched(base, alter);
    const run = await auditSince(store, first.checkpoint, { pageSize: 3 });
    expect(run).toMatchObject({ valid: false, problem, first_bad_height: height });
    // The checkpoint never moves past a bad block.
    expect(run.checkpoint.height).toBeLessThan(height);
  });
});
