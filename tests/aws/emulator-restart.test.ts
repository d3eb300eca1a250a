import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../functions/handlers/scheduler';
import { isAwsUnavailable } from '../../lib/adapters/aws/transient-error';
import { DynamoDbLedgerStore, maxTasksPerCommit } from '../../lib/adapters/dynamodb';
import { SchedulingEngine } from '../../lib/engine/engine';
import { StoreUnavailableError } from '../../lib/errors';
import type { Block } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import type { Task } from '../../lib/model/task';
import { systemClock } from '../../lib/ports/clock';
import type { DeadLetterSender } from '../../lib/ports/dead-letter-sender';
import { freePort } from '../../scripts/emulator/free-port';
import { DIMENSIONS, FixedFleet, fleetVms, workloadTasks } from '../../scripts/reliability/workload';
import { REPO } from '../local/helpers/server';
import { lambdaContext } from '../unit/functions/helpers/events';
import { messageFor, RecordingLogger, RecordingMetrics } from '../unit/functions/helpers/fixtures';
import { createLedgerTable } from './helpers/ledger-table';
import { uniqueName } from './helpers/names';

/**
 * Issue 5: the emulator restarted in the middle of a run. This file starts its own MiniStack on a
 * free port (never the shared one), with MiniStack's PERSIST_STATE=1: it writes every service's
 * state to STATE_DIR when it shuts down gracefully (SIGTERM) and loads it when it starts. While it
 * is down the scheduler must fail cleanly (nothing half-written, every record released for
 * redelivery); once it is back, on the restored state, the redelivered records are decided once and
 * the chain verifies. A kill -9 saves nothing: that case shows what MiniStack loses (docs/emulator.md).
 */
const run = promisify(execFile);
const START = join(REPO, 'scripts/emulator/start.sh');
const STOP = join(REPO, 'scripts/emulator/stop.sh');

