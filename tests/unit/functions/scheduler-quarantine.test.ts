import { describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../../functions/handlers/scheduler';
import { SqsDeadLetterSender } from '../../../lib/adapters/sqs/dead-letter-sender';
import { lambdaContext, sqsEvent, sqsRecord } from './helpers/events';
import { FakeDeadLetterQueue } from './helpers/fake-dead-letter-queue';
import {
  DIMENSIONS,
  ledger,
  messageFor,
  RecordingLogger,
  RecordingMetrics,
  task,
  vm,
} from './helpers/fixtures';

/**
 * The scheduler function and a VM whose record the engine refuses (here a capacity below
 * MIN_CAPACITY, as the reported bug; on AWS also a negative reservation or a NaN metric): before,
 * every batch failed "invalid fleet" until its messages were dead-lettered. Now the VM is quarantined,
 * counted and logged, and the batch is scheduled on the rest.
 */
describe('scheduler function with a poison VM in the fleet', () => {
  it('schedules the batch on the other VMs, acknowledges every record, and reports the VM', async () => {
    const { store, engine } = ledger([
      vm('vm-poison', { cpu: 1000, mem: 1000, io: 1e-9, bw: 100 }),
      vm('vm-good', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
    ]);
    const logger = new RecordingLogger();
    const metrics = new RecordingMetrics();
    const handler = schedulerHandler({
      engine: () => engine,
      dimensions: DIMENSIONS,
      logger,
      metrics,
      deadLetters: new SqsDeadLetterSender(
        new FakeDeadLetterQueue(),
        'https://sqs.us-east-1.amazonaws.com/000000000000/dlq',
      ),
      maxReceiveCount: 5,
    });
    const records = ['a', 'b', 'c'].map((id, i) =>
      sqsRecord(`m${i}`, messageFor(task(id, { cpu: 10, mem: 10, io: 0, bw: 0 }))),
    );

    const res = await handler(sqsEvent(...records), lambdaContext);

    expect(res.batchItemFailures).toEqual([]);
    for (const id of ['a', 'b', 'c']) {
      expect(await store.getTask(id)).toMatchObject({ status: 'assigned', vm_id: 'vm-good' });
    }
    expect(metrics.last('VmsQuarantined')).toEqual([1]);
    const warning = logger.at('warn').find((e) => e.message === 'VMs quarantined: not placed on');
    expect(warning?.extra).toEqual([
      { quarantined: [{ vm_id: 'vm-poison', reason: 'capacity.io: must be 0 or at least 0.000001' }] },
    ]);
  });
});
