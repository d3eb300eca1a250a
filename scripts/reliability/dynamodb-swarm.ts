import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedgerStore, maxTasksPerCommit } from '../../lib/adapters/dynamodb';
import { SchedulingEngine } from '../../lib/engine/engine';
import { systemClock } from '../../lib/ports/clock';
import { auditLedger } from './audit';
import { CountingLedgerStore } from './counting-store';
import { driveScheduler } from './drive';
import type { RunSettings } from './settings';
import { combineAppends, type SwarmResult } from './swarm-result';
import { DIMENSIONS, FixedFleet, fleetVms, slices, workloadTasks } from './workload';

export interface DynamoSwarmOptions {
  /** Schedulers get a client each, as separate Lambda containers do. */
  client: () => DynamoDBClient;
  /** An empty ledger table (tests/aws/helpers/ledger-table.ts makes one as the stack does). */
  tableName: string;
  /** Told the chain's height every `progressEveryMs` (default 30 s): a full-size run takes long. */
  progress?: (line: string) => void;
  progressEveryMs?: number;
}

/**
 * `settings.schedulers` engines in this process, each with its own client and DynamoDbLedgerStore on
 * one table, started together on their shares of the tasks. Their requests interleave on the
 * network, so they race for the head as Lambda containers do; then the ledger is audited.
 */
export async function runDynamoSwarm(
  settings: RunSettings,
  options: DynamoSwarmOptions,
): Promise<SwarmResult> {
  const vms = fleetVms(settings.vms);
  const tasks = workloadTasks(settings);
  const shares = slices(tasks, settings.schedulers, settings.overlapEvery);
  const clients = shares.map(() => options.client());
  try {
    const schedulers = shares.map((share, index) => {
      const store = new CountingLedgerStore(
        new DynamoDbLedgerStore({ client: clients[index]!, tableName: options.tableName }),
      );
      const engine = new SchedulingEngine({
        store,
        fleet: new FixedFleet(vms),
        clock: systemClock,
        algorithm: settings.algorithm,
        seed: settings.seed + index,
        dimensions: DIMENSIONS,
        blockSize: settings.blockSize,
        maxTasksPerCommit: maxTasksPerCommit(settings.blockSize),
      });
      return { store, engine, share };
    });
    // Genesis is written once, before the clock starts, as the stack's first invocation would.
    await schedulers[0]!.store.readHead();
    const empty = await timed(() => schedulers[0]!.store.getReservations());
    const started = performance.now();
    const ticker = options.progress
      ? setInterval(() => {
          void schedulers[0]!.store
            .readHead()
            .then((head) => {
              const seconds = Math.round((performance.now() - started) / 1000);
              options.progress?.(`height ${head.height} after ${seconds} s`);
            })
            .catch(() => undefined); // a missed progress line is not worth failing the run
        }, options.progressEveryMs ?? 30_000)
      : undefined;
    let stats: Awaited<ReturnType<typeof driveScheduler>>[];
    try {
      stats = await Promise.all(schedulers.map((s) => driveScheduler(s.engine, s.share, settings)));
    } finally {
      clearInterval(ticker);
    }
    const wallMs = performance.now() - started;
    const full = await timed(() => schedulers[0]!.store.getReservations());
    const audit = await auditLedger(
      new DynamoDbLedgerStore({ client: clients[0]!, tableName: options.tableName }),
      tasks.map((t) => t.id),
      vms,
      DIMENSIONS,
    );
    return {
      store: 'dynamodb',
      settings,
      wallMs,
      schedulers: stats,
      appends: combineAppends(schedulers.map((s) => s.store.counts)),
      audit,
      reservationsReadMs: { empty, full },
    };
  } finally {
    for (const c of clients) c.destroy();
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}
