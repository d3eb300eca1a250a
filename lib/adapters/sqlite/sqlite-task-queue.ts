import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../../errors';
import type { Task } from '../../model/task';
import { type Clock, systemClock } from '../../ports/clock';
import type { QueuedTask, TaskQueue } from '../../ports/task-queue';
import { unlessUnavailable } from './unavailable';

export interface SqliteTaskQueueOptions {
  /** How long a received task stays invisible before it is delivered again, ms. Default 30 000. */
  visibilityTimeoutMs?: number;
  /**
   * Deliveries after which a task that was never acked is delivered flagged `exhausted`, for the
   * consumer to record as rejected (SQS's maxReceiveCount, with the ledger as the dead-letter
   * record). Default 10.
   */
  maxAttempts?: number;
  clock?: Clock;
}

/** A row read back from the file is input from outside like any other. */
const storedTaskSchema = z.object({
  id: z.string().min(1),
  requirements: z.record(z.string(), z.number().finite()),
  duration: z.number().finite(),
  deadline: z.number().finite(),
  priority: z.number().finite(),
  submittedAt: z.number().finite(),
  labels: z.record(z.string(), z.string()),
  constraints: z.record(z.string(), z.string()),
  gpuModels: z.array(z.string()).optional(),
  command: z.string().optional(),
});

interface QueueRow {
  seq: number;
  task_id: string;
  task: string;
  attempts: number;
}

export interface DeadLetter {
  task_id: string;
  /** The stored task as it was queued (JSON). */
  task: string;
  attempts: number;
  error: string;
  /** Epoch ms. */
  failed_at: number;
}

/**
 * The local runtime's durable queue, in the ledger's database file (pass the ledger store's `db`).
 * A task leaves the queue only when acked, which the runtime does after its decision is committed,
 * so after kill -9 every accepted task is either in the ledger or still here (and a redelivered one
 * is recognised by the engine as already recorded).
 *
 * Receipts are `<seq>.<random>`: a new one per delivery, so a late ack or release from a delivery
 * whose visibility timed out cannot remove or reset the task another consumer now holds.
 */
export class SqliteTaskQueue implements TaskQueue {
  private readonly visibilityTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly clock: Clock;
  private readonly statements;
  private readonly enqueueAll;
  private readonly receiveSome;
  private readonly ackAll;
  private readonly releaseAll;

