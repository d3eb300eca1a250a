import type { ResourceVector } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { Vm } from '../../lib/model/vm';
import type { FleetSource } from '../../lib/ports/fleet-source';
import { seededRandom } from '../../lib/simulation/rng';

/**
 * The load every concurrency run shares: one fleet definition that each scheduler rebuilds on its
 * own (as every Lambda container lists the same EC2 fleet), tasks drawn from a seed, and how they are
 * dealt out to the schedulers. Everything here is a pure function of its options, so a worker in
 * another process rebuilds exactly the parent's fleet and tasks from the same numbers.
 */

export const DIMENSIONS = ['cpu', 'mem', 'io', 'bw'] as const;

export interface WorkloadOptions {
  tasks: number;
  schedulers: number;
  vms: number;
  /** Every `overlapEvery`-th task is also given to the next scheduler (a duplicate submission). 0: none. */
  overlapEvery: number;
  seed: number;
  /** Epoch ms the deadlines count from. */
  startedAt: number;
}

/**
 * VMs sized so that the run fills them: best-fit packs a VM to the brim, and with every scheduler
 * holding two batches open at once the fleet is near capacity, where a decision made on a stale
 * view of the reservations would show up as a VM over capacity.
 */
export function fleetVms(count: number): Vm[] {
  return Array.from({ length: count }, (_, i) => {
    const capacity: ResourceVector = { cpu: 4000 + 1000 * (i % 3), mem: 16384, io: 400, bw: 1000 };
    return {
      id: `vm-${String(i).padStart(3, '0')}`,
      capacity,
      reserved: { cpu: 0, mem: 0, io: 0, bw: 0 },
      usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
      history: [],
      activeTasks: 0,
      labels: { zone: `zone-${i % 2}` },
      state: 'active',
    };
  });
}

/** A fleet that answers with the same VMs every time; the ledger supplies the reservations. */
export class FixedFleet implements FleetSource {
  constructor(private readonly vms: readonly Vm[]) {}
  async listVms(): Promise<Vm[]> {
    return structuredClone([...this.vms]);
  }
}

export function workloadTasks(options: Pick<WorkloadOptions, 'tasks' | 'seed' | 'startedAt'>): Task[] {
  const random = seededRandom(options.seed);
  const draw = (min: number, max: number) => Math.floor(random.uniform(min, max));
  return Array.from({ length: options.tasks }, (_, i) => ({
    id: `task-${options.seed}-${String(i).padStart(6, '0')}`,
    requirements: { cpu: draw(100, 900), mem: draw(256, 2048), io: draw(0, 40), bw: draw(0, 100) },
    // Long enough that no lease runs out during a run: only completions release reservations.
    duration: 3600,
    deadline: Math.floor(options.startedAt / 1000) + 86_400,
    priority: 0,
    submittedAt: options.startedAt,
    labels: { run: String(options.seed) },
    constraints: {},
  }));
}

/**
 * Which tasks each scheduler is given, in order: task i goes to scheduler i mod n, and every
 * `overlapEvery`-th task also to scheduler i+1 mod n at the same place in its list, so the two copies
 * are submitted at about the same moment and race each other.
 */
export function slices(tasks: readonly Task[], schedulers: number, overlapEvery: number): Task[][] {
  const out: Task[][] = Array.from({ length: schedulers }, () => []);
  tasks.forEach((task, i) => {
    out[i % schedulers]!.push(task);
    if (overlapEvery > 0 && schedulers > 1 && i % overlapEvery === 0) out[(i + 1) % schedulers]!.push(task);
  });
  return out;
}

/** How many tasks `slices` hands to two schedulers. */
export function overlapCount(tasks: number, schedulers: number, overlapEvery: number): number {
  if (overlapEvery <= 0 || schedulers < 2) return 0;
  return Math.ceil(tasks / overlapEvery);
}
