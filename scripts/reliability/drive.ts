import type { SchedulingEngine } from '../../lib/engine/engine';
import { AppendRetriesExhausted } from '../../lib/engine/errors';
import type { Task } from '../../lib/model/task';

export interface DriveOptions {
  /** Tasks per engine.schedule call (one SQS batch, one local queue receive). */
  batchSize: number;
  /**
   * Batches whose assigned tasks stay running; the oldest batch's are completed when another
   * commits, so reservations are released while others are being taken, as in a live fleet.
   */
  holdBatches: number;
  /** Times one call is tried again after the engine gave up on it (SQS would redeliver the batch). */
  maxBatchRetries: number;
}

/** What one scheduler did, as its own engine reported it. */
export interface SchedulerStats {
  scheduleCalls: number;
  /** schedule() calls by the compare-and-set attempts each used: attempts -> calls. */
  attempts: Record<string, number>;
  /** Calls the engine gave up on after all its attempts (AppendRetriesExhausted); they were retried. */
  exhausted: number;
  assigned: number;
  rejected: number;
  /** Task ids the engine reported as already in the ledger. */
  duplicates: string[];
  /** Times a task came back undecided (no free room now) and was offered again later. */
  deferred: number;
  completeCalls: number;
  completed: number;
  /** Completions that found the task already closed (never expected: each is completed once). */
  alreadyFinal: number;
}

/** Rounds without a single decision before the driver gives up (the fleet can never take the rest). */
const MAX_IDLE_ROUNDS = 2000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Feeds one scheduler's share of the tasks to its engine batch by batch, as a queue consumer does:
 * a task the engine neither decided nor found recorded (deferred: no free room now) goes back to the
 * end of the queue; a call the engine gave up on is made again. Assignments are completed
 * `holdBatches` batches later, and all of them once the queue is empty, so that the schedulers still
 * running can place what they deferred.
 */
export async function driveScheduler(
  engine: Pick<SchedulingEngine, 'schedule' | 'completeMany'>,
  tasks: readonly Task[],
  options: DriveOptions,
): Promise<SchedulerStats> {
  const stats: SchedulerStats = {
    scheduleCalls: 0,
    attempts: {},
    exhausted: 0,
    assigned: 0,
    rejected: 0,
    duplicates: [],
    deferred: 0,
    completeCalls: 0,
    completed: 0,
    alreadyFinal: 0,
  };
  const retrying = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let n = 0; ; n++) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof AppendRetriesExhausted) || n >= options.maxBatchRetries) throw error;
        stats.exhausted++;
      }
    }
  };
  const running: string[][] = [];
  const completeOldest = async () => {
    const due = running.shift();
    if (!due || due.length === 0) return;
    const closed = await retrying(() => engine.completeMany(due));
    stats.completeCalls++;
    for (const c of closed) {
      if (c.status === 'closed') stats.completed++;
      else stats.alreadyFinal++;
    }
  };

  const queue = [...tasks];
  let idle = 0;
  while (queue.length > 0) {
    const batch = queue.splice(0, options.batchSize);
    const outcome = await retrying(() => engine.schedule(batch));
    stats.scheduleCalls++;
    stats.attempts[outcome.attempts] = (stats.attempts[outcome.attempts] ?? 0) + 1;
    stats.duplicates.push(...outcome.duplicates);
    const settled = new Set(outcome.duplicates);
    const assigned: string[] = [];
    for (const d of outcome.decisions) {
      settled.add(d.task.id);
      if (d.status === 'assigned') assigned.push(d.task.id);
      else stats.rejected++;
    }
    stats.assigned += assigned.length;
    const unsettled = batch.filter((t) => !settled.has(t.id));
    stats.deferred += unsettled.length;
    queue.push(...unsettled);
    running.push(assigned);
    if (running.length > options.holdBatches) await completeOldest();
    if (settled.size > 0) idle = 0;
    else if (++idle > MAX_IDLE_ROUNDS)
      throw new Error(`${queue.length} tasks still undecided after ${idle} idle rounds`);
    else if (running.every((r) => r.length === 0)) await pause(10); // others hold the room: let them finish
  }
  while (running.length > 0) await completeOldest();
  return stats;
}
