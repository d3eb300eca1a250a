import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent';
import { realSleep } from '../../agent/executor';
import {
  EventBridgePublisher,
  TASK_ASSIGNED_DETAIL_TYPE,
  TASK_ASSIGNED_SOURCE,
} from '../../lib/adapters/eventbridge/eventbridge-publisher';
import { agentQueueName, agentQueuePrefix, SqsAgentFeed } from '../../lib/adapters/sqs/agent-feed';
import { SqsAssignmentSource } from '../../lib/adapters/sqs/assignment-source';
import { ManualClock } from '../../lib/ports/clock';
import type { TaskAssigned } from '../../lib/ports/dispatcher';
import { ControlledExecutor, FakeApi, memoryLog } from '../unit/agent/fakes';
import { emulatorConfig } from './helpers/clients';
import { uniqueName } from './helpers/names';

/**
 * The agent's AWS source end to end on the emulator: the dispatcher's EventBridge publisher, a bus,
 * a rule per VM on detail.vmId into that VM's SQS queue, and the agent reading it. The scheduler API
 * is a fake ledger in memory (the completion route is covered by the API tests).
 */
const eventBridge = new EventBridgeClient(emulatorConfig());
const sqs = new SQSClient(emulatorConfig());
const name = uniqueName('bcs-agent');
const VM = 'i-0agent';
let queueUrl = '';

function event(n: number, vmId = VM): TaskAssigned {
  return {
    task: {
      id: `${name}-t${n}`,
      requirements: { cpu: 100 },
      duration: 1,
      deadline: 2_000_000_000,
      labels: {},
    },
    vmId,
    transactionId: `${name}-tx${n}`,
    blockHeight: n,
    leaseExpiresAt: Date.now() + 600_000,
  };
}

beforeAll(async () => {
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await eventBridge.send(new CreateEventBusCommand({ Name: name }));
  await eventBridge.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: name,
      EventPattern: JSON.stringify({
        source: [TASK_ASSIGNED_SOURCE],
        'detail-type': [TASK_ASSIGNED_DETAIL_TYPE],
        detail: { vmId: [VM] },
      }),
    }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: name,
      Targets: [{ Id: 'vm-queue', Arn: Attributes!.QueueArn! }],
    }),
  );
});

afterAll(async () => {
  await eventBridge.send(new RemoveTargetsCommand({ Rule: name, EventBusName: name, Ids: ['vm-queue'] }));
  await eventBridge.send(new DeleteRuleCommand({ Name: name, EventBusName: name }));
  await eventBridge.send(new DeleteEventBusCommand({ Name: name }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

async function queued(): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

describe('agent on TaskAssigned events through EventBridge and SQS', () => {
  it("runs each of its VM's assignments once, whatever is delivered twice, and leaves the queue empty", async () => {
    const mine = [event(1), event(2), event(3)];
    const publisher = new EventBridgePublisher({ client: eventBridge, eventBusName: name });
    // Event 2 published twice (a redelivered block), and one for another VM the rule must not route here.
    expect(await publisher.publish([...mine, mine[1]!, event(4, 'i-0other')])).toEqual([]);

    const api = new FakeApi();
    for (const e of mine) api.states.set(e.task.id, { status: 'assigned', transactionId: e.transactionId });
    const log = memoryLog();
    const executor = new ControlledExecutor();
    const agent = new Agent({
      vmId: VM,
      source: new SqsAssignmentSource({ client: sqs, queue: { url: queueUrl }, vmId: VM, log }),
      api,
      executor,
      clock: new ManualClock(Date.now()),
      sleep: async () => undefined,
      log,
      concurrency: 2,
      waitS: 1,
      once: false,
    });
    const run = agent.run();
    // Done when every task is reported and the queue holds nothing, visible or in flight (so the
    // duplicate has been received and deleted too).
    const deadline = Date.now() + 120_000; // generous: the machine may be loaded
    while ((api.completions.length < mine.length || (await queued()) > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    agent.stop();
    const summary = await run;

    expect(api.completions.sort()).toEqual(mine.map((e) => e.task.id).sort());
    expect(new Set(executor.runs)).toEqual(new Set(mine.map((e) => e.transactionId)));
    expect(executor.runs).toHaveLength(3);
    expect(summary).toMatchObject({ completed: 3, unreported: 0 });
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    const left = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(left.Messages ?? []).toEqual([]);
  });
});

describe("the stack's agent feed: a queue per instance, created by the dispatcher's publisher", () => {
  it('an agent started before its queue exists takes every assignment once, across a restart', async () => {
    const prefix = agentQueuePrefix(name);
    const vm = 'i-0feed';
    const queueName = agentQueueName(prefix, vm);
    const mine = [1, 2, 3, 4].map((n) => ({ ...event(10 + n, vm), leaseExpiresAt: Date.now() + 600_000 }));
    const api = new FakeApi();
    for (const e of mine) api.states.set(e.task.id, { status: 'assigned', transactionId: e.transactionId });
    const executor = new ControlledExecutor(null);
    const log = memoryLog();
    const agent = () =>
      new Agent({
        vmId: vm,
        source: new SqsAssignmentSource({ client: sqs, queue: { name: queueName }, vmId: vm, log }),
        api,
        executor,
        clock: new ManualClock(Date.now()),
        // The agent's backoff, shortened: the first poll fails until the queue exists.
        sleep: (ms, signal) => realSleep(Math.min(ms, 200), signal),
        log,
        concurrency: 1,
        waitS: 1,
        once: false,
      });
    const until = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 120_000; // generous: the machine may be loaded
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      // The first agent polls a queue that does not exist yet: transient, it backs off and asks again.
      const first = agent();
      const firstRun = first.run();
      await until('a failed lookup', () =>
        log.lines.some((l) => String(l.fields.error).includes('does not exist yet')),
      );
      const feed = new SqsAgentFeed({ client: sqs, queuePrefix: prefix });
      expect(await feed.publish(mine.slice(0, 3))).toEqual([]);
      await until('the first run', () => executor.running.length === 1);
      // Stopped while running its first task: that one finishes and is reported, nothing else starts.
      first.stop();
      executor.finish(executor.running[0]!);
      const firstSummary = await firstRun;
      expect(firstSummary).toMatchObject({ started: 1, completed: 1 });

      // Published again (a redelivered block) and one more; a new agent process takes the rest.
      expect(await feed.publish([...mine.slice(0, 3), mine[3]!])).toEqual([]);
      const second = agent();
      const secondRun = second.run();
      const finishing = setInterval(() => {
        for (const id of executor.running) executor.finish(id);
      }, 50);
      await until('every completion', () =>
        mine.every((e) => api.states.get(e.task.id)?.status === 'completed'),
      );
      // And the duplicates received and deleted: nothing left, visible or in flight.
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      let left = -1;
      const deadline = Date.now() + 120_000;
      while (left !== 0 && Date.now() < deadline) {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        left =
          Number(Attributes.ApproximateNumberOfMessages) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible);
        if (left !== 0) await new Promise((r) => setTimeout(r, 200));
      }
      clearInterval(finishing);
      second.stop();
      // Copies received after their run are skipped by the ledger check (how many depends on timing).
      expect(await secondRun).toMatchObject({ started: 3, completed: 3, unreported: 0 });
      expect(left).toBe(0);
    } finally {
      const found = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).catch(() => null);
      if (found?.QueueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: found.QueueUrl }));
    }
    // Each assignment ran once, whatever was delivered twice and whichever agent process received it.
    expect([...executor.runs].sort()).toEqual(mine.map((e) => e.transactionId).sort());
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
