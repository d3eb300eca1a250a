import { SqliteLedgerStore, SqliteTaskAcceptances, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../../lib/engine/engine';
import { ManualClock } from '../../../lib/ports/clock';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';
import { createApp } from '../../../runtime/http/app';
import { LocalRuntime } from '../../../runtime/runtime';

const dimensions = ['cpu', 'mem', 'io', 'bw'];

/**
 * A runtime on an in-memory SQLite whose loops are never started, with its HTTP app: tests drive
 * requests with `app.request` and the engine by hand. Close `store` after each test.
 */
export function inProcessRuntime(config: Record<string, unknown> = {}, vms = 2) {
  const clock = new ManualClock(Date.parse('2026-11-21T00:00:00.000Z'));
  const store = new SqliteLedgerStore(':memory:');
  const queue = new SqliteTaskQueue(store.db, { clock });
  const fleet = new SimulatedFleet({
    dimensions,
    defaultCapacity: { cpu: 1000, mem: 1000, io: 100, bw: 100 },
    zones: ['a'],
    speed: 1,
    noise: 0,
    historyWindow: 5,
    random: seededRandom(1),
  });
  fleet.addVms(vms);
  const engine = new SchedulingEngine({ store, fleet, clock, algorithm: 'best-fit', dimensions, seed: 1 });
  const logged: string[] = [];
  const rt = new LocalRuntime({
    config: runtimeConfigSchema.parse({ algorithm: 'best-fit', fleet: { size: vms }, ...config }),
    store,
    queue,
    acceptances: new SqliteTaskAcceptances(store.db),
    engine,
    fleet,
    clock,
    random: seededRandom(2),
    algorithms: algorithmNames(),
    log: (message) => logged.push(message),
  });
  const app = createApp(rt, { assets: new Map(), algorithms: algorithmNames(), log: (m) => logged.push(m) });
  return { rt, app, engine, queue, store, fleet, clock, logged };
}
