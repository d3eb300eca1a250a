import type { CloseOutcome, Engine, ScheduleOutcome } from '../engine/types';
import type { Transaction } from '../ledger/types';
import type { Task } from '../model/task';
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
 * unused.
 */
export class SpecRecordingEngine implements Engine {
  readonly reject?: (tasks: Task[], reason: string) => Promise<ScheduleOutcome>;

  constructor(
    private readonly inner: Engine,
    private readonly records: Pick<DispatchRecords, 'putSpecs'>,
  ) {
    // Rejected tasks are never dispatched: no spec to write.
    if (inner.reject) this.reject = inner.reject.bind(inner);
  }

  async schedule(tasks: Task[]): Promise<ScheduleOutcome> {
    const specs = specsOf(tasks);
    if (specs.length > 0) await this.records.putSpecs(specs);
    return this.inner.schedule(tasks);
  }

  complete(taskId: string): Promise<CloseOutcome> {
    return this.inner.complete(taskId);
  }

  expireLeases(limit?: number): Promise<Transaction[]> {
    return this.inner.expireLeases(limit);
  }

  setAlgorithm(name: string, params?: Partial<AlgorithmParams>): void {
    this.inner.setAlgorithm(name, params);
  }
}
