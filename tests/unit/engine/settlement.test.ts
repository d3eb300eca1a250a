import { describe, expect, it } from 'vitest';
import {
  afterLastDeliveryRejection,
  collectDeliveries,
  type Delivery,
  deferDelay,
  lastDeliveryRejections,
  outcomeCounts,
  redeliverUnforwarded,
  settleDeliveries,
  settleQueued,
  type TaskOutcome,
  taskOutcomes,
} from '../../../lib/engine/settlement';
import type { ScheduleOutcome } from '../../../lib/engine/types';
import { transactionId } from '../../../lib/ledger';
import type { Task } from '../../../lib/model/task';
import type { TaskRecord } from '../../../lib/ports/ledger-store';
import type { Decision } from '../../../lib/scheduling/types';
import { task } from './helpers';

const t = (id: string): Task => task(id, { cpu: 1, mem: 1 });

function result(parts: Partial<ScheduleOutcome>): ScheduleOutcome {
  return {
    decisions: [],
    duplicates: [],
    blocks: [],
    head: { height: 0, hash: '0'.repeat(64) },
    attempts: 1,
    ...parts,
  };
}

const assigned = (id: string): Decision =>
  ({ task: t(id), status: 'assigned', vmId: 'vm-a', reason: 'fits' }) as Decision;
const rejected = (id: string, reason = 'too big'): Decision =>
  ({ task: t(id), status: 'rejected', vmId: null, reason }) as Decision;
const recorded = (id: string, status: TaskRecord['status']): TaskRecord =>
  ({ task_id: id, status, block_height: 7, transaction_id: `tx-${id}` }) as TaskRecord;

const outcome: Record<TaskOutcome['kind'], (id: string, extra?: Partial<TaskOutcome>) => TaskOutcome> = {
  assigned: (id) => ({ kind: 'assigned', taskId: id, vmId: 'vm-a' }),
  rejected: (id, extra) =>
    ({
      kind: 'rejected',
      taskId: id,
      transactionId: `tx-${id}`,
      reason: 'r',
      redelivered: false,
      ...extra,
    }) as TaskOutcome,
  duplicate: (id) => ({ kind: 'duplicate', taskId: id }),
  deferred: (id) => ({ kind: 'deferred', taskId: id, reason: 'no room on vm-a' }),
  failed: (id) => ({ kind: 'failed', taskId: id, error: 'store down' }),
};

const delivery = (id: string, tasks: string[], receiveCount = 1): Delivery => ({
  id,
  body: `body-${id}`,
  receiveCount,
  tasks: tasks.map(t),
});

describe('taskOutcomes: an engine answer, task by task', () => {
  it('maps decisions, deferrals and duplicates (a duplicate already rejected is a redelivered rejection)', () => {
    const out = taskOutcomes(
      result({
        decisions: [assigned('a'), rejected('b')],
        deferred: [{ task: t('c'), reason: 'no room now' }],
        duplicates: ['d', 'e'],
        recorded: [recorded('d', 'assigned'), recorded('e', 'rejected')],
      }),
    );
    expect(Object.fromEntries(out)).toEqual({
      a: { kind: 'assigned', taskId: 'a', vmId: 'vm-a' },
      b: {
        kind: 'rejected',
        taskId: 'b',
        transactionId: transactionId('b', 'decision'),
        reason: 'too big',
        redelivered: false,
      },
      c: { kind: 'deferred', taskId: 'c', reason: 'no room now' },
      d: { kind: 'duplicate', taskId: 'd' },
      e: {
        kind: 'rejected',
        taskId: 'e',
        transactionId: 'tx-e',
        reason: 'recorded as rejected in block 7 by an earlier delivery',
        redelivered: true,
      },
    });
  });
});

