import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SQS_MAX_BATCH_BYTES, SqsTaskSender } from '../../../functions/shared/sqs-task-sender';
import { queueMessageSchema } from '../../../lib/schemas/queue-message';
import { DIMENSIONS, task } from './helpers/fixtures';

type Input = SendMessageBatchCommand['input'];

/** Records each SendMessageBatch request; `refuse(attempt, entryId)` decides which entries fail. */
class FakeSqs {
  readonly requests: Input[] = [];
  constructor(private readonly refuse: (call: number, taskId: string) => boolean = () => false) {}
  async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
    const input = command.input;
    this.requests.push(input);
    const call = this.requests.length;
    const entries = input.Entries ?? [];
    const refused = entries.filter((e) => this.refuse(call, e.MessageAttributes!.taskId!.StringValue!));
    return {
      Successful: entries
        .filter((e) => !refused.includes(e))
        .map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: refused.map((e) => ({
        Id: e.Id!,
        Code: 'ThrottlingException',
        SenderFault: false,
        Message: 'slow down',
      })),
      $metadata: {},
    };
  }
}

const URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks';

describe('SqsTaskSender', () => {
  it('sends 25 tasks as batches of 10, 10 and 5 with the task id as a message attribute', async () => {
    // Prepare
    const sqs = new FakeSqs();
    const tasks = Array.from({ length: 25 }, (_, i) => task(`t/${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    // Act
    const result = await new SqsTaskSender(sqs, URL).send(tasks);
    // Assess
    expect(sqs.requests.map((r) => r.Entries!.length)).toEqual([10, 10, 5]);
    expect(result).toEqual({ sent: tasks.map((t) => t.id), failed: [] });
    const entries = sqs.requests.flatMap((r) => r.Entries!);
    expect(sqs.requests.every((r) => r.QueueUrl === URL)).toBe(true);
    expect(entries.map((e) => e.MessageAttributes!.taskId!.StringValue)).toEqual(tasks.map((t) => t.id));
    // Entry ids must be unique per request and free of characters SQS refuses ('/' is in the task ids).
    for (const r of sqs.requests) {
      const ids = r.Entries!.map((e) => e.Id!);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    }
    for (const e of entries) {
      expect(queueMessageSchema(DIMENSIONS).safeParse(JSON.parse(e.MessageBody!)).success).toBe(true);
    }
  });

  it('starts a new batch before the 256 KiB request limit', async () => {
    const sqs = new FakeSqs();
    // Each message ~100 KiB: two fit in one request, three do not.
    const big = 'x'.repeat(100 * 1024);
    const tasks = Array.from({ length: 5 }, (_, i) => ({
      ...task(`big-${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }),
      labels: { blob: big },
    }));
    await new SqsTaskSender(sqs, URL).send(tasks);
    for (const r of sqs.requests) {
      const bytes = r.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0);
      expect(bytes).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    }
    expect(sqs.requests.map((r) => r.Entries!.length)).toEqual([2, 2, 1]);
  });

  it('retries refused entries once and reports those refused twice', async () => {
    // 'a' is refused on the first call only, 'b' on both.
    const sqs = new FakeSqs((call, id) => id === 'b' || (id === 'a' && call === 1));
    const tasks = ['a', 'b', 'c'].map((id) => task(id, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    const result = await new SqsTaskSender(sqs, URL).send(tasks);
    expect(sqs.requests.map((r) => r.Entries!.map((e) => e.MessageAttributes!.taskId!.StringValue))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b'],
    ]);
    expect(result.sent.sort()).toEqual(['a', 'c']);
    expect(result.failed).toEqual([{ id: 'b', reason: 'ThrottlingException: slow down' }]);
  });
});
