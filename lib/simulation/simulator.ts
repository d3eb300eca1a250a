import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import { Backfill, type RunningTask } from '../scheduling/backfill';
import type { GpuDeviceUse } from '../scheduling/devices';
import type { FleetState } from '../scheduling/fleet-state';
import { fragmentation, loadImbalance, meanRequirements, meanUtilisation } from '../scheduling/metrics';
import type { Decision } from '../scheduling/types';
import { EventQueue } from './event-queue';
import { SimulatedFleet } from './fleet';
import type { Workload } from './types';

/**
 * Decides a batch against the fleet at `now` (epoch ms), reserving each assignment in `fleet`.
 * lib/scheduling's Scheduler is one; it keeps algorithm state (round-robin's cursor, p2c's PRNG)
 * from one batch to the next, as the live scheduler does.
 */
export interface Placer {
  schedule(tasks: readonly Task[], fleet: FleetState, now: number): Decision[];
}

/**
 * What happens to a task nobody can take on arrival. `wait`: it stays pending, is retried whenever
 * a VM it fits frees capacity, and is rejected when its latest start (deadline - duration) passes,
 * since the scheduler rejects a task that can no longer meet its deadline. `reject`: it is rejected
 * at once, as the scheduler's single-shot decision has it.
 */
export type PendingPolicy = 'wait' | 'reject';

export interface SimulationOptions {
  placer: Placer;
  pending: PendingPolicy;
  /** False: tasks never finish (saturation experiments). */
  departures: boolean;
  /**
   * Fleet metrics are sampled this many times, after evenly spaced numbers of arrivals (so they
   * describe the fleet as arriving tasks find it, however bursty the arrivals). Default 200.
   */
  samples?: number;
  /** Usage samples each VM keeps as history for history-aware algorithms. Default 10. */
  historyWindow?: number;
  /** Called now and then with the number of arrivals handled. */
  onProgress?: (arrived: number, total: number) => void;
  /**
   * EASY backfilling (lib/scheduling/backfill.ts): a task pending longer than this many seconds
   * reserves the VM where it can start earliest. Left out: no reservations.
   */
  backfillSeconds?: number;
}

/** Placement and wait of one class of tasks (label `size`). */
export interface ClassResult {
  tasks: number;
  placed: number;
  /** placed / tasks. */
  successRate: number;
  /** 99th percentile (nearest rank) of the wait of placed tasks, seconds; null when none was placed. */
  p99WaitSeconds: number | null;
}

export interface SimulationResult {
  tasks: number;
  placed: number;
  rejected: number;
  /** placed / tasks. */
  successRate: number;
  /** Placed tasks that finished by their deadline / placed tasks; null without deadlines or departures. */
  deadlineCompliance: number | null;
  /** Mean over the samples (at the end when there are no departures) of the fleet's mean utilisation. */
  meanUtilisation: number;
  /** Likewise, of the coefficient of variation of per-VM utilisation. */
  imbalanceCv: number;
  /** Likewise, of the share of free capacity stranded for the workload's mean task. */
  fragmentation: number;
  /** Mean time placed tasks waited between submission and placement, seconds. */
  meanWaitSeconds: number;
  /** Per value of the tasks' `size` label, when they carry one (synthetic largeShare). */
  byClass?: Record<string, ClassResult>;
  /** Reserved over capacity per dimension, fleet-wide, once the last task has arrived and been handled. */
  allocatedShare: ResourceVector;
  /** The fleet's GPU devices by use at that same moment; absent when no VM lists devices. */
  gpuDevices?: GpuDeviceUse;
}

type SimEvent =
  | { kind: 'completion'; vm: number; task: Task; devices: number[] | undefined }
  | { kind: 'expiry'; task: Task };

/**
 * Discrete-event simulation of one workload under one placer, fast-forwarded: time jumps from event
 * to event (arrivals, completions, deadline expiries) and nothing sleeps. Same workload and same
 * placer construction give the same result: events at the same instant are handled completions
 * first, then in the order they were scheduled. Tasks arriving at the same instant form one batch.
 */
