import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  SqsTaskSender,
} from '../../../lib/adapters/sqs/task-sender';
import { ValidationError } from '../../../lib/errors';
import { queueMessageBodySchema, queueMessageSchema, tasksOf } from '../../../lib/schemas/queue-message';
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
    const refused = entries.filter((e) => this.refuse(call, idsOf(e).join(',')));
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

type SentEntry = NonNullable<Input['Entries']>[number];

/** The task ids a message carries, either shape (the 100 KiB labels below are beyond the schema). */
function idsOf(e: SentEntry): string[] {
  const body = JSON.parse(e.MessageBody!) as { task?: { id: string }; tasks?: { id: string }[] };
  return (body.tasks ?? [body.task!]).map((t) => t.id);
}

/** Body plus attribute names, types and values: what SQS holds against its 256 KiB message limit. */
function sqsBytes(e: SentEntry): number {
  let n = Buffer.byteLength(e.MessageBody!);
  for (const [name, v] of Object.entries(e.MessageAttributes ?? {})) {
    n += Buffer.byteLength(name) + Buffer.byteLength(v.DataType!) + Buffer.byteLength(v.StringValue ?? '');
  }
  return n;
}

describe('SqsTaskSender', () => {
  it('one task per message: sends 25 tasks as batches of 10, 10 and 5 with the task id as a message attribute', async () => {
    // Prepare
    const sqs = new FakeSqs();
    const tasks = Array.from({ length: 25 }, (_, i) => task(`t/${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    // Act
    const result = await new SqsTaskSender(sqs, URL, { tasksPerMessage: 1 }).send(tasks);
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
    await new SqsTaskSender(sqs, URL, { tasksPerMessage: 1 }).send(tasks);
    for (const r of sqs.requests) {
      const bytes = r.Entries!.reduce((n, e) => n + sqsBytes(e), 0);
      expect(bytes).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    }
    expect(sqs.requests.map((r) => r.Entries!.length)).toEqual([2, 2, 1]);
  });

  it('retries refused entries once and reports those refused twice', async () => {
    // 'a' is refused on the first call only, 'b' on both.
    const sqs = new FakeSqs((call, id) => id === 'b' || (id === 'a' && call === 1));
    const tasks = ['a', 'b', 'c'].map((id) => task(id, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    const result = await new SqsTaskSender(sqs, URL, { tasksPerMessage: 1 }).send(tasks);
    expect(sqs.requests.map((r) => r.Entries!.map((e) => e.MessageAttributes!.taskId!.StringValue))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b'],
    ]);
    expect(result.sent.sort()).toEqual(['a', 'c']);
    expect(result.failed).toEqual([{ id: 'b', reason: 'ThrottlingException: slow down' }]);
  });

  it('packs 60 tasks into messages of 25, 25 and 10, in order, in one request', async () => {
    const sqs = new FakeSqs();
    const tasks = Array.from({ length: 60 }, (_, i) => task(`t/${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    const result = await new SqsTaskSender(sqs, URL).send(tasks);
    expect(sqs.requests).toHaveLength(1);
    const entries = sqs.requests[0]!.Entries!;
    expect(entries.map((e) => idsOf(e).length)).toEqual([25, 25, 10]);
    expect(entries.flatMap(idsOf)).toEqual(tasks.map((t) => t.id));
    // What is queued is exactly the tasks given, in the multi-task shape, ids listed as an attribute.
    expect(
      entries.flatMap((e) => tasksOf(queueMessageBodySchema(DIMENSIONS).parse(JSON.parse(e.MessageBody!)))),
    ).toEqual(tasks);
    for (const e of entries) {
      expect(JSON.parse(e.MessageBody!).version).toBe(2);
      expect(JSON.parse(e.MessageAttributes!.taskIds!.StringValue!)).toEqual(idsOf(e));
    }
    expect(result).toEqual({ sent: tasks.map((t) => t.id), failed: [] });
  });

  it('sends a lone task in the single-task shape that consumers before version 2 read', async () => {
    const sqs = new FakeSqs();
    const tasks = Array.from({ length: 26 }, (_, i) => task(`t${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    await new SqsTaskSender(sqs, URL).send(tasks);
    const last = sqs.requests[0]!.Entries![1]!;
    expect(queueMessageSchema(DIMENSIONS).parse(JSON.parse(last.MessageBody!)).task).toEqual(tasks[25]);
    expect(last.MessageAttributes!.taskId!.StringValue).toBe('t25');
  });

  it('closes a message before 256 KiB of body and attributes, and a request before 256 KiB in total', async () => {
    const sqs = new FakeSqs();
    // ~100 KiB a task: two fit in a message, three do not.
    const big = 'x'.repeat(100 * 1024);
    const tasks = Array.from({ length: 5 }, (_, i) => ({
      ...task(`big-${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }),
      labels: { blob: big },
    }));
    const result = await new SqsTaskSender(sqs, URL).send(tasks);
    const entries = sqs.requests.flatMap((r) => r.Entries!);
    expect(entries.map((e) => idsOf(e).length)).toEqual([2, 2, 1]);
    for (const e of entries) expect(sqsBytes(e)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
    for (const r of sqs.requests) {
      expect(r.Entries!.reduce((n, e) => n + sqsBytes(e), 0)).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    }
    expect(result.sent).toEqual(tasks.map((t) => t.id));
  });

  it('reports every task of a message SQS refused twice as failed, and the others as sent', async () => {
    const tasks = Array.from({ length: 30 }, (_, i) => task(`t${i}`, { cpu: 1, mem: 0, io: 0, bw: 0 }));
    // The second message holds t25..t29.
    const sqs = new FakeSqs((_call, ids) => ids.startsWith('t25,'));
    const result = await new SqsTaskSender(sqs, URL).send(tasks);
    expect(result.sent).toEqual(tasks.slice(0, 25).map((t) => t.id));
    expect(result.failed).toEqual(
      tasks.slice(25).map((t) => ({ id: t.id, reason: 'ThrottlingException: slow down' })),
    );
  });

  it.each([0, 1.5, 101])('refuses tasksPerMessage %s, naming the field', (k) => {
    const error = (() => {
      try {
        new SqsTaskSender(new FakeSqs(), URL, { tasksPerMessage: k });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['tasksPerMessage']);
  });
});
