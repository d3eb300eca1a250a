import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import { auditFailures, auditLedger } from '../../../scripts/reliability/audit';
import { DIMENSIONS, fleetVms, workloadTasks } from '../../../scripts/reliability/workload';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const VMS = 16;
const BATCH = 20;

type Outcomes = { decided: string[]; duplicates: string[] }[];

/** Runs the scheduler process to its end; resolves with its outcomes, or the signal that ended it. */
function scheduler(dbPath: string, env: Record<string, string> = {}) {
  const child = fork(CHILD, [dbPath, String(VMS), String(BATCH)], {
    cwd: REPO,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let outcomes: Outcomes | null = null;
  child.on('message', (m: { outcomes: Outcomes }) => {
    outcomes = m.outcomes;
  });
  return new Promise<{ outcomes: Outcomes | null; code: number | null; signal: string | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ outcomes, code, signal })),
  );
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a local scheduler killed after its commit, before the ack', () => {
  it.each([1, 3])(
    'at ack %i: after a restart, the redelivered batch is duplicates; each task once, chain valid',
    async (killAt) => {
      // Prepare: 70 tasks queued in the ledger's file.
      dir = await mkdtemp(join(tmpdir(), 'bcs-crash-'));
      const dbPath = join(dir, 'ledger.db');
      const tasks = workloadTasks({ tasks: 70, seed: 21, startedAt: Date.now() });
      const setup = new SqliteLedgerStore(dbPath);
      expect(await new SqliteTaskQueue(setup.db).enqueue(tasks)).toHaveLength(70);
      await setup.close();

      // Act 1: batch `killAt` commits, then the process is SIGKILLed at its ack (the earlier ones were acked).
      const killed = await scheduler(dbPath, { KILL_AT_ACK: String(killAt) });
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.outcomes).toBeNull();
      const afterKill = new SqliteLedgerStore(dbPath);
      const committed = (await afterKill.getTasks(tasks.map((t) => t.id))).flatMap((r) =>
        r ? [r.task_id] : [],
      );
      // Assess 1: the first `killAt` batches are in the ledger; all but the last one left the queue.
      expect(committed).toEqual(tasks.slice(0, killAt * BATCH).map((t) => t.id));
      expect(await new SqliteTaskQueue(afterKill.db).depth()).toBe(70 - (killAt - 1) * BATCH);
      const unacked = committed.slice((killAt - 1) * BATCH);
      await afterKill.close();

      // Act 2: restart and drain.
      const restarted = await scheduler(dbPath);
      expect(restarted.code).toBe(0);
      const outcomes = restarted.outcomes!;

      // Assess 2: the killed batch came back as duplicates, once each; the rest were decided once.
      expect(outcomes.flatMap((o) => o.duplicates).sort()).toEqual(unacked.sort());
      expect(outcomes.flatMap((o) => o.decided).sort()).toEqual(
        tasks
          .slice(killAt * BATCH)
          .map((t) => t.id)
          .sort(),
      );
      const store = new SqliteLedgerStore(dbPath);
      try {
        expect(await new SqliteTaskQueue(store.db).depth()).toBe(0);
        const audit = await auditLedger(
          store,
          tasks.map((t) => t.id),
          fleetVms(VMS),
          DIMENSIONS,
        );
        expect(auditFailures(audit)).toEqual([]);
        expect(audit.assigned + audit.rejected).toBe(70);
        expect(audit.transactions).toBe(70);
      } finally {
        await store.close();
      }
    },
  );
});
