import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  AGENT_QUEUE_ATTRIBUTES,
  agentQueueName,
  agentQueuePrefix,
  SqsAgentFeed,
} from '../../../lib/adapters/sqs/agent-feed';
import { publishToAll } from '../../../lib/dispatch/publishers';
import type { AssignmentPublisher, TaskAssigned } from '../../../lib/ports/dispatcher';

const T = new Date('2026-12-07T12:00:00.000Z');

function event(n: number, vmId: string, command = 'echo hi'): TaskAssigned {
  return {
    task: {
      id: `t${n}`,
      requirements: { cpu: 100 },
      duration: 5,
      deadline: 2_000_000_000,
      command,
      labels: {},
    },
    vmId,
    transactionId: `tx${n}`,
    blockHeight: n,
    leaseExpiresAt: 1_800_000_000_000,
  };
}

/** An SQS client that records every command and answers from `answer` (default: success). */
function fakeSqs(answer: (command: object) => unknown = () => undefined) {
  const sent: object[] = [];
  const client = {
    send: async (command: object) => {
      sent.push(command);
      const given = answer(command);
      if (given instanceof Error) throw given;
      if (given !== undefined) return given;
      if (command instanceof CreateQueueCommand)
        return { QueueUrl: `https://sqs.test/123/${command.input.QueueName}` };
      if (command instanceof GetQueueUrlCommand)
        return { QueueUrl: `https://sqs.test/123/${command.input.QueueName}` };
      return { Successful: [], Failed: [] };
    },
  } as unknown as Pick<SQSClient, 'send'>;
  return { client, sent };
}

const batchesOf = (sent: object[]) =>
  sent.filter((c): c is SendMessageBatchCommand => c instanceof SendMessageBatchCommand).map((c) => c.input);

describe('agent queue names', () => {
  it('are the stack prefix and the VM id, within SQS limits; two long stack names differ by their hash', () => {
    expect(agentQueuePrefix('bcs-prod')).toMatch(/^bcs-prod-[0-9a-f]{6}-agent-$/);
    const long = 'a'.repeat(40);
    expect(agentQueuePrefix(`${long}x`)).not.toBe(agentQueuePrefix(`${long}y`));
    expect(agentQueuePrefix('x'.repeat(128)).length).toBe(46);
    expect(agentQueueName(agentQueuePrefix('x'.repeat(128)), 'i-0123456789abcdef0')).toHaveLength(65);
    expect(() => agentQueueName('p-', 'vm:1')).toThrow(/cannot name an agent queue/);
    expect(() => agentQueueName(agentQueuePrefix('x'.repeat(128)), 'i'.repeat(35))).toThrow(/1-80/);
  });
});

