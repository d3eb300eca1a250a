import { randomUUID } from 'node:crypto';
import { QueueFullError, StoreUnavailableError } from '../lib/errors';
import type { Dimensions } from '../lib/model/resources';
import { firstOfEachId, type Task } from '../lib/model/task';
import type { Clock } from '../lib/ports/clock';
import type { LedgerStore } from '../lib/ports/ledger-store';
import type { TaskQueue } from '../lib/ports/task-queue';
import { type SubmitResponse, taskSubmissionParser } from '../lib/schemas/http';
import type { TaskInput } from '../lib/schemas/task-input';
import { toTask } from '../lib/schemas/task-input';

/**
 * SQLite result codes that mean "not now" rather than "never": another connection held the write
 * lock past busy_timeout, or the disk is full or failing. The enqueue is one transaction, so
 * nothing of the request was written.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;

/** Runs a store call, turning a transient store failure into a StoreUnavailableError (503). */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE.test(code)) {
      throw new StoreUnavailableError(`the task store is unavailable (${code}); retry later`, error);
    }
    throw error;
  }
}

export interface IntakeOptions {
  queue: TaskQueue;
  store: LedgerStore;
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
    const depth = await storeCall(() => this.depth());
    if (depth >= maxQueueDepth) throw new QueueFullError(depth, maxQueueDepth);
    return this.submit(this.parse(body));
  }

  /**
   * Tasks the ledger already recorded and tasks still queued are reported as duplicates; re-sending
   * a request is therefore harmless. Twins in one request (the same id twice): the first is
   * accepted, the id is listed once among the duplicates, as the enqueue function answers on AWS.
   */
  async submit(tasks: Task[]): Promise<SubmitResponse> {
    const { queue, store, maxQueueDepth } = this.options;
    const { unique, repeated } = firstOfEachId(tasks);
    const depth = await storeCall(() => this.depth());
    if (depth + unique.length > maxQueueDepth) throw new QueueFullError(depth, maxQueueDepth);

    const recorded = new Set<string>();
    const records = await storeCall(() => store.getTasks(unique.map((t) => t.id)));
    for (const r of records) if (r !== null) recorded.add(r.task_id);
    const fresh = unique.filter((t) => !recorded.has(t.id));
    const accepted = fresh.length > 0 ? await storeCall(() => queue.enqueue(fresh)) : [];
    this.depthCache += accepted.length;
    if (accepted.length > 0) this.options.onEnqueued?.(accepted.length);

    const acceptedSet = new Set(accepted);
    const notAccepted = unique.map((t) => t.id).filter((id) => !acceptedSet.has(id));
    const duplicates = [...new Set([...notAccepted, ...repeated])];
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
