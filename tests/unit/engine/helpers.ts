import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { SchedulingEngine, type SchedulingEngineOptions } from '../../../lib/engine/engine';
import type { Block } from '../../../lib/ledger/types';
import type { ResourceVector } from '../../../lib/model/resources';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import type { FleetSource } from '../../../lib/ports/fleet-source';
import type { LedgerStore } from '../../../lib/ports/ledger-store';

export const DIMENSIONS = ['cpu', 'mem'] as const;
export const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

export function vm(id: string, capacity: ResourceVector, overrides: Partial<Vm> = {}): Vm {
  return {
    id,
    capacity,
    reserved: { cpu: 0, mem: 0 },
    usage: { cpu: 0, mem: 0 },
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active',
    ...overrides,
  };
}

export function task(id: string, requirements: ResourceVector, overrides: Partial<Task> = {}): Task {
  return {
    id,
    requirements: { cpu: 0, mem: 0, ...requirements },
    duration: 120,
    deadline: T0 / 1000 + 3600,
    priority: 0,
    submittedAt: T0,
    labels: {},
    constraints: {},
    ...overrides,
  };
}

/** A fleet source whose VMs a test sets; `reserved` it reports is deliberately stale (always zero). */
export class FakeFleet implements FleetSource {
  constructor(public vms: Vm[]) {}
  async listVms(): Promise<Vm[]> {
    return this.vms.map((v) => ({ ...v, reserved: { cpu: 0, mem: 0 }, activeTasks: 0 }));
  }
}

export function makeEngine(
  store: LedgerStore,
  fleet: FleetSource,
  clock: ManualClock,
  overrides: Partial<SchedulingEngineOptions> = {},
): SchedulingEngine {
  return new SchedulingEngine({
    store,
    fleet,
    clock,
    algorithm: 'least-loaded',
    dimensions: DIMENSIONS,
    sleep: async () => {},
    ...overrides,
  });
}

export function setup(vms: Vm[], overrides: Partial<SchedulingEngineOptions> = {}) {
  const store = new MemoryLedgerStore();
  const fleet = new FakeFleet(vms);
  const clock = new ManualClock(T0);
  return { store, fleet, clock, engine: makeEngine(store, fleet, clock, overrides) };
}

export async function chain(store: LedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  return store.getBlocks(0, head.height + 1);
}

/** Reserved amount per VM implied by the chain: assignments minus completions and expiries. */
export function reservedFromChain(
  blocks: Block[],
): Map<string, { cpu: number; mem: number; active: number }> {
  const totals = new Map<string, { cpu: number; mem: number; active: number }>();
  for (const tx of blocks.flatMap((b) => b.transactions)) {
    if (tx.vm_id === null || tx.status === 'rejected') continue;
    const sign = tx.status === 'assigned' ? 1 : -1;
    const t = totals.get(tx.vm_id) ?? { cpu: 0, mem: 0, active: 0 };
    t.cpu += sign * (tx.task_requirements.cpu ?? 0);
    t.mem += sign * (tx.task_requirements.mem ?? 0);
    t.active += sign;
    totals.set(tx.vm_id, t);
  }
  return totals;
}
