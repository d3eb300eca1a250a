import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Engine, ScheduleOutcome } from '../../lib/engine/types';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import { transactionId } from '../../lib/ledger';
import type { Dimensions } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { DeadLetter, DeadLetterSender } from '../../lib/ports/dead-letter-sender';
import type { LedgerStore, TaskRecord } from '../../lib/ports/ledger-store';
import type { LogSink, MetricSink } from '../../lib/ports/observability';
import {
  type MultiTaskQueueMessage,
  type QueueMessage,
  queueMessageBodySchema,
  tasksOf,
  toQueueMessage,
} from '../../lib/schemas/queue-message';

export interface SchedulerDeps {
  /** The engine, built on first use and kept for the warm container. */
  engine: () => Engine | Promise<Engine>;
  dimensions: Dimensions;
  logger: LogSink;
  metrics: MetricSink;
  /** Where records whose task is recorded as rejected are forwarded before they are acknowledged. */
  deadLetters: DeadLetterSender;
  /** The task queue's maxReceiveCount: a record received this many times is on its last delivery. */
  maxReceiveCount: number;
  /**
   * ARN of the queue SQS moves a task-queue message to after maxReceiveCount deliveries (its redrive
   * target). A batch from it holds tasks that were accepted but never decided, not even rejected on
   * their last delivery (that commit failed too): each is recorded as rejected, then forwarded to the
   * dead-letter queue; one that cannot be recorded yet stays on this queue and is delivered again.
   */
  exhaustedQueueArn?: string;
  /**
   * Where a redelivered, already rejected task's reason is read from (its block), for the DLQ
   * attribute. Without it the attribute names the block, and the transaction holds the reason.
   */
  blocks?: Pick<LedgerStore, 'getBlock'>;
}

/** What became of one task of the batch in this invocation. */
export type TaskOutcome =
  | { kind: 'assigned'; taskId: string; vmId: string }
  /** Recorded as rejected (now, or by an earlier delivery when `redelivered`): forwarded to the DLQ. */
  | { kind: 'rejected'; taskId: string; transactionId: string; reason: string; redelivered: boolean }
  | { kind: 'duplicate'; taskId: string }
  /** Fits a VM of the fleet, but none has the room free now: nothing written, delivered again. */
  | { kind: 'deferred'; taskId: string; reason: string }
  | { kind: 'failed'; taskId: string; error: string };

/** What became of one SQS record: acknowledged only when every task in it is settled. */
export type RecordOutcome =
  | { kind: 'settled'; tasks: TaskOutcome[] }
  | { kind: 'redeliver'; tasks: TaskOutcome[] }
  | { kind: 'invalid'; issues: FieldIssue[] };

/** Task outcomes that leave their record on the queue, to be delivered again. */
const UNSETTLED: ReadonlySet<TaskOutcome['kind']> = new Set(['deferred', 'failed']);

export class RecordNotScheduledError extends Error {
  override name = 'RecordNotScheduledError';
}

/** A record whose body parsed: the tasks it carries (one, or several in a version 2 body). */
interface ParsedRecord {
  record: SQSRecord;
  tasks: Task[];
}

function parseRecord(
  record: SQSRecord,
  schema: ReturnType<typeof queueMessageBodySchema>,
): ParsedRecord | FieldIssue[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return [{ field: '', message: 'message body is not valid JSON' }];
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return ValidationError.fromZod(parsed.error).issues;
  return { record, tasks: tasksOf(parsed.data as QueueMessage | MultiTaskQueueMessage) };
}

/** A ledger transaction reason holds at most 4096 characters; the error (or why not) is cut to leave room. */
const MAX_ERROR_IN_REASON = 2000;