describe('collectDeliveries: dedupe across records', () => {
  it('decides a task carried by two deliveries once, and keeps both as its holders', () => {
    const batch = collectDeliveries([
      delivery('m1', ['a', 'b']),
      { id: 'm2', body: '{', issues: [{ field: '', message: 'bad' }] },
      delivery('m3', ['b', 'c']),
    ]);
    expect(batch.tasks.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(batch.holders.get('b')!.map((d) => d.id)).toEqual(['m1', 'm3']);
    expect(batch.invalid.map((d) => d.id)).toEqual(['m2']);
  });
});

describe('the policy table', () => {
  // One row per task outcome: is its delivery acknowledged, is it forwarded to the DLQ, and what a
  // durable local queue does with it.
  const rows: [TaskOutcome['kind'], 'ack' | 'redeliver', boolean][] = [
    ['assigned', 'ack', false],
    ['duplicate', 'ack', false],
    ['rejected', 'ack', true],
    ['deferred', 'redeliver', false],
    ['failed', 'redeliver', false],
  ];
  it.each(rows)('a single-task delivery whose task is %s: %s, dead-lettered %s', (kind, action, letter) => {
    const batch = collectDeliveries([delivery('m1', ['a'])]);
    const { byDelivery, letters } = settleDeliveries(batch, new Map([['a', outcome[kind]('a')]]), false);
    expect(byDelivery.get('m1')!.kind).toBe(action === 'ack' ? 'settled' : 'redeliver');
    expect(letters.length > 0).toBe(letter);
    if (letter)
      expect(letters[0]).toMatchObject({
        messageId: 'm1',
        body: 'body-m1',
        taskId: 'a',
        transactionId: 'tx-a',
      });
  });

  it('a multi-task delivery is acknowledged only when every task is settled; a fresh rejection is forwarded at once on its own', () => {
    const batch = collectDeliveries([delivery('m1', ['a', 'b'])]);
    const { byDelivery, letters } = settleDeliveries(
      batch,
      new Map([
        ['a', outcome.rejected('a')],
        ['b', outcome.deferred('b')],
      ]),
      false,
    );
    expect(byDelivery.get('m1')!.kind).toBe('redeliver');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.messageId).toBe('m1/a');
    expect(JSON.parse(letters[0]!.body).task.id).toBe('a');
  });

  it('a rejection found already recorded is forwarded only by the delivery that settles the record', () => {
    const batch = collectDeliveries([delivery('m1', ['a', 'b'])]);
    const again = outcome.rejected('a', { redelivered: true });
    const waiting = settleDeliveries(
      batch,
      new Map([
        ['a', again],
        ['b', outcome.deferred('b')],
      ]),
      false,
    );
    expect(waiting.letters).toEqual([]);
    const settling = settleDeliveries(
      batch,
      new Map([
        ['a', again],
        ['b', outcome.assigned('b')],
      ]),
      false,
    );
    expect(settling.byDelivery.get('m1')!.kind).toBe('settled');
    expect(settling.letters.map((l) => l.messageId)).toEqual(['m1/a']);
  });

  it('an invalid delivery is redelivered on the task queue and dead-lettered, with its field errors, off the exhausted queue', () => {
    const invalid = { id: 'm1', body: '{', issues: [{ field: 'task.cpu', message: 'Too big' }] };
    const onQueue = settleDeliveries(collectDeliveries([invalid]), new Map(), false);
    expect(onQueue.byDelivery.get('m1')).toEqual({ kind: 'invalid', issues: invalid.issues });
    expect(onQueue.letters).toEqual([]);
    const exhausted = settleDeliveries(collectDeliveries([invalid]), new Map(), true);
    expect(exhausted.byDelivery.get('m1')!.kind).toBe('settled');
    expect(exhausted.letters).toEqual([
      { messageId: 'm1', body: '{', reason: 'invalid queue message: task.cpu: Too big' },
    ]);
  });

  it('a delivery whose dead letter did not reach the DLQ is delivered again', () => {
    const batch = collectDeliveries([delivery('m1', ['a', 'b']), delivery('m2', ['c'])]);
    const outcomes = new Map([
      ['a', outcome.rejected('a')],
      ['b', outcome.assigned('b')],
      ['c', outcome.rejected('c')],
    ]);
    const { byDelivery } = settleDeliveries(batch, outcomes, false);
    redeliverUnforwarded(byDelivery, [{ messageId: 'm1/a' }]);
    expect(byDelivery.get('m1')!.kind).toBe('redeliver');
    expect(byDelivery.get('m2')!.kind).toBe('settled');
  });
});

