import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore, SqliteTaskAcceptances, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { taskInputSchema, toTask } from '../../../lib/schemas/task-input';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';
import { LocalRuntime, type SchedulerHooks } from '../../../runtime/runtime';

const dimensions = ['cpu'];
let store: SqliteLedgerStore;

afterEach(async () => {
  await store.close();
});

/**
 * The race the autoscaler's retire step leaves open: a batch lists the fleet, the VM is drained and
 * retired, then the batch commits a task on it. The runtime must bring the VM back to run the task.
 */
describe('a task placed on a VM that left the fleet', () => {
  it('brings the VM back, draining, runs the task to its end, then lets the VM go again', async () => {
    const clock = new ManualClock(Date.parse('2026-11-21T00:00:00.000Z'));
    store = new SqliteLedgerStore(':memory:');
    const fleet = new SimulatedFleet({
      dimensions,
      defaultCapacity: { cpu: 1000 },
      zones: ['a'],
      speed: 1,
      noise: 0,
      historyWindow: 3,
      random: seededRandom(1),
    });
    fleet.addVms(2);
    // The listing the batch took before the drain; only vm-002 in it, so the task goes there.
    let listing: Vm[] = (await fleet.listVms()).filter((vm) => vm.id === 'vm-002');
    const engine = new SchedulingEngine({
      store,
      fleet: { listVms: async () => listing },
      clock,
      algorithm: 'best-fit',
      dimensions,
      seed: 1,
    });
    let hooks: SchedulerHooks | null = null;
    new LocalRuntime({
      scheduler: (h) => {
        hooks = h;
        return { start: () => undefined, wake: () => undefined, stop: async () => undefined };
      },
      config: runtimeConfigSchema.parse({ dimensions, algorithm: 'best-fit', fleet: { size: 2 } }),
      store,
      queue: new SqliteTaskQueue(store.db, { clock }),
      acceptances: new SqliteTaskAcceptances(store.db),
      engine,
      fleet,
      clock,
      random: seededRandom(2),
      algorithms: algorithmNames(),
      log: () => undefined,
    });

    fleet.drain('vm-002', { retireWhenEmpty: false });
    expect(fleet.retire('vm-002')).toBe(true);
    const now = clock.now();
    const input = taskInputSchema(dimensions).parse({
      id: 'late',
      cpu: 300,
      deadline: now / 1000 + 3600,
      duration: 10,
    });
    const task = toTask(input, dimensions, now, () => 'unused');
    const outcome = await engine.schedule([task]);
    expect(outcome.decisions[0]).toMatchObject({ status: 'assigned', vmId: 'vm-002' });
    listing = [];

    hooks!.onOutcome(outcome);
    expect(fleet.snapshot().find((vm) => vm.id === 'vm-002')).toMatchObject({
      state: 'draining',
      capacity: { cpu: 1000 },
      reserved: { cpu: 300 },
      activeTasks: 1,
    });
    // It runs for its duration like any task, then the VM leaves once empty.
    expect(fleet.tick(now + 9_999)).toEqual([]);
    expect(fleet.tick(now + 10_000)).toEqual(['late']);
    fleet.stop('late');
    fleet.tick(now + 10_001);
    expect(fleet.has('vm-002')).toBe(false);
  });
});
