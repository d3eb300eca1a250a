import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../lib/adapters/memory/memory-ledger-store';
import { SCHEMA_VERSION } from '../../lib/adapters/sqlite/schema';
import { SqliteLedgerStore } from '../../lib/adapters/sqlite/sqlite-ledger-store';
import { SqliteTaskQueue } from '../../lib/adapters/sqlite/sqlite-task-queue';
import { verifyChain } from '../../lib/ledger';
import type { Block } from '../../lib/ledger/types';
import type { Task } from '../../lib/model/task';
import { ManualClock } from '../../lib/ports/clock';
import {
  T0 as DEVICE_T0,
  engineOn,
  expectDevicesReplay,
  FreshDevicesFleet,
  gpuTask,
} from './gpu-devices.case';
import { commitFor, decision, ledgerStoreContract } from './ledger-store.case';
import { merkleStateContract } from './merkle-state.case';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcs-sqlite-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

ledgerStoreContract('sqlite', async () => {
  const store = new SqliteLedgerStore(join(dir, 'ledger.db'));
  return { store, cleanup: () => store.close() };
});

async function readChain(store: SqliteLedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  return store.getBlocks(0, head.height + 1);
}

/** Runs TypeScript in a separate Node process (a real second SQLite connection, killable). */
function runScript(code: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited, output: () => stdout };
}

/**
 * A writer process: records `count` tasks named `<prefix>-<n>` on vm-1 (cpu 1 each), one per block,
 * re-reading and retrying when another connection moved the head. Prints a dot per commit.
 */
function writerScript(path: string, prefix: string, count: number): string {
  const here = process.cwd();
  return `
    import { SqliteLedgerStore } from '${here}/lib/adapters/sqlite/sqlite-ledger-store.ts';
    import { buildBlocks, toTimestamp, transactionId } from '${here}/lib/ledger/index.ts';
    const store = new SqliteLedgerStore(${JSON.stringify(path)});
    const capacity = { cpu: 1e9 };
    for (let n = 0; n < ${count}; n++) {
      const taskId = '${prefix}-' + n;
      const tx = {
        transaction_id: transactionId(taskId, 'decision'), timestamp: toTimestamp(Date.now()), task_id: taskId,
        vm_id: 'vm-1', status: 'assigned', algorithm: 'writer', score: 1, reason: 'test',
        task_requirements: { cpu: 1 },
        vm_state_before: { reserved: {}, usage: {}, active_tasks: 0 },
        vm_state_after: { reserved: { cpu: 1 }, usage: {}, active_tasks: 1 },
      };
      for (;;) {
        const head = await store.readHead();
        const blocks = buildBlocks(head, [tx], { maxPerBlock: 5, timestamp: tx.timestamp });
        const record = {
          task_id: taskId, status: 'assigned', vm_id: 'vm-1', block_height: head.height + 1,
          transaction_id: tx.transaction_id, requirements: { cpu: 1 }, deadline: 2e9, duration: 60,
          lease_expires_at: Date.now() + 60000, updated_at: Date.now(),
        };
        const result = await store.append(head, {
          blocks,
          reservations: [{ vm_id: 'vm-1', delta: { cpu: 1 }, active_delta: 1, capacity }],
          tasks: [{ record, expect: 'absent' }],
        });
        if (result.ok) { process.stdout.write('.'); break; }
        if (result.conflict !== 'head-moved') throw new Error(result.detail);
      }
    }
    await store.close();
  `;
}

