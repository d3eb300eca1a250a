import type { Task } from '../lib/model/task';
import { FleetState } from '../lib/scheduling/fleet-state';
import { Scheduler } from '../lib/scheduling/schedule';
import { OPENB_DIMENSIONS, openbRequirements, openbVm, podTask } from '../lib/simulation/openb';
import { inflatePods } from '../lib/simulation/saturation';
import {
  defaultTraceDir,
  loadOpenbTrace,
  OPENB_NODE_FILE,
  OPENB_POD_FILE,
} from '../lib/simulation/trace-files';
import { SIMULATION_EPOCH_MS } from '../lib/simulation/types';
import { elapsedUs, nowNs, quantile, round } from './stats';

/**
 * Per-decision cost on a GPU fleet with devices: the OpenB node list repeated up to `vms` VMs, half
 * its GPU capacity already placed (by best-fit, pods of the default list sampled with seed 1), then
 * `decisions` further pods timed one Scheduler call each, the way the saturation replay and a live
 * batch of one decide them. The synthetic placement bench (bench/placement.ts) has no GPUs, where
 * fgd is best-fit; this is the case where fgd does its fragmentation arithmetic.
 *
 * `npx tsx bench/gpu-placement.ts [vms,...] [algorithms] [decisions]` (needs ../shared/traces).
 */
export function benchGpuPlacement(vms: number, algorithm: string, decisions: number) {
  const dir = defaultTraceDir();
  if (dir === null) throw new Error('the OpenB trace (../shared/traces) is needed');
  const { nodes, pods } = loadOpenbTrace(`${dir}/${OPENB_NODE_FILE}`, `${dir}/${OPENB_POD_FILE}`);
  const fleetVms = Array.from({ length: vms }, (_, i) => ({
    ...openbVm(nodes[i % nodes.length]!),
    id: `vm-${i}`,
  }));
  const fleet = FleetState.from(fleetVms, OPENB_DIMENSIONS);
  const g = fleet.gpuDimension;
  let capacity = 0;
  for (let i = 0; i < fleet.size; i++) capacity += fleet.capacity[i * fleet.width + g]!;
  const sequence = inflatePods(pods, capacity, 1);
  const at = SIMULATION_EPOCH_MS;
  const fill = new Scheduler({ algorithm: 'best-fit', dimensions: OPENB_DIMENSIONS });
  let k = 0;
  for (let placed = 0; placed < capacity / 2 && k < sequence.length; k++) {
    const [d] = fill.schedule([podTask(sequence[k]!, at, `f${k}`, 1)], fleet, at);
    if (d!.status === 'assigned') placed += openbRequirements(sequence[k]!).gpu!;
  }
  const scheduler = new Scheduler({ algorithm, dimensions: OPENB_DIMENSIONS });
  // Warm-up: the algorithm learns the workload and lays out its caches, as a running scheduler has.
  const warm = Math.min(200, decisions);
  const timings: number[] = [];
  for (let t = 0; t < warm + decisions; t++) {
    const task: Task = podTask(sequence[(k + t) % sequence.length]!, at, `d${t}`, 1);
    const start = nowNs();
    scheduler.schedule([task], fleet, at);
    if (t >= warm) timings.push(elapsedUs(start));
  }
  return {
    algorithm,
    vms,
    decisions,
    median_us: round(quantile(timings, 0.5)),
    p99_us: round(quantile(timings, 0.99)),
  };
}

if (process.argv[1]?.endsWith('gpu-placement.ts')) {
  const fleets = (process.argv[2] ?? '1000,10000').split(',').map(Number);
  const algorithms = (process.argv[3] ?? 'fgd,best-fit').split(',');
  const decisions = Number(process.argv[4] ?? 1000);
  for (const vms of fleets) {
    for (const algorithm of algorithms)
      console.log(JSON.stringify(benchGpuPlacement(vms, algorithm, decisions)));
  }
}
