import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsAssignmentSource } from '../../../lib/adapters/sqs/assignment-source';
import { PermanentError, TransientError } from '../../../lib/ports/assignment-source';
import type { TaskAssigned } from '../../../lib/ports/dispatcher';
import { memoryLog } from './fakes';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/vm-queue';

function event(n: number, overrides: Partial<TaskAssigned> = {}): TaskAssigned {
  return {
    task: {
      id: `t${n}`,
      requirements: { cpu: 100 },
      duration: 30,
      deadline: 2_000_000_000,
      labels: {},
      ...(n % 2 === 0 ? { command: 'echo hi' } : {}),
    },
    vmId: 'i-0abc',
    transactionId: `tx${n}`,
    blockHeight: 10 + n,
    leaseExpiresAt: 1_800_000_090_000,
    ...overrides,
  };
}

function envelope(detail: unknown): string {
  return JSON.stringify({
    version: '0',
    id: 'e1',
    source: 'bcs.scheduler',
    'detail-type': 'TaskAssigned',
    detail,
  });
}

/** An SQS client that answers receives from a script and records every command it is sent. */
function fakeClient(batches: Message[][], fail?: Error) {
  const sent: object[] = [];
  const client = {
    send: async (command: object) => {
      sent.push(command);
      if (command instanceof ReceiveMessageCommand) {
        if (fail) throw fail;
        return { Messages: batches.shift() ?? [] };
      }
      return {};
    },
  } as unknown as Pick<SQSClient, 'send'>;
  return { client, sent };
}

const request = (max = 10, waitS = 20) => ({ since: -1, waitS, max, signal: new AbortController().signal });

