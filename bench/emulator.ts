import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbLedgerStore } from '../lib/adapters/dynamodb/dynamodb-ledger-store';
import type { Task } from '../lib/model/task';
import { freePort } from '../scripts/emulator/free-port';
import { bootstrap, deploy, destroy } from '../tests/aws/e2e/cdk-cli';
import { dataPlaneUrl } from '../tests/aws/e2e/emulator-quirks';
import { callApi } from '../tests/aws/e2e/signed-fetch';
import { launchWorkers } from '../tests/aws/e2e/workers';
import { median, round } from './stats';

/**
 * The deployed stack on MiniStack under load through API Gateway, in two configurations of the same
 * stack measured in the same run: batched (SQS batches of 100, blocks of 10) and one block per task
 * (SQS batches of 1, blocks of 1). Each is loaded with the same number of tasks, POSTed in arrays of
 * 100 with SigV4; the wall time runs from the first POST to the task queue being empty, and every
 * task is then checked to be in the ledger.
 *
 * DynamoDB requests are counted on the emulator side: MiniStack at LOG_LEVEL=DEBUG logs one line per
 * request with the service it routed it to. During the load window nothing but the scheduler Lambda
 * talks to DynamoDB (the enqueue Lambda only sends to SQS, this process watches SQS, and the
 * periodic verifier is scheduled once a day), so the lines logged in the window are its requests —
 * reads, conditional writes and retries alike. With LOCALSTACK_ENDPOINT set the log is not ours to
 * read and the count is reported as null.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const DYNAMODB_LINE = /-> service=dynamodb /g;

export interface ConfigurationFigures {
  name: 'batched' | 'one_block_per_task';
  context: Record<string, string>;
  tasks: number;
  seconds: number;
  tasks_per_s: number;
  dynamodb_requests: number | null;
  decisions_per_dynamodb_request: number | null;
  /** From the scheduler's own log lines in the window (null when the log cannot be read). */
  scheduler_invocations: number | null;
  tasks_per_invocation: number | null;
  /** Compare-and-set attempts on the chain head per invocation; above 1 means concurrent batches collided. */
  attempts_per_invocation: number | null;
  /** Invocations that logged "schedule failed" (their batch is redelivered after the visibility timeout). */
  failed_invocations: number | null;
  tasks_per_post: number;
}

export interface EmulatorFigures {
  decisions_per_dynamodb_request: number | null;
  speedup_vs_one_block_per_task: number | null;
  tasks_per_run: number;
  runs: number;
  request_count_method: string;
  configurations: ConfigurationFigures[];
  /** What limits the figures on the emulator, in words; bench/format.ts prints it. */
  reason: string;
}

const BATCHED = { batchSize: '100', maxBatchingWindowSeconds: '1', blockSize: '10' };
const ONE_PER_TASK = { batchSize: '1', maxBatchingWindowSeconds: '0', blockSize: '1' };
/**
 * Tasks per POST. The enqueue function packs the tasks of one POST into messages of up to 25, so the
 * one-block-per-task baseline posts tasks one at a time: one task per message, per invocation, per block.
 */
const TASKS_PER_POST = { batched: 100, one_block_per_task: 1 } as const;

/** The caveats a reader needs next to the figures, from what the run itself observed. */
function explain(batched: ConfigurationFigures, single: ConfigurationFigures): string {
  if (batched.dynamodb_requests === null) {
    return 'DynamoDB requests not counted: LOCALSTACK_ENDPOINT names an emulator whose log this process cannot read';
  }
  const notes = [
    `measured on MiniStack: batched ${batched.tasks_per_s} tasks/s, one block per task ${single.tasks_per_s} tasks/s`,
  ];
  if (batched.tasks_per_invocation !== null) {
    notes.push(
      `${batched.tasks_per_invocation} tasks per scheduler invocation (MiniStack delivers at most 10 SQS messages per invocation whatever batchSize says; a message carries up to 25 tasks)`,
    );
  }
  if (batched.failed_invocations) {
    notes.push(
      `${batched.failed_invocations} batched invocations gave up (AppendRetriesExhausted) and were redelivered after the visibility timeout`,
    );
  }
  if (batched.attempts_per_invocation !== null && batched.attempts_per_invocation > 1) {
    notes.push(
      `concurrent invocations collided on the chain head: ${batched.attempts_per_invocation} compare-and-set attempts per invocation, each re-reading head, reservations and tasks`,
    );
  }
  return notes.join('; ');
}