describe('SqliteLedgerStore on disk', { timeout: 60_000 }, () => {
  it('keeps the chain, tasks and reservations across close and reopen', async () => {
    const path = join(dir, 'ledger.db');
    const first = new SqliteLedgerStore(path);
    const head = await first.readHead();
    await first.append(head, commitFor(head, [decision('t-1', 'vm-1', { cpu: 100 })]));
    const before = {
      head: await first.readHead(),
      blocks: await readChain(first),
      task: await first.getTask('t-1'),
      reservations: await first.getReservations(),
    };
    await first.close();

    const reopened = new SqliteLedgerStore(path);
    expect({
      head: await reopened.readHead(),
      blocks: await readChain(reopened),
      task: await reopened.getTask('t-1'),
      reservations: await reopened.getReservations(),
    }).toEqual(before);
    expect(before.head.height).toBe(1);
    await reopened.close();
  });

  it('keeps GPU device reservations across close and reopen: a restarted scheduler gives no held device again', async () => {
    const path = join(dir, 'ledger.db');
    const fleet = new FreshDevicesFleet(['vm-a']);
    const clock = new ManualClock(DEVICE_T0);
    const store = new SqliteLedgerStore(path);
    const first = await engineOn(store, fleet, clock).schedule([gpuTask('w1', 2000), gpuTask('s1', 300)]);
    expect(first.decisions.map((d) => d.status)).toEqual(['assigned', 'assigned']);
    await store.close();

    const reopened = new SqliteLedgerStore(path);
    const [reservation] = await reopened.getReservations(['vm-a']);
    expect(reservation?.gpus?.reduce((a, b) => a + b, 0)).toBe(2300);
    expect((await reopened.getTask('w1'))?.devices).toEqual(first.decisions[0]!.devices);
    const held = new Set([...first.decisions[0]!.devices!, ...first.decisions[1]!.devices!]);
    const next = await engineOn(reopened, fleet, clock, 2).schedule([
      gpuTask('one', 1000),
      gpuTask('two', 2000),
    ]);
    const one = next.decisions.find((d) => d.task.id === 'one')!;
    expect(one.status).toBe('assigned');
    expect(held.has(one.devices![0]!)).toBe(false);
    // 4 devices: 2 whole, 1 shared, 1 taken now; no pair is left.
    expect(next.decisions.find((d) => d.task.id === 'two')?.status).toBe('rejected');
    await expectDevicesReplay(reopened);
    await reopened.close();
  });

  it('opens in WAL mode with the chosen synchronous level and records the schema version', async () => {
    const path = join(dir, 'ledger.db');
    for (const [synchronous, level] of [
      ['FULL', 2],
      ['NORMAL', 1],
    ] as const) {
      const store = new SqliteLedgerStore(path, { synchronous, busyTimeoutMs: 1234 });
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(level);
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      await store.close();
    }
  });

  it('migrates a version 1 database forward, keeping its chain', async () => {
    const path = join(dir, 'ledger.db');
    const store = new SqliteLedgerStore(path);
    const head = await store.readHead();
    await store.append(head, commitFor(head, [decision('t-1', null, { cpu: 1 })]));
    const chain = await readChain(store);
    // Version 1 had no dead-letter table (and none of the later tables).
    store.db.exec(
      'DROP TABLE queue_dead_letters; DROP TABLE merkle_tiles; DROP TABLE tree_head; DROP TABLE vm_counts; ALTER TABLE blocks DROP COLUMN transaction_total; DROP TABLE acceptances; ALTER TABLE tasks DROP COLUMN devices; ALTER TABLE reservations DROP COLUMN gpus',
    );
    store.db.pragma('user_version = 1');
    await store.close();

    const upgraded = new SqliteLedgerStore(path);
    expect(upgraded.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(await new SqliteTaskQueue(upgraded.db).deadLetters()).toEqual([]);
    expect(await readChain(upgraded)).toEqual(chain);
    await upgraded.close();
  });

  it('builds the Merkle tiles, tree head and counts of a chain written before they existed (version 2)', async () => {
    const path = join(dir, 'ledger.db');
    const reference = new MemoryLedgerStore(undefined, { tileHeight: 2 });
    const store = new SqliteLedgerStore(path, { tileHeight: 2 });
    for (let i = 0; i < 23; i++) {
      for (const s of [store, reference] as const) {
        const head = await s.readHead();
        const vm = i % 3 === 0 ? null : `vm-${i % 2}`;
        expect(await s.append(head, commitFor(head, [decision(`t-${i}`, vm, { cpu: 1 })]))).toMatchObject({
          ok: true,
        });
      }
    }
    store.db.exec(
      'DROP TABLE merkle_tiles; DROP TABLE tree_head; DROP TABLE vm_counts; ALTER TABLE blocks DROP COLUMN transaction_total; DROP TABLE acceptances; ALTER TABLE tasks DROP COLUMN devices; ALTER TABLE reservations DROP COLUMN gpus',
    );
    store.db.pragma('user_version = 2');
    await store.close();

    const upgraded = new SqliteLedgerStore(path, { tileHeight: 2 });
    expect(upgraded.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(await upgraded.readTreeHead()).toEqual(await reference.readTreeHead());
    const keys = [0, 1, 2, 3, 4, 5]
      .map((index) => ({ level: 0, index }))
      .concat([
        { level: 1, index: 0 },
        { level: 1, index: 1 },
        { level: 2, index: 0 },
      ]);
    expect(await upgraded.readTiles(keys)).toEqual(await reference.readTiles(keys));
    expect(await upgraded.readVmCounts()).toEqual(await reference.readVmCounts());
    // Migration 4 fills every block's transaction total.
    const heights = [0, 1, 11, 23];
    expect(await upgraded.readHeightStates(heights)).toEqual(await reference.readHeightStates(heights));
    await upgraded.close();
    expect(() => new SqliteLedgerStore(path)).toThrow(/tiles of height 2, not 8/);
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const path = join(dir, 'ledger.db');
    const store = new SqliteLedgerStore(path);
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    await store.close();
    expect(() => new SqliteLedgerStore(path)).toThrow(/newer/);
  });

  it('refuses a database created with a different genesis block', async () => {
    const path = join(dir, 'ledger.db');
    const store = new SqliteLedgerStore(path);
    const genesis = (await store.getBlock(0))!;
    await store.close();
    expect(
      () => new SqliteLedgerStore(path, { genesis: { ...genesis, block_hash: 'a'.repeat(64) } }),
    ).toThrow(/genesis/);
  });

  it('serialises appends from several connections on one file', async () => {
    const path = join(dir, 'ledger.db');
    const stores = Array.from({ length: 4 }, () => new SqliteLedgerStore(path));
    const outcomes = await Promise.all(
      stores.map(async (store, i) => {
        const results = [];
        for (let n = 0; n < 5; n++) {
          for (;;) {
            const head = await store.readHead();
            const result = await store.append(
              head,
              commitFor(head, [decision(`c${i}-${n}`, 'vm-1', { cpu: 1 })]),
            );
            results.push(result.ok);
            if (result.ok) break;
            // Yield so another connection gets to move the head in between.
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        return results;
      }),
    );
    expect(outcomes.flat().filter(Boolean)).toHaveLength(20);
    const chain = await readChain(stores[0]!);
    expect(await verifyChain(chain)).toMatchObject({ valid: true, height: 20, transactions_checked: 20 });
    expect(await stores[3]!.getReservations()).toMatchObject([
      { vm_id: 'vm-1', reserved: { cpu: 20 }, active_tasks: 20 },
    ]);
    for (const store of stores) await store.close();
  });

  it('serialises appends from several processes on one file', async () => {
    const path = join(dir, 'ledger.db');
    new SqliteLedgerStore(path).close();
    const processes = 3;
    const perProcess = 15;
    const runs = Array.from({ length: processes }, (_, i) =>
      runScript(writerScript(path, `p${i}`, perProcess)),
    );
    const results = await Promise.all(runs.map((r) => r.exited));
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });

    const store = new SqliteLedgerStore(path);
    const chain = await readChain(store);
    const total = processes * perProcess;
    expect(await verifyChain(chain)).toMatchObject({
      valid: true,
      height: total,
      transactions_checked: total,
    });
    expect(new Set(chain.flatMap((b) => b.transactions.map((t) => t.task_id))).size).toBe(total);
    expect(await store.getReservations()).toMatchObject([
      { vm_id: 'vm-1', reserved: { cpu: total }, active_tasks: total },
    ]);
    await store.close();
  });

  it('survives kill -9 in the middle of appends: a valid chain whose head, index and tasks agree', async () => {
    const path = join(dir, 'ledger.db');
    new SqliteLedgerStore(path).close();
    const run = runScript(writerScript(path, 'k', 100_000));
    await new Promise<void>((resolve) => {
      run.child.stdout.on('data', () => {
        if (run.output().length >= 50) resolve();
      });
    });
    run.child.kill('SIGKILL');
    expect(await run.exited).toMatchObject({ signal: 'SIGKILL' });

    const store = new SqliteLedgerStore(path);
    const head = await store.readHead();
    const chain = await readChain(store);
    // Every append the writer reported finished is there; at most the one in flight beyond it.
    const reported = run.output().replaceAll(/[^.]/g, '').length;
    expect(head.height).toBeGreaterThanOrEqual(reported);
    expect(await verifyChain(chain, { expectedHead: head })).toMatchObject({ valid: true });
    const last = chain.at(-1)!.transactions[0]!;
    expect(await store.findTransaction(last.transaction_id)).toEqual({ height: head.height, index: 0 });
    expect(await store.getTask(last.task_id)).toMatchObject({
      status: 'assigned',
      block_height: head.height,
    });
    expect(await store.getTask(`k-${head.height}`)).toBeNull();
    expect(await store.getReservations()).toMatchObject([
      { reserved: { cpu: head.height }, active_tasks: head.height },
    ]);

    // And it keeps accepting appends where it stopped.
    const result = await store.append(head, commitFor(head, [decision('after-crash', 'vm-1', { cpu: 1 })]));
    expect(result).toMatchObject({ ok: true, head: { height: head.height + 1 } });
    await store.close();
  });
});

/**
 * The local runtime's loop in a separate process: receive a batch, decide and commit it, then ack.
 * Prints a dot per committed batch.
 */
function schedulerLoopScript(path: string, barrier?: string): string {
  const here = process.cwd();
  return `
    import { existsSync } from 'node:fs';
    import { SqliteLedgerStore } from '${here}/lib/adapters/sqlite/sqlite-ledger-store.ts';
    import { SqliteTaskQueue } from '${here}/lib/adapters/sqlite/sqlite-task-queue.ts';
    import { SchedulingEngine } from '${here}/lib/engine/engine.ts';
    import { systemClock } from '${here}/lib/ports/clock.ts';
    const store = new SqliteLedgerStore(${JSON.stringify(path)});
    const queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 60000 });
    const vm = (id) => ({ id, capacity: { cpu: 1e6, mem: 1e6 }, reserved: { cpu: 0, mem: 0 }, usage: { cpu: 0, mem: 0 },
      history: [], activeTasks: 0, labels: {}, state: 'active' });
    const fleet = { listVms: async () => [vm('vm-1'), vm('vm-2')] };
    const engine = new SchedulingEngine({ store, fleet, clock: systemClock, algorithm: 'round-robin', dimensions: ['cpu', 'mem'] });
    ${barrier ? `process.stdout.write('ready;'); while (!existsSync(${JSON.stringify(barrier)})) await new Promise((r) => setTimeout(r, 5));` : 'await queue.releaseInFlight();'}
    for (;;) {
      const batch = await queue.receive(7);
      if (batch.length === 0) break;
      await engine.schedule(batch.map((b) => b.task));
      await queue.ack(batch.map((b) => b.receipt));
      process.stdout.write('.');
    }
  `;
}

describe('SqliteTaskQueue with engines in several processes', { timeout: 60_000 }, () => {
  it('records every queued task exactly once when three scheduler loops drain one file', async () => {
    const path = join(dir, 'ledger.db');
    const setupStore = new SqliteLedgerStore(path);
    const ids = Array.from({ length: 420 }, (_, i) => `m-${i}`);
    await new SqliteTaskQueue(setupStore.db).enqueue(ids.map(task));
    await setupStore.close();

    // All three start draining together, once every one of them has opened the file.
    const barrier = join(dir, 'go');
    const runs = [0, 1, 2].map(() => runScript(schedulerLoopScript(path, barrier)));
    await Promise.all(
      runs.map(
        (run) =>
          new Promise<void>((resolve) => {
            run.child.stdout.on('data', () => {
              if (run.output().includes('ready;')) resolve();
            });
          }),
      ),
    );
    writeFileSync(barrier, '');
    for (const result of await Promise.all(runs.map((r) => r.exited))) {
      expect(result, result.stderr).toMatchObject({ code: 0 });
    }

    const store = new SqliteLedgerStore(path);
    const chain = await readChain(store);
    expect(chain.flatMap((b) => b.transactions.map((t) => t.task_id)).sort()).toEqual([...ids].sort());
    expect(await verifyChain(chain)).toMatchObject({ valid: true, transactions_checked: ids.length });
    expect(await new SqliteTaskQueue(store.db).depth()).toBe(0);
    // At least two loops committed batches: they really drained concurrently.
    expect(runs.filter((run) => /ready;\.+/.test(run.output())).length).toBeGreaterThanOrEqual(2);
    await store.close();
  });
});

describe('SqliteTaskQueue with the engine across kill -9', { timeout: 60_000 }, () => {
  it('leaves every accepted task either recorded or still queued, and draining records each exactly once', async () => {
    const path = join(dir, 'ledger.db');
    const setupStore = new SqliteLedgerStore(path);
    const ids = Array.from({ length: 400 }, (_, i) => `q-${i}`);
    expect(await new SqliteTaskQueue(setupStore.db).enqueue(ids.map(task))).toEqual(ids);
    await setupStore.close();

    const run = runScript(schedulerLoopScript(path));
    await new Promise<void>((resolve) => {
      run.child.stdout.on('data', () => {
        if (run.output().length >= 5) resolve();
      });
    });
    run.child.kill('SIGKILL');
    await run.exited;

    const store = new SqliteLedgerStore(path);
    const queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 0 });
    const queued = new Set(
      (store.db.prepare('SELECT task_id FROM queue').all() as { task_id: string }[]).map((r) => r.task_id),
    );
    const recorded = new Set<string>();
    for (const id of ids) if (await store.getTask(id)) recorded.add(id);
    expect(recorded.size).toBeGreaterThan(0);
    expect(queued.size).toBeGreaterThan(0);
    expect(ids.filter((id) => !recorded.has(id) && !queued.has(id))).toEqual([]);
    expect(await queue.depth()).toBe(queued.size);
    await store.close();

    // A restarted loop drains the rest; redelivered tasks that were already recorded are duplicates.
    const drain = runScript(schedulerLoopScript(path));
    expect(await drain.exited).toMatchObject({ code: 0 });
    const after = new SqliteLedgerStore(path);
    const chain = await readChain(after);
    const taskIds = chain.flatMap((b) => b.transactions.map((t) => t.task_id));
    expect(taskIds.sort()).toEqual([...ids].sort());
    expect(await verifyChain(chain)).toMatchObject({ valid: true, transactions_checked: ids.length });
    expect(await new SqliteTaskQueue(after.db).depth()).toBe(0);
    await after.close();
  });
});