describe('SqsAgentFeed', () => {
  it("sends each event to its VM's queue, created once with the agent attributes, as the EventBridge envelope", async () => {
    const { client, sent } = fakeSqs();
    const feed = new SqsAgentFeed({ client, queuePrefix: 'S-abc123-agent-', now: () => T });
    const events = [event(1, 'i-a'), event(2, 'i-b'), event(3, 'i-a')];
    expect(await feed.publish(events)).toEqual([]);
    expect(await feed.publish([event(4, 'i-a')])).toEqual([]);

    const creates = sent
      .filter((c): c is CreateQueueCommand => c instanceof CreateQueueCommand)
      .map((c) => c.input);
    expect(creates).toEqual([
      { QueueName: 'S-abc123-agent-i-a', Attributes: { ...AGENT_QUEUE_ATTRIBUTES } },
      { QueueName: 'S-abc123-agent-i-b', Attributes: { ...AGENT_QUEUE_ATTRIBUTES } },
    ]);
    const batches = batchesOf(sent);
    expect(
      batches.map((b) => [
        b.QueueUrl,
        b.Entries!.map((e) => JSON.parse(e.MessageBody!).detail.transactionId),
      ]),
    ).toEqual([
      ['https://sqs.test/123/S-abc123-agent-i-a', ['tx1', 'tx3']],
      ['https://sqs.test/123/S-abc123-agent-i-b', ['tx2']],
      ['https://sqs.test/123/S-abc123-agent-i-a', ['tx4']],
    ]);
    expect(JSON.parse(batches[0]!.Entries![0]!.MessageBody!)).toEqual({
      version: '0',
      source: 'bcs.scheduler',
      'detail-type': 'TaskAssigned',
      time: T.toISOString(),
      detail: events[0],
    });
  });

  it('splits a batch at 10 entries and at 256 KiB', async () => {
    const { client, sent } = fakeSqs();
    const feed = new SqsAgentFeed({ client, queuePrefix: 'S-', now: () => T });
    const many = Array.from({ length: 23 }, (_, i) => event(i, 'i-a'));
    expect(await feed.publish(many)).toEqual([]);
    expect(batchesOf(sent).map((b) => b.Entries!.length)).toEqual([10, 10, 3]);
    const big = Array.from({ length: 10 }, (_, i) => event(i, 'i-b', 'x'.repeat(60_000)));
    sent.length = 0;
    expect(await feed.publish(big)).toEqual([]);
    const sizes = batchesOf(sent).map((b) =>
      b.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0),
    );
    expect(sizes.every((n) => n <= 256 * 1024)).toBe(true);
    expect(batchesOf(sent).flatMap((b) => b.Entries!.map((e) => e.Id))).toEqual([
      '0',
      '1',
      '2',
      '3',
      '0',
      '1',
      '2',
      '3',
      '0',
      '1',
    ]);
  });

  it('reports refused entries and unreachable queues as failures, and asks SQS again next time', async () => {
    let down = true;
    const { client, sent } = fakeSqs((c) => {
      if (c instanceof CreateQueueCommand && c.input.QueueName === 'S-i-b' && down)
        return Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
      if (c instanceof SendMessageBatchCommand && c.input.QueueUrl!.endsWith('S-i-a'))
        return {
          Successful: [{ Id: '0' }],
          Failed: [{ Id: '1', Code: 'InternalError', Message: 'try again' }],
        };
      return undefined;
    });
    const feed = new SqsAgentFeed({ client, queuePrefix: 'S-', now: () => T });
    expect(await feed.publish([event(1, 'i-a'), event(2, 'i-a'), event(3, 'i-b'), event(4, 'i-b')])).toEqual([
      { transactionId: 'tx2', error: 'agent queue of i-a: InternalError: try again' },
      { transactionId: 'tx3', error: 'agent queue of i-b: ThrottlingException: slow down' },
      { transactionId: 'tx4', error: 'agent queue of i-b: ThrottlingException: slow down' },
    ]);
    down = false;
    expect(await feed.publish([event(3, 'i-b')])).toEqual([]);
    expect(sent.filter((c) => c instanceof CreateQueueCommand)).toHaveLength(3);
  });

  it('uses a queue an operator created with other attributes (QueueNameExists) as it is', async () => {
    const { client, sent } = fakeSqs((c) =>
      c instanceof CreateQueueCommand
        ? Object.assign(new Error('exists'), { name: 'QueueNameExists' })
        : undefined,
    );
    const feed = new SqsAgentFeed({ client, queuePrefix: 'S-', now: () => T });
    expect(await feed.publish([event(1, 'i-a')])).toEqual([]);
    expect(sent.map((c) => c.constructor.name)).toEqual([
      'CreateQueueCommand',
      'GetQueueUrlCommand',
      'SendMessageBatchCommand',
    ]);
  });

  it('a VM id SQS cannot name a queue after fails its events (the block is retried and alarmed), never throws', async () => {
    const { client } = fakeSqs();
    const feed = new SqsAgentFeed({ client, queuePrefix: 'S-', now: () => T });
    const failures = await feed.publish([event(1, 'vm:1')]);
    expect(failures).toEqual([
      { transactionId: 'tx1', error: expect.stringMatching(/cannot name an agent queue/) },
    ]);
  });
});

describe('publishToAll', () => {
  it('gives every event to every publisher and reports an event any of them failed, with each error', async () => {
    const calls: string[][] = [];
    const publisher = (name: string, failing: string[]): AssignmentPublisher => ({
      publish: async (events) => {
        calls.push([name, ...events.map((e) => e.transactionId)]);
        return failing.map((transactionId) => ({ transactionId, error: `${name} refused` }));
      },
    });
    const all = publishToAll([publisher('bus', ['tx2']), publisher('agents', ['tx2', 'tx3'])]);
    const failures = await all.publish([event(1, 'i-a'), event(2, 'i-a'), event(3, 'i-b')]);
    expect(calls).toEqual([
      ['bus', 'tx1', 'tx2', 'tx3'],
      ['agents', 'tx1', 'tx2', 'tx3'],
    ]);
    expect(failures).toEqual([
      { transactionId: 'tx2', error: 'bus refused; agents refused' },
      { transactionId: 'tx3', error: 'agents refused' },
    ]);
  });
});
