import type { Task } from '../model/task';
import type { GpuDeviceUse } from '../scheduling/devices';
import { FleetState } from '../scheduling/fleet-state';
import { mulberry32 } from '../scheduling/prng';
import { Scheduler } from '../scheduling/schedule';
import type { AlgorithmParams } from '../scheduling/types';
import { resolveAlgorithms } from './compare';
import {
  OPENB_DIMENSIONS,
  type OpenbNode,
  type OpenbPod,
  openbRequirements,
  openbVm,
  podTask,
} from './openb';
import { SIMULATION_EPOCH_MS } from './types';

/**
 * The saturation replay of Weng et al. (USENIX ATC'23), as their simulator runs it: the pod list is
 * inflated to `inflation` (130 %) of the cluster's GPU capacity by sampling pods with a seed, the
 * sample is shuffled with that seed, pods are submitted one by one and never leave; a pod no node
 * can take is dropped. The figure is the GPU allocation ratio (milli-GPU reserved / milli-GPU in
 * the cluster) at the moment the arrived GPU demand reaches `reportAt` (100 %) of capacity. Pods
 * never leave and each decision sees only the pods before it, so the run stops there: the pods
 * after the report point cannot change the figure.
 *
 * GPUs are devices (lib/scheduling/devices.ts): a sharing pod fits inside one GPU, a multi-GPU pod
 * takes whole GPUs of one node, gpu_spec restricts the model.
 */

export const PAPER_SEEDS = [42, 43, 44, 45, 46, 47, 48, 49, 50, 51] as const;
export const PAPER_INFLATION = 1.3;

export interface SaturationOptions {
  /** Registry names, or ['all']. */
  algorithms: readonly string[];
  /** Default PAPER_SEEDS. */
  seeds?: readonly number[];
  /** Submitted GPU demand as a multiple of capacity. Default 1.3. */
  inflation?: number;
  /** Arrived GPU demand, as a multiple of capacity, at which the allocation ratio is read. Default 1. */
  reportAt?: number;
  params?: Partial<AlgorithmParams>;
  /** Called after each (algorithm, seed) run. */
  onProgress?: (algorithm: string, seed: number) => void;
}

/** One seed's run. */
export interface SaturationRun {
  seed: number;
  /** Pods submitted up to the report point. */
  tasks: number;
  placed: number;
  rejected: number;
  /** milli-GPU reserved / milli-GPU in the cluster at the report point, 0-1. */
  allocated_share: number;
  /** The cluster's GPUs at the report point: full, partly used, idle, and GPU stranded on partly used ones. */
  gpu_devices: GpuDeviceUse;
}

/** One algorithm's row of `bcs simulate --mode saturate --json`: means over the seeds (counts rounded). */
export interface SaturationResult {
  algorithm: string;
  tasks: number;
  placed: number;
  rejected: number;
  /** Mean over the seeds of the allocation ratio at the report point, 0-1. */
  allocated_share: number;
  /** Smallest and largest over the seeds, and the sample standard deviation (0 for one seed). */
  allocated_share_min: number;
  allocated_share_max: number;
  allocated_share_stdev: number;
  /** Means over the seeds of each run's gpu_devices (counts rounded). */
  gpu_devices: GpuDeviceUse;
  runs: SaturationRun[];
}

/**
 * The seeded pod sequence: pods drawn uniformly with replacement until their GPU demand reaches
 * `inflation` x capacity, then shuffled (Fisher-Yates) with the same generator.
 */