describe('rejection on the last delivery', () => {
  it('picks the unsettled tasks whose highest delivery count reached the limit, grouped by reason', () => {
    const batch = collectDeliveries([
      delivery('m1', ['a', 'b', 'c'], 5),
      delivery('m2', ['d'], 4),
      delivery('m3', ['d'], 5),
    ]);
    const outcomes = new Map([
      ['a', outcome.deferred('a')],
      ['b', outcome.failed('b')],
      ['c', outcome.assigned('c')],
      ['d', outcome.failed('d')],
    ]);
    const picked = lastDeliveryRejections(batch, outcomes, 5);
    expect([...picked].map(([reason, tasks]) => [reason, tasks.map((x) => x.id)])).toEqual([
      ['no capacity after 5 deliveries: no room on vm-a', ['a']],
      ['not committed after 5 deliveries: store down', ['b', 'd']],
    ]);
    expect(lastDeliveryRejections(batch, outcomes, 6).size).toBe(0);
  });

  it('cuts a long error in the reason to 2,000 characters', () => {
    const batch = collectDeliveries([delivery('m1', ['a'], 3)]);
    const long = { kind: 'failed', taskId: 'a', error: 'x'.repeat(5000) } as TaskOutcome;
    const [reason] = lastDeliveryRejections(batch, new Map([['a', long]]), 3).keys();
    expect(reason).toBe(`not committed after 3 deliveries: ${'x'.repeat(2000)}`);
  });

  // before x after x shared -> the outcome kept: the handler forwards the rejection itself, except for
  // a single-task record whose commit failed, which stays a failure so that SQS moves the message.
  const table: [TaskOutcome['kind'], TaskOutcome['kind'], boolean, 'before' | 'after'][] = [
    ['deferred', 'rejected', false, 'after'],
    ['deferred', 'rejected', true, 'after'],
    ['failed', 'rejected', false, 'before'],
    ['failed', 'rejected', true, 'after'],
    ['failed', 'duplicate', false, 'after'],
    ['deferred', 'duplicate', false, 'after'],
  ];
  it.each(table)('%s, then recorded %s (multi-task record: %s): keeps %s', (before, after, shared, kept) => {
    const b = outcome[before]('a');
    const a = outcome[after]('a');
    expect(afterLastDeliveryRejection(b, a, shared)).toBe(kept === 'before' ? b : a);
  });
});

describe('the local durable queue', () => {
  it('acks decided and duplicate tasks, releases deferred ones after their delay and forgotten ones at once', () => {
    const now = 1_000_000;
    const queued = (id: string, waitedMs: number) => ({
      task: { ...t(id), submittedAt: now - waitedMs },
      receipt: `r-${id}`,
      attempts: 1,
    });
    const received = [queued('a', 0), queued('b', 0), queued('c', 0), queued('d', 0), queued('e', 8000)];
    const settled = settleQueued(
      received,
      result({
        decisions: [assigned('a'), rejected('b')],
        duplicates: ['c'],
        deferred: [{ task: t('e'), reason: 'no room now' }],
      }),
      now,
      { minMs: 250, maxMs: 4000 },
    );
    expect(settled.ack).toEqual(['r-a', 'r-b', 'r-c']);
    expect(settled.release).toEqual(['r-d']);
    expect([...settled.later]).toEqual([[deferDelay(8000, 250, 4000), ['r-e']]]);
  });
});

describe('outcomeCounts', () => {
  it('counts a rejection recorded by an earlier delivery as a duplicate', () => {
    expect(
      outcomeCounts([
        outcome.assigned('a'),
        outcome.rejected('b'),
        outcome.rejected('c', { redelivered: true }),
        outcome.duplicate('d'),
        outcome.deferred('e'),
        outcome.failed('f'),
      ]),
    ).toEqual({ assigned: 1, rejected: 1, duplicate: 2, deferred: 1 });
  });
});
