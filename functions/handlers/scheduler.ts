import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Engine, ScheduleOutcome } from '../../lib/engine/types';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import { transactionId } from '../../lib/ledger';
import type { Dimensions } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { LedgerStore, TaskRecord } from '../../lib/ports/ledger-store';
import { queueMessageSchema } from '../../lib/schemas/queue-message';
import type { DeadLetter, DeadLetterSender } from '../shared/dead-letter-sender';
import type { LogSink, MetricSink } from '../shared/observability';

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
   * Where a redelivered, already rejected task's reason is read from (its block), for the DLQ
   * attribute. Without it the attribute names the block, and the transaction holds the reason.
   */
  blocks?: Pick<LedgerStore, 'getBlock'>;
}

/** What became of one SQS record in this invocation. */
export type RecordOutcome =
  | { kind: 'assigned'; taskId: string; vmId: string }
  /** Recorded as rejected (now, or by an earlier delivery when `redelivered`): forwarded to the DLQ. */
  | { kind: 'rejected'; taskId: string; transactionId: string; reason: string; redelivered: boolean }
  | { kind: 'duplicate'; taskId: string }
  | { kind: 'invalid'; issues: FieldIssue[] }
  | { kind: 'failed'; taskId: string; error: string };

/**
 * Records that SQS must deliver again: the engine could not commit, the body is unreadable, or the
 * forward to the DLQ failed. On the last delivery SQS moves them to the DLQ itself.
 */
const REDELIVER: ReadonlySet<RecordOutcome['kind']> = new Set(['invalid', 'failed']);

export class RecordNotScheduledError extends Error {
  override name = 'RecordNotScheduledError';
}

function parseRecord(record: SQSRecord, schema: ReturnType<typeof queueMessageSchema>): Task | FieldIssue[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return [{ field: '', message: 'message body is not valid JSON' }];
  }
  const parsed = schema.safeParse(body);
  return parsed.success ? (parsed.data.task as Task) : ValidationError.fromZod(parsed.error).issues;
}

/** A ledger transaction reason holds at most 4096 characters; the error is cut to leave room. */
const MAX_ERROR_IN_REASON = 2000;

/**
 * One SQS batch is one `engine.schedule` call, so the batch's tasks are decided together and land in
 * as few blocks as the block size allows.
 *
 * No message is lost, and every message that ends in the DLQ has a `rejected` transaction where one
 * can be written:
 * - A task recorded as `rejected` (it fits no VM, its deadline has passed) is forwarded to the DLQ
 *   with its task id, transaction id and reason as message attributes, and only then acknowledged.
 *   If the forward fails the record is redelivered; the engine then finds the task already rejected
 *   and the handler forwards it again instead of acknowledging a duplicate.
 * - When the engine throws (the store is unavailable, compare-and-set attempts exhausted), every
 *   valid record of the batch is redelivered; the ledger's task records make the retry idempotent.
 *   On a record's last delivery (ApproximateReceiveCount >= maxReceiveCount) the handler first
 *   records the task as `rejected`, "not committed after N deliveries: <error>", then reports the
 *   failure so SQS moves the message to the DLQ. If even that commit fails, SQS still moves it.
 * - A record whose body fails the queue-message schema is logged with its field errors, counted, and
 *   redelivered until SQS moves it to the DLQ. No ledger transaction is written for it: without a
 *   valid body there is no trustworthy task id or requirement vector to record, and the ledger
 *   records decisions about tasks, not about transport damage.
 */
