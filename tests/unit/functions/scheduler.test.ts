import { describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
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

const small = (id: string) => task(id, { cpu: 100, mem: 100, io: 0, bw: 0 });

function setup(engineOverride?: Engine) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const dlq = new FakeDeadLetterQueue();
  const handler = schedulerHandler({
    engine: () => engineOverride ?? engine,
    dimensions: DIMENSIONS,
    logger,
    metrics,
    deadLetters: new SqsDeadLetterSender(dlq, 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq'),
    maxReceiveCount: 5,
  });
  return {
    store,
    logger,
    metrics,
    dlq,
    run: (...records: Parameters<typeof sqsEvent>) => handler(sqsEvent(...records), lambdaContext),
  };
}

describe('scheduler: SQS batch -> engine.schedule', () => {
  it('commits the whole batch and reports no failures', async () => {
    // Prepare
    const { store, metrics, run } = setup();
    const records = ['t1', 't2', 't3'].map((id, i) => sqsRecord(`m${i}`, messageFor(small(id))));
    // Act
    const res = await run(...records);
    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect((await taskIdsInChain(store)).sort()).toEqual(['t1', 't2', 't3']);
    for (const id of ['t1', 't2', 't3']) expect((await store.getTask(id))?.status).toBe('assigned');
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
    expect(metrics.last('TasksAssigned')).toEqual([3]);
  });

  it('records a task that fits nowhere as a rejected transaction, moves it to the DLQ and does not redeliver it', async () => {
    const { store, metrics, dlq, run } = setup();
    const res = await run(sqsRecord('m1', messageFor(task('huge', { cpu: 5000, mem: 1, io: 0, bw: 0 }))));
    expect(res.batchItemFailures).toEqual([]);
    const record = await store.getTask('huge');
    expect(record).toMatchObject({ status: 'rejected', vm_id: null });
    expect(dlq.messages.map((m) => m.attributes.taskId)).toEqual(['huge']);
    expect(metrics.last('TasksRejected')).toEqual([1]);
  });

  describe.each([
    ['a body that is not JSON', '{"version":1,', ''],
    ['an unknown version', { version: 3, task: small('x') }, 'version'],
    ['a multi-task body without tasks', { version: 2, task: small('x') }, 'tasks'],
    [
      'a missing dimension',
      { version: 1, task: { ...small('x'), requirements: { cpu: 1, mem: 1, io: 1 } } },
      'task.requirements.bw',
    ],
    ['a negative duration', { version: 1, task: { ...small('x'), duration: -5 } }, 'task.duration'],
    ['a bad task id', { version: 1, task: { ...small('x'), id: '' } }, 'task.id'],
  ])('a record with %s', (_name, body, field) => {
    it(`is logged naming "${field}", reported for redelivery, and does not block the others`, async () => {
      const { store, logger, metrics, run } = setup();
      const res = await run(sqsRecord('bad', body), sqsRecord('good', messageFor(small('ok'))));
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
      const [warning] = logger.at('warn');
      expect(warning?.message).toBe('invalid queue message');
      const logged = warning?.extra[0] as { messageId: string; issues: { field: string }[] };
      expect(logged.messageId).toBe('bad');
      expect(logged.issues.map((i) => i.field)).toContain(field);
      // Nothing is written for it; the valid record is committed.
      expect(await taskIdsInChain(store)).toEqual(['ok']);
      expect(metrics.last('InvalidMessages')).toEqual([1]);
    });
  });

  it('treats a redelivered batch as duplicates: no failures, nothing new written', async () => {
    const { store, metrics, run } = setup();
    const records = ['t1', 't2'].map((id, i) => sqsRecord(`m${i}`, messageFor(small(id))));
    await run(...records);
    const before = await store.readHead();
    const res = await run(...records.map((r) => ({ ...r, messageId: `${r.messageId}-again` })));
    expect(res.batchItemFailures).toEqual([]);
    expect(await store.readHead()).toEqual(before);
    expect(metrics.last('TasksDuplicate')).toEqual([2]);
  });

  it('decides a task sent twice in one batch once, and acknowledges both records', async () => {
    const { store, run } = setup();
    const res = await run(
      sqsRecord('m1', messageFor(small('twice'))),
      sqsRecord('m2', messageFor(small('twice'))),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(await taskIdsInChain(store)).toEqual(['twice']);
  });

  it('reports every valid record for redelivery when the engine fails, and writes nothing', async () => {
    const failing: Engine = {
      schedule: async () => {
        throw new Error('compare-and-set attempts exhausted');
      },
      complete: async () => ({ status: 'unknown' }),
      expireLeases: async () => [],
      setAlgorithm: () => {},
    };
    const { store, logger, run } = setup(failing);
    const res = await run(sqsRecord('m1', messageFor(small('a'))), sqsRecord('m2', messageFor(small('b'))));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
    expect((await store.readHead()).height).toBe(0);
    expect(logger.at('error').map((e) => e.message)).toEqual([
      'schedule failed; the batch will be redelivered',
    ]);
  });

  it('redelivers a task the engine returned no decision for', async () => {
    const forgetful: Engine = {
      schedule: async () => ({
        decisions: [],
        duplicates: [],
        blocks: [],
        head: { height: 0, hash: '0' },
        attempts: 1,
      }),
      complete: async () => ({ status: 'unknown' }),
      expireLeases: async () => [],
      setAlgorithm: () => {},
    };
    const { run } = setup(forgetful);
    const res = await run(sqsRecord('m1', messageFor(small('lost'))));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });
});
