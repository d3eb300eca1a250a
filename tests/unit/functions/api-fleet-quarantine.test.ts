import { describe, expect, it } from 'vitest';
import { apiApp, type FleetControl } from '../../../functions/handlers/api';
import { restApiHandler } from '../../../lib/adapters/apigateway/rest-adapter';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import type { Vm } from '../../../lib/model/vm';
import { ManualClock } from '../../../lib/ports/clock';
import type { QuarantinedVm } from '../../../lib/ports/fleet-source';
import type { FleetResponse } from '../../../lib/schemas/http';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { apiEvent } from './helpers/events';
import { DIMENSIONS, RecordingLogger, vm } from './helpers/fixtures';

/** The AWS API's GET /fleet reports quarantined VMs as the local runtime does. */
function setup(vms: Vm[], unread: QuarantinedVm[]) {
  const fleet: FleetControl = {
    source: { listVms: async () => structuredClone(vms), quarantined: () => unread },
    drain: async () => undefined,
  };
  const store = new MemoryLedgerStore();
  const handler = restApiHandler(
    apiApp({
      store: () => store,
      completions: new MemoryCompletionQueue(new ManualClock(0)),
      acceptances: new MemoryTaskAcceptances(),
      dimensions: DIMENSIONS,
      logger: new RecordingLogger(),
      fleet,
    }),
  );
  return async () => JSON.parse((await handler(apiEvent('GET', '/fleet'))).body) as FleetResponse;
}

describe('AWS GET /fleet with quarantined VMs', () => {
  it('names the reason on a record the engine refuses and counts the instances the source could not read', async () => {
    const get = setup(
      [
        vm('i-bad', { cpu: 1000, mem: 1000, io: 1e-9, bw: 100 }),
        vm('i-ok', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
      ],
      [{ vm_id: 'i-unread', reason: 'metrics could not be read: ThrottlingException: Rate exceeded' }],
    );
    const body = await get();
    expect(body.vms.map((v) => [v.id, v.quarantine])).toEqual([
      ['i-bad', 'capacity.io: must be 0 or at least 0.000001'],
      ['i-ok', undefined],
    ]);
    expect(body.quarantined).toBe(2);
  });

  it('adds no quarantine fields when nothing is quarantined (the page fields as the local runtime)', async () => {
    const body = await setup([vm('i-ok', { cpu: 1000, mem: 1000, io: 100, bw: 100 })], [])();
    expect(Object.keys(body)).toEqual(['vms', 'total', 'next']);
    expect(body.vms[0]!.quarantine).toBeUndefined();
  });
});
