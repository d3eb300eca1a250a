import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Engine } from '../../lib/engine/types';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import type { Dimensions } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import { queueMessageSchema } from '../../lib/schemas/queue-message';
import type { LogSink, MetricSink } from '../shared/observability';

export interface SchedulerDeps {
  /** The engine, built on first use and kept for the warm container. */
  engine: () => Engine | Promise<Engine>;
  dimensions: Dimensions;
  logger: LogSink;
  metrics: MetricSink;
}

/** What became of one SQS record in this invocation. */
export type RecordOutcome =
  | { kind: 'assigned'; taskId: string; vmId: string }
  | { kind: 'rejected'; taskId: string; reason: string }
  | { kind: 'duplicate'; taskId: string }
  | { kind: 'invalid'; issues: FieldIssue[] }
  | { kind: 'failed'; taskId: string; error: string };

/** Records that SQS must deliver again: the engine could not commit, or the body is unreadable. */
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

/**
 * One SQS batch is one `engine.schedule` call, so the batch's tasks are decided together and land in
 * as few blocks as the block size allows.
 *
 * A record whose body fails the queue-message schema is logged with its field errors, counted, and
 * reported as a batch item failure: SQS redelivers it until maxReceiveCount and then moves it to the
 * DLQ, whose alarm makes it visible. No ledger transaction is written for it: without a valid body
 * there is no trustworthy task id or requirement vector to record, and the ledger records decisions
 * about tasks, not about transport damage.
 *
 * When the engine throws (the store is unavailable, compare-and-set attempts exhausted), every
 * valid record of the batch is reported as failed and redelivered; the ledger's task records make
 * the retry idempotent.
 */
export function schedulerHandler(deps: SchedulerDeps) {
  const schema = queueMessageSchema(deps.dimensions);
  const processor = new BatchProcessor(EventType.SQS);

  async function decide(event: SQSEvent): Promise<Map<string, RecordOutcome>> {
    const outcomes = new Map<string, RecordOutcome>();
    const byTask = new Map<string, string[]>();
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
        holders.push(record.messageId);
        continue;
      }
      byTask.set(parsed.id, [record.messageId]);
      tasks.push(parsed);
    }
    if (tasks.length === 0) return outcomes;

    const mark = (taskId: string, outcome: RecordOutcome) => {
      for (const messageId of byTask.get(taskId) ?? []) outcomes.set(messageId, outcome);
    };
    try {
      const engine = await deps.engine();
      const result = await engine.schedule(tasks);
      for (const d of result.decisions) {
        mark(
          d.task.id,
          d.status === 'assigned' && d.vmId !== null
            ? { kind: 'assigned', taskId: d.task.id, vmId: d.vmId }
            : { kind: 'rejected', taskId: d.task.id, reason: d.reason },
        );
      }
      for (const id of result.duplicates) mark(id, { kind: 'duplicate', taskId: id });
      for (const t of tasks) {
        if (!outcomes.has(byTask.get(t.id)![0]!)) {
          // The engine must account for every task it was given; one it forgot is retried, not lost.
          mark(t.id, {
            kind: 'failed',
            taskId: t.id,
            error: 'the engine returned no decision for this task',
          });
        }
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
    return outcomes;
  }

  function count(outcomes: Map<string, RecordOutcome>): void {
    const totals: Record<RecordOutcome['kind'], number> = {
      assigned: 0,
      rejected: 0,
      duplicate: 0,
      invalid: 0,
      failed: 0,
    };
    for (const o of outcomes.values()) totals[o.kind]++;
    deps.metrics.addMetric('TasksAssigned', 'Count', totals.assigned);
    deps.metrics.addMetric('TasksRejected', 'Count', totals.rejected);
    deps.metrics.addMetric('TasksDuplicate', 'Count', totals.duplicate);
    deps.metrics.addMetric('InvalidMessages', 'Count', totals.invalid);
    deps.metrics.addMetric('RecordsRedelivered', 'Count', totals.invalid + totals.failed);
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const outcomes = await decide(event);
    count(outcomes);
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
