import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite/sqlite-ledger-store';
import { SqliteTaskQueue } from '../../../lib/adapters/sqlite/sqlite-task-queue';
import { SchedulingEngine } from '../../../lib/engine/engine';
import { deferDelay } from '../../../lib/engine/settlement';
import { ManualClock } from '../../../lib/ports/clock';
import { SchedulerLoop } from '../../../runtime/scheduler-loop';
import { createSerial } from '../../../runtime/serial';
import { DIMENSIONS, FakeFleet, T0, task, vm } from '../../unit/engine/helpers';

describe('deferDelay', () => {
  it('is a quarter of the wait, rounded up to min times a power of two, between min and max', () => {
    const table = [0, 500, 1000, 1001, 2000, 3000, 8000, 60_000].map((w) => [w, deferDelay(w, 250, 4000)]);
    expect(table).toEqual([
      [0, 250],
      [500, 250],
      [1000, 250],
      [1001, 500],
      [2000, 500],
      [3000, 1000],
      [8000, 2000],
      [60_000, 4000],
    ]);
    expect(deferDelay(-5, 250, 4000)).toBe(250);
  });
});

describe('SchedulerLoop with tasks waiting for capacity (SQLite queue, real engine)', () => {
  let dir: string;
  let store: SqliteLedgerStore;
  let clock: ManualClock;
  let queue: SqliteTaskQueue;
  const fleet = new FakeFleet([vm('vm-a', { cpu: 1000, mem: 1000 })]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bcs-defer-'));
    store = new SqliteLedgerStore(join(dir, 'ledger.db'));
    clock = new ManualClock(T0);
    queue = new SqliteTaskQueue(store.db, { clock, visibilityTimeoutMs: 30_000, maxAttempts: 3 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function loopWith(maxWaitSeconds: number) {
    const engine = new SchedulingEngine({
      store,
      fleet,
      clock,
      algorithm: 'best-fit',
      dimensions: DIMENSIONS,
      maxWaitSeconds,
    });
    const loop = new SchedulerLoop({
      queue,
      engine,
      serial: createSerial(),
      batchSize: 10,
      onOutcome: () => undefined,
      onError: (error) => {
        throw error;
      },
      now: () => clock.now(),
    });
    return { engine, loop };
  }

  it('keeps a waiting task queued and out of sight for its delay, and places it once room frees', async () => {
    const { engine, loop } = loopWith(900);
    await queue.enqueue([task('running', { cpu: 700 }), task('waiting', { cpu: 700 })]);
    expect(await loop.step()).toBe(2);
    expect(await store.getTask('running')).toMatchObject({ status: 'assigned' });
    expect(await store.getTask('waiting')).toBeNull();
    expect(await queue.depth()).toBe(1);

    // Released for deferDelay(0) = 250 ms: not offered again before then, so the loop does not spin.
    clock.advance(249);
    expect(await loop.step()).toBe(0);
    clock.advance(1);
    expect(await loop.step()).toBe(1);
    expect(await queue.depth()).toBe(1);

    // Deferred many more times than the queue's maxAttempts (3): still queued, never dead-lettered.
    for (let i = 0; i < 5; i++) {
      clock.advance(4000);
      expect(await loop.step()).toBe(1);
    }
    expect(await queue.deadLetters()).toEqual([]);

    await engine.complete('running');
    clock.advance(4000);
    expect(await loop.step()).toBe(1);
    expect(await store.getTask('waiting')).toMatchObject({ status: 'assigned', vm_id: 'vm-a' });
    expect(await queue.depth()).toBe(0);
  });

  it('records a task that waited past maxWaitSeconds as rejected and takes it off the queue', async () => {
    const { loop } = loopWith(10);
    await queue.enqueue([task('running', { cpu: 700 }), task('waiting', { cpu: 700 })]);
    await loop.step();
    for (let waited = 0; waited < 10_000; ) {
      clock.advance(4000);
      waited += 4000;
      await loop.step();
    }
    expect(await queue.depth()).toBe(0);
    const record = await store.getTask('waiting');
    expect(record).toMatchObject({ status: 'rejected' });
    const block = await store.getBlock(record!.block_height);
    expect(block!.transactions.find((t) => t.task_id === 'waiting')!.reason).toMatch(
      /^no capacity within 10 s: no feasible VM: needs cpu 700 millicores/,
    );
  });

  it('keeps a waiting task in the file across a reopen (what kill -9 leaves behind)', async () => {
    const { loop } = loopWith(900);
    await queue.enqueue([task('running', { cpu: 700 }), task('waiting', { cpu: 700 })]);
    await loop.step();
    await store.close();
    store = new SqliteLedgerStore(join(dir, 'ledger.db'));
    queue = new SqliteTaskQueue(store.db, { clock });
    expect(await queue.contains('waiting')).toBe(true);
    clock.advance(250);
    expect((await queue.receive(10)).map((r) => r.task.id)).toEqual(['waiting']);
  });
});