describe('SqsAssignmentSource', () => {
  it('turns TaskAssigned events into assignments, asking for no more than the free slots', async () => {
    const { client, sent } = fakeClient([
      [
        { MessageId: 'm1', ReceiptHandle: 'r1', Body: envelope(event(1)) },
        { MessageId: 'm2', ReceiptHandle: 'r2', Body: envelope(event(2)) },
      ],
    ]);
    const source = new SqsAssignmentSource({
      client,
      queue: { url: QUEUE },
      vmId: 'i-0abc',
      log: memoryLog(),
    });

    expect(await source.poll(request(3, 30))).toEqual([
      {
        taskId: 't1',
        transactionId: 'tx1',
        blockHeight: 11,
        command: null,
        durationS: 30,
        leaseExpiresAt: 1_800_000_090_000,
      },
      {
        taskId: 't2',
        transactionId: 'tx2',
        blockHeight: 12,
        command: 'echo hi',
        durationS: 30,
        leaseExpiresAt: 1_800_000_090_000,
      },
    ]);
    const receive = sent[0] as ReceiveMessageCommand;
    expect(receive.input).toMatchObject({ QueueUrl: QUEUE, MaxNumberOfMessages: 3, WaitTimeSeconds: 20 });
  });

  it('deletes a settled message and makes a retried one visible again', async () => {
    const { client, sent } = fakeClient([
      [
        { ReceiptHandle: 'r1', Body: envelope(event(1)) },
        { ReceiptHandle: 'r2', Body: envelope(event(2)) },
      ],
    ]);
    const source = new SqsAssignmentSource({
      client,
      queue: { url: QUEUE },
      vmId: 'i-0abc',
      log: memoryLog(),
    });
    const [a1, a2] = await source.poll(request());
    await source.settle(a1!, 'done');
    await source.settle(a2!, 'retry');
    await source.settle(a1!, 'done');

    const after = sent.slice(1);
    expect(after).toHaveLength(2);
    expect(after[0]).toBeInstanceOf(DeleteMessageCommand);
    expect((after[0] as DeleteMessageCommand).input).toEqual({ QueueUrl: QUEUE, ReceiptHandle: 'r1' });
    expect(after[1]).toBeInstanceOf(ChangeMessageVisibilityCommand);
    expect((after[1] as ChangeMessageVisibilityCommand).input).toEqual({
      QueueUrl: QUEUE,
      ReceiptHandle: 'r2',
      VisibilityTimeout: 0,
    });
  });

  it('logs and deletes what is not a TaskAssigned event for this VM, naming no secrets but the message', async () => {
    const { client, sent } = fakeClient([
      [
        { MessageId: 'bad-json', ReceiptHandle: 'r1', Body: 'not json' },
        { MessageId: 'other-vm', ReceiptHandle: 'r2', Body: envelope(event(1, { vmId: 'i-other' })) },
        {
          MessageId: 'no-lease',
          ReceiptHandle: 'r3',
          Body: envelope({ ...event(3), leaseExpiresAt: 'soon' }),
        },
        { MessageId: 'good', ReceiptHandle: 'r4', Body: envelope(event(4)) },
      ],
    ]);
    const log = memoryLog();
    const source = new SqsAssignmentSource({ client, queue: { url: QUEUE }, vmId: 'i-0abc', log });

    expect((await source.poll(request())).map((a) => a.taskId)).toEqual(['t4']);
    const deleted = sent
      .filter((c) => c instanceof DeleteMessageCommand)
      .map((c) => (c as DeleteMessageCommand).input.ReceiptHandle);
    expect(deleted).toEqual(['r1', 'r2', 'r3']);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.fields.message_id)).toEqual([
      'bad-json',
      'other-vm',
      'no-lease',
    ]);
  });

  it('a second delivery of the same event voids the older receipt', async () => {
    const { client, sent } = fakeClient([
      [{ ReceiptHandle: 'old', Body: envelope(event(1)) }],
      [{ ReceiptHandle: 'new', Body: envelope(event(1)) }],
    ]);
    const source = new SqsAssignmentSource({
      client,
      queue: { url: QUEUE },
      vmId: 'i-0abc',
      log: memoryLog(),
    });
    await source.poll(request());
    const [again] = await source.poll(request());
    await source.settle(again!, 'done');
    const deleted = sent
      .filter((c) => c instanceof DeleteMessageCommand)
      .map((c) => (c as DeleteMessageCommand).input.ReceiptHandle);
    expect(deleted).toEqual(['old', 'new']);
  });

  it('classifies receive failures: network, throttling and server faults are transient, a missing queue is not', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ThrottlingException',
      $fault: 'client',
    });
    const missing = Object.assign(new Error('no queue'), { name: 'QueueDoesNotExist', $fault: 'client' });
    const server = Object.assign(new Error('oops'), { name: 'InternalError', $fault: 'server' });
    const poll = (error: Error) =>
      new SqsAssignmentSource({
        client: fakeClient([], error).client,
        queue: { url: QUEUE },
        vmId: 'i-0abc',
        log: memoryLog(),
      }).poll(request());
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    await expect(poll(reset)).rejects.toBeInstanceOf(TransientError);
    await expect(poll(throttled)).rejects.toBeInstanceOf(TransientError);
    await expect(poll(server)).rejects.toBeInstanceOf(TransientError);
    await expect(poll(missing)).rejects.toBeInstanceOf(PermanentError);
  });

  it('finds its queue by name, and until the dispatcher has created it answers a transient error', async () => {
    let exists = false;
    const sent: object[] = [];
    const client = {
      send: async (command: object) => {
        sent.push(command);
        if (command instanceof GetQueueUrlCommand) {
          if (!exists)
            throw Object.assign(new Error('no queue'), { name: 'QueueDoesNotExist', $fault: 'client' });
          return { QueueUrl: QUEUE };
        }
        if (command instanceof ReceiveMessageCommand) {
          return { Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: envelope(event(1)) }] };
        }
        return {};
      },
    } as unknown as Pick<SQSClient, 'send'>;
    const source = new SqsAssignmentSource({
      client,
      queue: { name: 'stack-agent-i-0abc' },
      vmId: 'i-0abc',
      log: memoryLog(),
    });
    await expect(source.poll(request())).rejects.toThrow(/does not exist yet/);
    await expect(source.poll(request())).rejects.toBeInstanceOf(TransientError);
    exists = true;
    const got = await source.poll(request());
    expect(got.map((a) => a.transactionId)).toEqual(['tx1']);
    await source.poll(request());
    // Looked up until it existed, then never again; the receives and the settle use the URL found.
    expect(sent.filter((c) => c instanceof GetQueueUrlCommand)).toHaveLength(3);
    expect((sent.at(-1) as ReceiveMessageCommand).input.QueueUrl).toBe(QUEUE);
    await source.settle(got[0]!, 'done');
    expect((sent.at(-1) as DeleteMessageCommand).input).toEqual({ QueueUrl: QUEUE, ReceiptHandle: 'r1' });
  });
});
