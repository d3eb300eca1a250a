import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../lib/ports/clock';
import type { ScalingEvent } from '../../../lib/schemas/http';
import { seededRandom } from '../../../lib/simulation/rng';
import { Autoscaler } from '../../../runtime/fleet/autoscaler';
import type { AutoscalePolicyOptions } from '../../../runtime/fleet/autoscaling-policy';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';

const POLICY: AutoscalePolicyOptions = {
  min: 1,
  max: 4,
  targetBacklogPerVm: 2,
  maxStep: 4,
  scaleOutWindowMs: 0,
  scaleOutCooldownMs: 0,
  scaleInWindowMs: 0,
  scaleInCooldownMs: 0,
};

/**
 * A real simulated fleet; the test plays the ledger (tasks per VM) and the queue (backlog), so it
 * can make them disagree with the simulation the way a lagging batch would.
 */
function setup(vms: number) {
  const fleet = new SimulatedFleet({
    dimensions: ['cpu'],
    defaultCapacity: { cpu: 1000 },
    zones: ['a'],
    speed: 1,
    noise: 0,
    historyWindow: 3,
    random: seededRandom(1),
  });
  fleet.addVms(vms);
  const clock = new ManualClock(0);
  const ledger = new Map<string, number>();
  const queue = { backlog: 0 };
  const events: ScalingEvent[] = [];
  const autoscaler = new Autoscaler({
    fleet,
    dimensions: ['cpu'],
    ledgerTasks: async () => ledger,
    backlog: async () => queue.backlog,
    clock,
    policy: POLICY,
    onEvent: (e) => events.push(e),
  });
  return { fleet, clock, ledger, queue, events, autoscaler };
}

const ids = (fleet: SimulatedFleet) => fleet.snapshot().map((vm) => `${vm.id}:${vm.state}`);

describe('Autoscaler', () => {
  it('adds VMs for a backlog and reports the event with the fleet after it', async () => {
    const { fleet, queue, events, autoscaler } = setup(1);
    queue.backlog = 7; // 7 per VM > 2: desired ceil(7 / 2) = 4, so 3 more.
    await autoscaler.tick();
    expect(ids(fleet)).toEqual(['vm-001:active', 'vm-002:active', 'vm-003:active', 'vm-004:active']);
    expect(events).toEqual([
      {
        at: new Date(0).toISOString(),
        action: 'scale-out',
        vm_ids: ['vm-002', 'vm-003', 'vm-004'],
        reason: 'backlog per VM 7 above target 2 for 0 ms',
        backlog: 7,
        backlog_per_vm: 7,
        fleet_size: 4,
        active_vms: 4,
      },
    ]);
  });

  it('drains an idle VM, keeps it while the ledger still shows a task on it, and retires it on a later tick', async () => {
    const { fleet, ledger, events, autoscaler } = setup(2);
    await autoscaler.tick();
    // Backlog 0: desired = min 1; vm-002 (newest, idle) is drained, not removed in the same tick.
    expect(events.map((e) => [e.action, e.vm_ids])).toEqual([['scale-in', ['vm-002']]]);
    expect(ids(fleet)).toEqual(['vm-001:active', 'vm-002:draining']);

    // A batch listed before the drain committed a task on vm-002: the ledger is the truth.
    ledger.set('vm-002', 1);
    await autoscaler.tick();
    expect(fleet.has('vm-002')).toBe(true);
    // Nor does the fleet's own tick retire it: the autoscaler owns its removal.
    fleet.tick(1);
    expect(fleet.has('vm-002')).toBe(true);

    ledger.set('vm-002', 0);
    await autoscaler.tick();
    expect(ids(fleet)).toEqual(['vm-001:active']);
    expect(events.at(-1)).toMatchObject({
      action: 'retire',
      vm_ids: ['vm-002'],
      fleet_size: 1,
      active_vms: 1,
    });
  });

  it('does not retire a drained VM the simulation still runs a task on', async () => {
    const { fleet, autoscaler } = setup(2);
    await autoscaler.tick();
    fleet.start('late', 'vm-002', { cpu: 10 }, 60, 0);
    await autoscaler.tick();
    expect(fleet.has('vm-002')).toBe(true);
    fleet.stop('late');
    await autoscaler.tick();
    expect(fleet.has('vm-002')).toBe(false);
  });

  it('never drains a VM holding a task in the ledger though the simulation shows it idle', async () => {
    const { fleet, ledger, events, autoscaler } = setup(3);
    ledger.set('vm-002', 1);
    ledger.set('vm-003', 2);
    await autoscaler.tick();
    expect(events.map((e) => [e.action, e.vm_ids])).toEqual([['scale-in', ['vm-001']]]);
    expect(ids(fleet)).toEqual(['vm-001:draining', 'vm-002:active', 'vm-003:active']);
  });

  it('never drains a VM an agent runs (scale-in protection), even idle', async () => {
    const { fleet, events, autoscaler } = setup(1);
    fleet.addVms(1, {}, {}, 'agent');
    await autoscaler.tick();
    expect(events.map((e) => [e.action, e.vm_ids])).toEqual([['scale-in', ['vm-001']]]);
    expect(ids(fleet)).toEqual(['vm-001:draining', 'vm-002:active']);
  });

  it('counts its actions in the status the metrics snapshot carries', async () => {
    const { clock, queue, autoscaler } = setup(1);
    queue.backlog = 4;
    await autoscaler.tick();
    queue.backlog = 0;
    clock.advance(1000);
    await autoscaler.tick();
    clock.advance(1000);
    await autoscaler.tick();
    expect(autoscaler.status()).toMatchObject({
      enabled: true,
      fleet_size: 1,
      active_vms: 1,
      backlog: 0,
      backlog_per_vm: 0,
      scale_outs: 1,
      scale_ins: 1,
      retired: 1,
      last: { action: 'retire', vm_ids: ['vm-002'] },
    });
  });
});

describe('SimulatedFleet.revive', () => {
  it('brings back, draining, a VM that left, with its capacity, so a late task runs on it', () => {
    const { fleet } = setup(0);
    fleet.addVms(1, { cpu: 500 });
    fleet.drain('vm-001');
    fleet.tick(0);
    expect(fleet.has('vm-001')).toBe(false);
    expect(fleet.revive('vm-001')).toBe(true);
    expect(fleet.snapshot()).toMatchObject([{ id: 'vm-001', state: 'draining', capacity: { cpu: 500 } }]);
    fleet.start('t', 'vm-001', { cpu: 100 }, 1, 0);
    expect(fleet.tick(1000)).toEqual(['t']);
    fleet.stop('t');
    fleet.tick(1001);
    expect(fleet.has('vm-001')).toBe(false);
  });

  it('refuses a VM never seen or still present', () => {
    const { fleet } = setup(1);
    expect(fleet.revive('vm-001')).toBe(false);
    expect(fleet.revive('vm-999')).toBe(false);
  });
});