async function healthy(endpoint: string, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    try {
      if ((await fetch(`${endpoint}/_localstack/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${endpoint} not healthy after ${seconds}s`);
}

/** The emulator of this file: started by start.sh, restarted here on the same state directory. */
class OwnEmulator {
  readonly dir: string;
  readonly endpoint: string;
  private child?: ChildProcess;

  constructor(readonly port: number) {
    this.dir = join(REPO, '.emulator', String(port));
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  private get pid(): number {
    return Number(readFileSync(join(this.dir, 'pid'), 'utf8'));
  }

  async start(): Promise<void> {
    await run(START, [String(this.port)], { env: { ...process.env, PERSIST_STATE: '1' } });
  }

  /** Ends the process group: SIGTERM lets MiniStack save its state, SIGKILL does not. */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const pid = this.pid;
    process.kill(-pid, signal);
    for (let i = 0; i < 120; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`MiniStack ${pid} did not exit on ${signal}`);
  }

  /**
   * Starts MiniStack again as start.sh does, but keeping STATE_DIR: start.sh clears it, which is
   * right for a fresh run and wrong for a restart.
   */
  async restart(): Promise<void> {
    const log = openSync(join(this.dir, 'ministack.log'), 'a');
    this.child = spawn(join(REPO, '.venv/bin/ministack'), [], {
      env: {
        ...process.env,
        BIND_HOST: '127.0.0.1',
        GATEWAY_PORT: String(this.port),
        MINISTACK_HOST: '127.0.0.1',
        MINISTACK_REGION: 'us-east-1',
        TMPDIR: join(this.dir, 'tmp'),
        STATE_DIR: join(this.dir, 'state'),
        S3_DATA_DIR: join(this.dir, 's3'),
        LOG_LEVEL: 'WARNING',
        PERSIST_STATE: '1',
      },
      detached: true,
      stdio: ['ignore', log, log],
    });
    this.child.unref();
    writeFileSync(join(this.dir, 'pid'), String(this.child.pid));
    await healthy(this.endpoint, 60);
  }

  async remove(): Promise<void> {
    if (existsSync(join(this.dir, 'pid'))) await run(STOP, [String(this.port)]);
  }

  /** Clients that give up within about a second when nothing listens, as a Lambda's would time out. */
  config() {
    return {
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 500, requestTimeout: 5000 },
    };
  }
}

const emulator = new OwnEmulator(await freePort());
beforeAll(() => emulator.start(), 120_000);
afterAll(() => emulator.remove(), 60_000);

const noDeadLetters: DeadLetterSender = {
  send: async () => {
    throw new Error('no task here is ever rejected for good');
  },
};

function schedulerFor(tableName: string) {
  const client = new DynamoDBClient(emulator.config());
  const store = new DynamoDbLedgerStore({ client, tableName });
  const engine = new SchedulingEngine({
    store,
    fleet: new FixedFleet(fleetVms(4)),
    clock: systemClock,
    algorithm: 'best-fit',
    dimensions: DIMENSIONS,
    maxTasksPerCommit: maxTasksPerCommit(5),
  });
  const logger = new RecordingLogger();
  const handler = schedulerHandler({
    engine: () => engine,
    dimensions: DIMENSIONS,
    logger,
    metrics: new RecordingMetrics(),
    deadLetters: noDeadLetters,
    maxReceiveCount: 5,
  });
  return { store, engine, logger, handler, client };
}

/** An SQS event as the event source mapping delivers it, one task per record. */
function eventOf(tasks: Task[], receiveCount = 1): SQSEvent {
  return {
    Records: tasks.map((t) => ({
      messageId: `m-${t.id}`,
      receiptHandle: `r-${t.id}-${receiveCount}`,
      body: JSON.stringify(messageFor(t)),
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tasks',
      awsRegion: 'us-east-1',
    })),
  };
}

async function allBlocks(store: DynamoDbLedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  const blocks: Block[] = [];
  while (blocks.length <= head.height) blocks.push(...(await store.getBlocks(blocks.length, 500)));
  return blocks;
}

function decisions(blocks: Block[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tx of blocks.flatMap((b) => b.transactions)) {
    if (tx.status === 'assigned' || tx.status === 'rejected')
      counts.set(tx.task_id, (counts.get(tx.task_id) ?? 0) + 1);
  }
  return counts;
}

describe('the emulator restarted mid-run', () => {
  it('while it is down the scheduler writes nothing and releases every record; after a graceful restart the state is back and the redelivered tasks are decided once', async () => {
    const bootstrap = new DynamoDBClient(emulator.config());
    const table = await createLedgerTable(bootstrap);
    bootstrap.destroy();
    const queueName = uniqueName('tasks');
    const sqsUp = new SQSClient(emulator.config());
    await sqsUp.send(new CreateQueueCommand({ QueueName: queueName }));
    sqsUp.destroy();
    const [before, during] = [
      workloadTasks({ tasks: 6, seed: 5, startedAt: Date.now() }),
      workloadTasks({ tasks: 4, seed: 6, startedAt: Date.now() }).map((t) => ({ ...t, id: `${t.id}-late` })),
    ];

    // Up: six tasks decided.
    const first = schedulerFor(table.tableName);
    expect((await first.handler(eventOf(before!), lambdaContext)).batchItemFailures).toEqual([]);
    const headBefore = await first.store.readHead();
    expect(decisions(await allBlocks(first.store)).size).toBe(6);

    // Down (graceful: MiniStack saves its state). The same warm container gets the next batch.
    await emulator.stop('SIGTERM');
    const down = await first.handler(eventOf(during!), lambdaContext);
    expect(down.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      during!.map((t) => `m-${t.id}`).sort(),
    );
    // The store reports it as unavailable, keeping the SDK's network error as the cause, which the
    // SDK's own rules classify as transient.
    const outage = await first.store.readHead().catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(StoreUnavailableError);
    expect((outage as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isAwsUnavailable((outage as Error).cause)).toBe(true);
    expect(first.logger.at('error').map((e) => e.message)).toEqual([
      'schedule failed; the batch will be redelivered',
    ]);

    // Back, on the saved state: the chain is where it was, and the redelivery is decided once.
    await emulator.restart();
    const second = schedulerFor(table.tableName);
    expect(await second.store.readHead()).toEqual(headBefore);
    const sqsBack = new SQSClient(emulator.config());
    expect((await sqsBack.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl).toContain(
      queueName,
    );
    sqsBack.destroy();
    // The warm container from before the outage recovers too (its client reconnects).
    expect((await first.handler(eventOf(during!, 2), lambdaContext)).batchItemFailures).toEqual([]);
    expect(
      (await second.handler(eventOf([...before!, ...during!], 3), lambdaContext)).batchItemFailures,
    ).toEqual([]);

    const blocks = await allBlocks(second.store);
    const counts = decisions(blocks);
    expect([...counts.keys()].sort()).toEqual([...before!, ...during!].map((t) => t.id).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const report = await verifyChain(blocks, { expectedHead: await second.store.readHead() });
    expect(report.valid).toBe(true);
    first.client.destroy();
    second.client.destroy();
  }, 180_000);

  it('kill -9 saves nothing: MiniStack comes back with the state of its last graceful shutdown', async () => {
    const client = new DynamoDBClient(emulator.config());
    const table = await createLedgerTable(client);
    client.destroy();
    const scheduler = schedulerFor(table.tableName);
    const tasks = workloadTasks({ tasks: 3, seed: 9, startedAt: Date.now() }).map((t) => ({
      ...t,
      id: `${t.id}-k9`,
    }));
    expect((await scheduler.handler(eventOf(tasks), lambdaContext)).batchItemFailures).toEqual([]);
    expect((await scheduler.store.readHead()).height).toBeGreaterThan(0);

    await emulator.stop('SIGKILL');
    await emulator.restart();
    const after = schedulerFor(table.tableName);
    // The table was created after the last save, so it is gone: an emulator limit, not AWS behaviour.
    await expect(after.store.readHead()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    scheduler.client.destroy();
    after.client.destroy();
  }, 120_000);
});
