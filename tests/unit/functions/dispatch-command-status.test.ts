import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { commandStatusHandler } from '../../../functions/handlers/command-status';
import { verifyChain } from '../../../lib/ledger/verify';
import { MemoryDispatchRecords } from '../dispatch/fakes';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { allBlocks, ledger, RecordingLogger, RecordingMetrics, task, vm } from './helpers/fixtures';

/** The event SSM puts on the default bus for one instance's invocation. */
function statusEvent(commandId: string, status: string): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: `event-${commandId}-${status}`,
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    source: 'aws.ssm',
    account: '123456789012',
    time: '2026-11-21T06:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc'],
    detail: {
      'command-id': commandId,
      'document-name': 'AWS-RunShellScript',
      'instance-id': 'i-0abc',
      'requested-date-time': '2026-11-21T05:59:58.000Z',
      status,
    },
  };
}

async function setup() {
  const { store, engine, clock } = ledger([vm('i-0abc', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  await engine.schedule([task('t1', { cpu: 400 }, { command: 'sleep 1' })]);
  const records = new MemoryDispatchRecords();
  await records.claimCommand('t1', 'tx');
  await records.recordCommand('t1', 'cmd-1');
  const metrics = new RecordingMetrics();
  const queue = new MemoryCompletionQueue(clock);
  const handler = commandStatusHandler({
    tasks: store,
    completions: queue,
    records,
    logger: new RecordingLogger(),
    metrics,
  });
  const completions = async () =>
    (await allBlocks(store)).flatMap((b) => b.transactions).filter((t) => t.status === 'completed');
  /** The lease closer consumes what was queued. */
  const close = () => queue.deliver(engine);
  return { store, handler, metrics, completions, queue, close };
}

describe('command-status handler: completion from SSM', () => {
  it('a final status queues the completion; the lease closer records it once and releases the reservation', async () => {
    const { store, handler, metrics, completions, queue, close } = await setup();
    const head = await store.readHead();

    const result = await handler(statusEvent('cmd-1', 'Success'));

    // The handler wrote nothing: it may not write the chain.
    expect(result).toEqual({ outcome: 'accepted', taskId: 't1', commandId: 'cmd-1', status: 'Success' });
    expect(await store.readHead()).toEqual(head);
    expect(queue.sent).toEqual([expect.objectContaining({ task_id: 't1', source: 'command-status' })]);

    expect(await close()).toEqual({ batchItemFailures: [] });
    expect((await store.getTask('t1'))?.status).toBe('completed');
    expect(await store.getReservations()).toEqual([
      expect.objectContaining({
        vm_id: 'i-0abc',
        active_tasks: 0,
        reserved: { cpu: 0, mem: 0, io: 0, bw: 0 },
      }),
    ]);
    expect((await completions()).map((t) => t.task_id)).toEqual(['t1']);
    expect(metrics.last('CommandsSucceeded')).toEqual([1]);
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
  });

  it.each(['Failed', 'TimedOut', 'Cancelled'])(
    '%s ends the assignment too (the VM is free either way)',
    async (status) => {
      const { handler, metrics, completions, close } = await setup();
      expect((await handler(statusEvent('cmd-1', status))).outcome).toBe('accepted');
      await close();
      expect(await completions()).toHaveLength(1);
      expect(metrics.last('CommandsUnsuccessful')).toEqual([1]);
    },
  );

  it('a status that is not final changes nothing', async () => {
    const { handler, completions, queue } = await setup();
    expect(await handler(statusEvent('cmd-1', 'InProgress'))).toEqual({
      outcome: 'not-final',
      status: 'InProgress',
    });
    expect(queue.sent).toEqual([]);
    expect(await completions()).toEqual([]);
  });

  it('a duplicate event, and two racing ones, leave exactly one completed transaction', async () => {
    const { handler, completions, queue, close } = await setup();

    // Both racing events find the task assigned and queue it; the closer records it once.
    const raced = await Promise.all([
      handler(statusEvent('cmd-1', 'Success')),
      handler(statusEvent('cmd-1', 'Success')),
    ]);
    await close();
    const late = await handler(statusEvent('cmd-1', 'Success'));

    expect(raced.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    expect(queue.sent).toHaveLength(2);
    expect(late.outcome).toBe('already-final');
    expect(queue.sent).toHaveLength(2);
    expect(await completions()).toHaveLength(1);
  });

  it('a command the dispatcher did not record is left alone', async () => {
    const { handler, completions } = await setup();
    expect(await handler(statusEvent('someone-elses', 'Success'))).toEqual({
      outcome: 'unknown-command',
      commandId: 'someone-elses',
    });
    expect(await completions()).toEqual([]);
  });

  it('an event without a command id is refused naming the field, and nothing is written', async () => {
    const { handler, completions } = await setup();
    const event = statusEvent('cmd-1', 'Success');
    delete (event.detail as Record<string, unknown>)['command-id'];

    await expect(handler(event)).rejects.toThrow(/command-id/);
    expect(await completions()).toEqual([]);
  });
});
