import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  type _InstanceType,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../cli/cdk';
import { apiBaseUrl } from '../../cli/stack';
import { instanceTypeCapacity } from '../../lib/adapters/aws/instance-capacity';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import {
  blockKey,
  CAPACITY_ATTRIBUTE_PREFIX,
  PARTITION_KEY,
  RESERVED_ATTRIBUTE_PREFIX,
  VM_PREFIX,
} from '../../lib/adapters/dynamodb/keys';
import type { Block, VerificationReport } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import type { ResourceVector } from '../../lib/model/resources';
import type { FleetResponse } from '../../lib/schemas/http';
import { runSchemathesis } from '../../scripts/fuzz/schemathesis';
import { BCS, REPO, runCli } from '../local/helpers/server';
import type { HostileRequest } from '../unit/fuzz/hostile';
import { bootstrap, deploy, destroy } from './e2e/cdk-cli';
import { dataPlaneUrl } from './e2e/emulator-quirks';
import { fuzzGateway, gatewayRequests, judgeAtGateway, sendSigned } from './e2e/gateway-fuzz';
import { evaluateRecordedCalls } from './e2e/recorded-calls';
import { callApi } from './e2e/signed-fetch';
import { launchWorkers } from './e2e/workers';
import { cloudWatchClient, dynamoDbClient, ec2Client, emulatorConfig } from './helpers/clients';

/**
 * The real stack on the emulator: deployed with the pinned CDK CLI, tasks posted through API Gateway
 * with SigV4, scheduled by the SQS-driven Lambda against EC2 instances launched in the emulator, then
 * checked through the verify endpoint and by reading DynamoDB directly.
 */

const DIMENSIONS = ['cpu', 'mem', 'io', 'bw'] as const;
const TASK_CPU = 500;
const endpoint = inject('awsEndpoint');
const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const stackName = `bcs-e2e-${suffix}`;
const pool = `e2e-${suffix}`;
// The two emulator flags, and a pool tag no other test uses.
// Dispatch with agents: the dispatcher feeds each instance's queue (docs/agent.md "On AWS").
const context = {
  stage: 'test',
  cloudWatchRole: 'false',
  vmTagValue: pool,
  dispatch: 'true',
  agents: 'true',
};

const ec2 = ec2Client();
const cloudWatch = cloudWatchClient();
const dynamo = dynamoDbClient();
const sqs = new SQSClient(emulatorConfig());
const instances = new Map<string, ResourceVector>();
let outDir: string;
let outputs: Record<string, string>;
let api: string;
let store: DynamoDbLedgerStore;

async function launchPool(types: _InstanceType[]): Promise<void> {
  const described = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [...new Set(types)] }));
  const infos = new Map(described.InstanceTypes!.map((t) => [t.InstanceType!, t]));
  const ids = await launchWorkers(ec2, cloudWatch, pool, types);
  for (const [k, id] of ids.entries())
    instances.set(id, instanceTypeCapacity(infos.get(types[k]!)!, DIMENSIONS));
}

async function chain(): Promise<Block[]> {
  const head = await store.readHead();
  return store.getBlocks(0, head.height + 1);
}

async function waitForTasks(ids: string[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = ids;
  while (Date.now() < deadline) {
    const records = await Promise.all(missing.map((id) => store.getTask(id)));
    missing = missing.filter((_, i) => records[i] === null);
    if (missing.length === 0) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`tasks never reached the ledger: ${missing.join(', ')}`);
}

/** Waits until the lease closer has recorded the task's completion (it consumes the completion queue). */
async function waitForStatus(id: string, status: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await store.getTask(id))?.status === status) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`task ${id} never became ${status}`);
}

