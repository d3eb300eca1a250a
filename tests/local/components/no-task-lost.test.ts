import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite/sqlite-ledger-store';
import { SqliteTaskQueue } from '../../../lib/adapters/sqlite/sqlite-task-queue';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { ScheduleOutcome } from '../../../lib/engine/types';
import { StoreUnavailableError } from '../../../lib/errors';
import { verifyChain } from '../../../lib/ledger';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import type { FleetSource } from '../../../lib/ports/fleet-source';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { Scheduler } from '../../../lib/scheduling/schedule';
import { SchedulerLoop } from '../../../runtime/scheduler-loop';
import { createSerial } from '../../../runtime/serial';
import { chain, DIMENSIONS, T0, task, vm } from '../../unit/engine/helpers';

/**
 * The promise of the local runtime's scheduler loop, held against every way a scheduling call can
 * fail: anything the queue accepted (what POST /tasks answers 202 for) ends in the ledger or is still
 * queued, never only in the dead-letter table; a failure of the whole call does not count as a
 * delivery; once the fault clears, every task is decided.
 */

const MAX_DELIVERIES = 3;
const VISIBILITY_MS = 1000;

/** Faults a test switches on and off. */
interface Faults {
  fleet: boolean;
  store: boolean;
  /** The algorithm throws for every batch holding one of these task ids ('*': every batch). */
  algorithm: Set<string>;
  /** Extra VMs the fleet source reports (poison records). */
  extraVms: Vm[];
}

class FaultyFleet implements FleetSource {
  constructor(
    private readonly vms: Vm[],
    private readonly faults: Faults,
  ) {}
  async listVms(): Promise<Vm[]> {
    if (this.faults.fleet) throw new Error('fleet source unreachable');
    return [...this.vms, ...this.faults.extraVms].map((v) => ({ ...v }));
  }
}

/** The store, failing every read and append like a locked or unreachable database while `faults.store`. */
function faultyStore(store: SqliteLedgerStore, faults: Faults): LedgerStore {
  const failing = new Set(['readHead', 'readState', 'getTasks', 'getReservations', 'append']);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (failing.has(String(prop))) {
        return async (...args: unknown[]) => {
          if (faults.store) throw new StoreUnavailableError('database is locked');
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  }) as LedgerStore;
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup?.();
  cleanup = undefined;
});

function setup() {
  const faults: Faults = { fleet: false, store: false, algorithm: new Set(), extraVms: [] };
  const clock = new ManualClock(T0);
  const sqlite = new SqliteLedgerStore(':memory:');
  cleanup = () => sqlite.close();
  const queue = new SqliteTaskQueue(sqlite.db, {
    clock,
    visibilityTimeoutMs: VISIBILITY_MS,
    maxAttempts: MAX_DELIVERIES,
  });
  const store = faultyStore(sqlite, faults);
  const fleet = new FaultyFleet(
    [vm('vm-a', { cpu: 1000, mem: 1000 }), vm('vm-b', { cpu: 1000, mem: 1000 })],
    faults,
  );
  const engine = new SchedulingEngine({
    store,
    fleet,
    clock,
    algorithm: 'least-loaded',
    dimensions: [...DIMENSIONS],
    sleep: async () => {},
    maxAttempts: 2,
  });
  const original = Scheduler.prototype.schedule;
  vi.spyOn(Scheduler.prototype, 'schedule').mockImplementation(function (
    this: Scheduler,
    tasks,
    fleetState,
    now,
  ) {
    if (faults.algorithm.has('*') || tasks.some((t) => faults.algorithm.has(t.id))) {
      throw new RangeError(`algorithm failed on ${tasks.length} tasks`);
    }
    return original.call(this, tasks, fleetState, now);
  });
  const outcomes: ScheduleOutcome[] = [];
  const errors: string[] = [];
  const failedSteps: string[] = [];
  const loop = new SchedulerLoop({
    queue,
    engine,
    serial: createSerial(),
    batchSize: 16,
    backoffMs: 100,
    maxBackoffMs: 400,
    maxTaskFailures: 3,
    now: () => clock.now(),
    onOutcome: (o) => outcomes.push(o),
    onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
  });

  /** One step, then past any backoff or defer delay; a step that fails the whole batch is fine here. */
  async function step(): Promise<void> {
    await loop.step().catch((e: unknown) => failedSteps.push(e instanceof Error ? e.message : String(e)));
    clock.advance(1000);
  }

  /** Everything accepted is in the ledger or still queued, and nothing is in the dead letters. */
  async function checkInvariant(accepted: readonly string[]): Promise<{ recorded: number; queued: number }> {
    const records = await sqlite.getTasks(accepted);
    let queued = 0;
    for (let i = 0; i < accepted.length; i++) {
      if (records[i] !== null) continue;
      expect(await queue.contains(accepted[i]!), `task ${accepted[i]} is neither recorded nor queued`).toBe(
        true,
      );
      queued++;
    }
    expect(await queue.deadLetters()).toEqual([]);
    return { recorded: accepted.length - queued, queued };
  }

  /** The most deliveries any queued task has been charged. */
  const maxAttempts = () =>
    (sqlite.db.prepare('SELECT coalesce(max(attempts), 0) AS n FROM queue').get() as { n: number }).n;

  async function submit(ids: string[]): Promise<string[]> {
    const tasks: Task[] = ids.map((id) => task(id, { cpu: 10, mem: 10 }, { submittedAt: clock.now() }));
    return queue.enqueue(tasks);
  }

  /** The reason the ledger holds in the transaction. */
  async function reasonOf(transactionId: string): Promise<string | null> {
    const at = (await sqlite.findTransaction(transactionId))!;
    return (await sqlite.getBlock(at.height))!.transactions[at.index]!.reason;
  }

  return {
    reasonOf,
    faults,
    clock,
    sqlite,
    queue,
    loop,
    step,
    checkInvariant,
    maxAttempts,
    submit,
    outcomes,
    errors,
    failedSteps,
  };
}

