import { describe, expect, it } from 'vitest';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import type { DeadLetter } from '../../../lib/ports/dead-letter-sender';
import { FakeDeadLetterQueue } from './helpers/fake-dead-letter-queue';

const URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks-dlq';

const letter = (i: number): DeadLetter => ({
  messageId: `msg-${i}`,
  body: JSON.stringify({ version: 1, task: { id: `t/${i}` } }),
  taskId: `t/${i}`,
  transactionId: `tx-${i}`,
  reason: `no VM has 5000 cpu free (task ${i})`,
});

describe('SqsDeadLetterSender', () => {
  it('forwards 25 letters in batches of 10, 10 and 5, bodies unchanged, with task, transaction and reason attributes', async () => {
    // Prepare
    const sqs = new FakeDeadLetterQueue();
    const letters = Array.from({ length: 25 }, (_, i) => letter(i));
    // Act
    const result = await new SqsDeadLetterSender(sqs, URL).send(letters);
    // Assess
    expect(result).toEqual({ failed: [] });
    expect(sqs.requests.map((r) => r.Entries!.length)).toEqual([10, 10, 5]);
    expect(sqs.requests.every((r) => r.QueueUrl === URL)).toBe(true);
    expect(sqs.messages).toEqual(
      letters.map((l) => ({
        body: l.body,
        attributes: { taskId: l.taskId, transactionId: l.transactionId, reason: l.reason },
      })),
    );
  });

  it('retries entries SQS refused once and reports none when the retry lands', async () => {
    const sqs = new FakeDeadLetterQueue({ refuse: (call, taskId) => call === 1 && taskId === 't/1' });
    const result = await new SqsDeadLetterSender(sqs, URL).send([letter(0), letter(1)]);
    expect(result.failed).toEqual([]);
    expect(sqs.requests.map((r) => r.Entries!.map((e) => e.MessageAttributes!.taskId!.StringValue))).toEqual([
      ['t/0', 't/1'],
      ['t/1'],
    ]);
  });

  it('reports by message id the entries refused twice, with SQS code and message', async () => {
    const sqs = new FakeDeadLetterQueue({ refuse: (_call, taskId) => taskId === 't/12' });
    const letters = Array.from({ length: 13 }, (_, i) => letter(i));
    const result = await new SqsDeadLetterSender(sqs, URL).send(letters);
    expect(result.failed).toEqual([{ messageId: 'msg-12', reason: 'KMS.ThrottlingException: slow down' }]);
    expect(sqs.messages.map((m) => m.attributes.taskId)).toHaveLength(12);
  });

  it('reports the whole chunk when the request itself fails twice, and still sends the other chunks', async () => {
    const sqs = new FakeDeadLetterQueue({ throwOn: (call) => call <= 2 });
    const letters = Array.from({ length: 12 }, (_, i) => letter(i));
    const result = await new SqsDeadLetterSender(sqs, URL).send(letters);
    expect(result.failed.map((f) => f.messageId)).toEqual(letters.slice(0, 10).map((l) => l.messageId));
    expect(result.failed[0]!.reason).toBe('Error: connect ETIMEDOUT');
    expect(sqs.messages.map((m) => m.attributes.taskId)).toEqual(['t/10', 't/11']);
  });

  it('cuts a reason attribute to 1024 characters; the ledger transaction keeps the full text', async () => {
    const sqs = new FakeDeadLetterQueue();
    await new SqsDeadLetterSender(sqs, URL).send([{ ...letter(0), reason: 'r'.repeat(5000) }]);
    expect(sqs.messages[0]!.attributes.reason).toHaveLength(1024);
  });
});