  constructor(
    readonly db: Database.Database,
    options: SqliteTaskQueueOptions = {},
  ) {
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.clock = options.clock ?? systemClock;
    this.statements = {
      insert: db.prepare(
        'INSERT INTO queue (task_id, task, visible_at) VALUES (?, ?, ?) ON CONFLICT (task_id) DO NOTHING',
      ),
      visible: db.prepare<[number, number], QueueRow>(
        'SELECT seq, task_id, task, attempts FROM queue WHERE visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
      ),
      lease: db.prepare(
        'UPDATE queue SET visible_at = ?, attempts = attempts + 1, receipt = ? WHERE seq = ?',
      ),
      ack: db.prepare('DELETE FROM queue WHERE seq = ? AND receipt = ?'),
      release: db.prepare('UPDATE queue SET visible_at = ?, receipt = NULL WHERE seq = ? AND receipt = ?'),
      postpone: db.prepare(
        'UPDATE queue SET visible_at = ?, receipt = NULL, attempts = max(attempts - 1, 0) WHERE seq = ? AND receipt = ?',
      ),
      depth: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM queue'),
      contains: db.prepare<[string], { found: number }>('SELECT 1 AS found FROM queue WHERE task_id = ?'),
      releaseAll: db.prepare('UPDATE queue SET visible_at = ?, receipt = NULL WHERE receipt IS NOT NULL'),
      bury: db.prepare(
        'INSERT INTO queue_dead_letters (seq, task_id, task, attempts, error, failed_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      remove: db.prepare('DELETE FROM queue WHERE seq = ?'),
      deadLetterCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM queue_dead_letters'),
      deadLetters: db.prepare<[number], DeadLetter>(
        'SELECT task_id, task, attempts, error, failed_at FROM queue_dead_letters ORDER BY seq LIMIT ?',
      ),
    };
    this.enqueueAll = db.transaction((tasks: Task[], now: number) => {
      const accepted: string[] = [];
      for (const task of tasks) {
        if (this.statements.insert.run(task.id, JSON.stringify(task), now).changes > 0)
          accepted.push(task.id);
      }
      return accepted;
    });
    // Rows are parsed inside the transaction so that a malformed one is moved to the dead letters at
    // once, instead of failing every receive that reaches it: without a valid body there is no task
    // the ledger could record. A well-formed task is never buried: once exhausted it is delivered
    // flagged, and the scheduler records it as rejected (runtime/scheduler-loop.ts).
    this.receiveSome = db.transaction((max: number, now: number) => {
      const token = randomBytes(8).toString('hex');
      const delivered: QueuedTask[] = [];
      for (const row of this.statements.visible.all(now, max)) {
        let task: Task;
        try {
          task = parseOrThrow(storedTaskSchema, JSON.parse(row.task), `queued task ${row.task_id}`) as Task;
        } catch (error) {
          this.bury(row, (error as Error).message, now);
          continue;
        }
        const receipt = `${row.seq}.${token}`;
        this.statements.lease.run(now + this.visibilityTimeoutMs, receipt, row.seq);
        delivered.push({
          task,
          receipt,
          attempts: row.attempts + 1,
          ...(row.attempts >= this.maxAttempts ? { exhausted: true } : {}),
        });
      }
      return delivered;
    });
    this.ackAll = db.transaction((receipts: string[]) => {
      for (const receipt of receipts) this.statements.ack.run(seqOf(receipt), receipt);
    });
    this.releaseAll = db.transaction((receipts: string[], at: number, postponed: boolean) => {
      const update = postponed ? this.statements.postpone : this.statements.release;
      for (const receipt of receipts) update.run(at, seqOf(receipt), receipt);
    });
  }

  /** Returns the ids newly queued; an id already queued is left as it is (not accepted twice). */
  async enqueue(tasks: Task[]): Promise<string[]> {
    if (tasks.length === 0) return [];
    return unlessUnavailable(() => this.enqueueAll.immediate(tasks, this.clock.now()));
  }

  /** Up to `max` visible tasks, oldest first, each hidden for the visibility timeout. */
  async receive(max: number): Promise<QueuedTask[]> {
    if (max <= 0) return [];
    return this.receiveSome.immediate(Math.floor(max), this.clock.now());
  }

  /**
   * Rows taken out of circulation because they could not be read back as a task (a damaged file),
   * oldest first; served by GET /queue/dead-letters. Older versions also moved tasks never acked
   * after maxAttempts here; those rows stay readable.
   */
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.statements.deadLetters.all(limit);
  }

  async deadLetterCount(): Promise<number> {
    return this.statements.deadLetterCount.get()!.n;
  }

  async ack(receipts: string[]): Promise<void> {
    if (receipts.length > 0) this.ackAll.immediate(receipts);
  }

  /**
   * Visible again after `delayMs`; the row stays in the file meanwhile, so kill -9 loses nothing.
   * A delayed release is a postponement (the task waits for capacity), not a failed delivery: it
   * gives the delivery back, so a task may wait through any number of them without reaching
   * maxAttempts and the dead letters.
   */
  async release(receipts: string[], delayMs = 0): Promise<void> {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new ValidationError(
        [{ field: 'delayMs', message: `must be a finite number >= 0, got ${delayMs}` }],
        'invalid release',
      );
    }
    if (receipts.length > 0) this.releaseAll.immediate(receipts, this.clock.now() + delayMs, delayMs > 0);
  }

  /**
   * Makes every received-but-unacked task visible now. For a runtime starting up as the queue's only
   * consumer: whatever a previous process (killed mid-batch) held would otherwise wait out its
   * visibility timeout. Returns how many were released.
   */
  async releaseInFlight(): Promise<number> {
    return this.statements.releaseAll.run(this.clock.now()).changes;
  }

  private bury(row: QueueRow, error: string, now: number): void {
    this.statements.bury.run(row.seq, row.task_id, row.task, row.attempts, error, now);
    this.statements.remove.run(row.seq);
  }

  /** Whether a task with this id is queued (visible or in flight): GET /tasks/{id} answers `queued`. */
  async contains(taskId: string): Promise<boolean> {
    return this.statements.contains.get(taskId) !== undefined;
  }

  /** Every row: visible, delayed and in flight. */
  async depth(): Promise<number> {
    return unlessUnavailable(() => this.statements.depth.get()!.n);
  }
}

function seqOf(receipt: string): number {
  const seq = Number(receipt.slice(0, receipt.indexOf('.')));
  if (!Number.isSafeInteger(seq) || seq <= 0) throw new Error(`not a queue receipt: ${receipt}`);
  return seq;
}
