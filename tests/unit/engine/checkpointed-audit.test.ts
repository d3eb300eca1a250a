import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { type AuditCheckpointStore, resumeAudit } from '../../../lib/engine/checkpointed-audit';
import type { AuditCheckpoint } from '../../../lib/engine/incremental-audit';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import type { Block } from '../../../lib/ledger/types';
import { grow, watched } from './audit-chain';

/** A checkpoint store in memory, with every save recorded. */
function memoryCheckpoints(initial: AuditCheckpoint | null = null) {
  let saved = initial;
  const saves: AuditCheckpoint[] = [];
  const store: AuditCheckpointStore = {
    load: async () => (saved ? structuredClone(saved) : null),
    save: async (c) => {
      saves.push(structuredClone(c));
      saved = structuredClone(c);
    },
  };
  return { store, saves, current: () => saved };
}

/** A clock that advances `step` ms on every read: a budget of k steps lets a run read about k pages. */
function steppingClock(step: number) {
  let t = 0;
  return () => {
    t += step;
    return t;
  };
}

async function chainOf(txs: number): Promise<MemoryLedgerStore> {
  const store = new MemoryLedgerStore();
  await grow(store, 0, txs);
  return store;
}

describe('resumeAudit (the verify function with a saved checkpoint)', () => {
  it('catches a long chain up over several budgeted runs, each resuming where the last stopped, then signs nothing twice', async () => {
    const base = await chainOf(400); // 200 blocks of two
    const { store, read } = watched(base);
    const checkpoints = memoryCheckpoints();
    const runs = [];
    for (let i = 0; i < 20; i++) {
      const run = await resumeAudit(store, {
        checkpoints: checkpoints.store,
        budgetMs: 30,
        pageSize: 25,
        now: steppingClock(10),
      });
      runs.push(run);
      if (!run.report.incomplete) break;
    }
    expect(runs.length).toBeGreaterThan(2);
    expect(runs.every((r) => r.report.valid)).toBe(true);
    expect(runs.slice(0, -1).every((r) => r.report.incomplete && r.digest === null)).toBe(true);
    const last = runs.at(-1)!;
    expect(last.report).toMatchObject({ incomplete: false, behind: 0, height: 200 });
    // Every block read exactly once over all the runs.
    expect(read).toEqual(Array.from({ length: 201 }, (_, h) => h));
    expect(runs.reduce((n, r) => n + r.report.blocks_checked, 0)).toBe(201);
    expect(last.digest).toEqual(await new LedgerReader(base).digest());
    // Nothing new: a run reads no block and keeps the checkpoint.
    const idle = await resumeAudit(store, { checkpoints: checkpoints.store });
    expect(idle.report).toMatchObject({ valid: true, blocks_checked: 0, height: 200 });
    expect(read.length).toBe(201);
    // New blocks: only they are read.
    await grow(base, 400, 10);
    const next = await resumeAudit(store, { checkpoints: checkpoints.store });
    expect(next.report).toMatchObject({ valid: true, blocks_checked: 5, height: 205 });
    expect(read.slice(201)).toEqual([201, 202, 203, 204, 205]);
  });

  it('reports a block altered after the checkpoint, and keeps the checkpoint before it', async () => {
    const base = await chainOf(40);
    const checkpoints = memoryCheckpoints();
    await resumeAudit(base, { checkpoints: checkpoints.store });
    const saved = checkpoints.current()!;
    await grow(base, 40, 10);
    const { store } = watched(base, (b: Block) =>
      b.height === 23 ? { ...b, transactions: b.transactions.map((t) => ({ ...t, reason: 'forged' })) } : b,
    );
    const run = await resumeAudit(store, { checkpoints: checkpoints.store });
    expect(run.report).toMatchObject({ valid: false, first_bad_height: 23, problem: 'wrong-merkle-root' });
    expect(run.digest).toBeNull();
    expect(checkpoints.current()).toEqual(saved);
  });

  it('reports a chain rolled back below the checkpoint or a head replaced at its height', async () => {
    const long = await chainOf(40);
    const checkpoints = memoryCheckpoints();
    await resumeAudit(long, { checkpoints: checkpoints.store });
    const short = await chainOf(30); // the same first 15 blocks
    expect((await resumeAudit(short, { checkpoints: checkpoints.store })).report).toMatchObject({
      valid: false,
      problem: 'digest-mismatch',
    });
    const other = new MemoryLedgerStore();
    await grow(other, 1000, 40); // as long, other blocks
    expect((await resumeAudit(other, { checkpoints: checkpoints.store })).report).toMatchObject({
      valid: false,
      problem: 'head-mismatch',
    });
  });

  it('starts from the latest signed digest when it is newer than the checkpoint, after checking it against the tiles', async () => {
    const base = await chainOf(60);
    const trusted = await new LedgerReader(base).digest();
    await grow(base, 60, 8);
    const { store, read } = watched(base);
    const run = await resumeAudit(store, { checkpoints: memoryCheckpoints().store, trusted });
    expect(run.report).toMatchObject({ valid: true, blocks_checked: 4, height: 34 });
    expect(read).toEqual([31, 32, 33, 34]);
    expect(run.digest).toEqual(await new LedgerReader(base).digest());

    const forged = { ...trusted, blocks_root: 'ab'.repeat(32) };
    expect(
      (await resumeAudit(base, { checkpoints: memoryCheckpoints().store, trusted: forged })).report,
    ).toMatchObject({ valid: false, problem: 'digest-mismatch', first_bad_height: 30 });
    const tooLong = { ...trusted, height: 99, tree_size: 100 };
    expect(
      (await resumeAudit(base, { checkpoints: memoryCheckpoints().store, trusted: tooLong })).report,
    ).toMatchObject({ valid: false, problem: 'digest-mismatch' });
  });

  it('refuses a saved checkpoint that does not extend the signed digest', async () => {
    const base = await chainOf(20);
    const trusted = await new LedgerReader(base).digest();
    const other = new MemoryLedgerStore();
    await grow(other, 500, 30);
    const checkpoints = memoryCheckpoints();
    await resumeAudit(other, { checkpoints: checkpoints.store });
    await grow(base, 20, 10); // base now as long as other's checkpoint
    const run = await resumeAudit(base, { checkpoints: checkpoints.store, trusted });
    expect(run.report).toMatchObject({ valid: false, problem: 'digest-mismatch', first_bad_height: 10 });
  });
});
