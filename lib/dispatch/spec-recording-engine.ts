import type { CloseOutcome, Engine, ScheduleOutcome } from '../engine/types';
import type { TaskOutcome, Transaction } from '../ledger/types';
import type { Task } from '../model/task';
import { type Clock, systemClock } from '../ports/clock';
import type { DispatchRecords, TaskSpec } from '../ports/dispatcher';
import type { AlgorithmParams } from '../scheduling/types';

/** The specs worth keeping: a task without a command or labels is fully described by its ledger record. */
export function specsOf(tasks: readonly Task[]): TaskSpec[] {
  return tasks
    .filter((t) => t.command !== undefined || Object.keys(t.labels).length > 0)
    .map((t) => ({
      task_id: t.id,
      ...(t.command === undefined ? {} : { command: t.command }),
      labels: { ...t.labels },
    }));
}

/**
 * An engine that records each task's spec (command, labels) before deciding it. The ledger keeps
 * neither, and the dispatcher, which only sees committed blocks, needs both: writing them before the
 * commit means a block never reaches the dispatcher ahead of its specs, even when the scheduler dies
 * right after committing. A spec written for a task that is then rejected or never committed is
 * unused (the dispatcher gives it an expiry once the task is final).
 *
 * A task that waits for room is offered again and again; its spec is written once. This engine
 * remembers the tasks whose spec it wrote or found (the last `remember` of them), and a task it does
 * not remember but that is old enough to have been offered before (`firstDeliveryMs` after its
 * acceptance: SQS redelivers a deferred task only after the visibility timeout) is looked up with one
 * BatchGetItem per 100 first, so a retry in another container costs a read instead of a refused
 * conditional write. The put stays conditional: correctness never depends on either shortcut.
 */
export interface SpecRecordingOptions {
  clock?: Clock;
  /** A task younger than this (since its acceptance) is on its first delivery: no look-up. @default 30 000 */
  firstDeliveryMs?: number;
  /** Task ids remembered as recorded. @default 10 000 */
  remember?: number;
}

export class SpecRecordingEngine implements Engine {
  readonly reject?: (tasks: Task[], reason: string) => Promise<ScheduleOutcome>;
  /** Task ids whose spec is recorded, oldest first (a Map keeps insertion order). */
  private readonly recorded = new Map<string, true>();
  private readonly clock: Clock;
  private readonly firstDeliveryMs: number;
  private readonly remember: number;

  constructor(
    private readonly inner: Engine,
    private readonly records: Pick<DispatchRecords, 'putSpecs' | 'getSpecs'>,
    options: SpecRecordingOptions = {},
  ) {
    // Rejected tasks are never dispatched: no spec to write.
    if (inner.reject) this.reject = inner.reject.bind(inner);
    this.clock = options.clock ?? systemClock;
    this.firstDeliveryMs = options.firstDeliveryMs ?? 30_000;
    this.remember = options.remember ?? 10_000;
  }

  async schedule(tasks: Task[]): Promise<ScheduleOutcome> {
    const fresh = tasks.filter((t) => !this.recorded.has(t.id));
    const specs = specsOf(fresh);
    if (specs.length > 0) {
      const now = this.clock.now();
      const seenBefore = fresh.filter((t) => now - t.submittedAt >= this.firstDeliveryMs).map((t) => t.id);
      const wanted = new Set(specs.map((s) => s.task_id));
      const lookUp = seenBefore.filter((id) => wanted.has(id));
      const found = lookUp.length > 0 ? await this.records.getSpecs(lookUp) : new Map<string, TaskSpec>();
      const missing = specs.filter((s) => !found.has(s.task_id));
      if (missing.length > 0) await this.records.putSpecs(missing);
      for (const s of specs) this.note(s.task_id);
    }
    return this.inner.schedule(tasks);
  }

  private note(taskId: string): void {
    this.recorded.delete(taskId);
    this.recorded.set(taskId, true);
    if (this.recorded.size > this.remember) {
      const oldest = this.recorded.keys().next().value;
      if (oldest !== undefined) this.recorded.delete(oldest);
    }
  }

  complete(taskId: string, outcome?: TaskOutcome): Promise<CloseOutcome> {
    return this.inner.complete(taskId, outcome);
  }

  expireLeases(limit?: number): Promise<Transaction[]> {
    return this.inner.expireLeases(limit);
  }

  setAlgorithm(name: string, params?: Partial<AlgorithmParams>): void {
    this.inner.setAlgorithm(name, params);
  }
}
