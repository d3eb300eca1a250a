import { randomUUID } from 'node:crypto';
import { acceptTasks } from '../lib/engine/task-intake';
import { QueueFullError } from '../lib/errors';
import type { Dimensions } from '../lib/model/resources';
import type { Task } from '../lib/model/task';
import type { Clock } from '../lib/ports/clock';
import type { TaskAcceptances } from '../lib/ports/task-acceptances';
import type { TaskQueue } from '../lib/ports/task-queue';
import { type SubmitResponse, taskSubmissionParser } from '../lib/schemas/http';
import type { TaskInput } from '../lib/schemas/task-input';
import { toTask } from '../lib/schemas/task-input';

export interface IntakeOptions {
  queue: TaskQueue;
  /** The acceptance records: idempotency by id and body, and GET /tasks/{id} `queued`. */
  acceptances: TaskAcceptances;
  clock: Clock;
  dimensions: Dimensions;
  /** Refuse new tasks once this many wait. */
  maxQueueDepth: number;
  /** Called after tasks were made durable, so the scheduler need not wait for its next poll. */
  onEnqueued?: (count: number) => void;
  /** How long a measured queue depth is trusted, ms. Counting rows on every request would cost more than the insert. */
  depthTtlMs?: number;
}

/**
 * The one way tasks enter the runtime (POST /tasks and the generator): validate everything first,
 * then one enqueue (one SQLite transaction) for the whole request, so bad input writes nothing.
 */
export class Intake {
  private depthCache = 0;
  private depthReadAt = Number.NEGATIVE_INFINITY;
  private readonly depthTtlMs: number;
  private readonly parseSubmission: (body: unknown) => TaskInput[];

  constructor(private readonly options: IntakeOptions) {
    this.depthTtlMs = options.depthTtlMs ?? 200;
    this.parseSubmission = taskSubmissionParser(options.dimensions);
  }

  /** Validates a POST /tasks body; throws a ValidationError naming each bad field. */
  parse(body: unknown): Task[] {
    const { dimensions, clock } = this.options;
    const now = clock.now();
    return this.parseSubmission(body).map((input) => toTask(input, dimensions, now, randomUUID));
  }

  async submitBody(body: unknown): Promise<SubmitResponse> {
    // A full queue refuses before validating: under a burst, checking thousands of tasks only to
    // refuse them would take the time the scheduler needs to drain the queue.
    const { maxQueueDepth } = this.options;
    const depth = await this.depth();
    if (depth >= maxQueueDepth) throw new QueueFullError(depth, maxQueueDepth);
    return this.submit(this.parse(body));
  }

  /**
   * Accepts through the acceptance records as the enqueue function does on AWS
   * (lib/engine/task-intake.ts): an id already accepted with the same body is a duplicate, so
   * re-sending a request is harmless; with a different body the request is refused with
   * TaskConflictError (409) and nothing is queued. Twins in one request: the first is accepted and
   * the id listed once among the duplicates when the bodies agree, a 409 when they differ.
   */
  async submit(tasks: Task[]): Promise<SubmitResponse> {
    const { queue, acceptances, maxQueueDepth, clock } = this.options;
    const now = clock.now();
    const ids = new Set(tasks.map((t) => t.id)).size;
    const depth = await this.depth();
    if (depth + ids > maxQueueDepth) throw new QueueFullError(depth, maxQueueDepth);
    // The SQLite adapters answer a busy or failing store with StoreUnavailableError (503).
    const outcome = await acceptTasks(tasks, {
      acceptances,
      now,
      // The queue is idempotent by id: a task already in it is queued, not refused.
      send: async (batch) => {
        await queue.enqueue(batch);
        return { sent: batch.map((t) => t.id), failed: [] };
      },
    });
    const { accepted, duplicates } = outcome;
    this.depthCache += accepted.length;
    if (accepted.length > 0) this.options.onEnqueued?.(accepted.length);
    return { accepted, duplicates };
  }

  /** The queue depth, re-counted at most every depthTtlMs. */
  async depth(): Promise<number> {
    const now = this.options.clock.now();
    if (now - this.depthReadAt >= this.depthTtlMs) {
      this.depthCache = await this.options.queue.depth();
      this.depthReadAt = now;
    }
    return this.depthCache;
  }
}
