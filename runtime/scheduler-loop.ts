import {
  describeError,
  exhaustedDeliveryReason,
  groupByReason,
  poisonReason,
  settleQueued,
} from '../lib/engine/settlement';
import type { Engine, ScheduleOutcome } from '../lib/engine/types';
import type { QueuedTask, TaskQueue } from '../lib/ports/task-queue';
import type { Serial } from './serial';

export interface SchedulerLoopOptions {
  queue: TaskQueue;
  engine: Engine;
  serial: Serial;
  /** Tasks per engine.schedule call: large batches fill blocks and amortise the commit. */
  batchSize: number;
  /** Called after each committed batch (the tasks are acked by then). */
  onOutcome: (outcome: ScheduleOutcome) => void;
  onError: (error: unknown) => void;
  /** Poll interval when the queue is empty and nobody calls wake(), ms. */
  idleMs?: number;
  /**
   * Pause after a failed call before its tasks are offered again, ms; doubled for each failure in a
   * row up to maxBackoffMs. Default 500.
   */
  backoffMs?: number;
  /** Longest pause after failures in a row, ms. Default 30 000. */
  maxBackoffMs?: number;
  /**
   * Times one task may fail on its own (its batch-mates scheduled without it) before it is recorded
   * as rejected with the error as reason. Default 5.
   */
  maxTaskFailures?: number;
  /** Most engine calls one step spends isolating the task(s) that make a batch fail. Default 32. */
  isolationBudget?: number;
  /** Shortest and longest delay before a task waiting for capacity is offered again, ms. Default 250, 4000. */
  deferMinMs?: number;
  deferMaxMs?: number;
  /** Epoch ms now, for how long a deferred task has waited. Default Date.now. */
  now?: () => number;
}

/** Tasks of one failed engine call and its error. */
interface Failure {
  items: QueuedTask[];
  error: unknown;
  /** The task failed on its own while the rest of its batch was scheduled: the fault is the task's. */
  alone: boolean;
}

/**
 * Drains the durable queue into the engine. A task is acked only after its decision is committed;
 * if the process dies in between, the task is delivered again and the engine reports it as a
 * duplicate, which is then acked.
 *
 * No task answered 202 is lost: every one ends in the ledger or is still queued.
 * - An engine call that throws (fleet source, algorithm, store unavailable) gives its tasks back to
 *   the queue after a backoff that doubles with each failure in a row, as a postponement: the failure
 *   does not count as a delivery, so a long outage dead-letters nothing.
 * - A batch that fails is split in halves and retried, so a task that makes every call it is in
 *   fail (a poison task) is found and its batch-mates are scheduled. Such a task is given back like
 *   the others and, after maxTaskFailures failures on its own, recorded as `rejected` with the error.
 * - A task the queue delivers `exhausted` (the loop died or timed out holding it on every allowed
 *   delivery) is recorded as `rejected` without being tried again, so a task that crashes the
 *   process cannot crash it forever, nor disappear.
 * A VM whose record the engine refuses does not fail a batch at all: the engine quarantines it
 * (lib/scheduling/quarantine.ts).
 */
