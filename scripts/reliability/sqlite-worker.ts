import * as z from 'zod';
import { SqliteLedgerStore } from '../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../lib/engine/engine';
import { parseOrThrow } from '../../lib/errors';
import { systemClock } from '../../lib/ports/clock';
import { CountingLedgerStore } from './counting-store';
import { driveScheduler } from './drive';
import { runSettingsSchema } from './settings';
import type { FromSqliteWorker } from './sqlite-swarm';
import { DIMENSIONS, FixedFleet, fleetVms, slices, workloadTasks } from './workload';

/**
 * One scheduler in a process of its own: its own connection to the shared SQLite file, its own
 * engine, the fleet rebuilt from the settings. It opens everything, says `ready`, waits for `go` (so
 * that all schedulers start together) and reports what it did.
 */
const startSchema = z.strictObject({
  type: z.literal('start'),
  index: z.number().int().min(0),
  dbPath: z.string().min(1),
  settings: runSettingsSchema,
});

const send = (message: FromSqliteWorker) =>
  new Promise<void>((resolve, reject) =>
    process.send!(message, (error: Error | null) => (error ? reject(error) : resolve())),
  );

process.once('message', async (raw: unknown) => {
  try {
    const { index, dbPath, settings } = parseOrThrow(startSchema, raw, 'sqlite worker start message');
    const store = new CountingLedgerStore(new SqliteLedgerStore(dbPath));
    const engine = new SchedulingEngine({
      store,
      fleet: new FixedFleet(fleetVms(settings.vms)),
      clock: systemClock,
      algorithm: settings.algorithm,
      seed: settings.seed + index,
      dimensions: DIMENSIONS,
      blockSize: settings.blockSize,
    });
    const mine = slices(workloadTasks(settings), settings.schedulers, settings.overlapEvery)[index]!;
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    await send({ type: 'ready' });
    await go;
    const stats = await driveScheduler(engine, mine, settings);
    await store.close();
    await send({ type: 'done', stats, appends: store.counts });
    process.disconnect();
  } catch (error) {
    await send({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = 1;
    process.disconnect();
  }
});
