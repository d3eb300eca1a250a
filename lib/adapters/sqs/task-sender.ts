import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ValidationError } from '../../errors';
import type { Task } from '../../model/task';
import type { SendResult, TaskSender } from '../../ports/task-sender';
import {
  DEFAULT_TASKS_PER_MESSAGE,
  MAX_TASKS_PER_MESSAGE,
  TASK_ID_ATTRIBUTE,
  TASK_IDS_ATTRIBUTE,
  toMultiTaskMessage,
  toQueueMessage,
} from '../../schemas/queue-message';

/** SQS limits for one SendMessageBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 256 * 1024;
/** SQS's limit on one message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

export { DEFAULT_TASKS_PER_MESSAGE } from '../../schemas/queue-message';

type Entry = SendMessageBatchRequestEntry & { Id: string; MessageBody: string };

/** What SQS counts towards its size limits: the body and each attribute's name, type and value. */
export function entryBytes(entry: Entry): number {
  let bytes = Buffer.byteLength(entry.MessageBody);
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

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
    // 64 bytes of slack per entry for its id and framing.
    const size = entryBytes(entry) + 64;
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

/** One message's body and attributes for `tasks`: the single-task shape when there is one. */
function messageEntry(id: string, tasks: readonly Task[]): Entry {
  if (tasks.length === 1) {
    return {
      Id: id,
      MessageBody: JSON.stringify(toQueueMessage(tasks[0]!)),
      MessageAttributes: { [TASK_ID_ATTRIBUTE]: { DataType: 'String', StringValue: tasks[0]!.id } },
    };
  }
  return {
    Id: id,
    MessageBody: JSON.stringify(toMultiTaskMessage([...tasks])),
    MessageAttributes: {
      [TASK_IDS_ATTRIBUTE]: { DataType: 'String', StringValue: JSON.stringify(tasks.map((t) => t.id)) },
    },
  };
}

/**
 * Packs consecutive tasks into messages of at most `perMessage` tasks and `maxBytes` (body and
 * attributes, as SQS counts them). A task too large for a message even alone still gets one: SQS
 * refuses it, and that task alone is reported failed.
 */
export function packMessages(
  tasks: readonly Task[],
  perMessage: number,
  maxBytes = SQS_MAX_MESSAGE_BYTES,
): { entry: Entry; tasks: Task[] }[] {
  const messages: { entry: Entry; tasks: Task[] }[] = [];
  let group: Task[] = [];
  const close = () => {
    if (group.length > 0)
      messages.push({ entry: messageEntry(String(messages.length), group), tasks: group });
    group = [];
  };
  for (const task of tasks) {
    if (group.length === perMessage) close();
    // Re-measuring the candidate is quadratic in the group, but groups are small (25 by default).
    if (group.length > 0 && entryBytes(messageEntry('0', [...group, task])) > maxBytes) close();
    group.push(task);
  }
  close();
  return messages;
}

export interface SqsTaskSenderOptions {
  /** Most tasks per message; default DEFAULT_TASKS_PER_MESSAGE. 1 sends the single-task shape only. */
  tasksPerMessage?: number;
}

export class SqsTaskSender implements TaskSender {
  private readonly tasksPerMessage: number;

  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    options: SqsTaskSenderOptions = {},
  ) {
    const k = options.tasksPerMessage ?? DEFAULT_TASKS_PER_MESSAGE;
    if (!(Number.isInteger(k) && k >= 1 && k <= MAX_TASKS_PER_MESSAGE)) {
      throw new ValidationError(
        [
          {
            field: 'tasksPerMessage',
            message: `must be an integer from 1 to ${MAX_TASKS_PER_MESSAGE}, got ${k}`,
          },
        ],
        'invalid task sender options',
      );
    }
    this.tasksPerMessage = k;
  }

  /** Packs the tasks into as few messages as the limits allow; reports by task id. */
  async send(tasks: readonly Task[]): Promise<SendResult> {
    const messages = packMessages(tasks, this.tasksPerMessage);
    const entries = messages.map((m) => m.entry);
    const idsOf = (entryId: string) => messages[Number(entryId)]!.tasks.map((t) => t.id);
    const result: SendResult = { sent: [], failed: [] };
    for (const chunk of chunkEntries(entries)) {
      let pending = chunk;
      // One retry of the entries SQS refused: batch failures are mostly throttling, and the
      // ledger's task records make a duplicate harmless if a "failed" send did land.
      for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt++) {
        const out = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
        for (const ok of out.Successful ?? []) result.sent.push(...idsOf(ok.Id!));
        const refused = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        pending = pending.filter((e) => refused.has(e.Id));
        if (attempt === 2) {
          for (const e of pending) {
            const f = refused.get(e.Id)!;
            const reason = `${f.Code}: ${f.Message ?? ''}`.trim();
            for (const id of idsOf(e.Id)) result.failed.push({ id, reason });
          }
        }
      }
    }
    return result;
  }
}
