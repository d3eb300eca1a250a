import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteLedgerStore } from '../../lib/adapters/sqlite';
import { auditLedger } from './audit';
import type { AppendCounts } from './counting-store';
import type { SchedulerStats } from './drive';
import type { RunSettings } from './settings';
import { combineAppends, type SwarmResult } from './swarm-result';
import { DIMENSIONS, fleetVms, workloadTasks } from './workload';

export type FromSqliteWorker =
  | { type: 'ready' }
  | { type: 'done'; stats: SchedulerStats; appends: AppendCounts }
  | { type: 'failed'; message: string };

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('./sqlite-worker.ts', import.meta.url));

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<{ stats: SchedulerStats; appends: AppendCounts }>;
}

function startWorker(index: number, dbPath: string, settings: RunSettings): Worker {
  const child = fork(WORKER, [], {
    cwd: REPO,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready!: () => void;
  let done!: (value: { stats: SchedulerStats; appends: AppendCounts }) => void;
  let failed!: (error: Error) => void;
  const readyP = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const doneP = new Promise<{ stats: SchedulerStats; appends: AppendCounts }>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  child.on('message', (message: FromSqliteWorker) => {
    if (message.type === 'ready') ready();
    else if (message.type === 'done') done({ stats: message.stats, appends: message.appends });
    else failed(new Error(`scheduler ${index} failed: ${message.message}`));
  });
  child.once('close', (code, signal) => failed(new Error(`scheduler ${index} exited (${code ?? signal})`)));
  child.send({ type: 'start', index, dbPath, settings });
  // A worker that dies before `ready` must fail the run, not hang it.
  return { child, ready: Promise.race([readyP, doneP.then(() => undefined)]), done: doneP };
}

/**
 * `settings.schedulers` processes, each with its own SchedulingEngine and SqliteLedgerStore on one
 * database file (WAL; every append is BEGIN IMMEDIATE), started together on their shares of the
 * tasks; then the ledger is audited from the file. The file is removed unless `keep` is set.
 */
export async function runSqliteSwarm(
  settings: RunSettings,
  options: { keep?: boolean } = {},
): Promise<SwarmResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bcs-swarm-'));
  const dbPath = join(dir, 'ledger.db');
  // Created once here, so the workers do not race to run the migrations on an empty file.
  await new SqliteLedgerStore(dbPath).close();
  const workers = Array.from({ length: settings.schedulers }, (_, i) => startWorker(i, dbPath, settings));
  try {
    await Promise.all(workers.map((w) => w.ready));
    const started = performance.now();
    for (const w of workers) w.child.send({ type: 'go' });
    const results = await Promise.all(workers.map((w) => w.done));
    const wallMs = performance.now() - started;
    const store = new SqliteLedgerStore(dbPath);
    try {
      const audit = await auditLedger(
        store,
        workloadTasks(settings).map((t) => t.id),
        fleetVms(settings.vms),
        DIMENSIONS,
      );
      return {
        store: 'sqlite',
        settings,
        wallMs,
        schedulers: results.map((r) => r.stats),
        appends: combineAppends(results.map((r) => r.appends)),
        audit,
      };
    } finally {
      await store.close();
    }
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}
