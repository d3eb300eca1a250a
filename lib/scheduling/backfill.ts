import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { FleetState } from './fleet-state';
import { VM_DRAINING } from './fleet-state';
import type { Scheduler } from './schedule';
import type { Decision } from './types';

/**
 * EASY backfilling (Lifka 1995; Mu'alem and Feitelson 2001), as docs/algorithms.md "Reservations for
 * waiting tasks" describes it. Without it a task too large for the free room of any VM waits while
 * smaller tasks keep taking whatever room frees up, until its wait runs out. With it, the oldest task
 * that has waited longer than `thresholdMs` reserves the VM on which it can start earliest, judged by
 * the declared durations of the tasks running there; any other task may still be placed on that VM,
 * but only if it finishes (by its own declared duration) before the reservation starts, so it cannot
 * delay the reserved task. Everything here is pure: the caller passes the running tasks and the time.
 *
 * One reservation at a time, as in EASY: the queue's head is protected, and every other task is
 * backfilled around it. Running tasks end at their declared end (start + duration); a task past its
 * declared end is assumed to end now (it is overrunning; its lease will end it). Every task this
 * scheduler accepts has a declared duration (the input schema requires one), so "no duration" only
 * happens for a running task the caller cannot time: pass `endsAt: Infinity` and its VM can only be
 * reserved if the reserved task fits beside it.
 */

export interface RunningTask {
  vmId: string;
  requirements: ResourceVector;
  /** Declared end, epoch ms: when it started plus its declared duration. */
  endsAt: number;
}

export interface BackfillReservation {
  taskId: string;
  vmId: string;
  /** When the reserved task can start on the VM by the declared ends of the tasks running there, epoch ms. */
  startsAt: number;
  /** When the reservation was made (or last moved), epoch ms. */
  madeAt: number;
}

/** Default wait after which a task reserves a VM: 60 s (docs/algorithms.md). */
export const DEFAULT_BACKFILL_THRESHOLD_SECONDS = 60;

/**
 * The VM of `fleet` (active, labels matching the task's constraints, capacity enough) on which `task`
 * can start earliest, replaying the declared ends of `running` in time order; ties go to the lower
 * index. null when no VM could ever hold it.
 */
export function earliestStart(
  task: Task,
  fleet: FleetState,
  running: readonly RunningTask[],
  now: number,
): { vmIndex: number; startsAt: number } | null {
  const byVm = new Map<string, RunningTask[]>();
  for (const r of running) {
    const list = byVm.get(r.vmId);
    if (list) list.push(r);
    else byVm.set(r.vmId, [r]);
  }
  const w = fleet.width;
  let best: { vmIndex: number; startsAt: number } | null = null;
  for (let i = 0; i < fleet.size; i++) {
    if (fleet.state[i] === VM_DRAINING || !labelsMatch(task, fleet.labels[i]!)) continue;
    const free = new Float64Array(w);
    let fitsEver = true;
    for (let k = 0; k < w; k++) {
      const need = task.requirements[fleet.dimensions[k]!] ?? 0;
      if (need > fleet.capacity[i * w + k]!) fitsEver = false;
      free[k] = fleet.capacity[i * w + k]! - fleet.reserved[i * w + k]!;
    }
    if (!fitsEver) continue;
    const ends = [...(byVm.get(fleet.ids[i]!) ?? [])].sort((a, b) => a.endsAt - b.endsAt);
    let at = now;
    let fits = fitsIn(task, fleet, free);
    for (let j = 0; !fits && j < ends.length; j++) {
      const r = ends[j]!;
      if (!Number.isFinite(r.endsAt)) break;
      for (let k = 0; k < w; k++) free[k]! += r.requirements[fleet.dimensions[k]!] ?? 0;
      at = Math.max(now, r.endsAt);
      fits = fitsIn(task, fleet, free);
    }
    if (fits && (best === null || at < best.startsAt)) best = { vmIndex: i, startsAt: at };
  }
  return best;
}

function fitsIn(task: Task, fleet: FleetState, free: Float64Array): boolean {
  // A micro-unit of slack, as FleetState.fits allows an exact fill.
  return fleet.dimensions.every((d, k) => (task.requirements[d] ?? 0) <= free[k]! + 1e-7);
}

