import * as z from 'zod';
import { parseOrThrow } from '../errors';
import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import { seededRandom } from './rng';
import { SIMULATION_EPOCH_MS, type Workload } from './types';

const DIMENSIONS = ['cpu', 'mem', 'io', 'bw'] as const;

/**
 * Three VM shapes in the ratios of general-purpose cloud instances (m5.large, xlarge, 2xlarge),
 * so that placement has to cope with heterogeneous capacity.
 */
const VM_SHAPES = [
  { instanceType: 'small', capacity: { cpu: 2000, mem: 8192, io: 250, bw: 2500 } },
  { instanceType: 'medium', capacity: { cpu: 4000, mem: 16384, io: 500, bw: 5000 } },
  { instanceType: 'large', capacity: { cpu: 8000, mem: 32768, io: 1000, bw: 10000 } },
] as const;

/** The largest VM shape's capacity, per dimension: large tasks (largeShare) are drawn against it. */
const LARGEST: Record<(typeof DIMENSIONS)[number], number> = VM_SHAPES[2].capacity;

/** Task sizes are drawn uniformly from these ranges; every task fits the smallest VM. */
const TASK_RANGES: Record<(typeof DIMENSIONS)[number], [number, number]> = {
  cpu: [100, 1500],
  mem: [128, 6144],
  io: [5, 150],
  bw: [10, 1500],
};

export const syntheticOptionsSchema = z.strictObject({
  vms: z.number().int().min(1).max(100_000),
  tasks: z.number().int().min(1).max(10_000_000),
  /** Offered load: demand arriving per unit time as a fraction of fleet capacity, in the busiest dimension. */
  load: z.number().positive().max(10),
  seed: z.number().int().min(0).max(0xffffffff),
  /** Mean task duration, seconds (exponential, clipped to [5 s, 12 x mean]). */
  meanDuration: z.number().positive().max(86_400).default(300),
  /** A task's deadline is arrival + duration x (1 + slack), slack uniform in [min, max]. */
  slackMin: z.number().min(0).max(100).default(0.5),
  slackMax: z.number().min(0).max(100).default(2),
  /**
   * Share of large tasks (0: none, the default, and the workload is exactly as before). A large task
   * asks for 50-90 % of the largest VM shape in every dimension (so only large VMs hold it, and only
   * when nearly empty); the others are drawn as usual. Tasks are labelled `size: large|small` then,
   * and the simulation reports wait and placement per size (docs/performance.md "Backfilling").
   */
  largeShare: z.number().min(0).max(1).default(0),
});

export type SyntheticOptions = z.input<typeof syntheticOptionsSchema>;

/**
 * A reproducible synthetic workload: `tasks` tasks arriving at uniformly random instants over a
 * window chosen so that the offered load (sum of requirement x duration over capacity x window)
 * equals `load` in the dimension where it is highest. The window is computed from the drawn tasks,
 * so the offered load is exact for this workload rather than only in expectation.
 */
export function syntheticWorkload(input: SyntheticOptions): Workload {
  const options = parseOrThrow(syntheticOptionsSchema, input, 'invalid synthetic workload');
  if (options.slackMin > options.slackMax) {
    throw new RangeError(`slackMin (${options.slackMin}) must not exceed slackMax (${options.slackMax})`);
  }
  const random = seededRandom(options.seed);
  const width = String(Math.max(options.vms, options.tasks)).length;

  const vms: Vm[] = [];
  const capacityTotal: ResourceVector = { cpu: 0, mem: 0, io: 0, bw: 0 };
  for (let i = 0; i < options.vms; i++) {
    const shape = random.pick(VM_SHAPES);
    for (const d of DIMENSIONS) capacityTotal[d]! += shape.capacity[d];
    vms.push({
      id: `vm-${String(i).padStart(width, '0')}`,
      capacity: { ...shape.capacity },
      reserved: { cpu: 0, mem: 0, io: 0, bw: 0 },
      usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
      history: [],
      activeTasks: 0,
      labels: { instanceType: shape.instanceType, pool: 'synthetic' },
      state: 'active',
    });
  }

  const drawn: { requirements: ResourceVector; duration: number; slack: number }[] = [];
  const sizes: ('large' | 'small')[] = [];
  const work: ResourceVector = { cpu: 0, mem: 0, io: 0, bw: 0 };
  for (let i = 0; i < options.tasks; i++) {
    const requirements: ResourceVector = {};
    // Drawn only with a mix, so that a workload without one keeps every draw of its seed.
    const large = options.largeShare > 0 && random.next() < options.largeShare;
    for (const d of DIMENSIONS) {
      requirements[d] = Math.round(
        large ? random.uniform(0.5 * LARGEST[d], 0.9 * LARGEST[d]) : random.uniform(...TASK_RANGES[d]),
      );
    }
    sizes.push(large ? 'large' : 'small');
    const duration = Math.round(
      Math.min(Math.max(random.exponential(options.meanDuration), 5), 12 * options.meanDuration),
    );
    for (const d of DIMENSIONS) work[d]! += requirements[d]! * duration;
    drawn.push({ requirements, duration, slack: random.uniform(options.slackMin, options.slackMax) });
  }

  // Window (seconds) over which arrivals spread so that the busiest dimension sees `load`.
  const windowSeconds = Math.max(...DIMENSIONS.map((d) => work[d]! / (options.load * capacityTotal[d]!)));
  const offsets = drawn.map(() => random.uniform(0, windowSeconds * 1000)).sort((a, b) => a - b);

  const arrivals = drawn.map((t, i) => {
    const at = SIMULATION_EPOCH_MS + Math.round(offsets[i]!);
    const task: Task = {
      id: `t-${String(i).padStart(width, '0')}`,
      requirements: t.requirements,
      duration: t.duration,
      deadline: Math.ceil(at / 1000 + t.duration * (1 + t.slack)),
      priority: 0,
      submittedAt: at,
      labels: options.largeShare > 0 ? { size: sizes[i]! } : {},
      constraints: {},
    };
    return { at, task };
  });

  return {
    name: `synthetic ${options.vms} VMs, ${options.tasks} tasks, load ${options.load.toFixed(2)}${options.largeShare > 0 ? `, ${options.largeShare * 100}% large` : ''}, seed ${options.seed}`,
    dimensions: DIMENSIONS,
    vms,
    arrivals,
    hasDeadlines: true,
  };
}
