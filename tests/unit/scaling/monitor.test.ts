import { describe, expect, it } from 'vitest';
import type { Vm, VmState } from '../../../lib/model/vm';
import type { Reservation } from '../../../lib/ports/ledger-store';
import {
  FleetMonitorError,
  type GroupInstance,
  type ProtectionChanges,
  runFleetMonitor,
  type ScalingSnapshot,
} from '../../../lib/scaling';

const dims = ['cpu', 'mem'];

function vm(id: string, state: VmState = 'active'): Vm {
  return {
    id,
    capacity: { cpu: 1000, mem: 1000 },
    reserved: { cpu: 0, mem: 0 },
    usage: { cpu: 0, mem: 0 },
    history: [],
    activeTasks: 0,
    labels: {},
    state,
  };
}

const reservation = (vm_id: string, cpu: number, active_tasks: number): Reservation => ({
  vm_id,
  reserved: { cpu, mem: 0 },
  active_tasks,
  capacity: { cpu: 1000, mem: 1000 },
});

function setup(options: {
  vms: Vm[];
  reservations: Reservation[];
  backlog: number;
  group?: GroupInstance[];
  failMetrics?: boolean;
  failGroup?: boolean;
}) {
  const published: ScalingSnapshot[] = [];
  const applied: ProtectionChanges[] = [];
  const asked: (readonly string[] | undefined)[] = [];
  const deps = {
    fleet: { listVms: async () => options.vms },
    store: {
      // As a store answers getReservations(vmIds): only the VMs asked for.
      getReservations: async (vmIds?: readonly string[]) => {
        asked.push(vmIds);
        return options.reservations.filter((r) => vmIds === undefined || vmIds.includes(r.vm_id));
      },
    },
    backlog: { backlog: async () => options.backlog },
    metrics: {
      publish: async (s: ScalingSnapshot) => {
        if (options.failMetrics) throw new Error('PutMetricData throttled');
        published.push(s);
      },
    },
    protection: options.group
      ? {
          instances: async () => {
            if (options.failGroup) throw new Error('DescribeAutoScalingGroups denied');
            return options.group!;
          },
          apply: async (c: ProtectionChanges) => {
            applied.push(c);
          },
        }
      : undefined,
    dimensions: dims,
    now: () => 1_800_000_000_000,
  };
  return { deps, published, applied, asked };
}

describe('runFleetMonitor', () => {
  it('publishes backlog per active instance and reservation utilisation from the ledger', async () => {
    const { deps, published } = setup({
      vms: [vm('i-a'), vm('i-b'), vm('i-c', 'draining'), vm('i-d', 'draining')],
      // the fleet source reports nothing reserved; the ledger does
      reservations: [reservation('i-a', 500, 1), reservation('i-c', 1000, 2)],
      backlog: 9,
    });
    const report = await runFleetMonitor(deps);
    expect(published).toEqual([report.snapshot]);
    expect(report.snapshot).toMatchObject({
      at: 1_800_000_000_000,
      backlog: 9,
      activeInstances: 2,
      drainingInstances: 2,
      freeToTerminate: 1, // i-d: draining and empty; i-c still runs two tasks
      backlogPerInstance: 4.5, // 9 / 2 active
    });
    // active VMs only: cpu 500/1000 and 0/1000; mem 0 and 0
    expect(report.snapshot.utilisation).toEqual([
      { dimension: 'cpu', count: 2, sum: 0.5, min: 0, max: 0.5 },
      { dimension: 'mem', count: 2, sum: 0, min: 0, max: 0 },
      { dimension: 'binding', count: 2, sum: 0.5, min: 0, max: 0.5 },
    ]);
    expect(report.protection).toBeUndefined();
  });

  it('protects group instances holding tasks and releases the empty ones, drained ones included', async () => {
    const { deps, applied } = setup({
      vms: [vm('i-a'), vm('i-b'), vm('i-c', 'draining')],
      reservations: [reservation('i-a', 100, 1), reservation('i-b', 0, 0)],
      backlog: 0,
      group: [
        { id: 'i-a', protectedFromScaleIn: false },
        { id: 'i-b', protectedFromScaleIn: true }, // its tasks finished
        { id: 'i-c', protectedFromScaleIn: true }, // drained and empty
      ],
    });
    const report = await runFleetMonitor(deps);
    expect(applied).toEqual([{ protect: ['i-a'], release: ['i-b', 'i-c'] }]);
    expect(report.protection).toEqual(applied[0]);
  });

  it('keeps protecting an instance the fleet no longer lists while the ledger holds its tasks', async () => {
    const { deps, applied, asked } = setup({
      vms: [vm('i-b')],
      reservations: [reservation('i-gone', 100, 1), reservation('i-other', 100, 1)],
      backlog: 0,
      group: [{ id: 'i-gone', protectedFromScaleIn: true }],
    });
    await runFleetMonitor(deps);
    expect(applied).toEqual([{ protect: [], release: [] }]);
    // By key, the fleet's and the group's instances: never a read of every VM of the ledger.
    expect(asked).toEqual([['i-b', 'i-gone']]);
  });

  it('still applies protection when publishing fails, and reports the failure', async () => {
    const { deps, applied } = setup({
      vms: [vm('i-a')],
      reservations: [reservation('i-a', 100, 1)],
      backlog: 3,
      group: [{ id: 'i-a', protectedFromScaleIn: false }],
      failMetrics: true,
    });
    const error = await runFleetMonitor(deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetMonitorError);
    expect((error as FleetMonitorError).message).toBe(
      'fleet monitor: metrics failed: PutMetricData throttled',
    );
    expect(applied).toEqual([{ protect: ['i-a'], release: [] }]);
  });

  it('still publishes when the group cannot be read, and reports the failure', async () => {
    const { deps, published, applied } = setup({
      vms: [vm('i-a')],
      reservations: [],
      backlog: 3,
      group: [],
      failGroup: true,
    });
    const error = (await runFleetMonitor(deps).catch((e: unknown) => e)) as FleetMonitorError;
    expect(error.failures.map((f) => f.step)).toEqual(['protection']);
    expect(published.map((s) => s.backlogPerInstance)).toEqual([3]);
    expect(applied).toEqual([]);
  });
});