/** Polls `read` every 2 s until it returns a value, or fails naming `what` after `timeoutMs`. */
async function waitFor<T>(
  read: () => Promise<T | undefined>,
  { timeoutMs, what }: { timeoutMs: number; what: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${what} did not finish within ${timeoutMs} ms`);
}

async function queueDepth(name: string): Promise<number> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes!.ApproximateNumberOfMessages) +
    Number(Attributes!.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Reads the DLQ until `count` messages arrived (the forward follows the ledger write) or time runs out. */
async function receiveDeadLetters(name: string, count: number, timeoutMs = 60_000): Promise<Message[]> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const received: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ['All'],
      }),
    );
    received.push(...(Messages ?? []));
  }
  return received;
}

/** Every item of the table, as text in key order: the ledger, its head, tasks, VMs, byte for byte. */
async function tableItems(): Promise<string[]> {
  const items: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await DynamoDBDocumentClient.from(dynamo).send(
      new ScanCommand({ TableName: outputs.TableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) items.push(canonicalize(item)!);
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort();
}

const queueDepths = async () =>
  [await queueDepth(outputs.QueueName!), await queueDepth(outputs.DeadLetterQueueName!)] as const;

/** Schemathesis test cases per operation and phase against the stack; SCHEMATHESIS_EXAMPLES to change. */
const SCHEMATHESIS_EXAMPLES = Number(process.env.SCHEMATHESIS_EXAMPLES ?? 5);

/** Hostile requests through the gateway: 1,000 by default (issue 5); GATEWAY_FUZZ_RUNS to change. */
const GATEWAY_FUZZ_RUNS = Number(process.env.GATEWAY_FUZZ_RUNS ?? 1000);

/**
 * The environment `bcs emulator up` prints: the emulator's endpoint and dummy keys through the SDK's
 * default chain; nothing read from ~/.aws or instance metadata.
 */
const cliCredentials = {
  AWS_ENDPOINT_URL: endpoint,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const now = Math.floor(Date.now() / 1000);
const task = (id: string, cpu = TASK_CPU) => ({ id, cpu, mem: 256, deadline: now + 3600, duration: 600 });
const smallIds = Array.from({ length: 16 }, (_, i) => `e2e-${suffix}-${i}`);
const hugeId = `e2e-${suffix}-huge`;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bcs-e2e-'));
  await launchPool(['t3.medium', 't3.large', 'm5.large']);
  await bootstrap(endpoint);
  outputs = await deploy(endpoint, stackName, context, outDir);
  // The EmulatorApiPath output, as `bcs --stack` reads it; the same URL as rebuilt from ApiUrl.
  api = apiBaseUrl(outputs, stackName, endpoint);
  expect(api).toBe(dataPlaneUrl(endpoint, outputs.ApiUrl!));
  store = new DynamoDbLedgerStore({ client: dynamo, tableName: outputs.TableName! });
});

afterAll(async () => {
  if (instances.size > 0)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [...instances.keys()] }));
  if (outputs) await destroy(endpoint, stackName, context, outDir);
  // The agent queues are the dispatcher's, created at run time: not part of the stack.
  if (outputs?.AgentQueuePrefix) {
    const { QueueUrls = [] } = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: outputs.AgentQueuePrefix }),
    );
    for (const QueueUrl of QueueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  }
  if (outDir) await rm(outDir, { recursive: true, force: true });
  for (const c of [ec2, cloudWatch, dynamo, sqs]) c.destroy();
});

describe('the deployed stack on the emulator', () => {
  it('reports a ledger nothing was scheduled on yet as valid and empty', async () => {
    const report = await callApi(api, 'POST', '/ledger/verify');
    expect(report).toMatchObject({ status: 200, body: { valid: true, height: -1, blocks_checked: 0 } });
  });

  it('has no signed digest before its first scheduled verification, and bcs says so with exit 1', async () => {
    // The schedule is every 15 minutes by default: none has run this soon after the deploy.
    const out = join(outDir, 'signed-digest.json');
    const none = await runCli(
      ['ledger', 'digest', '--stack', stackName, '--sign', '--out', out],
      cliCredentials,
    );
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(
      new RegExp(`^no signed digest yet: ${stackName} signs its head on each scheduled verification`),
    );
    expect(none.code).toBe(1);
    await expect(access(out)).rejects.toThrow();
  });

  it('refuses unsigned requests and invalid tasks at the API, queuing nothing', async () => {
    expect((await callApi(api, 'GET', '/ledger', { signed: false })).status).toBe(403);
    const bad = await callApi(api, 'POST', '/tasks', {
      body: [task('ok-but-not-queued'), { ...task('x'), cpu: -1 }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/cpu/);
    expect(await store.getTask('ok-but-not-queued')).toBeNull();
  });

  it('schedules every task exactly once, fills the pool without exceeding any VM, and verifies', async () => {
    // Act: three submissions, an array and single tasks, as clients would send them.
    const posted = [
      await callApi(api, 'POST', '/tasks', { body: smallIds.slice(0, 10).map((id) => task(id)) }),
      await callApi(api, 'POST', '/tasks', {
        body: [...smallIds.slice(10).map((id) => task(id)), task(hugeId, 1e9)],
      }),
      await callApi(api, 'POST', '/tasks', { body: task(smallIds[0]!) }), // a resubmission
    ];
    expect(posted.map((p) => p.status)).toEqual([202, 202, 202]);
    const all = [...smallIds, hugeId];
    await waitForTasks(all);

    // Every task is in exactly one transaction of one block; the resubmission wrote nothing.
    const blocks = await chain();
    const transactions = blocks.flatMap((b) => b.transactions);
    expect(transactions.map((t) => t.task_id).sort()).toEqual([...all].sort());

    // The huge task fits nowhere; the small ones fill the pool: a VM takes floor(cpu / 500) of them.
    expect(transactions.find((t) => t.task_id === hugeId)).toMatchObject({ status: 'rejected', vm_id: null });
    const room = [...instances.values()].reduce((n, c) => n + Math.floor(c.cpu! / TASK_CPU), 0);
    const assigned = transactions.filter((t) => t.status === 'assigned');
    expect(assigned).toHaveLength(Math.min(room, smallIds.length));

    // No VM over capacity: recomputed from the chain against EC2's instance types...
    for (const [vmId, capacity] of instances) {
      const mine = assigned.filter((t) => t.vm_id === vmId);
      for (const d of DIMENSIONS) {
        expect(mine.reduce((n, t) => n + t.task_requirements[d]!, 0)).toBeLessThanOrEqual(capacity[d]!);
      }
    }
    expect(new Set(assigned.map((t) => t.vm_id)).size).toBeLessThanOrEqual(instances.size);
    for (const t of assigned) expect(instances.has(t.vm_id!)).toBe(true);

    // ...and as the table's VM items hold it.
    const { Items } = await DynamoDBDocumentClient.from(dynamo).send(
      new ScanCommand({
        TableName: outputs.TableName,
        FilterExpression: 'begins_with(#pk, :vm)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':vm': VM_PREFIX },
        ConsistentRead: true,
      }),
    );
    expect(Items!.length).toBeGreaterThan(0);
    for (const item of Items!) {
      for (const d of DIMENSIONS) {
        expect(item[`${RESERVED_ATTRIBUTE_PREFIX}${d}`]).toBeLessThanOrEqual(
          item[`${CAPACITY_ATTRIBUTE_PREFIX}${d}`],
        );
      }
    }

    // The chain verifies, read straight from DynamoDB and through the verify endpoint.
    const local = await verifyChain(blocks);
    expect(local.valid).toBe(true);
    const remote = await callApi(api, 'POST', '/ledger/verify');
    expect(remote.status).toBe(200);
    expect(remote.body as VerificationReport).toMatchObject({
      valid: true,
      height: blocks.at(-1)!.height,
      head_hash: blocks.at(-1)!.block_hash,
    });

    // The task queue is empty; the huge task, and only it, was moved to the DLQ with its rejection.
    const rejection = transactions.find((t) => t.task_id === hugeId)!;
    const letters = await receiveDeadLetters(outputs.DeadLetterQueueName!, 1);
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.Body!)).toMatchObject({ version: 1, task: { id: hugeId } });
    const attribute = (name: string) => letters[0]!.MessageAttributes?.[name]?.StringValue;
    expect(attribute('taskId')).toBe(hugeId);
    expect(attribute('transactionId')).toBe(rejection.transaction_id);
    expect(attribute('reason')).toBe(rejection.reason);
    expect(await queueDepth(outputs.DeadLetterQueueName!)).toBe(1); // the one just received, in flight
    expect(await queueDepth(outputs.QueueName!)).toBe(0);
  });

  it('completes a task through the API (queued, recorded by the lease closer) and the chain still verifies', async () => {
    const placed = (await chain()).flatMap((b) => b.transactions).find((t) => t.status === 'assigned')!;
    const done = await callApi(api, 'POST', `/tasks/${placed.task_id}/complete`);
    expect(done).toMatchObject({ status: 202, body: { status: 'accepted', task_status: 'assigned' } });
    // The completion queue's event source delivers it to the lease closer, which appends the block.
    await waitForStatus(placed.task_id, 'completed');
    expect((await callApi(api, 'GET', `/tasks/${placed.task_id}`)).body).toMatchObject({
      status: 'completed',
    });
    expect(await callApi(api, 'POST', `/tasks/${placed.task_id}/complete`)).toMatchObject({
      status: 200,
      body: { status: 'already-final', task_status: 'completed' },
    });
    const proof = await callApi(api, 'GET', `/ledger/transactions/${placed.transaction_id}`);
    expect(proof).toMatchObject({ status: 200, body: { transaction: { task_id: placed.task_id } } });
    const report = await callApi(api, 'POST', '/ledger/verify');
    expect(report.body).toMatchObject({ valid: true });
  });

  it('runs a full re-audit on the deployed Step Functions Distributed Map: 202, a job, then the report', async () => {
    const started = await callApi(api, 'POST', '/ledger/verify', { body: { full: true } });
    expect(started.status).toBe(202);
    const job = started.body as { job_id: string; head: { height: number; hash: string }; ranges: unknown[] };
    expect(job).toMatchObject({ state: 'running' });
    expect(job.ranges.length).toBeGreaterThan(0);
    const done = await waitFor(
      async () => {
        const read = await callApi(api, 'GET', `/ledger/verify/${job.job_id}`);
        return (read.body as { state: string }).state === 'running' ? undefined : read.body;
      },
      { timeoutMs: 180_000, what: `audit job ${job.job_id}` },
    );
    expect(done).toMatchObject({
      state: 'done',
      report: {
        valid: true,
        height: job.head.height,
        head_hash: job.head.hash,
        blocks_checked: job.head.height + 1,
      },
      digest: { height: job.head.height, head_hash: job.head.hash },
    });
    // Signed by the stack's key: the digest carries a signature.
    expect((done as { digest: { signature?: string } }).digest.signature).toEqual(expect.any(String));
    expect((await callApi(api, 'POST', '/ledger/verify', { body: { full: 'yes' } })).status).toBe(400);
  });

  it("runs a fleet instance's assignments with bcs agent --stack from the stack's own feed, once each, across an agent restart", async () => {
    // Prepare: the instance with the most open assignments. The deployed dispatcher (the table's stream)
    // has put each of its assignments in its queue, which it created; nothing is copied by hand.
    const transactions = (await chain()).flatMap((b) => b.transactions);
    const closed = new Set(transactions.filter((t) => t.status === 'completed').map((t) => t.task_id));
    const open = new Map<string, string[]>();
    for (const t of transactions.filter((t) => t.status === 'assigned' && !closed.has(t.task_id)))
      open.set(t.vm_id!, [...(open.get(t.vm_id!) ?? []), t.task_id]);
    const [vm, tasks] = [...open].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    const queueName = `${outputs.AgentQueuePrefix}${vm}`;
    const queued = async () => {
      const deadline = Date.now() + 120_000; // the stream, the function and the queue on a loaded machine
      while (Date.now() < deadline) {
        const depth = await queueDepth(queueName).catch(() => 0);
        if (depth >= tasks.length) return depth;
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new Error(`the dispatcher never filled ${queueName}`);
    };
    expect(await queued()).toBeGreaterThanOrEqual(tasks.length);

    // Act: an agent, stopped (SIGTERM) once it has started a task, then a second agent process.
    const started: string[] = [];
    const runAgent = () => {
      const child = spawn(
        process.execPath,
        [
          BCS,
          'agent',
          '--stack',
          stackName,
          '--vm',
          vm,
          '--speed',
          '60',
          '--wait',
          '1',
          '--concurrency',
          '1',
        ],
        { cwd: REPO, env: { ...process.env, ...cliCredentials } },
      );
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const lines = () =>
        stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; task_id?: string; level: string });
      return { child, exited, lines, stdout: () => stdout, stderr: () => stderr };
    };
    const until = async (what: string, done: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 240_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const first = runAgent();
    await until('a task started', () => first.lines().some((l) => l.msg === 'task started'));
    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr()).toBe(0);
    started.push(
      ...first
        .lines()
        .filter((l) => l.msg === 'task started')
        .map((l) => l.task_id!),
    );
    const firstSummary = JSON.parse(first.stdout());
    expect(firstSummary.completed).toBe(firstSummary.started);

    const second = runAgent();
    const status = async (id: string) =>
      ((await callApi(api, 'GET', `/tasks/${id}`)).body as { status: string }).status;
    await until('every assignment completed', async () =>
      (await Promise.all(tasks.map(status))).every((s) => s === 'completed'),
    );
    await until('the queue emptied', async () => (await queueDepth(queueName)) === 0);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.stderr()).toBe(0);
    started.push(
      ...second
        .lines()
        .filter((l) => l.msg === 'task started')
        .map((l) => l.task_id!),
    );

    // Assess: each assignment ran once across the two processes and was completed through the gateway.
    expect([...started].sort()).toEqual([...tasks].sort());
    expect(firstSummary.started).toBeGreaterThanOrEqual(1);
    expect(firstSummary.started).toBeLessThan(tasks.length);
    expect(JSON.parse(second.stdout())).toMatchObject({
      completed: tasks.length - firstSummary.started,
      unreported: 0,
    });
    for (const agent of [first, second]) expect(agent.lines().filter((l) => l.level === 'error')).toEqual([]);
    const completions = (await chain())
      .flatMap((b) => b.transactions)
      .filter((t) => t.status === 'completed');
    for (const id of tasks) expect(completions.filter((t) => t.task_id === id)).toHaveLength(1);
    expect((await callApi(api, 'POST', '/ledger/verify')).body).toMatchObject({ valid: true });
  });

  it('shows the fleet with the ledger reservations and drains a worker through the API', async () => {
    const transactions = (await chain()).flatMap((b) => b.transactions);
    const open = new Map<string, number>();
    for (const t of transactions.filter((t) => t.status === 'assigned'))
      open.set(t.vm_id!, (open.get(t.vm_id!) ?? 0) + 1);
    for (const t of transactions.filter((t) => t.status === 'completed'))
      open.set(t.vm_id!, open.get(t.vm_id!)! - 1);
    const fleet = async () => {
      const res = await callApi(api, 'GET', '/fleet');
      expect(res.status).toBe(200);
      return new Map((res.body as FleetResponse).vms.map((vm) => [vm.id, vm]));
    };
    const before = await fleet();
    expect([...before.keys()].sort()).toEqual([...instances.keys()].sort());
    for (const [id, vm] of before) {
      expect(vm).toMatchObject({
        state: 'active',
        active_tasks: open.get(id) ?? 0,
        free_to_terminate: false,
      });
    }

    const [target] = [...instances.keys()].sort();
    const drained = await callApi(api, 'POST', `/fleet/vms/${target}/drain`);
    expect(drained).toEqual({ status: 200, body: { id: target, state: 'draining' } });
    expect((await fleet()).get(target!)).toMatchObject({
      state: 'draining',
      free_to_terminate: (open.get(target!) ?? 0) === 0,
    });
    expect((await callApi(api, 'POST', '/fleet/vms/i-0123456789abcdef0/drain')).status).toBe(404);
  });

  it(`refuses ${GATEWAY_FUZZ_RUNS} hostile requests through API Gateway, writing and queuing nothing`, async () => {
    const seed = Number(process.env.GATEWAY_FUZZ_SEED ?? Date.now() % 2 ** 31);
    const requests = fc.sample(gatewayRequests(now), { numRuns: GATEWAY_FUZZ_RUNS, seed });
    const tableBefore = await tableItems();
    const depthsBefore = await queueDepths();
    expect(tableBefore.length).toBeGreaterThan(0);

    const { sent, failures, statuses } = await fuzzGateway(api, requests);

    expect(sent).toBe(GATEWAY_FUZZ_RUNS);
    expect(failures, `seed ${seed}, statuses ${JSON.stringify(statuses)}`).toEqual([]);
    expect(await tableItems()).toEqual(tableBefore);
    expect(await queueDepths()).toEqual(depthsBefore);
    // The API still takes a valid task, and the scheduler still decides it.
    const id = `e2e-${suffix}-after-fuzz`;
    expect((await callApi(api, 'POST', '/tasks', { body: task(id, 1) })).status).toBe(202);
    await waitForTasks([id]);
  });

  // Known gap (issue 5, docs/reliability.md "Bad input"): the REST API declares no binary media types,
  // so API Gateway hands the enqueue function a body that is not UTF-8 as text it already decoded, and
  // the function's strict decoding (base64 bodies only) never runs. Passes while the gap is open.
  it('refuses a task whose command is not UTF-8, though the gateway decoded it to U+FFFD', async () => {
    const id = `e2e-${suffix}-not-utf8`;
    const head = `{"id":"${id}","cpu":1,"deadline":${now + 3600},"duration":60,"command":"a`;
    const request: HostileRequest = {
      label: 'a command holding the bytes c3 28',
      method: 'POST',
      path: '/tasks',
      body: Buffer.concat([Buffer.from(head), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      contentType: 'application/json',
      field: '',
      mention: 'UTF-8',
    };
    const answer = await sendSigned(api, request);
    // An accepted task gets scheduled: let it settle so the next test reads a chain nobody is appending to.
    if (answer.status === 202) await waitForTasks([id]);
    expect(judgeAtGateway(request, answer)).toEqual([]);
  });

  it('passes Schemathesis, driven by the /openapi.json the stack serves, every request signed with SigV4', async () => {
    // Issue 11: the same off-the-shelf fuzzer as against the local server (tests/local/fuzz), bounded.
    const doc = await callApi(api, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const schema = join(outDir, 'openapi.json');
    await writeFile(schema, JSON.stringify(doc.body));
    const result = await runSchemathesis({
      url: api.replace(/\/$/, ''),
      schema,
      config: join(ROOT, 'tests/aws/e2e/schemathesis.toml'),
      sigv4: true,
      env: cliCredentials,
      maxExamples: SCHEMATHESIS_EXAMPLES,
      seed: 11,
      args: [
        '--exclude-checks',
        // missing_required_header: the API's one required header is Authorization, for which
        // Schemathesis accepts only 401; API Gateway refuses a request without credentials with 403
        // (AWS's behaviour for IAM authorization, declared in the document) before any function runs.
        // ignored_auth: its probes send invalid credentials, which MiniStack accepts (it checks no
        // signature, docs/emulator.md); on AWS IAM refuses them. Unsigned requests are refused (403)
        // here too: the first tests of this file and the unsupported-method check see it.
        'missing_required_header,ignored_auth',
        // Its response-time check stops at 10 s by default: timing is a benchmark's business, and a POST
        // of 1,000 tasks through the shared emulator took 10.8 s at load 20. 120 s only catches a hang.
        '--max-response-time',
        '120',
      ],
    });
    const summary = result.output.split('\n').slice(-80).join('\n');
    expect(result.code, `schemathesis found problems:\n${summary}`).toBe(0);
    expect(result.output).toMatch(/API Operations:\s+Selected: (\d+)\/\1\s+Tested: [1-9]/);
    // The chain still verifies. (Tasks it submitted that fit a VM but find no room wait on the queue
    // for maxWaitSeconds, 15 minutes, before their rejection: they are queued, not lost.)
    expect((await callApi(api, 'POST', '/ledger/verify')).body).toMatchObject({ valid: true });
  }, 900_000);

  it('is audited by the CLI over SigV4, which names a block tampered with in DynamoDB', async () => {
    // The emulator's dummy keys through the SDK's default chain; nothing read from ~/.aws or instance metadata.
    const credentials = {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const audit = () =>
      runCli(['ledger', 'verify', '--url', api, '--aws-sigv4', 'us-east-1', '--json'], credentials);
    const blocks = await chain();

    const good = await audit();
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      valid: true,
      height: blocks.at(-1)!.height,
      head_hash: blocks.at(-1)!.block_hash,
      blocks_checked: blocks.length,
      transactions_checked: blocks.reduce((n, b) => n + b.transaction_count, 0),
    });

    // An operator with table access rewrites one decision: the first task of block 1 now asked for 1 millicore.
    const target = blocks[1]!;
    const forged = target.transactions.map((t, i) =>
      i === 0 ? { ...t, task_requirements: { ...t.task_requirements, cpu: 1 } } : t,
    );
    await DynamoDBDocumentClient.from(dynamo).send(
      new UpdateCommand({
        TableName: outputs.TableName,
        Key: { [PARTITION_KEY]: blockKey(target.height) },
        UpdateExpression: 'SET #txs = :txs',
        ExpressionAttributeNames: { '#txs': 'transactions' },
        ExpressionAttributeValues: { ':txs': JSON.stringify(forged) },
      }),
    );

    const bad = await audit();
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      valid: false,
      first_bad_height: target.height,
      problem: 'wrong-merkle-root',
    });
  });

  // Last: every call the deployed functions made above, evaluated with the IAM policy simulator
  // against each function's synthesized role and the table's resource policy (the emulator enforces
  // neither). Only when this run started the emulator: its Lambda workers record into inject('awsCallLog').
  it.skipIf(inject('awsCallLog') === '')(
    "made only AWS calls that the functions' roles and the table policy allow",
    async () => {
      const cloudFormation = new CloudFormationClient(emulatorConfig());
      const evaluation = await evaluateRecordedCalls({
        callLog: inject('awsCallLog'),
        stackName,
        templatePath: join(outDir, 'cdk.out', `${stackName}.template.json`),
        cloudFormation,
        // The drain's CreateTags is allowed on fleet instances only: their tags, as the emulator has them.
        resourceTags: async (arn) => {
          const id = /:instance\/(i-[0-9a-f]+)$/.exec(arn)?.[1];
          if (!id) return {};
          const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
          const tags = Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
          return Object.fromEntries(tags.map((t) => [t.Key!, t.Value ?? '']));
        },
      });
      cloudFormation.destroy();
      // The calls this file's flows must have made: not evaluating them would prove nothing.
      const actions = Object.values(evaluation.actions).flat();
      for (const action of [
        'sqs:SendMessage', // enqueue
        'dynamodb:PutItem', // the scheduler's appends, one request per item
        'dynamodb:UpdateItem',
        'dynamodb:GetItem', // reads through the API
        'dynamodb:BatchGetItem',
        'ec2:DescribeInstances', // the fleet
        'cloudwatch:GetMetricData',
        'ec2:CreateTags', // the drain through the API
        'sqs:CreateQueue', // the dispatcher's agent feed
      ]) {
        expect(actions).toContain(action);
      }
      // Completions: the API only queues them (no chain write of its own, which the table's policy
      // would deny); the lease closer (the Expire function) appends them.
      const of = (prefix: RegExp) =>
        Object.entries(evaluation.actions).find(([id]) => prefix.test(id))?.[1] ?? [];
      expect(of(/^Read/)).toContain('sqs:SendMessage');
      expect(of(/^Read/).filter((a) => /PutItem|UpdateItem/.test(a))).toEqual([]);
      expect(of(/^SchedulerExpire/)).toEqual(
        expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']),
      );
      expect(Object.keys(evaluation.requests).length).toBeGreaterThanOrEqual(3);
      expect(evaluation.denied).toEqual([]);
    },
  );
});
