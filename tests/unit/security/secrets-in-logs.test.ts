import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiApp } from '../../../functions/handlers/api';
import { enqueueHandler } from '../../../functions/handlers/enqueue';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { verifyHandler } from '../../../functions/handlers/verify';
import { restApiHandler } from '../../../lib/adapters/apigateway/rest-adapter';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import type { Task } from '../../../lib/model/task';
import { ManualClock } from '../../../lib/ports/clock';
import type { SendResult, TaskSender } from '../../../lib/ports/task-sender';
import { toQueueMessage } from '../../../lib/schemas/queue-message';
import { task as localTask, startServer } from '../../local/helpers/server';
import { MemoryCompletionQueue } from '../functions/helpers/completion-queue';
import { apiEvent, lambdaContext, scheduledEvent, sqsEvent, sqsRecord } from '../functions/helpers/events';
import { FakeDeadLetterQueue } from '../functions/helpers/fake-dead-letter-queue';
import { allBlocks, DIMENSIONS, ledger, RecordingMetrics, T0, vm } from '../functions/helpers/fixtures';

/**
 * Requests carry credentials in every place a client puts them (a bearer token, an API Gateway key, a
 * SigV4 Authorization header, a session token); none may reach a log line or the ledger. Decision log
 * lines must name both the task and the transaction, so that a decision can be traced from either.
 */

const TOKEN = 'tok-5f1c0e9b7a2d4c8e9f01';
const WRONG_TOKEN = 'tok-wrong-77aa0c1d2e3f4a5b';
const API_KEY = 'apikey-Qm9yZXZlclNlY3JldEtleTEyMzQ1';
const SIGV4 =
  'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLESECRET01/20261121/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=4d5e6f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0';
const SESSION = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENabc123';
const SECRETS = [TOKEN, WRONG_TOKEN, API_KEY, 'AKIAEXAMPLESECRET01', '4d5e6f0a1b2c3d4e5f6a7b8c9d0e', SESSION];

const leaked = (text: string) => SECRETS.filter((s) => text.includes(s));

function withCredentials(event: APIGatewayProxyEvent, authorization: string): APIGatewayProxyEvent {
  return {
    ...event,
    headers: {
      ...event.headers,
      Authorization: authorization,
      'x-api-key': API_KEY,
      'X-Amz-Security-Token': SESSION,
    },
    multiValueHeaders: { Authorization: [authorization], 'x-api-key': [API_KEY] },
  };
}

