import { describe, expect, it } from 'vitest';
import type { ScheduleOutcome } from '../../../lib/engine/types';
import type { Block, Transaction } from '../../../lib/ledger/types';
import type { Task } from '../../../lib/model/task';
import type { LedgerStore, TaskRecord } from '../../../lib/ports/ledger-store';
import type { Decision } from '../../../lib/scheduling/types';
import { AssignmentFeed } from '../../../runtime/fleet/assignment-feed';

/** The one store call the feed makes: task records by id. */
function storeOf(records: Map<string, TaskRecord>): LedgerStore {
  return {
    getTasks: async (ids: readonly string[]) => ids.map((id) => records.get(id) ?? null),
  } as unknown as LedgerStore;
}

function record(taskId: string, vmId: string, txId: string, lease: number): TaskRecord {
  return {
    task_id: taskId,
    status: 'assigned',
    vm_id: vmId,
    block_height: 1,
    transaction_id: txId,
    requirements: { cpu: 1 },
    deadline: 2_000_000_000,
    duration: 5,
    lease_expires_at: lease,
    updated_at: 0,
  };
}

function task(id: string, command?: string): Task {
  return {
    id,
    requirements: { cpu: 1 },
    duration: 5,
    deadline: 2_000_000_000,
    priority: 0,
    submittedAt: 0,
    labels: {},
    constraints: {},
    ...(command === undefined ? {} : { command }),
  };
}

function tx(taskId: string, vmId: string | null, status: Transaction['status']): Transaction {
  return {
    transaction_id: `tx-${taskId}`,
    timestamp: '2026-11-21T00:00:00.000Z',
    task_id: taskId,
    vm_id: vmId,
    status,
    algorithm: 'best-fit',
    score: null,
    reason: '',
    task_requirements: { cpu: 1 },
    vm_state_before: null,
    vm_state_after: null,
  };
}

function outcome(height: number, entries: [Task, string | null][]): ScheduleOutcome {
  const decisions: Decision[] = entries.map(([t, vmId]) => ({
    task: t,
    status: vmId === null ? 'rejected' : 'assigned',
    vmId,
    score: null,
    reason: '',
    before: null,
    after: null,
  }));
  const block = {
    height,
    transactions: entries.map(([t, vmId]) => tx(t.id, vmId, vmId === null ? 'rejected' : 'assigned')),
  } as unknown as Block;
  return { decisions, duplicates: [], blocks: [block], head: { height, hash: 'h' }, attempts: 1 };
}

const isAgent = (vmId: string) => vmId.startsWith('agent-');

describe('AssignmentFeed', () => {
  it('lists the assignments of agent VMs with command, transaction, block and the ledger lease', async () => {
    const records = new Map([
      ['a', record('a', 'agent-1', 'tx-a', 111)],
      ['b', record('b', 'agent-1', 'tx-b', 222)],
      ['c', record('c', 'vm-1', 'tx-c', 333)],
    ]);
    const feed = new AssignmentFeed(storeOf(records));
    feed.record(
      outcome(7, [
        [task('a', 'echo hi'), 'agent-1'],
        [task('b'), 'agent-1'],
        [task('c', 'echo no'), 'vm-1'],
        [task('r'), null],
      ]),
      isAgent,
    );

    expect(await feed.list('agent-1')).toEqual([
      {
        task_id: 'a',
        transaction_id: 'tx-a',
        block_height: 7,
        command: 'echo hi',
        duration: 5,
        lease_expires_at: 111,
      },
      {
        task_id: 'b',
        transaction_id: 'tx-b',
        block_height: 7,
        command: null,
        duration: 5,
        lease_expires_at: 222,
      },
    ]);
    expect(await feed.list('vm-1')).toEqual([]);
  });

  it('drops an item once the ledger holds it as completed, expired or under another transaction', async () => {
    const records = new Map([
      ['a', record('a', 'agent-1', 'tx-a', 1)],
      ['b', record('b', 'agent-1', 'tx-b', 1)],
      ['c', record('c', 'agent-1', 'tx-c', 1)],
      ['d', record('d', 'agent-1', 'tx-d', 1)],
    ]);
    const feed = new AssignmentFeed(storeOf(records));
    feed.record(
      outcome(
        3,
        ['a', 'b', 'c', 'd'].map((id) => [task(id), 'agent-1']),
      ),
      isAgent,
    );
    records.set('a', { ...records.get('a')!, status: 'completed', lease_expires_at: null });
    records.set('b', { ...records.get('b')!, status: 'expired', lease_expires_at: null });
    records.set('c', { ...records.get('c')!, transaction_id: 'tx-other' });

    expect((await feed.list('agent-1')).map((i) => i.task_id)).toEqual(['d']);
  });

  it('a long poll answers when a block assigns work to that VM, not another', async () => {
    const records = new Map([
      ['a', record('a', 'agent-1', 'tx-a', 1)],
      ['b', record('b', 'agent-2', 'tx-b', 1)],
    ]);
    const feed = new AssignmentFeed(storeOf(records));
    let answered: string[] | null = null;
    const poll = feed.poll('agent-1', -1, 600_000).then((items) => {
      answered = items.map((i) => i.task_id);
    });
    feed.record(outcome(1, [[task('b'), 'agent-2']]), isAgent);
    await new Promise((r) => setImmediate(r));
    expect(answered).toBeNull();
    feed.record(outcome(2, [[task('a'), 'agent-1']]), isAgent);
    await poll;
    expect(answered).toEqual(['a']);
  });

  it('answers at once when an item is above `since`, and waits when every item is at or below it', async () => {
    const records = new Map([['a', record('a', 'agent-1', 'tx-a', 1)]]);
    const feed = new AssignmentFeed(storeOf(records));
    feed.record(outcome(4, [[task('a'), 'agent-1']]), isAgent);
    expect((await feed.poll('agent-1', 3, 600_000)).map((i) => i.task_id)).toEqual(['a']);

    const abort = new AbortController();
    let settled = false;
    const waiting = feed.poll('agent-1', 4, 600_000, abort.signal).then((items) => {
      settled = true;
      return items;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    abort.abort();
    expect((await waiting).map((i) => i.task_id)).toEqual(['a']);
  });

  it('close ends every wait and later polls do not wait', async () => {
    const feed = new AssignmentFeed(storeOf(new Map()));
    const waiting = feed.poll('agent-1', -1, 600_000);
    feed.close();
    expect(await waiting).toEqual([]);
    expect(await feed.poll('agent-2', -1, 600_000)).toEqual([]);
  });
});

describe('AssignmentFeed long poll and a commit racing the listing', () => {
  it('answers at once when an assignment lands while the store is being read', async () => {
    const records = new Map([
      ['a', record('a', 'agent-1', 'tx-a', 1)],
      ['b', record('b', 'agent-1', 'tx-b', 1)],
    ]);
    let feed: AssignmentFeed | null = null;
    let raced = false;
    const store = {
      getTasks: async (ids: readonly string[]) => {
        // The scheduler commits task b between the poll's read and its wait.
        if (!raced) {
          raced = true;
          feed!.record(outcome(2, [[task('b'), 'agent-1']]), isAgent);
        }
        return ids.map((id) => records.get(id) ?? null);
      },
    } as unknown as LedgerStore;
    feed = new AssignmentFeed(store);
    feed.record(outcome(1, [[task('a'), 'agent-1']]), isAgent);

    const items = await feed.poll('agent-1', 1, 600_000);
    expect(items.map((i) => i.task_id)).toEqual(['a', 'b']);
  });
});