const ids = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.each([
  ['a throwing fleet source', (f: Faults) => (f.fleet = true), (f: Faults) => (f.fleet = false)],
  ['a throwing algorithm', (f: Faults) => f.algorithm.add('*'), (f: Faults) => f.algorithm.clear()],
  ['an unavailable store', (f: Faults) => (f.store = true), (f: Faults) => (f.store = false)],
])('the scheduler loop under %s', (_name, breakIt, fixIt) => {
  it('loses nothing, charges no delivery while the fault lasts, and decides everything once it clears', async () => {
    const env = setup();
    const accepted = await env.submit(ids(40));
    expect(accepted).toHaveLength(40);
    breakIt(env.faults);
    // Far more failed steps than the queue allows deliveries.
    for (let i = 0; i < 4 * MAX_DELIVERIES; i++) {
      await env.step();
      expect(await env.checkInvariant(accepted)).toEqual({ recorded: 0, queued: 40 });
      expect(env.maxAttempts()).toBeLessThanOrEqual(1);
    }
    expect(env.failedSteps).toHaveLength(4 * MAX_DELIVERIES);
    // Backoff doubles per failure in a row, up to its cap.
    expect(env.loop.currentBackoffMs).toBe(400);

    fixIt(env.faults);
    for (let i = 0; i < 20 && (await env.queue.depth()) > 0; i++) await env.step();
    expect(await env.checkInvariant(accepted)).toEqual({ recorded: 40, queued: 0 });
    const records = await env.sqlite.getTasks(accepted);
    expect(records.every((r) => r?.status === 'assigned')).toBe(true);
    expect(env.loop.currentBackoffMs).toBe(0);
    expect((await verifyChain(await chain(env.sqlite))).valid).toBe(true);
  });
});

describe('the scheduler loop, faults tied to one task or one VM', () => {
  it('quarantines a VM whose record the engine refuses and keeps scheduling on the others', async () => {
    const env = setup();
    env.faults.extraVms.push(vm('vm-poison', { cpu: 1000, mem: 1e-9 }));
    const accepted = await env.submit(ids(20));
    await env.step();
    await env.step();
    expect(await env.checkInvariant(accepted)).toEqual({ recorded: 20, queued: 0 });
    const records = await env.sqlite.getTasks(accepted);
    expect(new Set(records.map((r) => r!.vm_id))).toEqual(new Set(['vm-a', 'vm-b']));
    expect(env.outcomes[0]!.quarantined).toEqual([
      { vm_id: 'vm-poison', reason: 'capacity.mem: must be 0 or at least 0.000001' },
    ]);
  });

  it('isolates a poison task: its batch-mates are scheduled at once, it is recorded as rejected with the error', async () => {
    const env = setup();
    const accepted = await env.submit(ids(15));
    const poison = accepted[6]!;
    env.faults.algorithm.add(poison);
    await env.step();
    let state = await env.checkInvariant(accepted);
    expect(state).toEqual({ recorded: 14, queued: 1 });
    expect(await env.queue.contains(poison)).toBe(true);
    for (let i = 0; i < 10 && (await env.queue.depth()) > 0; i++) await env.step();
    state = await env.checkInvariant(accepted);
    expect(state).toEqual({ recorded: 15, queued: 0 });
    const [record] = await env.sqlite.getTasks([poison]);
    expect(record!.status).toBe('rejected');
    expect(await env.reasonOf(record!.transaction_id)).toBe(
      'not scheduled after 3 failures: RangeError: algorithm failed on 1 tasks',
    );
    expect(env.errors.some((e) => e.includes(`task ${poison} recorded as rejected`))).toBe(true);
  });

  it('records a task as rejected once a consumer died holding it on every allowed delivery', async () => {
    const env = setup();
    const accepted = await env.submit(['crashes']);
    // A consumer that takes the task and dies before acking, MAX_DELIVERIES times.
    for (let i = 0; i < MAX_DELIVERIES; i++) {
      expect((await env.queue.receive(1)).map((r) => r.task.id)).toEqual(['crashes']);
      env.clock.advance(VISIBILITY_MS);
    }
    accepted.push(...(await env.submit(['fine'])));
    await env.step();
    expect(await env.checkInvariant(accepted)).toEqual({ recorded: 2, queued: 0 });
    const [crashes, fine] = await env.sqlite.getTasks(accepted);
    expect(fine!.status).toBe('assigned');
    expect(crashes!.status).toBe('rejected');
    expect(await env.reasonOf(crashes!.transaction_id)).toBe(
      `not decided after ${MAX_DELIVERIES} deliveries: the scheduler stopped or timed out holding it each time`,
    );
  });

  it('keeps an exhausted task queued, not dead-lettered, while its rejection cannot be written', async () => {
    const env = setup();
    const accepted = await env.submit(['crashes']);
    for (let i = 0; i < MAX_DELIVERIES; i++) {
      await env.queue.receive(1);
      env.clock.advance(VISIBILITY_MS);
    }
    env.faults.store = true;
    for (let i = 0; i < 5; i++) await env.step();
    expect(await env.checkInvariant(accepted)).toEqual({ recorded: 0, queued: 1 });
    env.faults.store = false;
    await env.step();
    expect(await env.checkInvariant(accepted)).toEqual({ recorded: 1, queued: 0 });
  });
});
