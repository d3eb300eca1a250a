import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../lib/ledger';
import type { TaskOutcome } from '../../../lib/ledger/types';
import { chain, reservedFromChain, setup, task, vm } from './helpers';

const SHA = 'c0ffee'.padEnd(64, '0');
const exited = (code: number): TaskOutcome => ({
  exit_code: code,
  signal: null,
  duration_ms: 2500,
  output_sha256: SHA,
});

async function placed(ids: string[]) {
  const ctx = setup([vm('vm-a', { cpu: 4000, mem: 4000 })]);
  await ctx.engine.schedule(ids.map((id) => task(id, { cpu: 100, mem: 100 }, { duration: 600 })));
  return ctx;
}

describe('outcomes in the ledger (docs/ledger-format.md 2.5)', () => {
  it('closes exit 0 as completed, a non-zero exit or a signal as failed, each carrying its outcome', async () => {
    const { engine, store } = await placed(['ok', 'bad', 'killed', 'silent']);
    const results = [
      await engine.complete('ok', exited(0)),
      await engine.complete('bad', exited(137)),
      await engine.complete('killed', { ...exited(0), exit_code: null, signal: 'SIGKILL' }),
      await engine.complete('silent'),
    ];
    const closings = results.map((r) => (r.status === 'closed' ? r.transaction : null));
    expect(closings.map((t) => t?.status)).toEqual(['completed', 'failed', 'failed', 'completed']);
    expect(closings[0]).toMatchObject({ format_version: 3, outcome: exited(0) });
    expect(closings[1]).toMatchObject({
      outcome: exited(137),
      reason: 'task exited with code 137 after 2500 ms',
    });
    expect(closings[2]?.reason).toBe('task killed by SIGKILL after 2500 ms');
    expect(closings[3]).toMatchObject({ format_version: 3, reason: 'task reported complete' });
    expect(closings[3]).not.toHaveProperty('outcome');

    const blocks = await chain(store);
    // Every transaction this engine writes is format 3; the chain verifies, and failed released its share.
    expect(blocks.slice(1).flatMap((b) => b.transactions.map((t) => t.format_version))).toEqual(
      Array(8).fill(3),
    );
    expect((await verifyChain(blocks)).valid).toBe(true);
    expect(reservedFromChain(blocks).get('vm-a')).toEqual({ cpu: 0, mem: 0, active: 0 });
    expect((await store.getTasks(['bad', 'ok'])).map((r) => r?.status)).toEqual(['failed', 'completed']);
  });

  it('a repeat after failed is already-final; completeMany takes one outcome per task', async () => {
    const { engine } = await placed(['a', 'b', 'c']);
    const many = await engine.completeMany(['a', 'b', 'c'], [exited(1), undefined, exited(0)]);
    expect(many.map((r) => (r.status === 'closed' ? r.transaction.status : r.status))).toEqual([
      'failed',
      'completed',
      'completed',
    ]);
    expect(await engine.complete('a', exited(0))).toEqual({ status: 'already-final', taskStatus: 'failed' });
  });
});
