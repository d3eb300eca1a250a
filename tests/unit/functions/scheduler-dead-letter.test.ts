import { describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import type { SchedulingEngine } from '../../../lib/engine/engine';
import type { Engine } from '../../../lib/engine/types';
import { verifyChain } from '../../../lib/ledger/verify';
import type { Task } from '../../../lib/model/task';
import { lambdaContext, sqsEvent, sqsRecord } from './helpers/events';
import { FakeDeadLetterQueue } from './helpers/fake-dead-letter-queue';
import {
  allBlocks,
  DIMENSIONS,
  ledger,
  messageFor,
  RecordingLogger,
  RecordingMetrics,
  task,
  vm,
} from './helpers/fixtures';

const MAX_RECEIVE_COUNT = 5;
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks-dlq';
const ERROR = 'compare-and-set attempts exhausted after 8 tries (head-moved)';

const small = (id: string) => task(id, { cpu: 100, mem: 100, io: 0, bw: 0 });
const huge = (id: string) => task(id, { cpu: 5000, mem: 1, io: 0, bw: 0 });
const pinned = (id: string) =>
  task(id, { cpu: 100, mem: 100, io: 0, bw: 0 }, { constraints: { zone: 'mars' } });
// Ten minutes before the handler's clock (T0, 2026-11-21T06:00:00Z): small enough to fit anywhere.
const overdue = (id: string) =>
  task(id, { cpu: 100, mem: 100, io: 0, bw: 0 }, { deadline: Date.UTC(2026, 10, 21, 5, 50, 0) / 1000 });

/** The real engine, except that schedule fails as a store outage or lost races would make it. */
function failingSchedule(engine: SchedulingEngine, options: { rejectFails?: boolean } = {}): Engine {
  return Object.assign(Object.create(engine) as SchedulingEngine, {
    schedule: async () => {
      throw new Error(ERROR);
    },
    ...(options.rejectFails
      ? {
          reject: async () => {
            throw new Error('ProvisionedThroughputExceededException');
          },
        }
      : {}),
  });
}

function setup(
  options: {
    dlq?: FakeDeadLetterQueue;
    engine?: (real: SchedulingEngine) => Engine;
    /** How the handler reads blocks: the store (default), a failing reader, or not at all. */
    blocks?: 'store' | 'failing' | 'none';
  } = {},
) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const dlq = options.dlq ?? new FakeDeadLetterQueue();
  let current: Engine = options.engine ? options.engine(engine) : engine;
  const handler = schedulerHandler({
    engine: () => current,
    dimensions: DIMENSIONS,
    logger,
    metrics,
    deadLetters: new SqsDeadLetterSender(dlq, DLQ_URL),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    ...(options.blocks === 'none'
      ? {}
      : {
          blocks:
            options.blocks === 'failing'
              ? {
                  getBlock: async () => {
                    throw new Error('ProvisionedThroughputExceededException');
                  },
                }
              : store,
        }),
  });
  return {
    store,
    logger,
    metrics,
    dlq,
    /** From now on the handler uses `make(real engine)`, on the same store. */
    switchTo: (make: (real: SchedulingEngine) => Engine) => {
      current = make(engine);
    },
    run: (...records: Parameters<typeof sqsEvent>) => handler(sqsEvent(...records), lambdaContext),
  };
}

async function transactionOf(store: ReturnType<typeof ledger>['store'], taskId: string) {
  return (await allBlocks(store)).flatMap((b) => b.transactions).filter((t) => t.task_id === taskId);
}

describe.each([
  ['bigger than any VM', huge('never'), /cpu/],
  ['constrained to labels no VM has', pinned('never'), /zone/],
  [
    'whose deadline has passed',
    overdue('never'),
    /^deadline passed: 2026-11-21T05:50:00Z is before the decision at 2026-11-21T06:00:00Z$/,
  ],
] as [string, Task, RegExp][])('a task %s', (_name, unplaceable, reasonPattern) => {
  it('is recorded as rejected, forwarded to the DLQ with its transaction and reason, then acknowledged', async () => {
    // Prepare
    const { store, dlq, metrics, run } = setup();
    const record = sqsRecord('m-never', messageFor(unplaceable));
    // Act
    const res = await run(record, sqsRecord('m-ok', messageFor(small('ok'))));
    // Assess
    expect(res.batchItemFailures).toEqual([]);
    const [tx, ...more] = await transactionOf(store, 'never');
    expect(more).toEqual([]);
    expect(tx).toMatchObject({ status: 'rejected', vm_id: null });
    expect(tx!.reason).toMatch(reasonPattern);
    expect(dlq.requests.map((r) => r.QueueUrl)).toEqual([DLQ_URL]);
    expect(dlq.messages).toEqual([
      {
        body: record.body,
        attributes: { taskId: 'never', transactionId: tx!.transaction_id, reason: tx!.reason },
      },
    ]);
    expect(metrics.last('TasksRejected')).toEqual([1]);
    expect(metrics.last('DeadLettersForwarded')).toEqual([1]);
  });

  it('stays on the task queue when the forward fails, and is forwarded on redelivery without a second transaction', async () => {
    // Prepare: SQS refuses the first request and its retry, then recovers.
    const dlq = new FakeDeadLetterQueue({ refuse: (call) => call <= 2 });
    const { store, logger, dlq: queue, metrics, run } = setup({ dlq });
    const body = messageFor(unplaceable);

    // Act 1: the first delivery
    const first = await run(sqsRecord('m-1', body, 1), sqsRecord('m-ok', messageFor(small('ok'))));

    // Assess 1: recorded, not forwarded, not acknowledged
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(queue.messages).toEqual([]);
    expect(logger.at('error').map((e) => e.message)).toEqual([
      'could not forward rejected tasks to the DLQ; they will be redelivered',
    ]);
    expect(metrics.last('RecordsRedelivered')).toEqual([1]);
    const [tx] = await transactionOf(store, 'never');
    const head = await store.readHead();

    // Act 2: SQS delivers the same message again
    const again = await run(sqsRecord('m-1', body, 2));

    // Assess 2: forwarded with the transaction the first delivery wrote; the ledger is unchanged
    expect(again.batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(head);
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]!.attributes).toMatchObject({
      taskId: 'never',
      transactionId: tx!.transaction_id,
    });
    expect(queue.messages[0]!.attributes.reason).toBe(tx!.reason);
    expect(metrics.last('TasksRejected')).toEqual([0]);
    expect(metrics.last('TasksDuplicate')).toEqual([1]);
  });
});