export async function benchEmulator(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<EmulatorFigures> {
  const { log } = options;
  const tasksPerRun = options.quick ? 300 : 1000;
  const runs = 1;
  const external = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  const port = external ? undefined : await freePort();
  let endpoint = external;
  const logFile = port === undefined ? undefined : join(ROOT, '.emulator', String(port), 'ministack.log');
  const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const stackName = `bcs-bench-${suffix}`;
  const pool = `bench-${suffix}`;
  const base = {
    stage: 'test',
    cloudWatchRole: 'false',
    vmTagValue: pool,
    verifyIntervalMinutes: '1440',
    throttlingRateLimit: '10000',
    throttlingBurstLimit: '5000',
    // A batch that loses the head race 8 times is redelivered after the visibility timeout (6 × this):
    // 60 s instead of 6 minutes keeps the run bounded; an invocation here takes well under a second.
    schedulerTimeoutSeconds: '10',
  };
  const outDir = await mkdtemp(join(tmpdir(), 'bcs-bench-emulator-'));
  const instanceIds: string[] = [];
  let deployed: { stack: string; context: Record<string, string> } | undefined;
  let clients: { ec2: EC2Client; cw: CloudWatchClient; sqs: SQSClient; ddb: DynamoDBClient } | undefined;
  try {
    if (!endpoint) {
      log(`emulator: starting MiniStack on 127.0.0.1:${port} ...`);
      const { stdout } = await run(join(ROOT, 'scripts/emulator/start.sh'), [String(port)], {
        env: { ...process.env, EMULATOR_LOG_LEVEL: 'DEBUG' },
        timeout: 300_000,
      });
      endpoint = stdout.trim().split('\n').at(-1)!;
    }
    const config = {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    clients = {
      ec2: new EC2Client(config),
      cw: new CloudWatchClient(config),
      sqs: new SQSClient(config),
      ddb: new DynamoDBClient(config),
    };
    const { ec2, cw, sqs, ddb } = clients;

    // Ten m5.large (2,000 millicores each) take 200 tasks of 10 millicores each: room for every task.
    instanceIds.push(...(await launchWorkers(ec2, cw, pool, Array(10).fill('m5.large'))));

    log('emulator: cdk bootstrap ...');
    await bootstrap(endpoint);
    const configurations: ConfigurationFigures[] = [];
    for (const [name, settings] of [
      ['batched', BATCHED],
      ['one_block_per_task', ONE_PER_TASK],
    ] as const) {
      // A stack of its own for each configuration: both start from an empty table, since the
      // reservations scan reads the whole table and a fuller one costs more requests.
      const context = { ...base, ...settings };
      const stack = `${stackName}-${name === 'batched' ? 'batched' : 'single'}`;
      log(`emulator: deploying ${stack} (${name}: ${JSON.stringify(settings)}) ...`);
      deployed = { stack, context };
      const outputs = await deploy(endpoint, stack, context, outDir);
      const api = dataPlaneUrl(endpoint, outputs.ApiUrl!);
      const store = new DynamoDbLedgerStore({ client: ddb, tableName: outputs.TableName! });
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: outputs.QueueName! }));
      const perRun: ConfigurationFigures[] = [];
      for (let r = 0; r < runs; r++) {
        const ids = Array.from({ length: tasksPerRun }, (_, i) => `bench-${name}-${r}-${suffix}-${i}`);
        const figures = await loadOnce({
          api,
          ids,
          queueUrl: QueueUrl!,
          sqs,
          store,
          tasksPerPost: TASKS_PER_POST[name],
          logFile,
          log: (line) => log(`emulator: ${name} run ${r + 1}: ${line}`),
        });
        perRun.push({ name, context: settings, tasks_per_post: TASKS_PER_POST[name], ...figures });
      }
      log(`emulator: destroying ${stack} ...`);
      await destroy(endpoint, stack, context, outDir);
      deployed = undefined;
      const tps = median(perRun.map((p) => p.tasks_per_s));
      const requests = perRun.every((p) => p.dynamodb_requests !== null)
        ? median(perRun.map((p) => p.dynamodb_requests!))
        : null;
      const medianOf = (
        key:
          | 'scheduler_invocations'
          | 'tasks_per_invocation'
          | 'attempts_per_invocation'
          | 'failed_invocations',
      ) => (perRun.every((p) => p[key] !== null) ? median(perRun.map((p) => p[key]!)) : null);
      configurations.push({
        scheduler_invocations: medianOf('scheduler_invocations'),
        tasks_per_invocation: medianOf('tasks_per_invocation'),
        attempts_per_invocation: medianOf('attempts_per_invocation'),
        failed_invocations: medianOf('failed_invocations'),
        tasks_per_post: TASKS_PER_POST[name],
        name,
        context: settings,
        tasks: tasksPerRun,
        seconds: round(median(perRun.map((p) => p.seconds))),
        tasks_per_s: round(tps),
        dynamodb_requests: requests,
        decisions_per_dynamodb_request: requests ? round(tasksPerRun / requests) : null,
      });
    }
    const [batched, single] = configurations as [ConfigurationFigures, ConfigurationFigures];
    return {
      decisions_per_dynamodb_request: batched.decisions_per_dynamodb_request,
      speedup_vs_one_block_per_task: round(batched.tasks_per_s / single.tasks_per_s),
      tasks_per_run: tasksPerRun,
      runs,
      request_count_method: logFile
        ? 'MiniStack DEBUG log lines routed to dynamodb during the load window (every scheduler request, retries included)'
        : 'not counted: LOCALSTACK_ENDPOINT names an emulator whose log this process cannot read',
      configurations,
      reason: explain(batched, single),
    };
  } finally {
    if (endpoint && deployed) {
      log(`emulator: destroying ${deployed.stack} ...`);
      await destroy(endpoint, deployed.stack, deployed.context, outDir).catch((e: unknown) =>
        log(`emulator: destroy failed: ${String(e)}`),
      );
    }
    if (clients && instanceIds.length > 0) {
      await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds })).catch(() => {});
    }
    if (clients) for (const c of Object.values(clients)) c.destroy();
    if (port !== undefined) {
      await run(join(ROOT, 'scripts/emulator/stop.sh'), [String(port)]).catch((e: unknown) =>
        log(`emulator: stop failed: ${String(e)}`),
      );
    }
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The emulator's log so far, or null when it is not ours to read. */
async function emulatorLog(logFile: string | undefined): Promise<string | null> {
  return logFile ? readFile(logFile, 'utf8') : null;
}

