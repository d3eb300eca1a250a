import type { FieldIssue } from '../errors';
import { transactionId } from '../ledger';
import type { Task } from '../model/task';
import type { DeadLetter } from '../ports/dead-letter-sender';
import type { QueuedTask } from '../ports/task-queue';
import { toQueueMessage } from '../schemas/queue-message';
import type { ScheduleOutcome } from './types';

/**
 * The settlement policy of a queue consumer, as pure functions: what becomes of each delivered task
 * and each delivery once the engine has answered (ack, retry, defer, dead-letter, reject on the last
 * delivery). The scheduler Lambda (SQS, lib/engine/queue-batch.ts) and the local loop
 * (runtime/scheduler-loop.ts) both settle through it; neither writes the policy again.
 */

/** What became of one task of a batch. */
export type TaskOutcome =
  | { kind: 'assigned'; taskId: string; vmId: string }
  /** Recorded as rejected (now, or by an earlier delivery when `redelivered`): forwarded to the DLQ. */
  | { kind: 'rejected'; taskId: string; transactionId: string; reason: string; redelivered: boolean }
  | { kind: 'duplicate'; taskId: string }
  /** Fits a VM of the fleet, but none has the room free now: nothing written, delivered again. */
  | { kind: 'deferred'; taskId: string; reason: string }
  | { kind: 'failed'; taskId: string; error: string };

/** What became of one delivery (an SQS record): acknowledged only when every task in it is settled. */
export type DeliveryOutcome =
  | { kind: 'settled'; tasks: TaskOutcome[] }
  | { kind: 'redeliver'; tasks: TaskOutcome[] }
  | { kind: 'invalid'; issues: FieldIssue[] };

/** Task outcomes that leave their delivery on the queue, to be delivered again. */
const UNSETTLED: ReadonlySet<TaskOutcome['kind']> = new Set(['deferred', 'failed']);

/** A ledger transaction's reason holds at most 4096 characters (lib/ledger/transactions.ts). */
export const MAX_REASON = 4096;

/** An error (or why a task waits) quoted in a reason is cut to this, to leave room for the rest. */
const MAX_ERROR_IN_REASON = 2000;

/** Outcomes by task id of what the engine decided, deferred or found already recorded. */
export function taskOutcomes(result: ScheduleOutcome): Map<string, TaskOutcome> {
  const byTask = new Map<string, TaskOutcome>();
  for (const d of result.decisions) {
    byTask.set(
      d.task.id,
      d.status === 'assigned' && d.vmId !== null
        ? { kind: 'assigned', taskId: d.task.id, vmId: d.vmId }
        : {
            kind: 'rejected',
            taskId: d.task.id,
            transactionId: transactionId(d.task.id, 'decision'),
            reason: d.reason,
            redelivered: false,
          },
    );
  }
  for (const d of result.deferred ?? []) {
    byTask.set(d.task.id, { kind: 'deferred', taskId: d.task.id, reason: d.reason });
  }
  const recorded = new Map((result.recorded ?? []).map((r) => [r.task_id, r]));
  for (const id of result.duplicates) {
    const record = recorded.get(id);
    byTask.set(
      id,
      record?.status === 'rejected'
        ? {
            kind: 'rejected',
            taskId: id,
            transactionId: record.transaction_id,
            reason: `recorded as rejected in block ${record.block_height} by an earlier delivery`,
            redelivered: true,
          }
        : { kind: 'duplicate', taskId: id },
    );
  }
  return byTask;
}

/** Every task's outcome: the engine must account for each; one it forgot fails (and is retried), never lost. */
export function accountForEach(
  tasks: readonly Task[],
  decided: ReadonlyMap<string, TaskOutcome>,
  forgotten: string,
): Map<string, TaskOutcome> {
  return new Map(
    tasks.map((t) => [t.id, decided.get(t.id) ?? { kind: 'failed', taskId: t.id, error: forgotten }]),
  );
}

/** Every task failed with `error` (the engine threw: nothing of the call was written). */
export function failEach(tasks: readonly Task[], error: unknown): Map<string, TaskOutcome> {
  const message = error instanceof Error ? error.message : String(error);
  return new Map(tasks.map((t) => [t.id, { kind: 'failed', taskId: t.id, error: message }]));
}

/** One delivery of a task-queue message whose body parsed: the tasks it carries. */
export interface Delivery {
  /** The message id; results are reported by it. */
  id: string;
  /** The body as received, forwarded unchanged to the DLQ. */
  body: string;
  /** Deliveries so far, 1 on the first. */
  receiveCount: number;
  tasks: Task[];
}

/** A delivery whose body failed the queue-message schema. */
export interface InvalidDelivery {
  id: string;
  body: string;
  issues: FieldIssue[];
}

