import { describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import type { SchedulingEngine } from '../../../lib/engine/engine';
import type { Engine } from '../../../lib/engine/types';
import { verifyChain } from '../../../lib/ledger/verify';
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

/**
 * Issue 11: a task whose last delivery failed, rejection included, is moved by SQS to the exhausted
 * queue (the task queue's redrive target), which the scheduler also consumes: there every task is
 * recorded as rejected before it is forwarded to the DLQ, and stays on the exhausted queue while that
 * commit fails. No accepted task reaches the DLQ without its ledger entry.
 */

const MAX_RECEIVE_COUNT = 5;
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks-dlq';
const EXHAUSTED_ARN = 'arn:aws:sqs:us-east-1:000000000000:tasks-exhausted';

const small = (id: string) => task(id, { cpu: 100, mem: 100, io: 0, bw: 0 });

/** A record as SQS hands it over from the exhausted queue. */
function exhaustedRecord(messageId: string, body: unknown) {
  return { ...sqsRecord(messageId, body, 1), eventSourceARN: EXHAUSTED_ARN };
}

function setup(options: { engine?: (real: SchedulingEngine) => Engine; dlq?: FakeDeadLetterQueue } = {}) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const logger = new RecordingLogger();
  const dlq = options.dlq ?? new FakeDeadLetterQueue();
  let current: Engine = options.engine ? options.engine(engine) : engine;
  const handler = schedulerHandler({
    engine: () => current,
    dimensions: DIMENSIONS,
    logger,
    metrics: new RecordingMetrics(),
    deadLetters: new SqsDeadLetterSender(dlq, DLQ_URL),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    exhaustedQueueArn: EXHAUSTED_ARN,
    blocks: store,
  });
  return {
    store,
    dlq,
    logger,
    useRealEngine: () => {
      current = engine;
    },
    run: (...records: Parameters<typeof sqsEvent>) => handler(sqsEvent(...records), lambdaContext),
  };
}

const storeDown = (real: SchedulingEngine): Engine =>
  Object.assign(Object.create(real) as SchedulingEngine, {
    schedule: async () => {
      throw new Error('ProvisionedThroughputExceededException');
    },
    reject: async () => {
      throw new Error('ProvisionedThroughputExceededException');
    },
  });

describe('a batch from the exhausted queue', () => {
  it('records each task as rejected with the reason, forwards it to the DLQ with its transaction, and acknowledges it', async () => {
    const { store, dlq, run } = setup();
    const res = await run(
      exhaustedRecord('m-a', messageFor(small('a'))),
      exhaustedRecord('m-b', messageFor(small('b'))),
    );
    expect(res.batchItemFailures).toEqual([]);
    for (const id of ['a', 'b']) {
      const tx = (await allBlocks(store)).flatMap((b) => b.transactions).find((t) => t.task_id === id)!;
      // Rejected, not placed: the scheduler had given up on it, though it would fit.
      expect(tx).toMatchObject({ status: 'rejected', vm_id: null });
      expect(tx.reason).toBe(
        `not decided after ${MAX_RECEIVE_COUNT} deliveries: every scheduling attempt failed, and so did the rejection on the last one (the scheduler's log holds each error)`,
      );
      expect(dlq.messages.find((m) => m.attributes.taskId === id)?.attributes).toEqual({
        taskId: id,
        transactionId: tx.transaction_id,
        reason: tx.reason,
      });
    }
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
  });

  it('stays on the exhausted queue while the store is unavailable, then is recorded once it is back', async () => {
    const { store, dlq, logger, useRealEngine, run } = setup({ engine: storeDown });
    const record = exhaustedRecord('m-a', messageFor(small('a')));
    expect((await run(record)).batchItemFailures).toEqual([{ itemIdentifier: 'm-a' }]);
    expect(await store.getTask('a')).toBeNull();
    expect(dlq.messages).toEqual([]);
    expect(logger.at('error').map((e) => e.message)).toContain(
      'could not record tasks the task queue gave up on; they stay queued',
    );
    useRealEngine();
    expect((await run(record)).batchItemFailures).toEqual([]);
    expect(await store.getTask('a')).toMatchObject({ status: 'rejected' });
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['a']);
  });

  it('stays on the exhausted queue when the forward to the DLQ fails, and is not recorded twice', async () => {
    const { store, dlq, run } = setup({ dlq: new FakeDeadLetterQueue({ throwOn: (call) => call <= 2 }) });
    const record = exhaustedRecord('m-a', messageFor(small('a')));
    expect((await run(record)).batchItemFailures).toEqual([{ itemIdentifier: 'm-a' }]);
    const head = await store.readHead();
    expect((await run(record)).batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(head);
    expect(dlq.messages.map((m) => m.attributes.transactionId)).toEqual([
      (await store.getTask('a'))!.transaction_id,
    ]);
  });

  it('acknowledges a task the ledger already holds as placed, writing nothing and forwarding nothing', async () => {
    const { store, dlq, run } = setup();
    // The failing delivery's commit did land: the task is assigned.
    await run(sqsRecord('m-a', messageFor(small('a'))));
    const head = await store.readHead();
    expect((await run(exhaustedRecord('m-a', messageFor(small('a'))))).batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(head);
    expect(await store.getTask('a')).toMatchObject({ status: 'assigned' });
    expect(dlq.messages).toEqual([]);
  });

  it('forwards a message that holds no valid task to the DLQ with its field errors, recording nothing', async () => {
    const { store, dlq, run } = setup();
    const res = await run(exhaustedRecord('m-x', { version: 1, task: { id: 'x' } }));
    expect(res.batchItemFailures).toEqual([]);
    expect((await store.readHead()).height).toBe(0);
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]!.body).toBe(JSON.stringify({ version: 1, task: { id: 'x' } }));
    expect(dlq.messages[0]!.attributes.taskId).toBeUndefined();
    expect(dlq.messages[0]!.attributes.reason).toMatch(/^invalid queue message: task\./);
  });

  it('on the task queue, the same invalid message is still delivered again (SQS moves it after maxReceiveCount)', async () => {
    const { dlq, run } = setup();
    const res = await run(sqsRecord('m-x', { version: 1, task: { id: 'x' } }));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-x' }]);
    expect(dlq.messages).toEqual([]);
  });
});
