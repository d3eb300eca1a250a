import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore, SqliteTaskAcceptances, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../../lib/engine/engine';
import { ManualClock } from '../../../lib/ports/clock';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';
import { LocalRuntime } from '../../../runtime/runtime';

const dimensions = ['cpu'];
let store: SqliteLedgerStore;

afterEach(async () => {
  await store.close();
});

/** A runtime whose loops never start; `autoscale` is the config section under test. */
function runtime(autoscale: Record<string, unknown>) {
  const clock = new ManualClock(0);
  store = new SqliteLedgerStore(':memory:');
  const fleet = new SimulatedFleet({
    dimensions,
    defaultCapacity: { cpu: 1000 },
    zones: ['a'],
    speed: 1,
    noise: 0,
    historyWindow: 3,
    random: seededRandom(1),
  });
  fleet.addVms(1);
  const engine = new SchedulingEngine({ store, fleet, clock, algorithm: 'best-fit', dimensions });
  return new LocalRuntime({
    config: runtimeConfigSchema.parse({ dimensions, algorithm: 'best-fit', autoscale }),
    store,
    queue: new SqliteTaskQueue(store.db, { clock }),
    acceptances: new SqliteTaskAcceptances(store.db),
    engine,
    fleet,
    clock,
    random: seededRandom(2),
    algorithms: algorithmNames(),
    log: () => undefined,
  });
}

describe('LocalRuntime autoscaling views', () => {
  it('without autoscaling: no autoscaler, settings shown with enabled false, no status', () => {
    const rt = runtime({});
    expect(rt.autoscaler).toBeNull();
    expect(rt.configView().autoscale).toMatchObject({ enabled: false, min: 1, max: 64 });
    expect(rt.autoscaleView().status).toBeNull();
    expect(rt.metricsEvent(0, 0).autoscale).toBeUndefined();
  });

  it('with autoscaling: the settings as configured, and the state in the view and the metrics', async () => {
    const rt = runtime({ enabled: true, min: 3, max: 5, target_backlog_per_vm: 4 });
    expect(rt.autoscaleView().settings).toMatchObject({
      enabled: true,
      min: 3,
      max: 5,
      target_backlog_per_vm: 4,
    });
    // One VM, min 3: the first tick tops the fleet up at once.
    await rt.autoscaler!.tick();
    const status = { enabled: true, fleet_size: 3, active_vms: 3, scale_outs: 1, scale_ins: 0, retired: 0 };
    expect(rt.autoscaleView().status).toMatchObject(status);
    expect(rt.metricsEvent(0, 0).autoscale).toMatchObject(status);
  });
});