/**
 * One SQS batch is one `engine.schedule` call, so the batch's tasks are decided together and land in
 * as few blocks as the block size allows. A record carries one task (version 1 body) or several
 * (version 2); a record is acknowledged only when every task in it is settled: assigned, a
 * duplicate, or rejected and forwarded to the DLQ. Otherwise the whole record is delivered again,
 * and its settled tasks then come back as duplicates, which writes nothing.
 *
 * No message is lost, and every message that ends in the DLQ has a `rejected` transaction where one
 * can be written:
 * - A task recorded as `rejected` (it can never fit any VM of the fleet, matches no VM's labels, its
 *   deadline has passed) is forwarded to the DLQ with its task id, transaction id and reason as
 *   message attributes, and only then acknowledged. A single-task record is forwarded with its body
 *   unchanged; a task from a multi-task record as a single-task body of its own, never with its
 *   siblings. A rejection in a record that comes back anyway (a sibling is waiting) is forwarded at
 *   once, and once more by the delivery that settles the record, which cannot know whether the
 *   first forward landed: at most one extra copy, never none.
 *   If the forward fails the record is redelivered; the engine then finds the task already rejected
 *   and the handler forwards it again instead of acknowledging a duplicate.
 * - A task that would fit a VM of the fleet but finds no room free now is deferred: nothing is
 *   written, the record is reported as a batch item failure, and SQS delivers it again after the
 *   visibility timeout. On its last delivery (ApproximateReceiveCount >= maxReceiveCount) it is
 *   recorded as `rejected`, "no capacity after N deliveries: <why>", and forwarded to the DLQ.
 * - When the engine throws (the store is unavailable, compare-and-set attempts exhausted), every
 *   valid record of the batch is redelivered; the ledger's task records make the retry idempotent.
 *   On a record's last delivery the handler first records the task as `rejected`, "not committed
 *   after N deliveries: <error>", then reports the failure so SQS moves the message to the DLQ, or,
 *   for a multi-task record (whose other tasks may be placed), forwards that task alone and
 *   acknowledges the record. If even that commit fails, SQS moves the message as it is to the
 *   exhausted queue (the task queue's redrive target), whose batches this handler also consumes
 *   (`exhaustedQueueArn`): there the task is recorded as rejected and forwarded to the DLQ, or, while
 *   the store is still unavailable, left on the exhausted queue to be delivered again.
 * - A record whose body fails the queue-message schema is logged with its field errors, counted, and
 *   redelivered until SQS moves it to the exhausted queue, from which it is forwarded to the DLQ with
 *   its field errors as reason. No ledger transaction is written for it: without a valid body there
 *   is no trustworthy task id or requirement vector to record, and the ledger records decisions about
 *   tasks, not about transport damage (the enqueue function sends only validated tasks).
 */