function labelsMatch(task: Task, labels: Readonly<Record<string, string | undefined>>): boolean {
  return Object.entries(task.constraints).every(([key, value]) => labels[key] === value);
}

/**
 * May `task` use the reservation's VM now? Yes for the reserved task itself, and for any task that
 * finishes by its declared duration no later than the reservation starts.
 */
export function mayUseReservedVm(task: Task, reservation: BackfillReservation, now: number): boolean {
  return task.id === reservation.taskId || now + task.duration * 1000 <= reservation.startsAt;
}

/**
 * Holds one reservation across batches. `update` is called before each batch with the tasks waiting
 * (deferred, not yet placed), the tasks running and the fleet; `schedule` then decides a batch so that
 * no task the reservation refuses lands on its VM; `settled` releases the reservation once its task is
 * placed or given up (rejected, expired).
 */
export class Backfill {
  #reservation: BackfillReservation | null = null;

  constructor(readonly thresholdMs: number = DEFAULT_BACKFILL_THRESHOLD_SECONDS * 1000) {
    if (!(Number.isFinite(thresholdMs) && thresholdMs >= 0)) {
      throw new RangeError(`backfill threshold must be a finite number of ms >= 0, got ${thresholdMs}`);
    }
  }

  get reservation(): BackfillReservation | null {
    return this.#reservation;
  }

  /**
   * Keeps or makes the reservation: for the oldest waiting task past the threshold (`waiting` is in
   * submission order), on the VM where it starts earliest. A reservation whose task is no longer waiting is
   * released; one whose start has passed without the task fitting is moved (the running tasks overran
   * their declared durations), keeping its task. Returns the reservation in force.
   */
  update(
    waiting: Iterable<Task>,
    fleet: FleetState,
    running: readonly RunningTask[],
    now: number,
  ): BackfillReservation | null {
    // `waiting` in submission order: its first task past the threshold is the queue's head.
    let head: Task | undefined;
    let oldest: Task | undefined;
    for (const t of waiting) {
      if (this.#reservation?.taskId === t.id) head = t;
      if (oldest === undefined && now - t.submittedAt >= this.thresholdMs) oldest = t;
      if (head && oldest) break;
    }
    // Its task is no longer waiting (placed or given up without `settled`): the reservation ends.
    if (this.#reservation && !head) this.#reservation = null;
    head ??= oldest;
    if (!head) return this.#reservation;
    const kept = this.#reservation;
    if (kept && kept.startsAt > now) return kept;
    const found = earliestStart(head, fleet, running, now);
    this.#reservation = found
      ? { taskId: head.id, vmId: fleet.ids[found.vmIndex]!, startsAt: found.startsAt, madeAt: now }
      : null;
    return this.#reservation;
  }

  /** The reserved task was placed, rejected or expired: the reservation ends. */
  settled(taskId: string): void {
    if (this.#reservation?.taskId === taskId) this.#reservation = null;
  }

  /**
   * Decides `tasks` with `scheduler` on `fleet`, the reservation in force: tasks allowed on the reserved
   * VM first (the reserved task, then those that finish before the reservation starts), then the rest
   * with that VM held (marked draining for the call, so no algorithm can choose it). Without a
   * reservation, one plain call. Decisions come back in that order.
   */
  schedule(
    scheduler: Pick<Scheduler, 'schedule'>,
    tasks: readonly Task[],
    fleet: FleetState,
    now: number,
  ): Decision[] {
    const reservation = this.#reservation;
    const index = reservation ? fleet.ids.indexOf(reservation.vmId) : -1;
    if (!reservation || index < 0) return scheduler.schedule(tasks, fleet, now);
    const allowed = tasks.filter((t) => mayUseReservedVm(t, reservation, now));
    const held = tasks.filter((t) => !mayUseReservedVm(t, reservation, now));
    const first = allowed.length > 0 ? scheduler.schedule(allowed, fleet, now) : [];
    if (held.length === 0) return first;
    const state = fleet.state[index]!;
    fleet.state[index] = VM_DRAINING;
    try {
      return [...first, ...scheduler.schedule(held, fleet, now)];
    } finally {
      fleet.state[index] = state;
    }
  }
}