export function schedulerHandler(deps: SchedulerDeps) {
  const schema = queueMessageSchema(deps.dimensions);
  const processor = new BatchProcessor(EventType.SQS);

  /** Outcomes by task id of what the engine decided or found already recorded. */
  function outcomesOf(result: ScheduleOutcome): Map<string, RecordOutcome> {
    const byTask = new Map<string, RecordOutcome>();
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

  async function decide(event: SQSEvent): Promise<Map<string, RecordOutcome>> {
    const outcomes = new Map<string, RecordOutcome>();
    const byTask = new Map<string, SQSRecord[]>();
    const tasks: Task[] = [];
    for (const record of event.Records) {
      const parsed = parseRecord(record, schema);
      if (Array.isArray(parsed)) {
        outcomes.set(record.messageId, { kind: 'invalid', issues: parsed });
        deps.logger.warn('invalid queue message', { messageId: record.messageId, issues: parsed });
        continue;
      }
      const holders = byTask.get(parsed.id);
      if (holders) {
        // The same task twice in one batch (a redelivery overlapping the original): decide it once.
        holders.push(record);
        continue;
      }
      byTask.set(parsed.id, [record]);
      tasks.push(parsed);
    }
    if (tasks.length === 0) return outcomes;

    const mark = (taskId: string, outcome: RecordOutcome) => {
      for (const record of byTask.get(taskId) ?? []) outcomes.set(record.messageId, outcome);
    };
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
        mark(
          t.id,
          decided.get(t.id) ?? {
            kind: 'failed',
            taskId: t.id,
            error: 'the engine returned no decision for this task',
          },
        );
      }
      deps.logger.info('batch scheduled', {
        tasks: tasks.length,
        blocks: result.blocks.map((b) => b.height),
        head: result.head,
        attempts: result.attempts,
      });
      deps.metrics.addMetric('CompareAndSetAttempts', 'Count', result.attempts);
    } catch (err) {
      deps.logger.error('schedule failed; the batch will be redelivered', { error: err });
      const error = err instanceof Error ? err.message : String(err);
      for (const t of tasks) mark(t.id, { kind: 'failed', taskId: t.id, error });
    }
    await rejectOnLastDelivery(tasks, byTask, outcomes);
    return outcomes;
  }

  /**
   * Tasks that failed on their last delivery are recorded as rejected before SQS dead-letters them.
   * Their records stay failures either way; one the ledger turns out to hold as placed (the failed
   * commit did land) is acknowledged as a duplicate instead, since it was scheduled.
   */
  async function rejectOnLastDelivery(
    tasks: Task[],
    byTask: Map<string, SQSRecord[]>,
    outcomes: Map<string, RecordOutcome>,
  ): Promise<void> {
    const byReason = new Map<string, Task[]>();
    for (const t of tasks) {
      const records = byTask.get(t.id)!;
      const outcome = outcomes.get(records[0]!.messageId);
      if (outcome?.kind !== 'failed') continue;
      const deliveries = Math.max(...records.map(receiveCount));
      if (deliveries < deps.maxReceiveCount) continue;
      const reason = `not committed after ${deliveries} deliveries: ${outcome.error.slice(0, MAX_ERROR_IN_REASON)}`;
      byReason.set(reason, [...(byReason.get(reason) ?? []), t]);
    }
    for (const [reason, last] of byReason) {
      const taskIds = last.map((t) => t.id);
      try {
        const engine = await deps.engine();
        if (!engine.reject) throw new Error('this engine cannot record rejections');
        const result = await engine.reject(last, reason);
        for (const [taskId, outcome] of outcomesOf(result)) {
          if (outcome.kind === 'duplicate') {
            for (const r of byTask.get(taskId)!) outcomes.set(r.messageId, { kind: 'duplicate', taskId });
          }
        }
        deps.logger.warn('recorded as rejected on the last delivery; SQS moves the messages to the DLQ', {
          taskIds,
          reason,
          rejected: result.decisions.map((d) => d.task.id),
        });
      } catch (err) {
        deps.logger.error('could not record the rejection; SQS moves the messages to the DLQ without one', {
          taskIds,
          reason,
          error: err,
        });
      }
    }
  }

  /** Forwards every rejected record to the DLQ; those that did not get there become failures. */
  async function forwardRejected(event: SQSEvent, outcomes: Map<string, RecordOutcome>): Promise<void> {
    const letters: DeadLetter[] = [];
    for (const record of event.Records) {
      const o = outcomes.get(record.messageId);
      if (o?.kind !== 'rejected') continue;
      letters.push({
        messageId: record.messageId,
        body: record.body,
        taskId: o.taskId,
        transactionId: o.transactionId,
        reason: o.reason,
      });
    }
    if (letters.length === 0) return;
    let failed: { messageId: string; reason: string }[];
    try {
      ({ failed } = await deps.deadLetters.send(letters));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      failed = letters.map((l) => ({ messageId: l.messageId, reason }));
    }
    for (const f of failed) {
      const o = outcomes.get(f.messageId) as Extract<RecordOutcome, { kind: 'rejected' }>;
      outcomes.set(f.messageId, {
        kind: 'failed',
        taskId: o.taskId,
        error: `not forwarded to the dead-letter queue: ${f.reason}`,
      });
    }
    if (failed.length > 0) {
      deps.logger.error('could not forward rejected tasks to the DLQ; they will be redelivered', {
        failed,
      });
    }
    deps.metrics.addMetric('DeadLettersForwarded', 'Count', letters.length - failed.length);
  }

  function countDecisions(outcomes: Map<string, RecordOutcome>): void {
    let assigned = 0;
    let rejected = 0;
    let duplicate = 0;
    let invalid = 0;
    for (const o of outcomes.values()) {
      if (o.kind === 'assigned') assigned++;
      else if (o.kind === 'rejected' && !o.redelivered) rejected++;
      else if (o.kind === 'rejected' || o.kind === 'duplicate') duplicate++;
      else if (o.kind === 'invalid') invalid++;
    }
    deps.metrics.addMetric('TasksAssigned', 'Count', assigned);
    deps.metrics.addMetric('TasksRejected', 'Count', rejected);
    deps.metrics.addMetric('TasksDuplicate', 'Count', duplicate);
    deps.metrics.addMetric('InvalidMessages', 'Count', invalid);
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const outcomes = await decide(event);
    countDecisions(outcomes);
    await forwardRejected(event, outcomes);
    const redelivered = [...outcomes.values()].filter((o) => REDELIVER.has(o.kind)).length;
    deps.metrics.addMetric('RecordsRedelivered', 'Count', redelivered);
    deps.metrics.publishStoredMetrics();
    // Powertools turns the thrown errors into batchItemFailures, one per record to redeliver.
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const outcome = outcomes.get(record.messageId);
        if (outcome === undefined || REDELIVER.has(outcome.kind)) {
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
