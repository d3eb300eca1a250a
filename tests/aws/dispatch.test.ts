import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBStreamEvent, EventBridgeEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commandStatusHandler } from '../../functions/handlers/command-status';
import { completionsHandler } from '../../functions/handlers/completions';
import { dispatchHandler } from '../../functions/handlers/dispatch';
import {
  commandKey,
  DISPATCH_EXPIRES_ATTRIBUTE,
  DynamoDbDispatchRecords,
  runKey,
  specKey,
} from '../../lib/adapters/dynamodb/dispatch-records';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { blockKey, PARTITION_KEY } from '../../lib/adapters/dynamodb/keys';
import {
  EventBridgePublisher,
  TASK_ASSIGNED_DETAIL_TYPE,
  TASK_ASSIGNED_SOURCE,
} from '../../lib/adapters/eventbridge/eventbridge-publisher';
import { SqsCompletionSender } from '../../lib/adapters/sqs/completion-sender';
import { SsmCommandRunner } from '../../lib/adapters/ssm/ssm-command-runner';
import { COMMAND_STATUS_DETAIL_TYPE, FINAL_COMMAND_STATUSES } from '../../lib/dispatch/command';
import { Dispatcher } from '../../lib/dispatch/dispatcher';
import { SpecRecordingEngine } from '../../lib/dispatch/spec-recording-engine';
import { SchedulingEngine } from '../../lib/engine/engine';
import type { Block } from '../../lib/ledger/types';
import { systemClock } from '../../lib/ports/clock';
import type { TaskAssigned } from '../../lib/ports/dispatcher';
import { RecordingRunner } from '../unit/dispatch/fakes';
import { sqsEvent, sqsRecord } from '../unit/functions/helpers/events';
import { RecordingLogger, RecordingMetrics, StaticFleet, task, vm } from '../unit/functions/helpers/fixtures';
import { dynamoDbClient, emulatorConfig } from './helpers/clients';
import { uniqueName } from './helpers/names';

/**
 * Dispatch driven in-process against emulator resources of its own: a ledger table with its
 * NEW_IMAGE stream, an event bus whose rule forwards TaskAssigned events to an SQS queue the test
 * reads, and SSM. MiniStack runs Run Command only on instances backed by a container (none here), so
 * SendCommand is exercised for its refusal and the exactly-once claim with a runner fake.
 */

const dynamodb = dynamoDbClient();
const events = new EventBridgeClient(emulatorConfig());
const sqs = new SQSClient(emulatorConfig());
const ssm = new SSMClient(emulatorConfig());
const VM_ID = 'i-0d15a7c4000000001';

let tableName: string;
let busName: string;
let ruleName: string;
let queueUrl: string;

/**
 * The allow-list these tests dispatch from, and the name of the stack's command document (MiniStack
 * has no CreateDocument: SendCommand names it as the stack would; cfn-lint checks the document itself).
 */
const TEMPLATES = {
  echo: { run: ['/bin/echo'], maxArguments: 4 },
  sleep: { run: ['/bin/sleep'], argumentPattern: '[0-9]{1,4}', maxArguments: 1 },
  true: { run: ['/bin/true'] },
};
const DOCUMENT = uniqueName('bcs-commands');

beforeAll(async () => {
  tableName = uniqueName('dispatch-ledger');
  busName = uniqueName('dispatch-bus');
  ruleName = uniqueName('dispatch-rule');
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: 'S' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: tableName });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('dispatch-events') }));
  queueUrl = QueueUrl!;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(new CreateEventBusCommand({ Name: busName }));
  await events.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: busName,
      EventPattern: JSON.stringify({
        source: [TASK_ASSIGNED_SOURCE],
        'detail-type': [TASK_ASSIGNED_DETAIL_TYPE],
      }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: ruleName,
      EventBusName: busName,
      Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }],
    }),
  );
}, 120_000);

afterAll(async () => {
  await events.send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: busName, Ids: ['queue'] }));
  await events.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: busName }));
  await events.send(new DeleteEventBusCommand({ Name: busName }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
  for (const c of [dynamodb, events, sqs, ssm]) c.destroy();
});