/** A batch as the engine sees it: each task once, and the deliveries that carry each. */
export interface DeliveryBatch {
  deliveries: Delivery[];
  invalid: InvalidDelivery[];
  tasks: Task[];
  holders: Map<string, Delivery[]>;
}

/** Groups a batch's deliveries: the same task in two (a redelivery overlapping the original) is decided once. */
export function collectDeliveries(entries: readonly (Delivery | InvalidDelivery)[]): DeliveryBatch {
  const batch: DeliveryBatch = { deliveries: [], invalid: [], tasks: [], holders: new Map() };
  for (const entry of entries) {
    if ('issues' in entry) {
      batch.invalid.push(entry);
      continue;
    }
    batch.deliveries.push(entry);
    for (const task of entry.tasks) {
      const holders = batch.holders.get(task.id);
      if (holders) holders.push(entry);
      else {
        batch.holders.set(task.id, [entry]);
        batch.tasks.push(task);
      }
    }
  }
  return batch;
}

/**
 * The tasks still unsettled (deferred or failed) on their last delivery, grouped by the reason they
 * are to be recorded as rejected with. A task's delivery count is the highest of the deliveries
 * that carry it.
 */
export function lastDeliveryRejections(
  batch: DeliveryBatch,
  outcomes: ReadonlyMap<string, TaskOutcome>,
  maxReceiveCount: number,
): Map<string, Task[]> {
  const byReason = new Map<string, Task[]>();
  for (const t of batch.tasks) {
    const outcome = outcomes.get(t.id)!;
    if (outcome.kind !== 'failed' && outcome.kind !== 'deferred') continue;
    const deliveries = Math.max(...batch.holders.get(t.id)!.map((h) => h.receiveCount));
    if (deliveries < maxReceiveCount) continue;
    const reason =
      outcome.kind === 'deferred'
        ? `no capacity after ${deliveries} deliveries: ${outcome.reason.slice(0, MAX_ERROR_IN_REASON)}`
        : `not committed after ${deliveries} deliveries: ${outcome.error.slice(0, MAX_ERROR_IN_REASON)}`;
    byReason.set(reason, [...(byReason.get(reason) ?? []), t]);
  }
  return byReason;
}

/**
 * A task's outcome once its last-delivery rejection is recorded (`after`). A deferred task, or any
 * task of a multi-task delivery (`shared`), becomes the rejection, which the consumer forwards
 * itself; a single-task delivery whose commit failed stays a failure, so SQS moves the message. One
 * the ledger turns out to hold as placed (the failed commit did land) is a duplicate instead.
 */
export function afterLastDeliveryRejection(
  before: TaskOutcome,
  after: TaskOutcome,
  shared: boolean,
): TaskOutcome {
  return after.kind === 'duplicate' || before.kind === 'deferred' || shared ? after : before;
}

/** Applies a last-delivery rejection's result to the batch's outcomes. */
export function applyLastDeliveryRejection(
  batch: DeliveryBatch,
  outcomes: Map<string, TaskOutcome>,
  result: ScheduleOutcome,
): void {
  for (const [taskId, after] of taskOutcomes(result)) {
    const shared = batch.holders.get(taskId)!.some((h) => h.tasks.length > 1);
    outcomes.set(taskId, afterLastDeliveryRejection(outcomes.get(taskId)!, after, shared));
  }
}

/** The reason recorded for a task that reached the exhausted queue (its last-delivery rejection failed too). */
export function exhaustedQueueReason(maxReceiveCount: number): string {
  return `not decided after ${maxReceiveCount} deliveries: every scheduling attempt failed, and so did the rejection on the last one (the scheduler's log holds each error)`;
}

/** A batch settled: each delivery's outcome, and the rejections to forward to the DLQ. */
export interface Settlement {
  byDelivery: Map<string, DeliveryOutcome>;
  letters: DeadLetter[];
}

/**
 * Settles each delivery: one with an unsettled task is delivered again; the rest are acknowledged
 * once their rejected tasks are forwarded to the DLQ (see `redeliverUnforwarded`). Fresh rejections
 * are forwarded at once either way, so the DLQ shows them while a sibling waits; one found already
 * rejected is forwarded by the delivery that settles the record (the first forward may have been
 * lost). Off the task queue (`exhausted`), an invalid delivery has had its deliveries: it goes to
 * the DLQ as it is, with its field errors and no transaction (there is no trustworthy task to record).
 */
