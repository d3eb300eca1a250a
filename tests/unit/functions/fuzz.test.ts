import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiApp } from '../../../functions/handlers/api';
import { enqueueHandler } from '../../../functions/handlers/enqueue';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { restApiHandler } from '../../../lib/adapters/apigateway/rest-adapter';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import type { Task } from '../../../lib/model/task';
import { ManualClock } from '../../../lib/ports/clock';
import type { SendResult, TaskSender } from '../../../lib/ports/task-sender';
import {
  type HostileRequest,
  hostileBlockQueries,
  hostileBodyRequests,
  hostileCompletions,
  hostileTaskArrays,
  hostileTaskLookups,
  hostileTransactionLookups,
  judge,
  taskRoute,
} from '../fuzz/hostile';
import { hostileMessages, validQueuedTask } from '../fuzz/hostile-messages';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { apiEvent, lambdaContext, sqsEvent, sqsRecord } from './helpers/events';
import {
  allBlocks,
  DIMENSIONS,
  ledger,
  RecordingLogger,
  RecordingMetrics,
  T0,
  task,
  taskIdsInChain,
  vm,
} from './helpers/fixtures';

/**
 * Issue 5, "Bad input", for the Lambda handlers in-process: hostile API requests are refused with a
 * 4xx naming the problem and send or write nothing; hostile queue messages become batch item
 * failures (redelivered, then dead-lettered) without a ledger write and without failing their
 * valid neighbours.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const now = Math.floor(T0 / 1000);

class RecordingSender implements TaskSender {
  readonly sent: Task[] = [];
  async send(tasks: readonly Task[]): Promise<SendResult> {
    this.sent.push(...tasks);
    return { sent: tasks.map((t) => t.id), failed: [] };
  }
}

/** The gateway's proxy event for a request; bytes arrive base64-encoded, as binary bodies do. */
function gatewayEvent(request: HostileRequest): APIGatewayProxyEvent {
  const url = new URL(request.path, 'https://api.example.test');
  const query = Object.fromEntries(url.searchParams);
  const event = apiEvent(request.method, url.pathname, Object.keys(query).length > 0 ? { query } : {});
  event.headers = { 'Content-Type': request.contentType, host: 'api.example.test' };
  if (typeof request.body === 'string') event.body = request.body;
  else if (request.body !== undefined) {
    event.body = Buffer.from(request.body).toString('base64');
    event.isBase64Encoded = true;
  }
  return event;
}

const parsed = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
};

describe('enqueue function: hostile POST /tasks', { timeout: 60_000 }, () => {
  it(`refuses ${RUNS} of them with a 4xx naming the problem and sends nothing`, async () => {
    const sender = new RecordingSender();
    const handler = enqueueHandler({
      sender,
      acceptances: new MemoryTaskAcceptances(),
      dimensions: DIMENSIONS,
      clock: new ManualClock(T0),
      newId: () => 'generated',
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileBodyRequests(taskRoute(now)), hostileTaskArrays(now)),
        async (request) => {
          const result = await handler(gatewayEvent(request));
          const problems = judge(request, result.statusCode, parsed(result.body));
          if (problems.length > 0) throw new Error(`${request.label}: ${problems.join('; ')}`);
        },
      ),
      { numRuns: RUNS },
    );
    expect(sender.sent).toEqual([]);
  });
});

describe('api function: hostile ids and block queries', { timeout: 60_000 }, () => {
  it(`refuses ${RUNS} of them with a 4xx naming the problem and writes nothing`, async () => {
    const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    await engine.schedule([task('a', { cpu: 100 })]);
    const before = await allBlocks(store);
    const handler = restApiHandler(
      apiApp({
        store: () => store,
        completions: new MemoryCompletionQueue(new ManualClock(0)),
        acceptances: new MemoryTaskAcceptances(),
        dimensions: DIMENSIONS,
        logger: new RecordingLogger(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileTaskLookups, hostileCompletions, hostileTransactionLookups, hostileBlockQueries),
        async (request) => {
          const result = await handler(gatewayEvent(request));
          const problems = judge(request, result.statusCode, parsed(result.body));
          if (problems.length > 0) throw new Error(`${request.label}: ${problems.join('; ')}`);
        },
      ),
      { numRuns: RUNS },
    );
    expect(await allBlocks(store)).toEqual(before);
  });
});

describe('scheduler function: queue messages that bypassed the API', { timeout: 60_000 }, () => {
  it('fails exactly the hostile records of each batch, writes nothing for them, and schedules the rest', async () => {
    const batch = fc
      .tuple(
        fc.array(hostileMessages(T0), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(validQueuedTask(T0), { maxLength: 3, selector: (t) => t.id }),
      )
      .chain(([bad, good]) =>
        fc
          .shuffledSubarray(
            [
              ...bad.map((m, i) => ({ id: `bad-${i}`, body: m.body, label: m.label })),
              ...good.map((t, i) => ({
                id: `good-${i}`,
                body: JSON.stringify({ version: 1, task: t }),
                label: String(t.id),
              })),
            ],
            { minLength: bad.length + good.length },
          )
          .map((records) => ({ records, good })),
      );
    await fc.assert(
      fc.asyncProperty(batch, async ({ records, good }) => {
        // No waiting for capacity: every valid task is decided (placed or rejected) in this one batch.
        const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })], {
          maxWaitSeconds: 0,
        });
        const handler = schedulerHandler({
          engine: () => engine,
          dimensions: DIMENSIONS,
          logger: new RecordingLogger(),
          metrics: new RecordingMetrics(),
          // Rejected tasks are forwarded to the DLQ before they are acknowledged; this one always takes them.
          deadLetters: { send: async () => ({ failed: [] }) },
          maxReceiveCount: 5,
        });
        const response = await handler(
          sqsEvent(...records.map((r) => sqsRecord(r.id, r.body))),
          lambdaContext,
        );
        const failed = response.batchItemFailures.map((f) => f.itemIdentifier).sort();
        const hostile = records.filter((r) => r.id.startsWith('bad-'));
        expect(failed, hostile.map((r) => r.label).join(' | ')).toEqual(hostile.map((r) => r.id).sort());
        expect((await taskIdsInChain(store)).sort()).toEqual(good.map((t) => t.id as string).sort());
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