/** The fixtures' tasks are due at a fixed time; these run now, so they are due an hour from now. */
const job = (id: string, cpu: number, extra: Parameters<typeof task>[2] = {}) =>
  task(id, { cpu }, { deadline: Math.floor(Date.now() / 1000) + 3600, submittedAt: Date.now(), ...extra });

const fleet = () => new StaticFleet([vm(VM_ID, { cpu: 4000, mem: 8000, io: 100, bw: 100 })]);

/** An engine as a scheduler Lambda builds it (wiring.ts), one per simulated container. */
function engine() {
  const store = new DynamoDbLedgerStore({ client: dynamodb, tableName });
  const records = new DynamoDbDispatchRecords({ client: dynamodb, tableName });
  const scheduling = new SchedulingEngine({
    store,
    fleet: fleet(),
    clock: systemClock,
    algorithm: 'best-fit',
    dimensions: ['cpu', 'mem', 'io', 'bw'],
    sleep: async (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
  });
  return { store, records, engine: new SpecRecordingEngine(scheduling, records), scheduling };
}

function dispatcher(runner?: RecordingRunner | SsmCommandRunner) {
  return new Dispatcher({
    tasks: new DynamoDbLedgerStore({ client: dynamodb, tableName }),
    records: new DynamoDbDispatchRecords({ client: dynamodb, tableName }),
    publisher: new EventBridgePublisher({ client: events, eventBusName: busName }),
    ...(runner ? { commands: runner, templates: TEMPLATES } : {}),
    clock: systemClock,
  });
}

let sequence = 0;
/** The stream records of `blocks`, each image being the item exactly as the table holds it. */
async function streamOf(blocks: readonly Block[]): Promise<DynamoDBStreamEvent> {
  const records = [];
  for (const block of blocks) {
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [PARTITION_KEY]: { S: blockKey(block.height) } },
        ConsistentRead: true,
      }),
    );
    sequence += 1;
    records.push({
      eventName: 'INSERT' as const,
      dynamodb: {
        SequenceNumber: String(sequence).padStart(21, '0'),
        Keys: { [PARTITION_KEY]: Item![PARTITION_KEY] } as Record<string, AttributeValue> as never,
        NewImage: Item as never,
      },
    });
  }
  return { Records: records };
}

/** TaskAssigned events of a test's task land in one shared queue, read by task id. */
const inbox = new Map<string, TaskAssigned[]>();

/** The TaskAssigned events for `taskId` the rule forwarded, waiting until `count` arrived or the time is up. */
async function received(taskId: string, count: number, timeoutMs = 10_000): Promise<TaskAssigned[]> {
  const end = Date.now() + timeoutMs;
  while ((inbox.get(taskId)?.length ?? 0) < count && Date.now() < end) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      const envelope = JSON.parse(m.Body!) as EventBridgeEvent<string, TaskAssigned>;
      expect([envelope.source, envelope['detail-type']]).toEqual([
        TASK_ASSIGNED_SOURCE,
        TASK_ASSIGNED_DETAIL_TYPE,
      ]);
      const id = envelope.detail.task.id;
      inbox.set(id, [...(inbox.get(id) ?? []), envelope.detail]);
    }
  }
  return inbox.get(taskId) ?? [];
}

const handlerFor = (d: Dispatcher) =>
  dispatchHandler({ dispatcher: () => d, logger: new RecordingLogger(), metrics: new RecordingMetrics() });

