import { describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import type { SchedulingEngine } from '../../../lib/engine/engine';
import type { Engine } from '../../../lib/engine/types';
import { verifyChain } from '../../../lib/ledger/verify';
import type { Task } from '../../../lib/model/task';
import { queueMessageSchema, toMultiTaskMessage } from '../../../lib/schemas/queue-message';
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

/** 700 of the VM's 1000 millicores: two never fit at once, one always fits an empty VM. */
const big = (id: string) => task(id, { cpu: 700, mem: 1, io: 0, bw: 0 });
const small = (id: string) => task(id, { cpu: 100, mem: 1, io: 0, bw: 0 });
const huge = (id: string) => task(id, { cpu: 5000, mem: 1, io: 0, bw: 0 });
const multi = (...tasks: Task[]) => toMultiTaskMessage(tasks);

function setup(options: { failFirstForward?: boolean } = {}) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  // With failFirstForward, SQS refuses the first two sends of 'never' (a send and its retry).
  const dlq = new FakeDeadLetterQueue(
    options.failFirstForward ? { refuse: (call, taskId) => call <= 2 && taskId === 'never' } : {},
  );
  let current: Engine = engine;
  const handler = schedulerHandler({
    engine: () => current,
    dimensions: DIMENSIONS,
    logger,
    metrics,
    deadLetters: new SqsDeadLetterSender(dlq, DLQ_URL),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    blocks: store,
  });
  const run = async (...records: Parameters<typeof sqsEvent>) =>
    (await handler(sqsEvent(...records), lambdaContext)).batchItemFailures.map((f) => f.itemIdentifier);
  return {
    store,
    engine,
    logger,
    metrics,
    dlq,
    run,
    switchTo: (make: (real: SchedulingEngine) => Engine) => {
      current = make(engine);
    },
  };
}

async function transactionsOf(store: ReturnType<typeof ledger>['store'], taskId: string) {
  return (await allBlocks(store)).flatMap((b) => b.transactions).filter((t) => t.task_id === taskId);
}

describe('scheduler: a task that fits a VM but finds no room free now', () => {
  it('is a batch item failure with nothing written, logged by id and counted as TasksDeferred', async () => {
    const { store, logger, metrics, dlq, run } = setup();
    expect(await run(sqsRecord('m-run', messageFor(big('running'))))).toEqual([]);
    const head = await store.readHead();

    expect(await run(sqsRecord('m-wait', messageFor(big('waiting'))))).toEqual(['m-wait']);

    expect(await store.readHead()).toEqual(head);
    expect(await store.getTask('waiting')).toBeNull();
    expect(dlq.requests).toEqual([]);
    expect(metrics.last('TasksDeferred')).toEqual([1]);
    expect(metrics.last('RecordsRedelivered')).toEqual([1]);
    const deferredLog = logger.at('info').find((e) => e.message.startsWith('tasks deferred'));
    expect(deferredLog?.extra[0]).toEqual({ taskIds: ['waiting'] });
  });

  it('is placed on a later delivery once the room is freed', async () => {
    const { store, engine, run } = setup();
    await run(sqsRecord('m-run', messageFor(big('running'))));
    expect(await run(sqsRecord('m-wait', messageFor(big('waiting')), 1))).toEqual(['m-wait']);
    await engine.complete('running');
    expect(await run(sqsRecord('m-wait', messageFor(big('waiting')), 2))).toEqual([]);
    expect(await store.getTask('waiting')).toMatchObject({ status: 'assigned', vm_id: 'vm-a' });
  });

  it('on its last delivery is recorded as rejected "no capacity after N deliveries", forwarded to the DLQ and acknowledged', async () => {
    const { store, dlq, metrics, run } = setup();
    await run(sqsRecord('m-run', messageFor(big('running'))));
    const body = JSON.stringify(messageFor(big('waiting')));

    expect(await run(sqsRecord('m-wait', body, MAX_RECEIVE_COUNT))).toEqual([]);

    const [tx] = await transactionsOf(store, 'waiting');
    expect(tx).toMatchObject({ status: 'rejected', vm_id: null });
    expect(tx!.reason).toBe(
      `no capacity after ${MAX_RECEIVE_COUNT} deliveries: no feasible VM: needs cpu 700 millicores, largest free is 300`,
    );
    expect(dlq.messages).toEqual([
      {
        body,
        attributes: { taskId: 'waiting', transactionId: tx!.transaction_id, reason: tx!.reason },
      },
    ]);
    expect(metrics.last('TasksRejected')).toEqual([1]);
    expect(metrics.last('TasksDeferred')).toEqual([0]);
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
  });
});