export function settleDeliveries(
  batch: DeliveryBatch,
  outcomes: ReadonlyMap<string, TaskOutcome>,
  exhausted: boolean,
): Settlement {
  const byDelivery = new Map<string, DeliveryOutcome>();
  const letters: DeadLetter[] = [];
  for (const { id, body, issues } of batch.invalid) {
    byDelivery.set(id, exhausted ? { kind: 'settled', tasks: [] } : { kind: 'invalid', issues });
    if (!exhausted) continue;
    letters.push({
      messageId: id,
      body,
      reason: `invalid queue message: ${issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; ')}`,
    });
  }
  for (const { id, body, tasks } of batch.deliveries) {
    const mine = tasks.map((t) => outcomes.get(t.id)!);
    const settled = mine.every((o) => !UNSETTLED.has(o.kind));
    byDelivery.set(id, { kind: settled ? 'settled' : 'redeliver', tasks: mine });
    tasks.forEach((task, i) => {
      const o = mine[i]!;
      if (o.kind !== 'rejected' || (!settled && o.redelivered)) return;
      const single = tasks.length === 1;
      letters.push({
        // Results come back by this key; a task of a multi-task delivery gets one of its own.
        messageId: single ? id : `${id}/${task.id}`,
        body: single ? body : JSON.stringify(toQueueMessage(task)),
        taskId: o.taskId,
        transactionId: o.transactionId,
        reason: o.reason,
      });
    });
  }
  return { byDelivery, letters };
}

/** A delivery one of whose dead letters did not reach the DLQ is delivered again, not acknowledged. */
export function redeliverUnforwarded(
  byDelivery: Map<string, DeliveryOutcome>,
  failed: readonly { messageId: string }[],
): void {
  for (const f of failed) {
    const id = f.messageId.split('/')[0]!;
    const o = byDelivery.get(id);
    if (o?.kind === 'settled') byDelivery.set(id, { kind: 'redeliver', tasks: o.tasks });
  }
}

/** Decisions of a batch by kind, for metrics: a rejection found already recorded counts as a duplicate. */
export function outcomeCounts(outcomes: Iterable<TaskOutcome>) {
  const counts = { assigned: 0, rejected: 0, duplicate: 0, deferred: 0 };
  for (const o of outcomes) {
    if (o.kind === 'assigned') counts.assigned++;
    else if (o.kind === 'rejected' && !o.redelivered) counts.rejected++;
    else if (o.kind === 'rejected' || o.kind === 'duplicate') counts.duplicate++;
    else if (o.kind === 'deferred') counts.deferred++;
  }
  return counts;
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

/** What a durable queue does with the tasks of one engine call. */
export interface QueueSettlement {
  /** Decided (assigned or rejected) or already recorded: done. */
  ack: string[];
  /** Not accounted for by the engine: offered again at once. */
  release: string[];
  /** Waiting for capacity: offered again after the delay (ms), grouped by delay. */
  later: Map<number, string[]>;
}

/**
 * Settles a durable queue's received tasks against an engine answer: settled tasks are acked,
 * deferred ones released after `deferDelay` of their wait so far (so a full fleet is not polled in a
 * tight loop and a kill -9 meanwhile loses nothing), and any the engine did not account for released
 * at once.
 */
export function settleQueued(
  received: readonly QueuedTask[],
  result: ScheduleOutcome,
  now: number,
  defer: { minMs: number; maxMs: number },
): QueueSettlement {
  const outcomes = taskOutcomes(result);
  const settlement: QueueSettlement = { ack: [], release: [], later: new Map() };
  for (const r of received) {
    const kind = outcomes.get(r.task.id)?.kind;
    if (kind === 'deferred') {
      const delay = deferDelay(now - r.task.submittedAt, defer.minMs, defer.maxMs);
      settlement.later.set(delay, [...(settlement.later.get(delay) ?? []), r.receipt]);
    } else if (kind === undefined || kind === 'failed') settlement.release.push(r.receipt);
    else settlement.ack.push(r.receipt);
  }
  return settlement;
}

/** Reason for a task the local queue delivered `exhausted`: the consumer died holding it on every delivery. */
export function exhaustedDeliveryReason(attempts: number): string {
  return `not decided after ${attempts - 1} deliveries: the scheduler stopped or timed out holding it each time`;
}

/** Reason for a task that failed on its own `count` times (a poison task). */
export function poisonReason(count: number, error: unknown): string {
  return `not scheduled after ${count} failures: ${describeError(error)}`.slice(0, MAX_REASON);
}

/** `Name: message` of an error, or its string form. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Groups items by a reason computed for each, keeping the first-seen order. */
export function groupByReason<T>(items: readonly T[], reasonOf: (item: T) => string): Map<string, T[]> {
  const byReason = new Map<string, T[]>();
  for (const item of items) {
    const reason = reasonOf(item);
    byReason.set(reason, [...(byReason.get(reason) ?? []), item]);
  }
  return byReason;
}
