import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type QueueBatchDeps, settleQueueBatch } from '../../lib/engine/queue-batch';
import type { Delivery, InvalidDelivery } from '../../lib/engine/settlement';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import type { Dimensions } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { LogSink } from '../../lib/ports/observability';
import {
  type MultiTaskQueueMessage,
  type QueueMessage,
  queueMessageBodySchema,
  tasksOf,
} from '../../lib/schemas/queue-message';

export interface SchedulerDeps extends QueueBatchDeps {
  dimensions: Dimensions;
  /**
   * ARN of the queue SQS moves a task-queue message to after maxReceiveCount deliveries (its redrive
   * target). A batch from it holds tasks that were accepted but never decided, not even rejected on
   * their last delivery (that commit failed too): each is recorded as rejected, then forwarded to the
   * dead-letter queue; one that cannot be recorded yet stays on this queue and is delivered again.
   */
  exhaustedQueueArn?: string;
}

export class RecordNotScheduledError extends Error {
  override name = 'RecordNotScheduledError';
}

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
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deliveries = event.Records.map((record) => delivery(record, schema, deps.logger));
    // An event source mapping hands a function batches of one queue at a time.
    const exhausted =
      deps.exhaustedQueueArn !== undefined && event.Records[0]?.eventSourceARN === deps.exhaustedQueueArn;
    const byRecord = await settleQueueBatch(deps, deliveries, exhausted);
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

/** A record as the settlement policy sees it: its tasks (one, or several in a version 2 body), or its field errors. */
function delivery(
  record: SQSRecord,
  schema: ReturnType<typeof queueMessageBodySchema>,
  logger: LogSink,
): Delivery | InvalidDelivery {
  const common = { id: record.messageId, body: record.body };
  const parsed = parseBody(record.body, schema);
  if ('tasks' in parsed) return { ...common, receiveCount: receiveCount(record), tasks: parsed.tasks };
  logger.warn('invalid queue message', { messageId: record.messageId, issues: parsed.issues });
  return { ...common, issues: parsed.issues };
}

function parseBody(
  text: string,
  schema: ReturnType<typeof queueMessageBodySchema>,
): { tasks: Task[] } | { issues: FieldIssue[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { issues: [{ field: '', message: 'message body is not valid JSON' }] };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { issues: ValidationError.fromZod(parsed.error).issues };
  return { tasks: tasksOf(parsed.data as QueueMessage | MultiTaskQueueMessage) };
}

/** SQS counts deliveries from 1; a record without the attribute is treated as a first delivery. */
function receiveCount(record: SQSRecord): number {
  const n = Number(record.attributes.ApproximateReceiveCount);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