describe('scheduler: one record carrying several tasks', () => {
  it('is acknowledged when all are settled; a rejected one goes to the DLQ alone, in the single-task shape', async () => {
    const { store, dlq, run } = setup();
    const record = sqsRecord('m-1', multi(small('a'), huge('never'), small('b')));

    expect(await run(record)).toEqual([]);

    expect(await store.getTask('a')).toMatchObject({ status: 'assigned' });
    expect(await store.getTask('b')).toMatchObject({ status: 'assigned' });
    const [tx] = await transactionsOf(store, 'never');
    expect(dlq.messages).toHaveLength(1);
    const [letter] = dlq.messages;
    expect(queueMessageSchema(DIMENSIONS).parse(JSON.parse(letter!.body)).task).toEqual(huge('never'));
    expect(letter!.attributes).toEqual({
      taskId: 'never',
      transactionId: tx!.transaction_id,
      reason: tx!.reason,
    });
  });

  it('is redelivered whole while one task waits, its placed siblings coming back as duplicates', async () => {
    const { store, engine, metrics, run } = setup();
    await run(sqsRecord('m-run', messageFor(big('running'))));
    const body = multi(small('a'), big('waiting'));

    expect(await run(sqsRecord('m-1', body, 1))).toEqual(['m-1']);
    expect(await store.getTask('a')).toMatchObject({ status: 'assigned' });
    expect(await store.getTask('waiting')).toBeNull();

    await engine.complete('running');
    const head = await store.readHead();
    expect(await run(sqsRecord('m-1', body, 2))).toEqual([]);
    expect(metrics.last('TasksDuplicate')).toEqual([1]);
    expect(metrics.last('TasksAssigned')).toEqual([1]);
    // One new block, for the waiting task only: a was not written twice.
    expect(
      (await allBlocks(store)).slice(head.height + 1).flatMap((b) => b.transactions.map((t) => t.task_id)),
    ).toEqual(['waiting']);
  });

  it('forwards a rejection at once while a sibling waits, and again when the record settles, never not at all', async () => {
    const { store, engine, dlq, run } = setup({ failFirstForward: true });
    await run(sqsRecord('m-run', messageFor(big('running'))));
    const body = multi(huge('never'), big('waiting'), huge('never-2'));

    // The forward of 'never' is lost (refused twice); 'never-2' gets through.
    expect(await run(sqsRecord('m-1', body, 1))).toEqual(['m-1']);
    expect(await store.getTask('never')).toMatchObject({ status: 'rejected' });
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['never-2']);

    // Still waiting: nothing is forwarded by a delivery that does not settle the record.
    expect(await run(sqsRecord('m-1', body, 2))).toEqual(['m-1']);
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['never-2']);

    await engine.complete('running');
    expect(await run(sqsRecord('m-1', body, 3))).toEqual([]);
    const [tx] = await transactionsOf(store, 'never');
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['never-2', 'never', 'never-2']);
    expect(dlq.messages[1]!.attributes).toEqual({
      taskId: 'never',
      transactionId: tx!.transaction_id,
      reason: tx!.reason,
    });
  });

  it('on its last delivery with the engine failing: each unplaced task is rejected and forwarded alone, the placed sibling never', async () => {
    const { store, engine, dlq, run, switchTo } = setup();
    await run(sqsRecord('m-run', messageFor(big('running'))));
    const body = multi(small('placed'), big('waiting'), small('unlucky'));
    // First delivery: placed and unlucky are assigned, waiting is deferred.
    expect(await run(sqsRecord('m-1', multi(small('placed'), big('waiting')), 1))).toEqual(['m-1']);
    await engine.complete('running');
    switchTo((real) =>
      Object.assign(Object.create(real) as SchedulingEngine, {
        schedule: async () => {
          throw new Error('ProvisionedThroughputExceededException');
        },
      }),
    );

    expect(await run(sqsRecord('m-1', body, MAX_RECEIVE_COUNT))).toEqual([]);

    expect(await store.getTask('placed')).toMatchObject({ status: 'assigned' });
    const forwarded = dlq.messages.map(
      (m) => queueMessageSchema(DIMENSIONS).parse(JSON.parse(m.body)).task.id,
    );
    expect(forwarded.sort()).toEqual(['unlucky', 'waiting']);
    for (const id of ['waiting', 'unlucky']) {
      const [tx] = await transactionsOf(store, id);
      expect(tx!.reason).toBe(
        `not committed after ${MAX_RECEIVE_COUNT} deliveries: ProvisionedThroughputExceededException`,
      );
    }
  });

  it('is scheduled in one engine call together with single-task records in the same batch', async () => {
    const { store, logger, run } = setup();
    expect(
      await run(
        sqsRecord('m-old', messageFor(small('old'))),
        sqsRecord('m-new', multi(small('n1'), small('n2'))),
      ),
    ).toEqual([]);
    for (const id of ['old', 'n1', 'n2'])
      expect(await store.getTask(id)).toMatchObject({ status: 'assigned' });
    expect(logger.at('info').find((e) => e.message === 'batch scheduled')?.extra[0]).toMatchObject({
      records: 2,
      tasks: 3,
      blocks: [1],
    });
  });
});
