import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterSender } from '../../ports/dead-letter-sender';
import { TASK_ID_ATTRIBUTE } from '../../schemas/queue-message';
import { chunkEntries } from './task-sender';

/** Message attributes a forwarded dead letter carries, so operators can triage without parsing. */
export const DEAD_LETTER_ATTRIBUTES = {
  taskId: TASK_ID_ATTRIBUTE,
  transactionId: 'transactionId',
  reason: 'reason',
} as const;

/** SQS refuses a string attribute value over 256 KiB with the body; reasons are far shorter, keep them so. */
const MAX_REASON_ATTRIBUTE = 1024;

/**
 * The scheduler moves a message to the DLQ itself (instead of letting SQS do it after
 * maxReceiveCount deliveries) when it knows at the first delivery that the task can never be placed.
 * A send that throws or an entry SQS refuses twice is reported, never swallowed: the caller leaves
 * that record on the task queue to be delivered again.
 */
export class SqsDeadLetterSender implements DeadLetterSender {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<{ failed: { messageId: string; reason: string }[] }> {
    const entries = letters.map((letter, i) => ({
      Id: String(i),
      MessageBody: letter.body,
      MessageAttributes: {
        ...(letter.taskId === undefined
          ? {}
          : { [DEAD_LETTER_ATTRIBUTES.taskId]: { DataType: 'String', StringValue: letter.taskId } }),
        ...(letter.transactionId === undefined
          ? {}
          : {
              [DEAD_LETTER_ATTRIBUTES.transactionId]: {
                DataType: 'String',
                StringValue: letter.transactionId,
              },
            }),
        [DEAD_LETTER_ATTRIBUTES.reason]: {
          DataType: 'String',
          StringValue: letter.reason.slice(0, MAX_REASON_ATTRIBUTE),
        },
      },
    }));
    const failed: { messageId: string; reason: string }[] = [];
    for (const chunk of chunkEntries(entries)) {
      let pending = chunk;
      let lastReasons = new Map<string, string>();
      // One retry of refused entries, as for the task queue: batch refusals are mostly throttling.
      for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt++) {
        try {
          const out = await this.client.send(
            new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
          );
          lastReasons = new Map(
            (out.Failed ?? []).map((f) => [f.Id!, `${f.Code}: ${f.Message ?? ''}`.trim()]),
          );
        } catch (err) {
          lastReasons = new Map(
            pending.map((e) => [e.Id, err instanceof Error ? `${err.name}: ${err.message}` : String(err)]),
          );
        }
        pending = pending.filter((e) => lastReasons.has(e.Id));
      }
      for (const e of pending) {
        failed.push({ messageId: letters[Number(e.Id)]!.messageId, reason: lastReasons.get(e.Id)! });
      }
    }
    return { failed };
  }
}