describe('a task whose commit keeps failing', () => {
  describe.each([
    // [receive count, last delivery?] against maxReceiveCount 5
    [1, false],
    [4, false],
    [5, true],
    [7, true],
  ])('on delivery %i', (deliveries, last) => {
    it(
      last
        ? 'is recorded as rejected with the deliveries and the error, and reported failed so SQS dead-letters it'
        : 'is reported failed for redelivery, and nothing is written',
      async () => {
        // Prepare
        const { store, dlq, run } = setup({ engine: (real) => failingSchedule(real) });
        // Act
        const res = await run(
          sqsRecord('m-a', messageFor(small('a')), deliveries),
          sqsRecord('m-b', messageFor(small('b')), 1),
        );
        // Assess: SQS, not the handler, moves the message; b has deliveries left either way.
        expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-a' }, { itemIdentifier: 'm-b' }]);
        expect(dlq.requests).toEqual([]);
        expect(await store.getTask('b')).toBeNull();
        const txs = await transactionOf(store, 'a');
        if (!last) {
          expect(txs).toEqual([]);
          return;
        }
        expect(txs).toMatchObject([
          {
            status: 'rejected',
            vm_id: null,
            reason: `not committed after ${deliveries} deliveries: ${ERROR}`,
          },
        ]);
        expect(await store.getTask('a')).toMatchObject({ status: 'rejected' });
        expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
      },
    );
  });

  it('is left to SQS (moved to the exhausted queue) when the rejection cannot be committed either, which is logged', async () => {
    const { store, logger, run } = setup({ engine: (real) => failingSchedule(real, { rejectFails: true }) });
    const res = await run(sqsRecord('m-a', messageFor(small('a')), MAX_RECEIVE_COUNT));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-a' }]);
    expect((await store.readHead()).height).toBe(0);
    const logged = logger.at('error').map((e) => e.message);
    expect(logged).toContain(
      'could not record the rejection; SQS moves the messages to the exhausted queue, where they are recorded',
    );
  });

  it('is acknowledged on its last delivery if the ledger already holds it as placed', async () => {
    // Prepare: an earlier delivery's commit landed although its invocation failed afterwards.
    const { store, switchTo, run } = setup();
    await run(sqsRecord('m-a', messageFor(small('a')), 1));
    const head = await store.readHead();
    switchTo((real) => failingSchedule(real));
    // Act
    const res = await run(sqsRecord('m-a', messageFor(small('a')), MAX_RECEIVE_COUNT));
    // Assess: placed, so not dead-lettered, and no rejection written over the assignment
    expect(res.batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(head);
    expect(await store.getTask('a')).toMatchObject({ status: 'assigned' });
  });

  it('is dead-lettered without a second transaction if an earlier last-delivery rejection landed', async () => {
    const { store, switchTo, run } = setup({ engine: (real) => failingSchedule(real) });
    await run(sqsRecord('m-a', messageFor(small('a')), MAX_RECEIVE_COUNT));
    const head = await store.readHead();
    switchTo((real) => failingSchedule(real));
    const res = await run(sqsRecord('m-a', messageFor(small('a')), MAX_RECEIVE_COUNT + 1));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-a' }]);
    expect(await store.readHead()).toEqual(head);
  });
});

describe.each([
  ['no block reader', 'none'],
  ['a block reader that fails', 'failing'],
] as const)('a redelivered rejected task with %s', (_name, blocks) => {
  it('is still forwarded, its reason attribute naming the block that holds the rejection', async () => {
    const { store, dlq, run } = setup({ blocks });
    await run(sqsRecord('m-1', messageFor(huge('never')), 1));
    const height = (await store.getTask('never'))!.block_height;
    const res = await run(sqsRecord('m-1', messageFor(huge('never')), 2));
    expect(res.batchItemFailures).toEqual([]);
    expect(dlq.messages.map((m) => m.attributes.reason).at(-1)).toBe(
      `recorded as rejected in block ${height} by an earlier delivery`,
    );
  });
});