export class SchedulerLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly idleMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxTaskFailures: number;
  private readonly isolationBudget: number;
  private readonly deferMinMs: number;
  private readonly deferMaxMs: number;
  private readonly now: () => number;
  /** Failed engine calls in a row, for the backoff. */
  private failuresInARow = 0;
  /** Failures on its own per task id; kept in memory, so a restart gives a poison task a fresh count. */
  private readonly taskFailures = new Map<string, number>();

  constructor(private readonly options: SchedulerLoopOptions) {
    this.idleMs = options.idleMs ?? 50;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = Math.max(this.backoffMs, options.maxBackoffMs ?? 30_000);
    this.maxTaskFailures = Math.max(1, options.maxTaskFailures ?? 5);
    this.isolationBudget = Math.max(0, options.isolationBudget ?? 32);
    this.deferMinMs = options.deferMinMs ?? 250;
    this.deferMaxMs = Math.max(this.deferMinMs, options.deferMaxMs ?? 4000);
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New tasks are waiting. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** The pause before failed tasks are offered again: backoffMs doubled per failure in a row, capped. */
  get currentBackoffMs(): number {
    if (this.failuresInARow === 0) return 0;
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(30, this.failuresInARow - 1));
  }

  /**
   * Schedules one batch; returns how many tasks it took from the queue. Throws (after giving the
   * tasks back) when the batch failed as a whole; a poison task found and given back, or recorded as
   * rejected, is reported through onError and the step returns normally.
   */
  async step(): Promise<number> {
    const { queue, batchSize } = this.options;
    const received = await queue.receive(batchSize);
    if (received.length === 0) return 0;
    const exhausted = received.filter((r) => r.exhausted);
    const fresh = received.filter((r) => !r.exhausted);
    const failures: Failure[] = [];
    if (exhausted.length > 0) {
      const error = await this.recordExhausted(exhausted);
      if (error !== null) failures.push({ items: exhausted, error, alone: false });
    }
    if (fresh.length > 0) failures.push(...(await this.scheduleIsolating(fresh)));
    if (failures.length === 0) {
      this.failuresInARow = 0;
      return received.length;
    }
    const whole = failures.find((f) => !f.alone);
    if (whole) this.failuresInARow++;
    else this.failuresInARow = 0;
    const delay = Math.max(this.currentBackoffMs, this.backoffMs);
    const giveBack: string[] = [];
    for (const failure of failures) {
      if (!failure.alone) {
        for (const r of failure.items) giveBack.push(r.receipt);
        continue;
      }
      const [item] = failure.items;
      const count = (this.taskFailures.get(item!.task.id) ?? 0) + 1;
      this.taskFailures.set(item!.task.id, count);
      if (count >= this.maxTaskFailures && (await this.rejectPoison(item!, count, failure.error))) continue;
      this.options.onError(
        new Error(
          `task ${item!.task.id} failed on its own (${count} of ${this.maxTaskFailures}): ${describeError(failure.error)}`,
        ),
      );
      giveBack.push(item!.receipt);
    }
    // A delayed release is a postponement: the queue does not count it as a delivery.
    if (giveBack.length > 0) await queue.release(giveBack, delay);
    if (whole) throw whole.error;
    return received.length;
  }

  /**
   * One engine call for `items`; when it throws, halves are tried (within isolationBudget calls) to
   * tell a task that fails on its own from a failure of the whole batch. Returns what failed.
   */
  private async scheduleIsolating(items: QueuedTask[]): Promise<Failure[]> {
    const budget = { calls: this.isolationBudget };
    const error = await this.tryOnce(items);
    if (error === null) return [];
    return this.isolate(items, error, budget, true);
  }

  private async isolate(
    items: QueuedTask[],
    error: unknown,
    budget: { calls: number },
    top: boolean,
  ): Promise<Failure[]> {
    // A task alone in its call is to blame if it was isolated before; otherwise it may be the fault
    // of the whole (one task left in the queue while the store is down).
    if (items.length === 1)
      return [{ items, error, alone: !top || this.taskFailures.has(items[0]!.task.id) }];
    if (budget.calls < 2) return [{ items, error, alone: false }];
    budget.calls -= 2;
    const middle = Math.ceil(items.length / 2);
    const halves = [items.slice(0, middle), items.slice(middle)];
    const errors = [await this.tryOnce(halves[0]!), await this.tryOnce(halves[1]!)];
    const failures: Failure[] = [];
    for (let h = 0; h < 2; h++) {
      if (errors[h] !== null) failures.push(...(await this.isolate(halves[h]!, errors[h], budget, false)));
    }
    // Nothing of the batch could be scheduled: no task is to blame (the store or the fleet source is
    // down, the algorithm fails on everything). Only a task failing while others go through is.
    const failed = failures.reduce((n, f) => n + f.items.length, 0);
    if (top && failed === items.length) return [{ items, error, alone: false }];
    return failures;
  }

  /** Schedules and settles `items`; returns the error of a call that threw (nothing settled), else null. */
  private async tryOnce(items: QueuedTask[]): Promise<unknown> {
    const { engine, serial } = this.options;
    let outcome: ScheduleOutcome;
    try {
      outcome = await serial(() => engine.schedule(items.map((r) => r.task)));
    } catch (error) {
      return error ?? new Error('the engine threw without an error');
    }
    await this.settle(items, outcome);
    return null;
  }

  private async settle(received: QueuedTask[], outcome: ScheduleOutcome): Promise<void> {
    const { queue } = this.options;
    for (const r of received) this.taskFailures.delete(r.task.id);
    const { ack, release, later } = settleQueued(received, outcome, this.now(), {
      minMs: this.deferMinMs,
      maxMs: this.deferMaxMs,
    });
    if (ack.length > 0) await queue.ack(ack);
    if (release.length > 0) await queue.release(release);
    for (const [delay, receipts] of later) await queue.release(receipts, delay);
    this.options.onOutcome(outcome);
  }

  /** Records exhausted tasks as rejected and acks them; returns the error if that failed (nothing acked). */
  private async recordExhausted(items: QueuedTask[]): Promise<unknown> {
    const byReason = groupByReason(items, (r) => exhaustedDeliveryReason(r.attempts));
    for (const [reason, group] of byReason) {
      const error = await this.reject(group, reason);
      if (error !== null) return error;
    }
    return null;
  }

  /** A poison task's last failure: recorded as rejected with the error. False when even that failed. */
  private async rejectPoison(item: QueuedTask, count: number, error: unknown): Promise<boolean> {
    const reason = poisonReason(count, error);
    const failed = await this.reject([item], reason);
    if (failed !== null) return false;
    this.taskFailures.delete(item.task.id);
    this.options.onError(new Error(`task ${item.task.id} recorded as rejected: ${reason}`));
    return true;
  }

  private async reject(items: QueuedTask[], reason: string): Promise<unknown> {
    const { engine, serial } = this.options;
    const reject = engine.reject?.bind(engine);
    if (!reject) return new Error('this engine cannot record rejections');
    let outcome: ScheduleOutcome;
    try {
      outcome = await serial(() =>
        reject(
          items.map((r) => r.task),
          reason,
        ),
      );
    } catch (error) {
      return error ?? new Error('the engine threw without an error');
    }
    await this.settle(items, outcome);
    return null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let taken = 0;
      try {
        taken = await this.step();
      } catch (error) {
        this.options.onError(error);
        await this.pause(this.currentBackoffMs || this.backoffMs);
        continue;
      }
      if (taken === 0) await this.pause(this.idleMs);
      // The SQLite calls under the awaits above are synchronous, so without this the loop would
      // only ever run microtasks and starve HTTP intake for as long as the queue stays non-empty.
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
