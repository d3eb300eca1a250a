import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Task } from '../../lib/model/task';
import { TASK_ID_ATTRIBUTE, toQueueMessage } from '../../lib/schemas/queue-message';

/** SQS limits for one SendMessageBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface SendResult {
  /** Task ids SQS accepted. */
  sent: string[];
  /** Task ids SQS refused after the retry, with its reason. */
  failed: { id: string; reason: string }[];
}

/** Publishes tasks to the task queue. The port the enqueue handler depends on. */
export interface TaskSender {
  send(tasks: readonly Task[]): Promise<SendResult>;
}

type Entry = SendMessageBatchRequestEntry & { Id: string; MessageBody: string };

/**
 * Chunks by SQS's two batch limits (10 entries, 256 KiB in total) so that one large request never
 * fails as a whole. Entry ids are positions, because task ids may hold characters SQS refuses in an
 * entry id; the task id travels as a message attribute.
 */
export function chunkEntries(entries: readonly Entry[]): Entry[][] {
  const chunks: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody) + TASK_ID_ATTRIBUTE.length + 64;
    if (
      current.length === SQS_MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + size > SQS_MAX_BATCH_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class SqsTaskSender implements TaskSender {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(tasks: readonly Task[]): Promise<SendResult> {
    const entries: Entry[] = tasks.map((task, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(toQueueMessage(task)),
      MessageAttributes: { [TASK_ID_ATTRIBUTE]: { DataType: 'String', StringValue: task.id } },
    }));
    const result: SendResult = { sent: [], failed: [] };
    for (const chunk of chunkEntries(entries)) {
      let pending = chunk;
      // One retry of the entries SQS refused: batch failures are mostly throttling, and the
      // ledger's task records make a duplicate harmless if a "failed" send did land.
      for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt++) {
        const out = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
        for (const ok of out.Successful ?? []) result.sent.push(tasks[Number(ok.Id)]!.id);
        const refused = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        pending = pending.filter((e) => refused.has(e.Id));
        if (attempt === 2) {
          for (const e of pending) {
            const f = refused.get(e.Id)!;
            result.failed.push({
              id: tasks[Number(e.Id)]!.id,
              reason: `${f.Code}: ${f.Message ?? ''}`.trim(),
            });
          }
        }
      }
    }
    return result;
  }
}