export function inflatePods(
  pods: readonly OpenbPod[],
  gpuCapacity: number,
  seed: number,
  inflation: number = PAPER_INFLATION,
): OpenbPod[] {
  if (pods.length === 0) throw new RangeError('the pod list is empty');
  if (!(inflation > 0 && inflation <= 10))
    throw new RangeError(`inflation must be in (0, 10], got ${inflation}`);
  const perPod = pods.map((p) => openbRequirements(p).gpu!);
  if (!perPod.some((g) => g > 0))
    throw new RangeError('no pod asks for any GPU: the cluster cannot saturate');
  const next = mulberry32(seed);
  const out: OpenbPod[] = [];
  let demand = 0;
  while (demand < inflation * gpuCapacity) {
    const k = Math.floor(next() * pods.length);
    out.push(pods[k]!);
    demand += perPod[k]!;
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** One (algorithm, seed) replay. */
export function saturationRun(
  nodes: readonly OpenbNode[],
  pods: readonly OpenbPod[],
  algorithm: string,
  seed: number,
  options: { inflation?: number; reportAt?: number; params?: Partial<AlgorithmParams> } = {},
): SaturationRun {
  if (nodes.length === 0) throw new RangeError('the node list is empty');
  const vms = nodes.map(openbVm);
  const fleet = FleetState.from(vms, OPENB_DIMENSIONS);
  const gpu = fleet.gpuDimension;
  let capacity = 0;
  for (let i = 0; i < fleet.size; i++) capacity += fleet.capacity[i * fleet.width + gpu]!;
  if (capacity === 0) throw new RangeError('the node list has no GPU');
  const reportAt = options.reportAt ?? 1;
  if (!(reportAt > 0 && reportAt <= (options.inflation ?? PAPER_INFLATION))) {
    throw new RangeError('reportAt must be in (0, inflation]');
  }
  const sequence = inflatePods(pods, capacity, seed, options.inflation);
  const scheduler = new Scheduler({ algorithm, seed, params: options.params, dimensions: OPENB_DIMENSIONS });
  const now = SIMULATION_EPOCH_MS;
  let arrived = 0;
  let allocated = 0;
  let placed = 0;
  let tasks = 0;
  const batch: Task[] = [undefined as unknown as Task];
  for (const pod of sequence) {
    const demand = openbRequirements(pod).gpu!;
    if (arrived + demand > reportAt * capacity) break;
    arrived += demand;
    batch[0] = podTask(pod, now, `${pod.name}~${tasks}`, 1);
    tasks++;
    const [decision] = scheduler.schedule(batch, fleet, now);
    if (decision!.status === 'assigned') {
      placed++;
      allocated += demand;
    }
  }
  return {
    seed,
    tasks,
    placed,
    rejected: tasks - placed,
    allocated_share: allocated / capacity,
    // OpenB nodes always list their devices (openbVm), so the fleet has them.
    gpu_devices: fleet.devices!.use(),
  };
}

/** Every algorithm over every seed, on fresh fleets. */
export function saturationReplay(
  nodes: readonly OpenbNode[],
  pods: readonly OpenbPod[],
  options: SaturationOptions,
): SaturationResult[] {
  const algorithms = resolveAlgorithms(options.algorithms);
  const seeds = options.seeds ?? PAPER_SEEDS;
  if (seeds.length === 0) throw new RangeError('no seeds');
  return algorithms.map((algorithm) => {
    const runs = seeds.map((seed) => {
      const run = saturationRun(nodes, pods, algorithm, seed, options);
      options.onProgress?.(algorithm, seed);
      return run;
    });
    const shares = runs.map((r) => r.allocated_share);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const m = mean(shares);
    const variance =
      shares.length > 1 ? shares.reduce((a, x) => a + (x - m) ** 2, 0) / (shares.length - 1) : 0;
    const tasks = Math.round(mean(runs.map((r) => r.tasks)));
    const placed = Math.round(mean(runs.map((r) => r.placed)));
    return {
      algorithm,
      // Means over the seeds, rounded; rejected is what the rounded means leave, so the row adds up.
      tasks,
      placed,
      rejected: tasks - placed,
      allocated_share: m,
      allocated_share_min: Math.min(...shares),
      allocated_share_max: Math.max(...shares),
      allocated_share_stdev: Math.sqrt(variance),
      gpu_devices: meanDeviceUse(runs.map((r) => r.gpu_devices)),
      runs,
    };
  });
}

/** Per-seed device use averaged: counts rounded (the fleet is the same every seed), the share exact. */
function meanDeviceUse(uses: readonly GpuDeviceUse[]): GpuDeviceUse {
  const mean = (pick: (u: GpuDeviceUse) => number) => uses.reduce((a, u) => a + pick(u), 0) / uses.length;
  const devices = uses[0]?.devices ?? 0;
  const full = Math.round(mean((u) => u.full));
  const partial = Math.min(Math.round(mean((u) => u.partial)), devices - full);
  // idle is what the rounded means leave, so the three add up to the fleet's devices.
  return {
    devices,
    full,
    partial,
    idle: devices - full - partial,
    stranded_share: mean((u) => u.stranded_share),
  };
}
