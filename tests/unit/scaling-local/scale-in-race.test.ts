import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import type { ScalingEvent } from '../../../lib/schemas/http';
import { taskInputSchema, toTask } from '../../../lib/schemas/task-input';
import { seededRandom } from '../../../lib/simulation/rng';
import { Autoscaler } from '../../../runtime/fleet/autoscaler';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';

const dimensions = ['cpu'];
let store: SqliteLedgerStore;

afterEach(async () => {
  await store.close();
});

/**
 * The scale-in race of issue 17 locally, with the real engine and ledger: the autoscaler reads the
 * ledger (the VM is idle), and before it drains the VM a batch that listed the fleet earlier commits a
 * task on it, in the same tick. The rule (the one the AWS lifecycle hook applies) keeps the VM until
 * the ledger shows it empty, so the task runs to its end and is completed, never expired.
 */
describe('an idle VM chosen for scale-in that receives a task in the same tick', () => {
  it('stays, draining, until its task completes in the ledger, then leaves', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T00:00:00.000Z'));
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
    // The batch's listing, taken before the autoscaler's tick: vm-002 active and empty.
    const listing: Vm[] = (await fleet.listVms()).filter((vm) => vm.id === 'vm-002');
    const engine = new SchedulingEngine({
      store,
      fleet: { listVms: async () => listing },
      clock,
      algorithm: 'best-fit',
      dimensions,
      seed: 1,
    });
    const now = clock.now();
    const task = toTask(
      taskInputSchema(dimensions).parse({ id: 'late', cpu: 300, deadline: now / 1000 + 3600, duration: 10 }),
      dimensions,
      now,
      () => 'unused',
    );
    let raced = false;
    const events: ScalingEvent[] = [];
    const autoscaler = new Autoscaler({
      fleet,
      dimensions,
      // The tick reads the ledger, then the batch commits before the tick drains (same tick).
      ledgerTasks: async () => {
        const read = new Map((await store.getReservations()).map((r) => [r.vm_id, r.active_tasks]));
        if (!raced) {
          raced = true;
          const outcome = await engine.schedule([task]);
          expect(outcome.decisions[0]).toMatchObject({ status: 'assigned', vmId: 'vm-002' });
        }
        return read;
      },
      backlog: async () => 0,
      clock,
      policy: {
        min: 1,
        max: 2,
        targetBacklogPerVm: 2,
        maxStep: 2,
        scaleOutWindowMs: 0,
        scaleOutCooldownMs: 0,
        scaleInWindowMs: 0,
        scaleInCooldownMs: 0,
      },
      onEvent: (e) => events.push(e),
    });

    // The tick saw vm-002 idle and chose it (the newest) for release: drained, not removed.
    await autoscaler.tick();
    expect(events.map((e) => [e.action, e.vm_ids])).toEqual([['scale-in', ['vm-002']]]);
    expect(fleet.snapshot().find((vm) => vm.id === 'vm-002')?.state).toBe('draining');
    // The runtime hands the batch's outcome to the simulation after the tick: the task starts there.
    fleet.start('late', 'vm-002', { cpu: 300 }, 10, clock.now());

    // Later ticks find the task in the ledger: the VM stays while it runs.
    clock.advance(5_000);
    fleet.tick(clock.now());
    await autoscaler.tick();
    expect(fleet.has('vm-002')).toBe(true);

    // The task ends and is completed (not expired); the next tick releases the VM.
    clock.advance(5_000);
    expect(fleet.tick(clock.now())).toEqual(['late']);
    fleet.stop('late');
    expect(await engine.complete('late')).toMatchObject({ status: 'closed' });
    await autoscaler.tick();
    expect(fleet.has('vm-002')).toBe(false);
    expect(events.at(-1)).toMatchObject({ action: 'retire', vm_ids: ['vm-002'] });
    expect((await store.getTask('late'))?.status).toBe('completed');
  });
});
