import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { settleCompletions } from '../../lib/engine/completions';
import type { CloseOutcome, Engine } from '../../lib/engine/types';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import type { Clock } from '../../lib/ports/clock';
import type { LogSink, MetricSink } from '../../lib/ports/observability';
import { type CompletionMessage, completionMessageSchema } from '../../lib/schemas/completion';

export interface CompletionsDeps {
  engine: () => Engine | Promise<Engine>;
  logger: LogSink;
  metrics: MetricSink;
  clock: Clock;
}

/** What became of one completion message. */
export type CompletionOutcome =
  | { kind: CloseOutcome['status']; messageId: string; taskId: string }
  | { kind: 'invalid'; messageId: string; issues: FieldIssue[] }
  | { kind: 'failed'; messageId: string; taskId: string; error: string };

function parse(record: SQSRecord): CompletionMessage | FieldIssue[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return [{ field: '', message: 'message body is not valid JSON' }];
  }
  const parsed = completionMessageSchema.safeParse(body);
  return parsed.success ? parsed.data : ValidationError.fromZod(parsed.error).issues;
}

/**
 * Consumes the completion queue (the API and command-status functions send to it; they may not write
 * the chain). A batch is settled with one `settleCompletions`, so completions reported together
 * land in as few blocks as the block size allows. The queue is a standard one: a message delivered
 * twice, or two reports of the same task, find the task final the second time and write nothing, so
 * a completion is recorded at most once.
 *
 * - closed, already-final, unknown: acknowledged (unknown cannot come from our senders, which check
 *   the task is assigned first; it is logged and counted).
 * - the engine throws (store unavailable, compare-and-set exhausted): every valid record is
 *   reported as a batch item failure and delivered again; after maxReceiveCount SQS moves it to the
 *   completion dead-letter queue, whose alarm fires, and the lease expiry closes the task meanwhile.
 * - a body that fails the schema: logged with its field errors and left to SQS, which moves it to
 *   the dead-letter queue after maxReceiveCount (nothing is written for it).
 */
export function completionsHandler(deps: CompletionsDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const outcomes: CompletionOutcome[] = [];
    const valid: { record: SQSRecord; message: CompletionMessage }[] = [];
    for (const record of event.Records) {
      const parsed = parse(record);
      if (Array.isArray(parsed)) {
        outcomes.push({ kind: 'invalid', messageId: record.messageId, issues: parsed });
        deps.logger.warn('invalid completion message', { messageId: record.messageId, issues: parsed });
      } else valid.push({ record, message: parsed });
    }
    if (valid.length > 0) {
      try {
        const closed = await settleCompletions(
          await deps.engine(),
          valid.map(({ message }) => ({ task_id: message.task_id, body: message.body })),
        );
        valid.forEach(({ record, message }, i) => {
          outcomes.push({ kind: closed[i]!.status, messageId: record.messageId, taskId: message.task_id });
        });
        const now = deps.clock.now();
        deps.metrics.addMetric(
          'CompletionQueueDelayMs',
          'Milliseconds',
          Math.max(0, ...valid.map(({ message }) => now - message.sent_at)),
        );
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        deps.logger.error('completions not recorded; the batch will be delivered again', { error: err });
        for (const { record, message } of valid) {
          outcomes.push({ kind: 'failed', messageId: record.messageId, taskId: message.task_id, error });
        }
      }
    }
    const count = (kind: CompletionOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
    deps.metrics.addMetric('CompletionsRecorded', 'Count', count('closed'));
    deps.metrics.addMetric('CompletionsAlreadyFinal', 'Count', count('already-final'));
    deps.metrics.addMetric('CompletionsUnknown', 'Count', count('unknown'));
    deps.metrics.addMetric('InvalidCompletionMessages', 'Count', count('invalid'));
    deps.metrics.publishStoredMetrics();
    const unknown = outcomes.filter((o) => o.kind === 'unknown');
    if (unknown.length > 0) deps.logger.warn('completions of tasks never assigned', { outcomes: unknown });
    deps.logger.info('completions settled', { outcomes });
    return {
      batchItemFailures: outcomes
        .filter((o) => o.kind === 'invalid' || o.kind === 'failed')
        .map((o) => ({ itemIdentifier: o.messageId })),
    };
  };
}