describe('dispatch on the emulator', () => {
  it('the table has a stream of new images (MiniStack supports DynamoDB Streams)', async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(Table?.LatestStreamArn).toMatch(/:table\/.+\/stream\//);
  });

  it('a committed assignment reaches the bus as exactly one TaskAssigned with its detail', async () => {
    const { engine: e, store } = engine();
    const t = task(
      uniqueName('job'),
      { cpu: 500, mem: 256 },
      {
        command: 'echo hi',
        labels: { team: 'ml' },
        duration: 300,
        deadline: Math.floor(Date.now() / 1000) + 3600,
      },
    );
    const before = Date.now();
    const { blocks } = await e.schedule([t]);
    const record = (await store.getTask(t.id))!;

    const result = await handlerFor(dispatcher())(await streamOf(blocks));

    expect(result).toEqual({ batchItemFailures: [] });
    await received(t.id, 1);
    // A second one would have arrived by now: wait for two, briefly, and still find one.
    expect(await received(t.id, 2, 2000)).toEqual([
      {
        task: {
          id: t.id,
          requirements: { cpu: 500, mem: 256, io: 0, bw: 0 },
          duration: 300,
          deadline: t.deadline,
          command: 'echo hi',
          labels: { team: 'ml' },
        },
        vmId: VM_ID,
        transactionId: record.transaction_id,
        blockHeight: record.block_height,
        leaseExpiresAt: record.lease_expires_at,
      },
    ]);
    // The lease the ledger holds is the decision time plus duration and the default 60 s grace.
    expect(record.lease_expires_at! - before).toBeGreaterThanOrEqual(360_000);
  }, 60_000);

  it('redelivered and concurrently delivered blocks send the command once (claims on the table)', async () => {
    const { engine: e } = engine();
    const t = job(uniqueName('cmd'), 100, { command: 'sleep 1' });
    const { blocks } = await e.schedule([t]);
    const stream = await streamOf(blocks);
    const runner = new RecordingRunner();

    // Two dispatch containers handed the same block at once, then a redelivery.
    await Promise.all([handlerFor(dispatcher(runner))(stream), handlerFor(dispatcher(runner))(stream)]);
    await handlerFor(dispatcher(runner))(stream);

    expect(runner.sent.map((r) => r.instanceId)).toEqual([VM_ID]);
    const records = new DynamoDbDispatchRecords({ client: dynamodb, tableName });
    expect(await records.taskOfCommand('command-1')).toBe(t.id);
    // Events are at least once: three deliveries, three events, one transaction id to dedupe on.
    const got = await received(t.id, 3);
    expect(new Set(got.map((g) => g.transactionId)).size).toBe(1);
  }, 60_000);

  it('SendCommand to an instance SSM does not manage is refused, and the claim is released', async () => {
    const { engine: e } = engine();
    const t = job(uniqueName('unmanaged'), 100, { command: 'true' });
    const { blocks } = await e.schedule([t]);
    const logger = new RecordingLogger();

    await dispatchHandler({
      dispatcher: () => dispatcher(new SsmCommandRunner({ client: ssm, documentName: DOCUMENT })),
      logger,
      metrics: new RecordingMetrics(),
    })(await streamOf(blocks));

    const notSent = logger.at('error').find((l) => l.message === 'command not sent');
    expect(String(notSent?.extra[0]?.error)).toMatch(/InvalidInstanceId|not in a valid state/);
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [PARTITION_KEY]: { S: runKey(t.id) } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toBeUndefined();
    expect(await received(t.id, 1)).toHaveLength(1);
  }, 60_000);

  it('SSM status events queue the completion on SQS; two racing lease closers record it once', async () => {
    const { engine: e, store, records } = engine();
    const t = job(uniqueName('done'), 100, { command: 'true' });
    const { blocks } = await e.schedule([t]);
    const transactionId = blocks[0]!.transactions[0]!.transaction_id;
    const commandId = uniqueName('command');
    await records.claimCommand(t.id, transactionId, Date.now());
    await records.recordCommand(t.id, commandId);
    const event = {
      version: '0',
      id: 'e1',
      'detail-type': COMMAND_STATUS_DETAIL_TYPE,
      source: 'aws.ssm',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: {
        'command-id': commandId,
        'instance-id': VM_ID,
        'document-name': DOCUMENT,
        status: 'Success',
      },
    };
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('completions') }));
    // Two command-status containers receive the same event at once: each queues the completion.
    const handler = () =>
      commandStatusHandler({
        tasks: new DynamoDbLedgerStore({ client: dynamodb, tableName, readOnly: true }),
        completions: new SqsCompletionSender(sqs, QueueUrl!, systemClock),
        records,
        logger: new RecordingLogger(),
        metrics: new RecordingMetrics(),
      });
    const raced = await Promise.all([handler()(event), handler()(event)]);
    expect(raced.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);

    // The two messages as SQS delivers them, each to its own lease closer (own engine), at once.
    const received: SQSRecord[] = [];
    const deadline = Date.now() + 30_000;
    while (received.length < 2 && Date.now() < deadline) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of Messages ?? []) received.push(sqsRecord(m.MessageId!, m.Body!));
    }
    expect(received.map((r) => JSON.parse(r.body))).toEqual([
      expect.objectContaining({ v: 1, task_id: t.id, body: {}, source: 'command-status' }),
      expect.objectContaining({ v: 1, task_id: t.id, body: {}, source: 'command-status' }),
    ]);
    const closer = () =>
      completionsHandler({
        engine: () => engine().scheduling,
        logger: new RecordingLogger(),
        metrics: new RecordingMetrics(),
        clock: systemClock,
      });
    const closed = await Promise.all(received.map((r) => closer()(sqsEvent(r))));
    expect(closed).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);

    // Once recorded, a late event is answered from the ledger and queues nothing.
    const late = await handler()(event);
    expect(late.outcome).toBe('already-final');
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    const head = await store.readHead();
    const all = await store.getBlocks(0, head.height + 1);
    const completions = all
      .flatMap((b) => b.transactions)
      .filter((x) => x.task_id === t.id && x.status === 'completed');
    expect(completions).toHaveLength(1);
  }, 60_000);

  it('DISPATCH# items: first spec wins, specs read past 100 keys, one claim per task, release only by its claimant', async () => {
    const records = new DynamoDbDispatchRecords({ client: dynamodb, tableName });
    const prefix = uniqueName('rec');
    const ids = Array.from({ length: 120 }, (_, i) => `${prefix}-${i}`);
    await records.putSpecs(
      ids.filter((_, i) => i % 2 === 0).map((id) => ({ task_id: id, command: `run ${id}`, labels: {} })),
    );
    await records.putSpecs([{ task_id: ids[0]!, command: 'replaced?', labels: { x: 'y' } }]);

    const specs = await records.getSpecs(ids);
    expect(specs.size).toBe(60);
    expect(specs.get(ids[0]!)).toEqual({ task_id: ids[0], command: `run ${ids[0]}`, labels: {} });
    expect(specs.has(ids[1]!)).toBe(false);

    const taskId = ids[0]!;
    expect(await records.claimCommand(taskId, 'tx-a', 1)).toEqual({ state: 'claimed' });
    expect(await records.claimCommand(taskId, 'tx-b', 2)).toEqual({
      state: 'sending',
      transactionId: 'tx-a',
    });
    await records.releaseCommand(taskId, 'tx-b'); // not its claim: kept
    expect(await records.claimCommand(taskId, 'tx-b', 3)).toEqual({
      state: 'sending',
      transactionId: 'tx-a',
    });
    await records.releaseCommand(taskId, 'tx-a');
    expect(await records.claimCommand(taskId, 'tx-a', 4)).toEqual({ state: 'claimed' });
    await records.recordCommand(taskId, `${prefix}-cmd`);
    expect(await records.claimCommand(taskId, 'tx-a', 5)).toEqual({
      state: 'sent',
      transactionId: 'tx-a',
      commandId: `${prefix}-cmd`,
    });
    await records.releaseCommand(taskId, 'tx-a'); // sent: a release changes nothing
    expect(await records.taskOfCommand(`${prefix}-cmd`)).toBe(taskId);
    await expect(records.recordCommand(taskId, `${prefix}-other`)).rejects.toThrow();
    expect(await records.taskOfCommand(`${prefix}-other`)).toBeNull();

    // Once final: every record of the task gets the TTL attribute; a task without records gets none.
    await records.expireRecords([taskId, ids[1]!], 1_900_000_000);
    const expiresAt = async (key: string) => {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { [PARTITION_KEY]: { S: key } },
          ConsistentRead: true,
        }),
      );
      return Item === undefined ? 'absent' : (Item[DISPATCH_EXPIRES_ATTRIBUTE]?.N ?? 'none');
    };
    expect(await expiresAt(specKey(taskId))).toBe('1900000000');
    expect(await expiresAt(runKey(taskId))).toBe('1900000000');
    expect(await expiresAt(commandKey(`${prefix}-cmd`))).toBe('1900000000');
    expect(await expiresAt(specKey(ids[2]!))).toBe('none');
    expect(await expiresAt(specKey(ids[1]!))).toBe('absent');
    expect(await expiresAt(runKey(ids[1]!))).toBe('absent');
  }, 60_000);

  it('the Lambda entry, configured by environment as the stack configures it, dispatches a block', async () => {
    const { engine: e } = engine();
    const t = job(uniqueName('entry'), 100, { labels: { via: 'entry' } });
    const { blocks } = await e.schedule([t]);
    const saved = { ...process.env };
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      DIMENSIONS: 'cpu,mem,io,bw',
      EVENT_BUS_NAME: busName,
      DISPATCH_VIA_SSM: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'BlockchainCloudScheduler',
      POWERTOOLS_SERVICE_NAME: 'dispatch',
      POWERTOOLS_DEV: 'true',
    });
    try {
      const { handler } = await import('../../functions/dispatch');
      expect(await handler(await streamOf(blocks))).toEqual({ batchItemFailures: [] });
    } finally {
      process.env = saved;
    }
    expect((await received(t.id, 1)).map((d) => d.task.labels)).toEqual([{ via: 'entry' }]);
  }, 60_000);

  it("the stack's rule pattern matches SSM's final status events only (TestEventPattern)", async () => {
    const pattern = JSON.stringify({
      source: ['aws.ssm'],
      'detail-type': [COMMAND_STATUS_DETAIL_TYPE],
      detail: { 'document-name': [DOCUMENT], status: [...FINAL_COMMAND_STATUSES] },
    });
    const matches = async (status: string, document = DOCUMENT) =>
      (
        await events.send(
          new TestEventPatternCommand({
            EventPattern: pattern,
            Event: JSON.stringify({
              id: '1',
              'detail-type': COMMAND_STATUS_DETAIL_TYPE,
              source: 'aws.ssm',
              account: '000000000000',
              time: '2026-11-21T06:00:00Z',
              region: 'us-east-1',
              resources: [],
              detail: { 'command-id': 'c', 'instance-id': VM_ID, 'document-name': document, status },
            }),
          }),
        )
      ).Result;
    expect(await matches('Success')).toBe(true);
    expect(await matches('TimedOut')).toBe(true);
    expect(await matches('InProgress')).toBe(false);
    expect(await matches('Success', 'AWS-RunPowerShellScript')).toBe(false);
  });
});

