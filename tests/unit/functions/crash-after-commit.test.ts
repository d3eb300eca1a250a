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
  taskIdsInChain,
  vm,
} from './helpers/fixtures';

const MAX_RECEIVE_COUNT = 5;

/** The engine of a container that dies right after its commit lands: the invocation fails. */
function diesAfterCommit(engine: SchedulingEngine): Engine {
  return {
    schedule: async (tasks) => {
      await engine.schedule(tasks);
      throw new Error('container killed after the commit');
    },
    reject: (tasks, reason) => engine.reject(tasks, reason),
    complete: (taskId) => engine.complete(taskId),
    expireLeases: (limit) => engine.expireLeases(limit),
    setAlgorithm: (name, params) => engine.setAlgorithm(name, params),
  };
}

function setup() {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const dlq = new FakeDeadLetterQueue();
  const metrics = new RecordingMetrics();
  const handlerWith = (e: Engine) =>
    schedulerHandler({
      engine: () => e,
      dimensions: DIMENSIONS,
      logger: new RecordingLogger(),
      metrics,
      deadLetters: new SqsDeadLetterSender(dlq, 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq'),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
  return {
    store,
    engine,
    dlq,
    metrics,
    crashing: handlerWith(diesAfterCommit(engine)),
    healthy: handlerWith(engine),
  };
}

const batch = (receiveCount: number) => [
  sqsRecord('m1', messageFor(task('small-1', { cpu: 100, mem: 100 })), receiveCount),
  sqsRecord('m2', messageFor(task('small-2', { cpu: 200, mem: 100 })), receiveCount),
  sqsRecord('m3', messageFor(task('huge', { cpu: 5000, mem: 1 })), receiveCount),
];

describe('scheduler Lambda killed after its commit, before SQS deletes the messages', () => {
  it('the redelivered records (ApproximateReceiveCount 2) are duplicates: each task once, no failures', async () => {
    const { store, dlq, metrics, crashing, healthy } = setup();

    // First delivery: the commit lands, the invocation fails, SQS keeps every message.
    const first = await crashing(sqsEvent(...batch(1)), lambdaContext);
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2', 'm3']);
    expect((await taskIdsInChain(store)).sort()).toEqual(['huge', 'small-1', 'small-2']);
    expect(dlq.messages).toEqual([]);
    const head = await store.readHead();

    // Second delivery, to a fresh container: nothing new written, every record settled.
    const second = await healthy(sqsEvent(...batch(2)), lambdaContext);
    expect(second.batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(head);
    expect((await taskIdsInChain(store)).sort()).toEqual(['huge', 'small-1', 'small-2']);
    expect(metrics.last('TasksDuplicate')).toEqual([3]);
    expect(metrics.last('TasksAssigned')).toEqual([0]);
    // The task recorded as rejected reaches the DLQ once, on the delivery that could forward it.
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['huge']);
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
  });

  it('killed after the commit on the last delivery: the placed tasks are acknowledged, not recorded as rejected', async () => {
    const { store, crashing } = setup();
    const records = batch(MAX_RECEIVE_COUNT).slice(0, 2);
    const result = await crashing(sqsEvent(...records), lambdaContext);
    // The last-delivery rejection finds both already placed, so SQS deletes them instead of dead-lettering.
    expect(result.batchItemFailures).toEqual([]);
    expect(await taskIdsInChain(store)).toEqual(['small-1', 'small-2']);
    expect((await store.getTask('small-1'))?.status).toBe('assigned');
    expect((await store.getTask('small-2'))?.status).toBe('assigned');
  });
});