/**
 * What the scheduler Lambda logged in a window of the emulator's log: its "batch scheduled" lines
 * (Powertools JSON, passed through by MiniStack) give the SQS batch sizes the emulator delivered and
 * the compare-and-set attempts each batch needed.
 */
function schedulerInvocations(window: string): {
  invocations: number;
  tasks: number;
  attempts: number;
  failed: number;
} {
  let invocations = 0;
  let tasks = 0;
  let attempts = 0;
  let failed = 0;
  for (const line of window.split('\n')) {
    if (line.startsWith('{') && line.includes('"schedule failed')) failed++;
    if (!line.startsWith('{') || !line.includes('"batch scheduled"')) continue;
    const entry = JSON.parse(line) as { tasks?: number; attempts?: number };
    invocations++;
    tasks += entry.tasks ?? 0;
    attempts += entry.attempts ?? 0;
  }
  return { invocations, tasks, attempts, failed };
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes!.ApproximateNumberOfMessages) +
    Number(Attributes!.ApproximateNumberOfMessagesNotVisible)
  );
}

async function loadOnce(args: {
  api: string;
  ids: string[];
  queueUrl: string;
  sqs: SQSClient;
  store: DynamoDbLedgerStore;
  logFile: string | undefined;
  tasksPerPost: number;
  log: (line: string) => void;
}): Promise<Omit<ConfigurationFigures, 'name' | 'context' | 'tasks_per_post'>> {
  const { api, ids, queueUrl, sqs, store, logFile, tasksPerPost } = args;
  const now = Math.floor(Date.now() / 1000);
  const task = (id: string) => ({ id, cpu: 10, mem: 16, deadline: now + 3600, duration: 600 });
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += tasksPerPost) chunks.push(ids.slice(i, i + tasksPerPost));

  const before = await emulatorLog(logFile);
  const started = performance.now();
  // Four clients, each posting its share of the arrays one after another.
  await Promise.all(
    [0, 1, 2, 3].map(async (c) => {
      for (let i = c; i < chunks.length; i += 4) {
        const res = await callApi(api, 'POST', '/tasks', { body: chunks[i]!.map(task) });
        if (res.status !== 202)
          throw new Error(`POST /tasks answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
    }),
  );
  const deadline = Date.now() + 600_000;
  while ((await queueDepth(sqs, queueUrl)) > 0) {
    if (Date.now() > deadline) throw new Error('the task queue did not drain within 10 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await emulatorLog(logFile);

  // Outside the window: every task must be in the ledger, or the wall time measured nothing.
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const slice = ids.slice(i, i + 50);
    const records = await Promise.all(slice.map((id) => store.getTask(id)));
    slice.forEach((id, j) => {
      if (records[j] === null) missing.push(id);
    });
  }
  if (missing.length > 0) throw new Error(`${missing.length} tasks not in the ledger, e.g. ${missing[0]}`);
  const window = before === null || after === null ? null : after.slice(before.length);
  const requests = window === null ? null : (window.match(DYNAMODB_LINE)?.length ?? 0);
  const lambda = window === null ? null : schedulerInvocations(window);
  args.log(
    `${ids.length} tasks in ${seconds.toFixed(1)} s, ${requests ?? 'uncounted'} DynamoDB requests, scheduler ${JSON.stringify(lambda)}`,
  );
  return {
    scheduler_invocations: lambda?.invocations ?? null,
    tasks_per_invocation: lambda?.invocations ? round(lambda.tasks / lambda.invocations) : null,
    attempts_per_invocation: lambda?.invocations ? round(lambda.attempts / lambda.invocations) : null,
    failed_invocations: lambda?.failed ?? null,
    tasks: ids.length,
    seconds: round(seconds),
    tasks_per_s: round(ids.length / seconds),
    dynamodb_requests: requests,
    decisions_per_dynamodb_request: requests ? round(ids.length / requests) : null,
  };
}

/** What one in-process run of the real engine and DynamoDB store cost, by DynamoDB operation. */
export interface StoreRequestFigures {
  tasks: number;
  tasks_per_batch: number;
  concurrent_engines: number;
  block_size: number;
  max_tasks_per_commit: number;
  /** Compare-and-set attempts over all batches: the TransactWriteItems sent. */
  attempts: number;
  requests: number;
  requests_by_operation: Record<string, number>;
  requests_per_attempt: number;
  decisions_per_dynamodb_request: number;
  method: string;
}

/**
 * The scheduler's DynamoDB cost without the stack around it: `engines` SchedulingEngines, wired as
 * functions/shared/wiring.ts wires the Lambda's (same store, blockSize, maxTasksPerCommit), share one
 * fresh ledger table on the emulator and schedule `tasks` in batches of `batch` (each engine like a
 * Lambda invocation taking one SQS batch after another). Every command the store sends is counted by
 * an SDK middleware on its client, by operation; the genesis write and table setup are not counted.
 */
export async function benchStoreRequests(options: {
  endpoint: string;
  tasks: number;
  batch: number;
  engines: number;
  blockSize: number;
}): Promise<StoreRequestFigures> {
  const { SchedulingEngine } = await import('../lib/engine/engine');
  const { maxTasksPerCommit } = await import('../lib/adapters/dynamodb/commit-plan');
  const { createLedgerTable } = await import('../tests/aws/helpers/ledger-table');
  const config = {
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const admin = new DynamoDBClient(config);
  const counted = new DynamoDBClient(config);
  const sent = new Map<string, number>();
  let counting = false;
  counted.middlewareStack.add(
    (next, context) => (args) => {
      if (counting) {
        const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
        sent.set(name, (sent.get(name) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchCountCommands' },
  );
  const table = await createLedgerTable(admin);
  try {
    const store = new DynamoDbLedgerStore({ client: counted, tableName: table.tableName });
    await store.readHead();
    // Ten VMs with room for every task, like the ten m5.large of the deployed benchmark.
    const dimensions = ['cpu', 'mem', 'io', 'bw'];
    const vms = Array.from({ length: 10 }, (_, i) => ({
      id: `vm-${i}`,
      capacity: { cpu: 100_000, mem: 1_000_000, io: 1000, bw: 1000 },
      reserved: {},
      usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
      history: [],
      activeTasks: 0,
      labels: {},
      state: 'active' as const,
    }));
    const perCommit = maxTasksPerCommit(options.blockSize);
    const engines = Array.from(
      { length: options.engines },
      () =>
        new SchedulingEngine({
          store,
          fleet: { listVms: async () => structuredClone(vms) },
          clock: { now: () => Date.now() },
          algorithm: 'least-loaded',
          dimensions,
          blockSize: options.blockSize,
          maxTasksPerCommit: perCommit,
          maxAttempts: 50,
        }),
    );
    const now = Math.floor(Date.now() / 1000);
    const batches: Task[][] = [];
    for (let i = 0; i < options.tasks; i += options.batch) {
      batches.push(
        Array.from({ length: Math.min(options.batch, options.tasks - i) }, (_, j) => ({
          id: `store-bench-${i + j}`,
          requirements: { cpu: 10, mem: 16, io: 0, bw: 0 },
          duration: 600,
          deadline: now + 3600,
          priority: 0,
          submittedAt: Date.now(),
          labels: {},
          constraints: {},
        })),
      );
    }
    let decided = 0;
    let next = 0;
    counting = true;
    await Promise.all(
      engines.map(async (engine) => {
        while (next < batches.length) {
          const outcome = await engine.schedule(batches[next++]!);
          decided += outcome.decisions.length;
        }
      }),
    );
    counting = false;
    if (decided !== options.tasks) throw new Error(`${decided} of ${options.tasks} tasks decided`);
    const requests = [...sent.values()].reduce((a, b) => a + b, 0);
    // Every compare-and-set attempt is exactly one TransactWriteItems (the append).
    const attempts = sent.get('TransactWriteItems') ?? 0;
    return {
      tasks: options.tasks,
      tasks_per_batch: options.batch,
      concurrent_engines: options.engines,
      block_size: options.blockSize,
      max_tasks_per_commit: perCommit,
      attempts,
      requests,
      requests_by_operation: Object.fromEntries([...sent].sort()),
      requests_per_attempt: round(requests / attempts),
      decisions_per_dynamodb_request: round(options.tasks / requests),
      method: 'SDK middleware on the store client, in process, counting every command by name',
    };
  } finally {
    await table.drop();
    counted.destroy();
    admin.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--store-requests')) {
  // LOCALSTACK_ENDPOINT (e.g. a shared MiniStack) or a MiniStack of our own on a free port.
  const external = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  const port = external ? undefined : await freePort();
  const endpoint =
    external ??
    (await run(join(ROOT, 'scripts/emulator/start.sh'), [String(port)], { timeout: 300_000 })).stdout
      .trim()
      .split('\n')
      .at(-1)!;
  try {
    const arg = (name: string, fallback: number) => {
      const i = process.argv.indexOf(`--${name}`);
      return i < 0 ? fallback : Number(process.argv[i + 1]);
    };
    const figures = await benchStoreRequests({
      endpoint,
      tasks: arg('tasks', 1000),
      batch: arg('batch', 10),
      engines: arg('engines', 4),
      blockSize: arg('block-size', 10),
    });
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    if (port !== undefined) await run(join(ROOT, 'scripts/emulator/stop.sh'), [String(port)]);
  }
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchEmulator({
    quick: process.argv.includes('--quick'),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
