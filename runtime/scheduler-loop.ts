import type { Engine, ScheduleOutcome } from '../lib/engine/types';
import type { TaskQueue } from '../lib/ports/task-queue';
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
  /** Pause after a failed batch before the tasks are tried again, ms. */
  backoffMs?: number;
  /** Shortest and longest delay before a task waiting for capacity is offered again, ms. Default 250, 4000. */
  deferMinMs?: number;
  deferMaxMs?: number;
  /** Epoch ms now, for how long a deferred task has waited. Default Date.now. */
  now?: () => number;
}

/**
 * How long a task that has waited `waitedMs` for capacity stays back in the queue: a quarter of its
 * wait so far, rounded up to `min` times a power of two and capped at `max`. Retries thin out
 * geometrically while the fleet is full, the delays take few distinct values (one queue update
 * each), and the queue itself remembers nothing extra, so a restart loses no backoff state that
 * matters.
 */
export function deferDelay(waitedMs: number, min: number, max: number): number {
  const wanted = Math.max(waitedMs, 0) / 4;
  if (wanted <= min) return min;
  return Math.min(max, min * 2 ** Math.ceil(Math.log2(wanted / min)));
}

/**
 * Drains the durable queue into the engine. A task is acked only after its decision is committed;
 * if the process dies in between, the task is delivered again and the engine reports it as a
 * duplicate, which is then acked.
 */
export class SchedulerLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly idleMs: number;
  private readonly backoffMs: number;
  private readonly deferMinMs: number;
  private readonly deferMaxMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SchedulerLoopOptions) {
    this.idleMs = options.idleMs ?? 50;
    this.backoffMs = options.backoffMs ?? 500;
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

  /** Schedules one batch; returns how many tasks it took from the queue. */
  async step(): Promise<number> {
    const { queue, engine, serial, batchSize } = this.options;
    const received = await queue.receive(batchSize);
    if (received.length === 0) return 0;
    let outcome: ScheduleOutcome;
    try {
      outcome = await serial(() => engine.schedule(received.map((r) => r.task)));
    } catch (error) {
      await queue.release(received.map((r) => r.receipt));
      throw error;
    }
    const settled = new Set<string>(outcome.duplicates);
    for (const decision of outcome.decisions) settled.add(decision.task.id);
    const waiting = new Set((outcome.deferred ?? []).map((d) => d.task.id));
    const ack: string[] = [];
    const release: string[] = [];
    // Deferred tasks go back to the durable queue with a delay, so a full fleet is not polled in a
    // tight loop and a kill -9 meanwhile loses nothing.
    const later = new Map<number, string[]>();
    const now = this.now();
    for (const r of received) {
      if (settled.has(r.task.id)) ack.push(r.receipt);
      else if (waiting.has(r.task.id)) {
        const delay = deferDelay(now - r.task.submittedAt, this.deferMinMs, this.deferMaxMs);
        later.set(delay, [...(later.get(delay) ?? []), r.receipt]);
      } else release.push(r.receipt);
    }
    if (ack.length > 0) await queue.ack(ack);
    if (release.length > 0) await queue.release(release);
    for (const [delay, receipts] of later) await queue.release(receipts, delay);
    this.options.onOutcome(outcome);
    return received.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let taken = 0;
      try {
        taken = await this.step();
      } catch (error) {
        this.options.onError(error);
        await this.pause(this.backoffMs);
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
