import {
  type BatchResultErrorEntry,
  KmsThrottled,
  QueueDoesNotExist,
  RequestThrottled,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enqueueHandler, isQueueUnavailable, RETRY_AFTER_S } from '../../../functions/handlers/enqueue';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import { SqsTaskSender } from '../../../lib/adapters/sqs/task-sender';
import { ManualClock } from '../../../lib/ports/clock';
import { TASK_ID_ATTRIBUTE, TASK_IDS_ATTRIBUTE } from '../../../lib/schemas/queue-message';
import { apiEvent } from './helpers/events';
import { DIMENSIONS, T0 } from './helpers/fixtures';

/** What SendMessageBatch does with one call: refuse some entries, or throw. */
type Reply = { refuse: (entryIndex: number) => boolean } | { throws: unknown };

/**
 * A fake SQS client that answers each SendMessageBatch as `replies` says (the last reply repeats)
 * and records the task ids of every entry it reported Successful: the ground truth of what is queued.
 */
class ScriptedSqs {
  readonly queued: string[] = [];
  calls = 0;
  constructor(private readonly replies: Reply[]) {}

  async send(command: unknown): Promise<SendMessageBatchCommandOutput> {
    if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
    const reply = this.replies[Math.min(this.calls++, this.replies.length - 1)]!;
    if ('throws' in reply) throw reply.throws;
    const entries = command.input.Entries ?? [];
    const failed: BatchResultErrorEntry[] = [];
    const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
    entries.forEach((entry, i) => {
      if (reply.refuse(i)) {
        failed.push({ Id: entry.Id!, Code: 'RequestThrottled', SenderFault: false, Message: 'slow down' });
        return;
      }
      successful.push({ Id: entry.Id!, MessageId: `m-${this.queued.length}`, MD5OfMessageBody: 'x' });
      const attrs = entry.MessageAttributes ?? {};
      const one = attrs[TASK_ID_ATTRIBUTE]?.StringValue;
      const many = attrs[TASK_IDS_ATTRIBUTE]?.StringValue;
      this.queued.push(...(one !== undefined ? [one] : (JSON.parse(many!) as string[])));
    });
    return { Successful: successful, Failed: failed, $metadata: {} };
  }
}

function setup(replies: Reply[], tasksPerMessage = 1) {
  const sqs = new ScriptedSqs(replies);
  const sender = new SqsTaskSender(sqs as unknown as Pick<SQSClient, 'send'>, 'https://queue', {
    tasksPerMessage,
  });
  const handler = enqueueHandler({
    sender,
    acceptances: new MemoryTaskAcceptances(),
    dimensions: DIMENSIONS,
    clock: new ManualClock(T0),
    newId: () => 'x',
  });
  const post = async (ids: string[]) => {
    const body = ids.map((id) => ({ id, cpu: 100, mem: 256, deadline: 1_900_000_000, duration: 60 }));
    const res = await handler(apiEvent('POST', '/tasks', { body }));
    return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(res.body) };
  };
  return { sqs, post };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const none = { refuse: () => false };

const awsError = (status: number, name: string) =>
  new SQSServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

describe('enqueue under backpressure: 503 with Retry-After, never 202 for a task not queued', () => {
  it('202 only once every entry is queued, after the one retry of the refused ones', async () => {
    const { sqs, post } = setup([{ refuse: (i) => i % 2 === 0 }, none]);
    const res = await post(ids(7));
    expect(res.status).toBe(202);
    expect(res.body.accepted).toEqual(ids(7));
    expect([...sqs.queued].sort()).toEqual([...ids(7)].sort());
  });

  it('partial SendMessageBatch failure: 503, Retry-After, accepted exactly what SQS took', async () => {
    // Chunk 1 (entries t0..t9): t3 and t7 refused twice; chunk 2 (t10..t11) fully queued.
    const refuse37 = { refuse: (i: number) => i === 3 || i === 7 };
    const { sqs, post } = setup([refuse37, { refuse: () => true }, none]);
    const res = await post(ids(12));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(res.body.error).toBe('QueueUnavailable');
    expect(res.body.failed.map((f: { id: string }) => f.id)).toEqual(['t3', 't7']);
    expect(res.body.accepted).toEqual(sqs.queued);
    expect(new Set([...res.body.accepted, 't3', 't7'])).toEqual(new Set(ids(12)));
  });

  it.each([
    ['RequestThrottled', new RequestThrottled({ message: 'throttled', $metadata: {} })],
    ['KmsThrottled', new KmsThrottled({ message: 'kms throttled', $metadata: { httpStatusCode: 400 } })],
    ['HTTP 429', awsError(429, 'TooManyRequests')],
    ['HTTP 500', awsError(500, 'InternalError')],
    ['HTTP 503', awsError(503, 'ServiceUnavailable')],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('a thrown %s is a 503 with Retry-After that accepts nothing', async (_name, error) => {
    expect(isQueueUnavailable(error)).toBe(true);
    const { post } = setup([{ throws: error }]);
    const res = await post(ids(3));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(res.body.accepted).toEqual([]);
    expect(res.body.failed.map((f: { id: string }) => f.id)).toEqual(ids(3));
  });

  it('a call that throws after an earlier chunk was queued confirms nothing (resubmitting is safe)', async () => {
    const throttled = new RequestThrottled({ message: 'throttled', $metadata: {} });
    const { sqs, post } = setup([none, { throws: throttled }]);
    const res = await post(ids(15));
    expect(sqs.queued).toEqual(ids(10));
    expect(res.status).toBe(503);
    expect(res.body.accepted).toEqual([]);
  });

  it.each([
    ['QueueDoesNotExist', new QueueDoesNotExist({ message: 'gone', $metadata: { httpStatusCode: 400 } })],
    ['access denied', awsError(403, 'AccessDenied')],
    ['a programming error', new TypeError('x is not a function')],
  ])('%s is not retryable: the handler throws rather than promise a retry', async (_name, error) => {
    expect(isQueueUnavailable(error)).toBe(false);
    const { post } = setup([{ throws: error }]);
    await expect(post(ids(2))).rejects.toBe(error);
  });

  it('any pattern of refusals and throttling: 202 iff every task was queued; 503 splits the ids honestly', async () => {
    const reply = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .array(fc.boolean(), { minLength: 10, maxLength: 10 })
          .map((r) => ({ refuse: (i: number) => r[i]! })),
      },
      {
        weight: 1,
        arbitrary: fc.constant({ throws: new RequestThrottled({ message: 't', $metadata: {} }) }),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(reply, { minLength: 1, maxLength: 12 }),
        async (n, perMessage, replies) => {
          const { sqs, post } = setup(replies, perMessage);
          const all = ids(n);
          const res = await post(all);
          const queued = new Set(sqs.queued);
          if (res.status === 202) {
            expect(res.body.accepted).toEqual(all);
            expect(queued).toEqual(new Set(all));
            return;
          }
          expect(res.status).toBe(503);
          expect(res.headers['retry-after']).toBe(String(RETRY_AFTER_S));
          const accepted: string[] = res.body.accepted;
          const failed: string[] = res.body.failed.map((f: { id: string }) => f.id);
          // Nothing is claimed that SQS did not take, and every task is accounted for once.
          for (const id of accepted) expect(queued.has(id)).toBe(true);
          expect(failed.length).toBeGreaterThan(0);
          expect(new Set([...accepted, ...failed]).size).toBe(accepted.length + failed.length);
          expect(new Set([...accepted, ...failed])).toEqual(new Set(all));
        },
      ),
      { numRuns: 200 },
    );
  });
});
