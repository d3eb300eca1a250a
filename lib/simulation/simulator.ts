import type { Dimensions, ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import type { Decision } from '../scheduling/types';
import { EventQueue } from './event-queue';
import type { Workload } from './types';

/** Places a batch of tasks on the fleet as it stands at `now` (epoch ms). Must not modify `vms`. */
export type PlaceFn = (tasks: Task[], vms: readonly Vm[], now: number) => Decision[];

/** Fleet-wide quality figures for one instant. */
export interface FleetSnapshotMetrics {
  /** Mean utilisation over the fleet, 0..1. */
  utilisation: number;
  /** Coefficient of variation of per-VM utilisation (load imbalance). */
  imbalanceCv: number;
  /** Share of free capacity stranded where typical tasks cannot use it, 0..1. */
  fragmentation: number;
}

export type MetricsFn = (vms: readonly Vm[], dimensions: Dimensions) => FleetSnapshotMetrics;

/**
 * What happens to a task nobody can take on arrival. `wait`: it stays pending, is retried whenever
 * a VM it fits frees capacity, and is rejected when its deadline passes. `reject`: it is rejected
 * at once, as the scheduler's single-shot decision has it.
 */
export type PendingPolicy = 'wait' | 'reject';

export interface SimulationOptions {
  place: PlaceFn;
  metrics: MetricsFn;
  pending: PendingPolicy;
  /** False: tasks never finish (saturation experiments). */
  departures: boolean;
  /** Fleet metrics are sampled at this many evenly spaced instants over the arrival window. Default 200. */
  samples?: number;
  /** Usage samples each VM keeps as history for history-aware algorithms. Default 10. */
  historyWindow?: number;
  /** Called now and then with the number of arrivals processed. */
  onProgress?: (arrived: number, total: number) => void;
}

export interface SimulationResult {
  tasks: number;
  placed: number;
  rejected: number;
  /** placed / tasks. */
  successRate: number;
  /** Placed tasks that finished by their deadline / placed tasks; null without deadlines or departures. */
  deadlineCompliance: number | null;
  /** Time-averaged over the samples (or at the end when there are no departures). */
  meanUtilisation: number;
  imbalanceCv: number;
  fragmentation: number;
  /** Mean time placed tasks waited between submission and placement, seconds. */
  meanWaitSeconds: number;
  /** Reserved over capacity per dimension, fleet-wide, when the last arrival has been handled. */
  allocatedShareAtEnd: ResourceVector;
}

type SimEvent = { kind: 'completion'; vm: number; task: Task } | { kind: 'expiry'; task: Task };

type SimVm = { -readonly [K in keyof Vm]: Vm[K] };

/**
 * Discrete-event simulation of one workload under one placement function, fast-forwarded: time jumps
 * from event to event (arrivals, completions, deadline expiries) and nothing sleeps. Same workload,
 * same placement function, same result: ties in time are broken by the order events were scheduled.
 *
 * The simulator owns the fleet: it applies each assignment the placement function returns (checking
 * that the task fits, so a faulty algorithm cannot overcommit a VM unnoticed) and releases it when
 * the task finishes. Measured usage equals reservations, as if tasks used what they asked for.
 */
export function simulate(workload: Workload, options: SimulationOptions): SimulationResult {
  const dims = workload.dimensions;
  const historyWindow = options.historyWindow ?? 10;
  const vms: SimVm[] = workload.vms.map((vm) => ({
    ...vm,
    reserved: zero(dims),
    usage: zero(dims),
    history: [],
    activeTasks: 0,
  }));
  const vmIndex = new Map(vms.map((vm, i) => [vm.id, i]));
  const largest = zero(dims);
  for (const vm of vms) for (const d of dims) largest[d] = Math.max(largest[d]!, vm.capacity[d] ?? 0);

  const arrivals = workload.arrivals;
  const events = new EventQueue<SimEvent>();
  const pending = new Map<string, Task>();
  const arrivedAt = new Map<string, number>();
  let placed = 0;
  let rejected = 0;
  let onTime = 0;
  let waitTotalMs = 0;

  const sampleCount = Math.max(1, options.samples ?? 200);
  const first = arrivals[0]?.at ?? 0;
  const last = arrivals[arrivals.length - 1]?.at ?? 0;
  const sampleTimes = Array.from({ length: sampleCount }, (_, k) =>
    sampleCount === 1 ? last : first + ((last - first) * k) / (sampleCount - 1),
  );
  let nextSample = 0;
  const sampled = { utilisation: 0, imbalanceCv: 0, fragmentation: 0, count: 0 };

  const takeSample = (): void => {
    const m = options.metrics(vms, dims);
    sampled.utilisation += m.utilisation;
    sampled.imbalanceCv += m.imbalanceCv;
    sampled.fragmentation += m.fragmentation;
    sampled.count++;
    // History-aware algorithms see usage as a monitoring agent would have sampled it.
    for (const vm of vms) {
      vm.history = [...vm.history.slice(-(historyWindow - 1)), { ...vm.usage }];
    }
  };

  const assign = (decision: Decision, now: number): boolean => {
    if (decision.status !== 'assigned') return false;
    const i = vmIndex.get(decision.vmId ?? '');
    if (i === undefined)
      throw new Error(`the algorithm assigned task ${decision.task.id} to unknown VM ${decision.vmId}`);
    const vm = vms[i]!;
    const task = decision.task;
    for (const d of dims) {
      const after = vm.reserved[d]! + (task.requirements[d] ?? 0);
      if (after > (vm.capacity[d] ?? 0)) {
        throw new Error(`the algorithm overcommitted ${vm.id} in ${d} with task ${task.id}`);
      }
    }
    for (const d of dims) vm.reserved[d] = vm.reserved[d]! + (task.requirements[d] ?? 0);
    vm.usage = { ...vm.reserved };
    vm.activeTasks++;
    placed++;
    waitTotalMs += now - arrivedAt.get(task.id)!;
    const finish = now + task.duration * 1000;
    if (options.departures) {
      if (finish <= task.deadline * 1000) onTime++;
      events.push(finish, { kind: 'completion', vm: i, task });
    }
    return true;
  };

  const fitsAnywhere = (task: Task): boolean => dims.every((d) => (task.requirements[d] ?? 0) <= largest[d]!);

  const handleArrivals = (batch: Task[], now: number): void => {
    for (const decision of options.place(batch, vms, now)) {
      if (assign(decision, now)) continue;
      const task = decision.task;
      if (options.pending === 'wait' && fitsAnywhere(task) && task.deadline * 1000 > now) {
        pending.set(task.id, task);
        events.push(task.deadline * 1000, { kind: 'expiry', task });
      } else {
        rejected++;
      }
    }
  };

  /**
   * Only the VM that just freed capacity changed, so only pending tasks that now fit it can have
   * become placeable; they are offered in arrival order, as many as the VM could hold.
   */
  const retryPending = (vm: SimVm, now: number): void => {
    if (pending.size === 0) return;
    const free = zero(dims);
    for (const d of dims) free[d] = (vm.capacity[d] ?? 0) - vm.reserved[d]!;
    const candidates: Task[] = [];
    for (const task of pending.values()) {
      if (!dims.every((d) => (task.requirements[d] ?? 0) <= free[d]!)) continue;
      for (const d of dims) free[d]! -= task.requirements[d] ?? 0;
      candidates.push(task);
    }
    if (candidates.length === 0) return;
    for (const decision of options.place(candidates, vms, now)) {
      if (assign(decision, now)) pending.delete(decision.task.id);
    }
  };

  const sampleUntil = (time: number): void => {
    while (nextSample < sampleCount && sampleTimes[nextSample]! < time) {
      takeSample();
      nextSample++;
    }
  };

  let a = 0;
  const progressEvery = Math.max(1, Math.floor(arrivals.length / 100));
  while (a < arrivals.length || events.size > 0) {
    const nextArrival = arrivals[a]?.at ?? Number.POSITIVE_INFINITY;
    const nextEvent = events.peekTime() ?? Number.POSITIVE_INFINITY;
    // Once every task has arrived and none is pending, completions change nothing we report.
    if (a >= arrivals.length && pending.size === 0) break;
    // Completions and expiries at an instant come before arrivals at that instant.
    if (nextEvent <= nextArrival) {
      sampleUntil(nextEvent);
      const { time, event } = events.pop()!;
      if (event.kind === 'completion') {
        const vm = vms[event.vm]!;
        for (const d of dims)
          vm.reserved[d] = Math.max(0, vm.reserved[d]! - (event.task.requirements[d] ?? 0));
        vm.usage = { ...vm.reserved };
        vm.activeTasks--;
        retryPending(vm, time);
      } else if (pending.delete(event.task.id)) {
        rejected++;
      }
      continue;
    }
    sampleUntil(nextArrival);
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
    // The last samples belong to the moment the last task has been handled, not to the drain after.
    if (a === arrivals.length) sampleUntil(Number.POSITIVE_INFINITY);
  }
  // Whatever is still pending when the simulation ends never ran.
  rejected += pending.size;
  options.onProgress?.(arrivals.length, arrivals.length);

  const allocatedShareAtEnd = zero(dims);
  for (const d of dims) {
    let reserved = 0;
    let capacity = 0;
    for (const vm of vms) {
      reserved += vm.reserved[d]!;
      capacity += vm.capacity[d] ?? 0;
    }
    allocatedShareAtEnd[d] = capacity > 0 ? reserved / capacity : 0;
  }

  // Without departures the interesting state is the final one, at saturation.
  const final = options.departures ? null : options.metrics(vms, dims);
  const n = Math.max(sampled.count, 1);
  return {
    tasks: arrivals.length,
    placed,
    rejected,
    successRate: arrivals.length > 0 ? placed / arrivals.length : 0,
    deadlineCompliance: workload.hasDeadlines && options.departures && placed > 0 ? onTime / placed : null,
    meanUtilisation: final?.utilisation ?? sampled.utilisation / n,
    imbalanceCv: final?.imbalanceCv ?? sampled.imbalanceCv / n,
    fragmentation: final?.fragmentation ?? sampled.fragmentation / n,
    meanWaitSeconds: placed > 0 ? waitTotalMs / placed / 1000 : 0,
    allocatedShareAtEnd,
  };
}

function zero(dims: Dimensions): ResourceVector {
  const v: ResourceVector = {};
  for (const d of dims) v[d] = 0;
  return v;
}