/** Everything Powertools loggers print (JSON lines on stdout/stderr) while `run` runs. */
async function captureLogs(run: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const grab = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

class QueueCapture implements TaskSender {
  readonly tasks: Task[] = [];
  async send(tasks: readonly Task[]): Promise<SendResult> {
    this.tasks.push(...tasks);
    return { sent: tasks.map((t) => t.id), failed: [] };
  }
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Lambda functions: credentials never reach the logs or the ledger', () => {
  it('enqueue -> scheduler -> api -> verify with credentials on every request, at DEBUG', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_DEV', '');
    const logger = (service: string) => new Logger({ serviceName: service, logLevel: 'DEBUG' });
    const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    const queue = new QueueCapture();
    const ids: string[] = [];

    const logs = await captureLogs(async () => {
      const enqueue = enqueueHandler({
        sender: queue,
        acceptances: new MemoryTaskAcceptances(),
        dimensions: DIMENSIONS,
        clock: new ManualClock(T0),
        newId: () => `t-${ids.push('')}`,
      });
      const submitted = await enqueue(
        withCredentials(
          apiEvent('POST', '/tasks', {
            body: [
              { cpu: 100, mem: 10, deadline: 1_900_000_000, duration: 60 },
              { cpu: 100, mem: 10, deadline: 1_900_000_000, duration: 60 },
              { cpu: 5000, mem: 10, deadline: 1_900_000_000, duration: 60 },
            ],
          }),
          `Bearer ${TOKEN}`,
        ),
      );
      expect(submitted.statusCode).toBe(202);
      const refused = await enqueue(
        withCredentials(apiEvent('POST', '/tasks', { body: { cpu: -1 } }), SIGV4),
      );
      expect(refused.statusCode).toBe(400);

      const scheduler = schedulerHandler({
        engine: () => engine,
        dimensions: DIMENSIONS,
        logger: logger('scheduler'),
        metrics: new RecordingMetrics(),
        deadLetters: new SqsDeadLetterSender(
          new FakeDeadLetterQueue(),
          'https://sqs.us-east-1.amazonaws.com/000000000000/dlq',
        ),
        maxReceiveCount: 1,
      });
      await scheduler(
        sqsEvent(...queue.tasks.map((t, i) => sqsRecord(`m${i}`, toQueueMessage(t)))),
        lambdaContext,
      );

      const api = restApiHandler(
        apiApp({
          store: () => store,
          completions: new MemoryCompletionQueue(new ManualClock(0)),
          acceptances: new MemoryTaskAcceptances(),
          dimensions: DIMENSIONS,
          logger: logger('api'),
        }),
      );
      for (const path of ['/tasks/t-1', '/ledger', '/ledger/verify', '/no/such/route']) {
        await api(withCredentials(apiEvent('GET', path), SIGV4));
      }
      // A failing request: the store throws, the handler logs the error with method and path.
      const broken = restApiHandler(
        apiApp({
          store: () => {
            throw new Error('store down');
          },
          completions: new MemoryCompletionQueue(new ManualClock(0)),
          acceptances: new MemoryTaskAcceptances(),
          dimensions: DIMENSIONS,
          logger: logger('api'),
        }),
      );
      expect(
        (await broken(withCredentials(apiEvent('GET', '/tasks/t-1'), `Bearer ${TOKEN}`))).statusCode,
      ).toBe(500);

      const verify = verifyHandler({
        store: () => store,
        started: async () => true,
        logger: logger('verify'),
        metrics: new RecordingMetrics(),
      });
      await verify(withCredentials(apiEvent('POST', '/ledger/verify'), SIGV4));
      await verify(scheduledEvent());
    });

    expect(leaked(logs)).toEqual([]);
    expect(logs).not.toMatch(/authorization|x-api-key|security-token/i);
    const blocks = JSON.stringify(await allBlocks(store));
    expect(leaked(blocks)).toEqual([]);

    // Every committed transaction appears in a decision log line with both ids.
    const lines = logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(3);
    const logged = lines.flatMap((l) => (l.decisions as { taskId: string; transactionId: string }[]) ?? []);
    const committed = (await allBlocks(store)).flatMap((b) =>
      b.transactions.map((t) => ({ taskId: t.task_id, transactionId: t.transaction_id })),
    );
    expect(committed.map((c) => c.taskId).sort()).toEqual(['t-1', 't-2', 't-3']);
    expect(logged.map(({ taskId, transactionId }) => ({ taskId, transactionId }))).toEqual(
      expect.arrayContaining(committed),
    );
  });
});

describe('local runtime: credentials never reach its logs, its data directory or the ledger', () => {
  it('token-guarded server, right and wrong tokens, API keys and SigV4 headers on reads and writes', async () => {
    const server = await startServer({ env: { BCS_TOKEN: TOKEN } });
    try {
      const headers = (authorization: string) => ({
        'content-type': 'application/json',
        authorization,
        'x-api-key': API_KEY,
        'x-amz-security-token': SESSION,
      });
      const post = (path: string, body: unknown, authorization: string) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: headers(authorization),
          body: JSON.stringify(body),
        });
      expect((await post('/tasks', [localTask('s1'), localTask('s2')], `Bearer ${TOKEN}`)).status).toBe(202);
      expect((await post('/tasks', [localTask('s3')], `Bearer ${WRONG_TOKEN}`)).status).toBe(401);
      // Not a bearer credential at all: Hono's bearerAuth answers 400 rather than 401; refused either way.
      expect([400, 401]).toContain((await post('/tasks', [localTask('s4')], SIGV4)).status);
      expect((await post('/tasks', { cpu: TOKEN }, `Bearer ${TOKEN}`)).status).toBe(400);
      for (const path of [
        '/ledger',
        '/ledger/digest?signed=1',
        '/tasks/s1',
        '/no/such',
        `/tasks/${'x'.repeat(300)}`,
      ]) {
        await fetch(`${server.url}${path}`, { headers: headers(`Bearer ${TOKEN}`) });
      }
      await post('/ledger/verify', {}, `Bearer ${WRONG_TOKEN}`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const files = await readdir(server.dataDir);
    const contents = await Promise.all(files.map((f) => readFile(join(server.dataDir, f), 'latin1')));
    for (const [i, text] of contents.entries()) {
      expect(leaked(text), files[i]).toEqual([]);
    }
    expect(leaked(server.stderr())).toEqual([]);
  }, 60_000);
});
