import type { GpuDeviceUse } from '../scheduling/devices';
import { UnknownAlgorithmError } from '../scheduling/errors';
import { algorithmNames, isAlgorithmName } from '../scheduling/registry';
import { Scheduler } from '../scheduling/schedule';
import type { AlgorithmParams } from '../scheduling/types';
import { saturationDimension } from './openb';
import { type PendingPolicy, simulate } from './simulator';
import type { Workload } from './types';

/** One algorithm's row, in the wire shape `bcs simulate --json` prints. */
export interface AlgorithmResult {
  algorithm: string;
  tasks: number;
  placed: number;
  rejected: number;
  success_rate: number;
  imbalance_cv: number;
  /** null when the workload has no deadlines (traces) or tasks never finish (saturation). */
  deadline_compliance: number | null;
  mean_utilisation: number;
  fragmentation: number;
  /** Saturation runs only: allocated / capacity in the saturation dimension when arrivals stop. */
  allocated_share?: number;
  /** Per task size (synthetic largeShare): placement and the 99th percentile wait of placed tasks. */
  by_class?: Record<
    string,
    { tasks: number; placed: number; success_rate: number; p99_wait_s: number | null }
  >;
  /** Fleets that list GPU devices (OpenB traces): the devices by use when arrivals stop. */
  gpu_devices?: GpuDeviceUse;
}

export interface CompareOptions {
  /** Registry names, or ['all']. */
  algorithms: readonly string[];
  pending: PendingPolicy;
  departures: boolean;
  seed?: number;
  params?: Partial<AlgorithmParams>;
  samples?: number;
  /** EASY backfilling threshold, seconds (SimulationOptions.backfillSeconds); left out, none. */
  backfillSeconds?: number;
  /** Called with the algorithm running and arrivals handled so far. */
  onProgress?: (algorithm: string, arrived: number, total: number) => void;
}

/** Expands 'all' and checks every name before anything runs. */
export function resolveAlgorithms(names: readonly string[]): string[] {
  const expanded = names.flatMap((n) => (n === 'all' ? algorithmNames() : [n]));
  for (const name of expanded)
    if (!isAlgorithmName(name)) throw new UnknownAlgorithmError(name, algorithmNames());
  return [...new Set(expanded)];
}

/** Runs the same workload under each algorithm, each on a fresh fleet and a fresh scheduler. */
export function compareAlgorithms(workload: Workload, options: CompareOptions): AlgorithmResult[] {
  const algorithms = resolveAlgorithms(options.algorithms);
  const saturation = options.departures ? null : saturationDimension(workload.vms);
  return algorithms.map((algorithm) => {
    const placer = new Scheduler({
      algorithm,
      seed: options.seed,
      params: options.params,
      dimensions: workload.dimensions,
    });
    const r = simulate(workload, {
      placer,
      pending: options.pending,
      departures: options.departures,
      samples: options.samples,
      historyWindow: placer.params.historyWindow,
      ...(options.backfillSeconds === undefined ? {} : { backfillSeconds: options.backfillSeconds }),
      onProgress: (arrived, total) => options.onProgress?.(algorithm, arrived, total),
    });
    return {
      algorithm,
      tasks: r.tasks,
      placed: r.placed,
      rejected: r.rejected,
      success_rate: r.successRate,
      imbalance_cv: r.imbalanceCv,
      deadline_compliance: r.deadlineCompliance,
      mean_utilisation: r.meanUtilisation,
      fragmentation: r.fragmentation,
      ...(saturation === null ? {} : { allocated_share: r.allocatedShare[saturation] ?? 0 }),
      ...(r.byClass === undefined
        ? {}
        : {
            by_class: Object.fromEntries(
              Object.entries(r.byClass).map(([size, c]) => [
                size,
                {
                  tasks: c.tasks,
                  placed: c.placed,
                  success_rate: c.successRate,
                  p99_wait_s: c.p99WaitSeconds,
                },
              ]),
            ),
          }),
      ...(r.gpuDevices === undefined ? {} : { gpu_devices: r.gpuDevices }),
    };
  });
}