export function schedulerHandler(deps: SchedulerDeps) {
  const schema = queueMessageBodySchema(deps.dimensions);
  const processor = new BatchProcessor(EventType.SQS);

  /** Outcomes by task id of what the engine decided, deferred or found already recorded. */
  function outcomesOf(result: ScheduleOutcome): Map<string, TaskOutcome> {
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

  /** The reason the ledger gives for an earlier rejection, or `fallback` if it cannot be read. */
  async function recordedReason(record: TaskRecord, fallback: string): Promise<string> {
    if (!deps.blocks) return fallback;
    try {
      const block = await deps.blocks.getBlock(record.block_height);
      const tx = block?.transactions.find((t) => t.transaction_id === record.transaction_id);
      return tx?.reason ?? fallback;
    } catch (err) {
      deps.logger.warn('could not read the recorded rejection reason', {
        taskId: record.task_id,
        error: err,
      });
      return fallback;
    }
  }

  /**
   * Records SQS moved off the task queue after maxReceiveCount deliveries: the scheduler's own
   * last-delivery rejection failed, so no decision is recorded. Each task is recorded as rejected now
   * (a duplicate when an earlier attempt did commit after all), and the handler forwards the
   * rejections to the DLQ. If the store is still unavailable the records stay on the exhausted queue,
   * delivered again after its visibility timeout until the commit succeeds: an accepted task ends in
   * the ledger or stays queued, never in the DLQ alone.
   */
  async function recordExhausted(batch: Batch): Promise<Map<string, TaskOutcome>> {
    const outcomes = new Map<string, TaskOutcome>();
    if (batch.tasks.length === 0) return outcomes;
    const reason = `not decided after ${deps.maxReceiveCount} deliveries: every scheduling attempt failed, and so did the rejection on the last one (the scheduler's log holds each error)`;
    try {
      const engine = await deps.engine();
      if (!engine.reject) throw new Error('this engine cannot record rejections');
      const result = await engine.reject(batch.tasks, reason);
      const decided = outcomesOf(result);
      for (const record of result.recorded ?? []) {
        const o = decided.get(record.task_id);
        if (o?.kind === 'rejected' && o.redelivered) o.reason = await recordedReason(record, o.reason);
      }
      for (const t of batch.tasks) {
        outcomes.set(
          t.id,
          decided.get(t.id) ?? { kind: 'failed', taskId: t.id, error: 'the engine returned no decision' },
        );
      }
      deps.logger.warn('recorded as rejected after the task queue gave up on them', {
        taskIds: batch.tasks.map((t) => t.id),
        rejected: result.decisions.map((d) => d.task.id),
        reason,
      });
    } catch (err) {
      deps.logger.error('could not record tasks the task queue gave up on; they stay queued', {
        taskIds: batch.tasks.map((t) => t.id),
        error: err,
      });
      const error = err instanceof Error ? err.message : String(err);
      for (const t of batch.tasks) outcomes.set(t.id, { kind: 'failed', taskId: t.id, error });
    }
    return outcomes;
  }

  /** The batch as the engine sees it: each task once, and the records that carry each. */
  interface Batch {
    parsed: ParsedRecord[];
    invalid: Map<string, FieldIssue[]>;
    tasks: Task[];
    holders: Map<string, ParsedRecord[]>;
    records: Map<string, SQSRecord>;
  }

  function readBatch(event: SQSEvent): Batch {
    const batch: Batch = {
      parsed: [],
      invalid: new Map(),
      tasks: [],
      holders: new Map(),
      records: new Map(),
    };
    for (const record of event.Records) {
      batch.records.set(record.messageId, record);
      const parsed = parseRecord(record, schema);
      if (Array.isArray(parsed)) {
        batch.invalid.set(record.messageId, parsed);
        deps.logger.warn('invalid queue message', { messageId: record.messageId, issues: parsed });
        continue;
      }
      batch.parsed.push(parsed);
      for (const task of parsed.tasks) {
        const holders = batch.holders.get(task.id);
        // The same task in two records (a redelivery overlapping the original): decide it once.
        if (holders) holders.push(parsed);
        else {
          batch.holders.set(task.id, [parsed]);
          batch.tasks.push(task);
        }
      }
    }
    return batch;
  }

  async function decide(batch: Batch): Promise<Map<string, TaskOutcome>> {
    const outcomes = new Map<string, TaskOutcome>();
    const { tasks } = batch;
    if (tasks.length === 0) return outcomes;
    try {
      const engine = await deps.engine();
      const result = await engine.schedule(tasks);
      const decided = outcomesOf(result);
      for (const record of result.recorded ?? []) {
        const o = decided.get(record.task_id);
        if (o?.kind === 'rejected' && o.redelivered) o.reason = await recordedReason(record, o.reason);
      }
      for (const t of tasks) {
        // The engine must account for every task it was given; one it forgot is retried, not lost.
        outcomes.set(
          t.id,
          decided.get(t.id) ?? {
            kind: 'failed',
            taskId: t.id,
            error: 'the engine returned no decision for this task',
          },
        );
      }
      deps.logger.info('batch scheduled', {
        records: batch.parsed.length,
        tasks: tasks.length,
        blocks: result.blocks.map((b) => b.height),
        head: result.head,
        attempts: result.attempts,
        // One entry per committed transaction, so a task's decision is found in the logs by either id.
        decisions: result.blocks.flatMap((b) =>
          b.transactions.map((t) => ({
            taskId: t.task_id,
            transactionId: t.transaction_id,
            status: t.status,
            vmId: t.vm_id,
            height: b.height,
          })),
        ),
      });
      deps.metrics.addMetric('CompareAndSetAttempts', 'Count', result.attempts);
      // Instances the engine left out (unreadable metadata or metrics, or a record it refuses): the
      // batch was scheduled on the rest; say which and why, every batch, so an alarm can follow it.
      const quarantined = result.quarantined ?? [];
      deps.metrics.addMetric('VmsQuarantined', 'Count', quarantined.length);
      if (quarantined.length > 0) deps.logger.warn('VMs quarantined: not placed on', { quarantined });
    } catch (err) {
      deps.logger.error('schedule failed; the batch will be redelivered', { error: err });
      const error = err instanceof Error ? err.message : String(err);
      for (const t of tasks) outcomes.set(t.id, { kind: 'failed', taskId: t.id, error });
    }
    await rejectOnLastDelivery(batch, outcomes);
    const deferred = tasks.filter((t) => outcomes.get(t.id)?.kind === 'deferred').map((t) => t.id);
    if (deferred.length > 0) {
      deps.logger.info('tasks deferred: no VM has the room free now; SQS delivers them again', {
        taskIds: deferred,
      });
    }
    return outcomes;
  }

  /**
   * Tasks still unsettled on their last delivery are recorded as rejected before they leave the
   * queue. A deferred task, or any task of a multi-task record, then becomes a rejection the handler
   * forwards itself; a single-task record whose commit failed stays a failure, so SQS moves it. One
   * the ledger turns out to hold as placed (the failed commit did land) is a duplicate instead.
   */
  async function rejectOnLastDelivery(batch: Batch, outcomes: Map<string, TaskOutcome>): Promise<void> {
    const byReason = new Map<string, Task[]>();
    for (const t of batch.tasks) {
      const outcome = outcomes.get(t.id)!;
      if (outcome.kind !== 'failed' && outcome.kind !== 'deferred') continue;
      const holders = batch.holders.get(t.id)!;
      const deliveries = Math.max(...holders.map((h) => receiveCount(h.record)));
      if (deliveries < deps.maxReceiveCount) continue;
      const reason =
        outcome.kind === 'deferred'
          ? `no capacity after ${deliveries} deliveries: ${outcome.reason.slice(0, MAX_ERROR_IN_REASON)}`
          : `not committed after ${deliveries} deliveries: ${outcome.error.slice(0, MAX_ERROR_IN_REASON)}`;
      byReason.set(reason, [...(byReason.get(reason) ?? []), t]);
    }
    for (const [reason, last] of byReason) {
      const taskIds = last.map((t) => t.id);
      try {
        const engine = await deps.engine();
        if (!engine.reject) throw new Error('this engine cannot record rejections');
        const result = await engine.reject(last, reason);
        for (const [taskId, outcome] of outcomesOf(result)) {
          const before = outcomes.get(taskId)!;
          const shared = batch.holders.get(taskId)!.some((h) => h.tasks.length > 1);
          if (outcome.kind === 'duplicate' || before.kind === 'deferred' || shared) {
            outcomes.set(taskId, outcome);
          }
        }
        deps.logger.warn('recorded as rejected on the last delivery', {
          taskIds,
          reason,
          rejected: result.decisions.map((d) => d.task.id),
        });
      } catch (err) {
        deps.logger.error(
          'could not record the rejection; SQS moves the messages to the exhausted queue, where they are recorded',
          {
            taskIds,
            reason,
            error: err,
          },
        );
      }
    }
  }

  /**
   * Settles each record: one with an unsettled task is delivered again; the rest are acknowledged
   * once their rejected tasks are forwarded to the DLQ, or delivered again if a forward failed.
   * Fresh rejections are forwarded at once either way, so the DLQ shows them while a sibling waits.
   */
  async function settleRecords(
    batch: Batch,
    outcomes: Map<string, TaskOutcome>,
    exhausted: boolean,
  ): Promise<Map<string, RecordOutcome>> {
    const byRecord = new Map<string, RecordOutcome>();
    const letters: DeadLetter[] = [];
    for (const [messageId, issues] of batch.invalid) {
      // Off the task queue, an invalid record has had its deliveries: it goes to the DLQ as it is,
      // with its field errors and no transaction (there is no trustworthy task to record).
      byRecord.set(messageId, exhausted ? { kind: 'settled', tasks: [] } : { kind: 'invalid', issues });
      if (!exhausted) continue;
      const record = batch.records.get(messageId)!;
      letters.push({
        messageId,
        body: record.body,
        reason: `invalid queue message: ${issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; ')}`,
      });
    }
    for (const { record, tasks } of batch.parsed) {
      const mine = tasks.map((t) => outcomes.get(t.id)!);
      const settled = mine.every((o) => !UNSETTLED.has(o.kind));
      byRecord.set(record.messageId, { kind: settled ? 'settled' : 'redeliver', tasks: mine });
      tasks.forEach((task, i) => {
        const o = mine[i]!;
        // A record coming back anyway forwards only fresh rejections: one found already rejected
        // is forwarded by the delivery that settles the record (it may have been lost before).
        if (o.kind !== 'rejected' || (!settled && o.redelivered)) return;
        const single = tasks.length === 1;
        letters.push({
          // Results come back by this key; a task of a multi-task record gets one of its own.
          messageId: single ? record.messageId : `${record.messageId}/${task.id}`,
          body: single ? record.body : JSON.stringify(toQueueMessage(task)),
          taskId: o.taskId,
          transactionId: o.transactionId,
          reason: o.reason,
        });
      });
    }
    if (letters.length === 0) return byRecord;
    let failed: { messageId: string; reason: string }[];
    try {
      ({ failed } = await deps.deadLetters.send(letters));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      failed = letters.map((l) => ({ messageId: l.messageId, reason }));
    }
    for (const f of failed) {
      const messageId = f.messageId.split('/')[0]!;
      const o = byRecord.get(messageId);
      if (o?.kind === 'settled') byRecord.set(messageId, { kind: 'redeliver', tasks: o.tasks });
    }
    if (failed.length > 0) {
      deps.logger.error('could not forward rejected tasks to the DLQ; they will be redelivered', {
        failed,
      });
    }
    deps.metrics.addMetric('DeadLettersForwarded', 'Count', letters.length - failed.length);
    return byRecord;
  }

  function countDecisions(batch: Batch, outcomes: Map<string, TaskOutcome>): void {
    const counts = { assigned: 0, rejected: 0, duplicate: 0, deferred: 0 };
    for (const o of outcomes.values()) {
      if (o.kind === 'assigned') counts.assigned++;
      else if (o.kind === 'rejected' && !o.redelivered) counts.rejected++;
      else if (o.kind === 'rejected' || o.kind === 'duplicate') counts.duplicate++;
      else if (o.kind === 'deferred') counts.deferred++;
    }
    deps.metrics.addMetric('TasksAssigned', 'Count', counts.assigned);
    deps.metrics.addMetric('TasksRejected', 'Count', counts.rejected);
    deps.metrics.addMetric('TasksDuplicate', 'Count', counts.duplicate);
    deps.metrics.addMetric('TasksDeferred', 'Count', counts.deferred);
    deps.metrics.addMetric('InvalidMessages', 'Count', batch.invalid.size);
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batch = readBatch(event);
    // An event source mapping hands a function batches of one queue at a time.
    const exhausted =
      deps.exhaustedQueueArn !== undefined && event.Records[0]?.eventSourceARN === deps.exhaustedQueueArn;
    const outcomes = exhausted ? await recordExhausted(batch) : await decide(batch);
    countDecisions(batch, outcomes);
    const byRecord = await settleRecords(batch, outcomes, exhausted);
    const redelivered = [...byRecord.values()].filter((o) => o.kind !== 'settled').length;
    deps.metrics.addMetric('RecordsRedelivered', 'Count', redelivered);
    deps.metrics.publishStoredMetrics();
    // Powertools turns the thrown errors into batchItemFailures, one per record to redeliver.
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const outcome = byRecord.get(record.messageId);
        if (outcome?.kind !== 'settled') {
          throw new RecordNotScheduledError(JSON.stringify(outcome ?? { kind: 'unknown' }));
        }
        return outcome;
      },
      processor,
      { context, throwOnFullBatchFailure: false },
    );
  };
}

/** SQS counts deliveries from 1; a record without the attribute is treated as a first delivery. */
function receiveCount(record: SQSRecord): number {
  const n = Number(record.attributes.ApproximateReceiveCount);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
