import { describe, expect, it } from 'vitest';
import { apiApp, type FleetControl } from '../../../functions/handlers/api';
import { restApiHandler } from '../../../lib/adapters/apigateway/rest-adapter';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import type { FleetResponse } from '../../../lib/schemas/http';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { apiEvent } from './helpers/events';
import { DIMENSIONS, RecordingLogger, T0, task, vm } from './helpers/fixtures';

/** EC2 as the API sees it: listing with a cache, draining by tag. */
class TaggedFleet implements FleetControl {
  readonly drained: string[] = [];
  invalidations = 0;
  constructor(private readonly vms: Vm[]) {}
  readonly source = {
    listVms: async () =>
      structuredClone(this.vms).map((v) => ({
        ...v,
        state: this.drained.includes(v.id) ? ('draining' as const) : v.state,
      })),
    invalidate: () => {
      this.invalidations += 1;
    },
  };
  async drain(vmId: string): Promise<void> {
    this.drained.push(vmId);
  }
}

function setup() {
  const fleet = new TaggedFleet([
    vm('i-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
    vm('i-b', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
  ]);
  const store = new MemoryLedgerStore();
  const engine = new SchedulingEngine({
    store,
    fleet: fleet.source,
    clock: new ManualClock(T0),
    algorithm: 'best-fit',
    dimensions: DIMENSIONS,
    sleep: async () => {},
  });
  const handler = restApiHandler(
    apiApp({
      store: () => store,
      completions: new MemoryCompletionQueue(new ManualClock(T0)),
      acceptances: new MemoryTaskAcceptances(),
      dimensions: DIMENSIONS,
      logger: new RecordingLogger(),
      fleet,
    }),
  );
  const call = async (method: string, path: string) => {
    const res = await handler(apiEvent(method, path));
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  return { fleet, store, engine, call };
}

describe('api: fleet and draining', () => {
  it('GET /fleet shows the ledger reservations and free_to_terminate', async () => {
    const { engine, store, call } = setup();
    await engine.schedule([task('t1', { cpu: 400, mem: 100 })]);
    const holder = (await store.getTask('t1'))!.vm_id!;
    const res = await call('GET', '/fleet');
    expect(res.status).toBe(200);
    const byId = new Map((res.body as FleetResponse).vms.map((v) => [v.id, v]));
    expect(byId.get(holder)).toMatchObject({
      state: 'active',
      active_tasks: 1,
      reserved: { cpu: 400, mem: 100, io: 0, bw: 0 },
      free_to_terminate: false,
    });
    expect([...byId.keys()].sort()).toEqual(['i-a', 'i-b']);
  });

  it('a drained VM takes no new task, and is free to terminate once its last task completes', async () => {
    const { fleet, engine, store, call } = setup();
    await engine.schedule([task('t1', { cpu: 100, mem: 100 })]);
    const busy = (await store.getTask('t1'))!.vm_id!;

    const drained = await call('POST', `/fleet/vms/${busy}/drain`);
    expect(drained).toEqual({ status: 200, body: { id: busy, state: 'draining' } });
    expect(fleet.drained).toEqual([busy]);
    expect(fleet.invalidations).toBe(2); // before the membership check and after the tag

    // Best-fit would pick the VM already holding a task (least room left); it is draining now.
    const later = await engine.schedule([
      task('t2', { cpu: 100, mem: 100 }),
      task('t3', { cpu: 100, mem: 100 }),
    ]);
    expect(later.decisions.map((d) => [d.status, d.vmId])).toEqual([
      ['assigned', busy === 'i-a' ? 'i-b' : 'i-a'],
      ['assigned', busy === 'i-a' ? 'i-b' : 'i-a'],
    ]);

    const stillRunning = (await call('GET', '/fleet')).body as FleetResponse;
    expect(stillRunning.vms.find((v) => v.id === busy)).toMatchObject({
      state: 'draining',
      active_tasks: 1,
      free_to_terminate: false,
    });
    await engine.complete('t1');
    const empty = (await call('GET', '/fleet')).body as FleetResponse;
    expect(empty.vms.find((v) => v.id === busy)).toMatchObject({
      state: 'draining',
      active_tasks: 0,
      free_to_terminate: true,
    });
  });

  it.each([
    ['i-zzz', 404, 'NotFoundError'], // not a fleet member: nothing tagged
    ['bad%20id', 400, 'ValidationError'],
  ])('POST /fleet/vms/%s/drain is %d and tags nothing', async (id, status, error) => {
    const { fleet, call } = setup();
    expect(await call('POST', `/fleet/vms/${id}/drain`)).toMatchObject({ status, body: { error } });
    expect(fleet.drained).toEqual([]);
  });

  it('has no fleet routes without a fleet', async () => {
    const store = new MemoryLedgerStore();
    const handler = restApiHandler(
      apiApp({
        store: () => store,
        completions: new MemoryCompletionQueue(new ManualClock(0)),
        acceptances: new MemoryTaskAcceptances(),
        dimensions: DIMENSIONS,
        logger: new RecordingLogger(),
      }),
    );
    expect((await handler(apiEvent('GET', '/fleet'))).statusCode).toBe(404);
  });
});