function task(id: string): Task {
  return {
    id,
    requirements: { cpu: 100, mem: 64 },
    duration: 30,
    deadline: 1_900_000_000,
    priority: 0,
    submittedAt: 1_800_000_000_000,
    labels: { team: 'a' },
    constraints: {},
  };
}

describe('SqliteTaskQueue', () => {
  let store: SqliteLedgerStore;
  let clock: ManualClock;
  let queue: SqliteTaskQueue;

  beforeEach(() => {
    store = new SqliteLedgerStore(join(dir, 'ledger.db'));
    clock = new ManualClock(1_000_000);
    queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 5000, clock });
  });
  afterEach(async () => {
    await store.close();
  });

  it('enqueues idempotently by task id and delivers in order with the task intact', async () => {
    expect(await queue.enqueue([task('a'), task('b')])).toEqual(['a', 'b']);
    expect(await queue.enqueue([task('b'), task('c')])).toEqual(['c']);
    expect(await queue.depth()).toBe(3);
    expect(await queue.contains('b')).toBe(true);
    expect(await queue.contains('z')).toBe(false);

    const received = await queue.receive(10);
    expect(received.map((r) => [r.task, r.attempts])).toEqual([
      [task('a'), 1],
      [task('b'), 1],
      [task('c'), 1],
    ]);
    expect(new Set(received.map((r) => r.receipt)).size).toBe(3);
  });

  it('hides received tasks until the visibility timeout, then redelivers with a higher attempt count', async () => {
    await queue.enqueue([task('a'), task('b')]);
    const [first] = await queue.receive(1);
    expect(first!.task.id).toBe('a');
    expect((await queue.receive(10)).map((r) => r.task.id)).toEqual(['b']);
    expect(await queue.receive(10)).toEqual([]);

    clock.advance(5000);
    const again = await queue.receive(10);
    expect(again.map((r) => [r.task.id, r.attempts])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    // The first delivery's receipt is stale: acking it must not remove the redelivered task.
    await queue.ack([first!.receipt]);
    expect(await queue.depth()).toBe(2);
  });

  it('releases every in-flight task at once for a restarting sole consumer', async () => {
    await queue.enqueue([task('a'), task('b'), task('c')]);
    await queue.receive(2);
    expect(await queue.releaseInFlight()).toBe(2);
    expect((await queue.receive(10)).map((r) => [r.task.id, r.attempts])).toEqual([
      ['a', 2],
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('removes acked tasks and makes released ones visible at once', async () => {
    await queue.enqueue([task('a'), task('b')]);
    const [a, b] = await queue.receive(2);
    await queue.ack([a!.receipt]);
    await queue.release([b!.receipt]);
    expect(await queue.depth()).toBe(1);
    expect([await queue.contains('a'), await queue.contains('b')]).toEqual([false, true]);
    expect((await queue.receive(10)).map((r) => [r.task.id, r.attempts])).toEqual([['b', 2]]);
    // Once acked the id can be queued again; the engine recognises it as already recorded.
    expect(await queue.enqueue([task('a')])).toEqual(['a']);
  });

  it('releases with a delay: hidden until the delay passes, still counted in depth, kept across reopen, never dead-lettered', async () => {
    await queue.enqueue([task('a'), task('b')]);
    const [a] = await queue.receive(1);
    await queue.release([a!.receipt], 2000);
    expect(await queue.depth()).toBe(2);
    expect((await queue.receive(10)).map((r) => r.task.id)).toEqual(['b']);

    await store.close();
    store = new SqliteLedgerStore(join(dir, 'ledger.db'));
    queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 5000, clock });
    clock.advance(1999);
    expect(await queue.receive(10)).toEqual([]);
    clock.advance(1);
    // The postponement gave its delivery back: a waiting task never reaches maxAttempts (10).
    let [again] = await queue.receive(10);
    expect(again!.attempts).toBe(1);
    for (let i = 0; i < 25; i++) {
      await queue.release([again!.receipt], 10);
      clock.advance(10);
      [again] = await queue.receive(10);
    }
    expect(again).toMatchObject({ task: { id: 'a' }, attempts: 1 });
    expect(await queue.deadLetters()).toEqual([]);
    await expect(queue.release(['1.x'], -1)).rejects.toThrow(/delayMs/);
  });

  it('keeps queued tasks across reopen, in the ledger file', async () => {
    await queue.enqueue([task('a'), task('b')]);
    await queue.receive(1);
    await store.close();
    store = new SqliteLedgerStore(join(dir, 'ledger.db'));
    queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 5000, clock });
    expect(await queue.depth()).toBe(2);
    expect((await queue.receive(10)).map((r) => r.task.id)).toEqual(['b']);
  });

  it('moves a malformed row to the dead letters, naming the field, and delivers the rest', async () => {
    store.db
      .prepare('INSERT INTO queue (task_id, task, visible_at) VALUES (?, ?, ?)')
      .run('bad', '{"id":"bad"}', 0);
    await queue.enqueue([task('good')]);

    expect((await queue.receive(10)).map((r) => r.task.id)).toEqual(['good']);
    const [dead] = await queue.deadLetters();
    expect(dead).toMatchObject({ task_id: 'bad', attempts: 0, failed_at: clock.now() });
    expect(dead!.error).toMatch(/requirements/);
    expect(await queue.contains('bad')).toBe(false);
  });

  it('flags a task never acked after maxAttempts deliveries as exhausted instead of burying it', async () => {
    queue = new SqliteTaskQueue(store.db, { visibilityTimeoutMs: 10, maxAttempts: 3, clock });
    await queue.enqueue([task('a')]);
    const deliveries: { attempts: number; exhausted: boolean }[] = [];
    for (let i = 0; i < 5; i++) {
      for (const r of await queue.receive(1))
        deliveries.push({ attempts: r.attempts, exhausted: r.exhausted === true });
      clock.advance(10);
    }
    // Never lost: the consumer records an exhausted task as rejected (runtime/scheduler-loop.ts), then acks it.
    expect(deliveries).toEqual([
      { attempts: 1, exhausted: false },
      { attempts: 2, exhausted: false },
      { attempts: 3, exhausted: false },
      { attempts: 4, exhausted: true },
      { attempts: 5, exhausted: true },
    ]);
    expect(await queue.deadLetters()).toEqual([]);
    expect(await queue.deadLetterCount()).toBe(0);
    expect(await queue.contains('a')).toBe(true);
  });

  it('counts the dead letters it serves', async () => {
    store.db
      .prepare('INSERT INTO queue (task_id, task, visible_at) VALUES (?, ?, ?)')
      .run('bad', '{"id":"bad"}', clock.now());
    await queue.receive(10);
    expect(await queue.deadLetterCount()).toBe(1);
  });
});

merkleStateContract('sqlite', async ({ tileHeight }) => {
  const store = new SqliteLedgerStore(join(dir, `merkle-${tileHeight ?? 8}-${Math.random()}.db`), {
    synchronous: 'NORMAL',
    ...(tileHeight === undefined ? {} : { tileHeight }),
  });
  return { store, cleanup: () => store.close() };
});