export function simulate(workload: Workload, options: SimulationOptions): SimulationResult {
  const dims = workload.dimensions;
  const fleet = new SimulatedFleet(workload.vms, dims, options.historyWindow ?? 10);
  const { state } = fleet;
  const largest = new Float64Array(state.width);
  for (let k = 0; k < state.capacity.length; k++) {
    const d = k % state.width;
    largest[d] = Math.max(largest[d]!, state.capacity[k]!);
  }
  const probe = meanRequirements(
    workload.arrivals.map((a) => a.task),
    dims,
  );

  const arrivals = workload.arrivals;
  const events = new EventQueue<SimEvent>();
  const pending = new Map<string, Task>();
  const arrivedAt = new Map<string, number>();
  let placed = 0;
  let rejected = 0;
  let onTime = 0;
  let waitTotalMs = 0;
  const backfill =
    options.backfillSeconds === undefined ? null : new Backfill(options.backfillSeconds * 1000);
  /** Running tasks by id, with their declared end (what a reservation is planned with). */
  const running = new Map<string, RunningTask>();
  const waits = new Map<string, number[]>();
  const classTotals = new Map<string, number>();
  for (const { task } of arrivals) {
    const size = task.labels.size;
    if (size !== undefined) classTotals.set(size, (classTotals.get(size) ?? 0) + 1);
  }
  /** Decides a batch: with backfilling, the reservation is brought up to date first and honoured. */
  const decide = (batch: Task[], now: number): Decision[] => {
    if (!backfill) return options.placer.schedule(batch, state, now);
    backfill.update(pending.values(), state, [...running.values()], now);
    return backfill.schedule(options.placer, batch, state, now);
  };

  const sampleCount = Math.max(1, Math.min(options.samples ?? 200, arrivals.length));
  /** Arrival counts after which the fleet is sampled: evenly spaced, the last one included. */
  const sampleAfter = Array.from({ length: sampleCount }, (_, k) =>
    sampleCount === 1 ? arrivals.length : Math.round(1 + ((arrivals.length - 1) * k) / (sampleCount - 1)),
  );
  let nextSample = 0;
  const sums = { utilisation: 0, imbalanceCv: 0, fragmentation: 0, count: 0 };

  const measure = () => {
    const vms = fleet.toVms();
    return {
      utilisation: meanUtilisation(vms, dims),
      imbalanceCv: loadImbalance(vms, dims),
      fragmentation: fragmentation(vms, dims, probe),
    };
  };
  const sampleUpTo = (arrived: number): void => {
    while (nextSample < sampleCount && sampleAfter[nextSample]! <= arrived) {
      if (options.departures) {
        const m = measure();
        sums.utilisation += m.utilisation;
        sums.imbalanceCv += m.imbalanceCv;
        sums.fragmentation += m.fragmentation;
        sums.count++;
      }
      fleet.recordUsage();
      nextSample++;
    }
  };

  /**
   * Books the scheduler's assignments; returns the tasks it did not place. A task rejected for its
   * deadline (passed, or unmeetable even if started now) can only be rejected again later, so it is
   * counted as rejected here and not returned.
   */
  const book = (decisions: Decision[], now: number): Task[] => {
    const unplaced: Task[] = [];
    for (const decision of decisions) {
      const task = decision.task;
      if (decision.status !== 'assigned') {
        if (decision.rejection === 'deadline') {
          rejected++;
          pending.delete(task.id);
        } else unplaced.push(task);
        continue;
      }
      const i = fleet.indexOf(decision.vmId!);
      fleet.reserved(i);
      placed++;
      const waited = now - arrivedAt.get(task.id)!;
      waitTotalMs += waited;
      const size = task.labels.size;
      if (size !== undefined) {
        const list = waits.get(size);
        if (list) list.push(waited);
        else waits.set(size, [waited]);
      }
      backfill?.settled(task.id);
      running.set(task.id, {
        vmId: decision.vmId!,
        requirements: task.requirements,
        endsAt: now + task.duration * 1000,
      });
      if (options.departures) {
        const finish = now + task.duration * 1000;
        if (finish <= task.deadline * 1000) onTime++;
        events.push(finish, { kind: 'completion', vm: i, task, devices: decision.devices });
      }
    }
    return unplaced;
  };

  const fitsAnywhere = (task: Task): boolean =>
    dims.every((d, k) => (task.requirements[d] ?? 0) <= largest[k]!);

  const handleArrivals = (batch: Task[], now: number): void => {
    for (const task of book(decide(batch, now), now)) {
      // It can wait until its latest start: after that the scheduler would reject it for its deadline.
      const latestStart = (task.deadline - task.duration) * 1000;
      if (options.pending === 'wait' && fitsAnywhere(task) && latestStart >= now) {
        pending.set(task.id, task);
        events.push(latestStart + 1, { kind: 'expiry', task });
      } else {
        rejected++;
      }
    }
  };

  /**
   * Only the VM that just freed capacity changed, so only pending tasks that now fit it can have
   * become placeable; they are offered in arrival order, as many as the VM could hold.
   */
  const retryPending = (vm: number, now: number): void => {
    if (pending.size === 0) return;
    const free = fleet.free(vm);
    const candidates: Task[] = [];
    for (const task of pending.values()) {
      if (!dims.every((d, k) => (task.requirements[d] ?? 0) <= free[k]!)) continue;
      dims.forEach((d, k) => {
        free[k]! -= task.requirements[d] ?? 0;
      });
      candidates.push(task);
    }
    if (candidates.length === 0) return;
    const unplaced = new Set(book(decide(candidates, now), now));
    for (const task of candidates) if (!unplaced.has(task)) pending.delete(task.id);
  };

  let allocatedShare = allocated(state, dims);
  let gpuDevices: GpuDeviceUse | undefined = state.devices?.use();
  let a = 0;
  const progressEvery = Math.max(1, Math.floor(arrivals.length / 100));
  while (a < arrivals.length || pending.size > 0) {
    const nextArrival = arrivals[a]?.at ?? Number.POSITIVE_INFINITY;
    const nextEvent = events.peekTime() ?? Number.POSITIVE_INFINITY;
    if (nextEvent === Number.POSITIVE_INFINITY && nextArrival === Number.POSITIVE_INFINITY) break;
    if (nextEvent <= nextArrival) {
      const { time, event } = events.pop()!;
      if (event.kind === 'completion') {
        fleet.release(event.vm, event.task, event.devices);
        running.delete(event.task.id);
        retryPending(event.vm, time);
      } else if (pending.delete(event.task.id)) {
        rejected++;
        backfill?.settled(event.task.id);
      }
      continue;
    }
    const batch: Task[] = [];
    while (a < arrivals.length && arrivals[a]!.at === nextArrival) {
      const { task } = arrivals[a]!;
      if (arrivedAt.has(task.id)) throw new Error(`task id ${task.id} arrives twice`);
      arrivedAt.set(task.id, nextArrival);
      batch.push(task);
      a++;
      if (a % progressEvery === 0) options.onProgress?.(a, arrivals.length);
    }
    handleArrivals(batch, nextArrival);
    sampleUpTo(a);
    // The allocated share belongs to the moment the last task has been handled, not to the drain after.
    if (a === arrivals.length) {
      allocatedShare = allocated(state, dims);
      gpuDevices = state.devices?.use();
    }
  }
  // Whatever is still pending when the simulation ends never ran.
  rejected += pending.size;

  // Without departures the interesting state is the final one, at saturation.
  const final = options.departures ? null : measure();
  const n = Math.max(sums.count, 1);
  return {
    tasks: arrivals.length,
    placed,
    rejected,
    successRate: arrivals.length > 0 ? placed / arrivals.length : 0,
    deadlineCompliance: workload.hasDeadlines && options.departures && placed > 0 ? onTime / placed : null,
    meanUtilisation: final?.utilisation ?? sums.utilisation / n,
    imbalanceCv: final?.imbalanceCv ?? sums.imbalanceCv / n,
    fragmentation: final?.fragmentation ?? sums.fragmentation / n,
    meanWaitSeconds: placed > 0 ? waitTotalMs / placed / 1000 : 0,
    allocatedShare,
    ...(classTotals.size > 0 ? { byClass: classResults(classTotals, waits) } : {}),
    ...(gpuDevices === undefined ? {} : { gpuDevices }),
  };
}

function classResults(
  totals: Map<string, number>,
  waits: Map<string, number[]>,
): Record<string, ClassResult> {
  const out: Record<string, ClassResult> = {};
  for (const [size, tasks] of [...totals].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const list = (waits.get(size) ?? []).sort((a, b) => a - b);
    out[size] = {
      tasks,
      placed: list.length,
      successRate: list.length / tasks,
      p99WaitSeconds: list.length === 0 ? null : list[Math.ceil(0.99 * list.length) - 1]! / 1000,
    };
  }
  return out;
}

function allocated(state: FleetState, dims: readonly string[]): ResourceVector {
  const share: ResourceVector = {};
  dims.forEach((d, k) => {
    let reserved = 0;
    let capacity = 0;
    for (let i = 0; i < state.size; i++) {
      reserved += state.reserved[i * state.width + k]!;
      capacity += state.capacity[i * state.width + k]!;
    }
    share[d] = capacity > 0 ? reserved / capacity : 0;
  });
  return share;
}
