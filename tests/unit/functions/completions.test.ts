import { describe, expect, it } from 'vitest';
import { completionsHandler } from '../../../functions/handlers/completions';
import { expireHandler, leaseCloserHandler } from '../../../functions/handlers/expire';
import { verifyChain } from '../../../lib/ledger/verify';
import { scheduledEvent, sqsEvent, sqsRecord } from './helpers/events';
import { allBlocks, ledger, RecordingLogger, RecordingMetrics, task, vm } from './helpers/fixtures';

const message = (taskId: string, extra: Record<string, unknown> = {}) => ({
  v: 1,
  task_id: taskId,
  body: {},
  source: 'api',
  sent_at: 0,
  ...extra,
});

async function setup(blockSize = 5) {
  const { store, engine, clock } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })], {
    blockSize,
  });
  await engine.schedule(['a', 'b', 'c'].map((id) => task(id, { cpu: 100 })));
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const handler = completionsHandler({ engine: () => engine, logger, metrics, clock });
  const closings = async () =>
    (await allBlocks(store)).flatMap((b) => b.transactions).filter((t) => t.status === 'completed');
  return { store, engine, clock, handler, logger, metrics, closings };
}

describe('lease closer: the completion queue', () => {
  it('records a batch of completions in one commit, each task once, and acknowledges every record', async () => {
    const { store, handler, metrics, closings } = await setup();
    const before = await store.readHead();

    // Three tasks, 'a' twice (a redelivered message), and a task never assigned.
    const result = await handler(
      sqsEvent(
        sqsRecord('m1', message('a')),
        sqsRecord('m2', message('b')),
        sqsRecord('m3', message('a')),
        sqsRecord('m4', message('c', { source: 'command-status' })),
        sqsRecord('m5', message('ghost')),
      ),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect((await closings()).map((t) => t.task_id).sort()).toEqual(['a', 'b', 'c']);
    expect((await store.readHead()).height).toBe(before.height + 1);
    expect(metrics.last('CompletionsRecorded')).toEqual([4]);
    expect(metrics.last('CompletionsUnknown')).toEqual([1]);
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);

    // Delivered again (SQS's at-least-once): nothing more is written.
    const again = await handler(sqsEvent(sqsRecord('m1', message('a'), 2)));
    expect(again).toEqual({ batchItemFailures: [] });
    expect(metrics.last('CompletionsAlreadyFinal')).toEqual([1]);
    expect(await closings()).toHaveLength(3);
  });

  it('a message that fails the schema is left to SQS (its DLQ after maxReceiveCount) and the others are recorded', async () => {
    const { handler, logger, closings } = await setup();
    const result = await handler(
      sqsEvent(
        sqsRecord('bad-json', '{'),
        sqsRecord('bad-version', message('a', { v: 2 })),
        sqsRecord('extra-field', message('a', { vm_id: 'vm-a' })),
        sqsRecord('good', message('b')),
      ),
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      'bad-json',
      'bad-version',
      'extra-field',
    ]);
    expect((await closings()).map((t) => t.task_id)).toEqual(['b']);
    const fields = logger
      .at('warn')
      .filter((e) => e.message === 'invalid completion message')
      .flatMap((e) => (e.extra[0]!.issues as { field: string }[]).map((i) => i.field));
    expect(fields).toEqual(expect.arrayContaining(['v', '']));
  });

  it('when the store fails, every valid record is delivered again and nothing is written', async () => {
    const { store, engine, clock, closings } = await setup();
    const logger = new RecordingLogger();
    const failing = completionsHandler({
      engine: () => ({
        ...engine,
        complete: async () => {
          throw new Error('store down');
        },
        completeMany: async () => {
          throw new Error('store down');
        },
        schedule: engine.schedule.bind(engine),
        expireLeases: engine.expireLeases.bind(engine),
        setAlgorithm: engine.setAlgorithm.bind(engine),
      }),
      logger,
      metrics: new RecordingMetrics(),
      clock,
    });
    const result = await failing(sqsEvent(sqsRecord('m1', message('a')), sqsRecord('m2', message('b'))));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2']);
    expect(logger.at('error')).toHaveLength(1);
    expect(await closings()).toEqual([]);
    expect((await store.getTask('a'))?.status).toBe('assigned');
  });

  it('the lease closer routes queue batches to completions and schedule events to expiry', async () => {
    const { engine, handler, clock, closings } = await setup();
    const closer = leaseCloserHandler({
      expire: expireHandler({
        engine: () => engine,
        limit: 100,
        logger: new RecordingLogger(),
        metrics: new RecordingMetrics(),
      }),
      completions: handler,
    });
    expect(await closer(sqsEvent(sqsRecord('m1', message('a'))))).toEqual({ batchItemFailures: [] });
    clock.advance(10 * 3600_000);
    expect(await closer(scheduledEvent())).toEqual({ expired: ['b', 'c'] });
    expect((await closings()).map((t) => t.task_id)).toEqual(['a']);
  });
});
