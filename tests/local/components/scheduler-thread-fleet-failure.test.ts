import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import type { ScheduleOutcome } from '../../../lib/engine/types';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import type { FleetSource } from '../../../lib/ports/fleet-source';
import { SchedulerThread } from '../../../runtime/scheduler-thread/host';

/**
 * The scheduler thread asks the main thread for the fleet on every batch. A fleet source that throws
 * used to leave that request unanswered, so the thread waited forever and nothing more was
 * scheduled. Now the failure reaches the thread's loop, which backs off and tries again.
 */

const DIMS = ['cpu', 'mem'];
const dir = mkdtempSync(join(tmpdir(), 'bcs-thread-fleet-'));
let thread: SchedulerThread | undefined;
afterEach(async () => {
  await thread?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('scheduler thread with a failing fleet source', () => {
  it('reports the failure, keeps the tasks queued, and schedules them once the source recovers', async () => {
    const dbPath = join(dir, 'ledger.db');
    const store = new SqliteLedgerStore(dbPath);
    const queue = new SqliteTaskQueue(store.db);
    let broken = true;
    const vms: Vm[] = [
      {
        id: 'vm-a',
        capacity: { cpu: 1000, mem: 1000 },
        reserved: { cpu: 0, mem: 0 },
        usage: { cpu: 0, mem: 0 },
        history: [],
        activeTasks: 0,
        labels: {},
        state: 'active',
      },
    ];
    const fleet: FleetSource = {
      listVms: async () => {
        if (broken) throw new Error('simulated fleet unreachable');
        return vms;
      },
    };
    const errors: string[] = [];
    const outcomes: ScheduleOutcome[] = [];
    thread = new SchedulerThread({
      settings: {
        dbPath,
        synchronous: 'NORMAL',
        dimensions: DIMS,
        algorithm: 'best-fit',
        params: {},
        seed: 1,
        blockSize: 5,
        batchSize: 50,
        leaseGraceSeconds: 60,
      },
      fleet,
      onOutcome: (o) => outcomes.push(o),
      onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
    });
    await thread.start();
    const tasks: Task[] = ['a', 'b', 'c'].map((id) => ({
      id,
      requirements: { cpu: 10, mem: 10 },
      duration: 60,
      deadline: Math.floor(Date.now() / 1000) + 3600,
      priority: 0,
      submittedAt: Date.now(),
      labels: {},
      constraints: {},
    }));
    expect(await queue.enqueue(tasks)).toEqual(['a', 'b', 'c']);
    thread.wake();

    await eventually(() => errors.some((e) => e.includes('simulated fleet unreachable')));
    expect((await store.getTasks(['a', 'b', 'c'])).every((r) => r === null)).toBe(true);
    expect(await queue.depth()).toBe(3);

    broken = false;
    thread.wake();
    await eventually(async () =>
      (await store.getTasks(['a', 'b', 'c'])).every((r) => r?.status === 'assigned'),
    );
    expect(await queue.depth()).toBe(0);
    expect(await queue.deadLetterCount()).toBe(0);
    await store.close();
  });
});