/**
 * Opt-in (BCS_DISPATCH_DEPLOY=1, about 50 s): the Dispatch construct deployed with a streamed ledger
 * table, so that the emulator's own stream event source mapping (its filter, NEW_IMAGE, the bundled
 * function) carries a committed block to the bus. Left out of the default run: CI time goes to the
 * one full-stack deploy of e2e-stack.test.ts.
 */
describe.skipIf(process.env.BCS_DISPATCH_DEPLOY !== '1')('the deployed outbox', () => {
  const stackName = `BcsDispatch${Date.now().toString(36)}`;
  let outDir: string;
  let outputs: Record<string, string>;
  const cdk = (args: string[]) =>
    execFileSync(
      'node_modules/.bin/cdk',
      [...args, '--app', join(outDir, 'assembly'), '--no-notices', '--no-color'],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_S3: inject('awsEndpoint'),
          CDK_DISABLE_CLI_TELEMETRY: 'true',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 1 << 26,
      },
    );

  beforeAll(async () => {
    // Loaded here: aws-cdk-lib costs seconds to import, which the default run does not need.
    const { App, CfnOutput, Duration, Stack } = await import('aws-cdk-lib');
    const { Dispatch } = await import('../../cdk/lib/constructs/dispatch');
    const { LedgerTable } = await import('../../cdk/lib/constructs/ledger-table');
    const { CompletionQueue } = await import('../../cdk/lib/constructs/completion-queue');
    const { ServiceFunction } = await import('../../cdk/lib/nodejs-function');
    outDir = await mkdtemp(join(tmpdir(), 'bcs-dispatch-'));
    const app = new App({ outdir: join(outDir, 'assembly') });
    const stack = new Stack(app, stackName);
    const { table } = new LedgerTable(stack, 'Ledger', { retain: false, stream: true });
    // The scheduler only matters here for the spec grant; any function stands in for it.
    const standIn = new ServiceFunction(stack, 'StandIn', {
      entry: 'verify.ts',
      description: 'stands in for the scheduler',
      serviceName: 'stand-in',
      environment: { TABLE_NAME: table.tableName },
      retainLogs: false,
    }).function;
    const dispatch = new Dispatch(stack, 'Dispatch', {
      table,
      completions: new CompletionQueue(stack, 'Completions', {
        visibilityTimeout: Duration.seconds(60),
        retain: false,
      }),
      scheduler: standIn,
      environment: { TABLE_NAME: table.tableName, DIMENSIONS: 'cpu,mem,io,bw' },
      viaSsm: false,
      commandTemplates: {},
      vmTagKey: 'bcs:pool',
      vmTagValue: 'workers',
      retainLogs: false,
    });
    new CfnOutput(stack, 'TableName', { value: table.tableName });
    new CfnOutput(stack, 'EventBusName', { value: dispatch.bus.eventBusName });
    app.synth();
    cdk(['deploy', stackName, '--require-approval', 'never', '--outputs-file', join(outDir, 'outputs.json')]);
    outputs = JSON.parse(await readFile(join(outDir, 'outputs.json'), 'utf8'))[stackName];
  }, 300_000);

  afterAll(async () => {
    if (!outDir) return;
    cdk(['destroy', stackName, '--force']);
    await rm(outDir, { recursive: true, force: true });
  }, 300_000);

  it('a block committed to the table reaches the bus through the stream and the deployed function', async () => {
    const rule = uniqueName('deployed-rule');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await events.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: outputs.EventBusName,
        EventPattern: JSON.stringify({ source: [TASK_ASSIGNED_SOURCE] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: outputs.EventBusName,
        Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }],
      }),
    );
    try {
      const deployedTable = outputs.TableName!;
      const store = new DynamoDbLedgerStore({ client: dynamodb, tableName: deployedTable });
      const records = new DynamoDbDispatchRecords({ client: dynamodb, tableName: deployedTable });
      const scheduling = new SchedulingEngine({
        store,
        fleet: fleet(),
        clock: systemClock,
        algorithm: 'best-fit',
        dimensions: ['cpu', 'mem', 'io', 'bw'],
      });
      const t = job(uniqueName('deployed'), 100, { command: 'echo deployed', labels: { path: 'stream' } });

      await new SpecRecordingEngine(scheduling, records).schedule([t]);

      const got = await received(t.id, 1, 60_000);
      const record = (await store.getTask(t.id))!;
      expect(got).toEqual([
        expect.objectContaining({
          task: expect.objectContaining({ id: t.id, command: 'echo deployed', labels: { path: 'stream' } }),
          transactionId: record.transaction_id,
          blockHeight: record.block_height,
        }),
      ]);
    } finally {
      await events.send(
        new RemoveTargetsCommand({ Rule: rule, EventBusName: outputs.EventBusName, Ids: ['queue'] }),
      );
      await events.send(new DeleteRuleCommand({ Name: rule, EventBusName: outputs.EventBusName }));
    }
  }, 120_000);
});
