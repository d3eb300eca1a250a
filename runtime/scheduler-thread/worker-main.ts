import { parentPort, workerData } from 'node:worker_threads';
import { SqliteLedgerStore, SqliteTaskQueue } from '../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../lib/engine/engine';
import type { Vm } from '../../lib/model/vm';
import { systemClock } from '../../lib/ports/clock';
import type { FleetSource } from '../../lib/ports/fleet-source';
import { SchedulerLoop } from '../scheduler-loop';
import { createSerial } from '../serial';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol';

/**
 * The scheduler thread: drains the queue and commits decisions on its own SQLite connection, so
 * hashing and writing blocks no longer share a core with HTTP intake. The fleet stays with the
 * main thread, which answers each batch's request for the current VMs.
 */
const port = parentPort!;
const settings = workerData as WorkerSettings;
const send = (message: FromWorker) => port.postMessage(message);

let nextRequest = 0;
const pending = new Map<number, { resolve: (vms: Vm[]) => void; reject: (error: Error) => void }>();
const fleet: FleetSource = {
  listVms: () =>
    new Promise<Vm[]>((resolve, reject) => {
      const id = nextRequest++;
      pending.set(id, { resolve, reject });
      send({ type: 'list-vms', id });
    }),
};

const store = new SqliteLedgerStore(settings.dbPath, { synchronous: settings.synchronous });
const queue = new SqliteTaskQueue(store.db);
const engine = new SchedulingEngine({
  store,
  fleet,
  clock: systemClock,
  algorithm: settings.algorithm,
  params: settings.params,
  seed: settings.seed,
  dimensions: settings.dimensions,
  blockSize: settings.blockSize,
  leaseGraceSeconds: settings.leaseGraceSeconds,
  ...(settings.maxWaitSeconds === undefined ? {} : { maxWaitSeconds: settings.maxWaitSeconds }),
});
const loop = new SchedulerLoop({
  queue,
  engine,
  serial: createSerial(),
  batchSize: settings.batchSize,
  onOutcome: (outcome) => send({ type: 'outcome', outcome }),
  onError: (error) =>
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
});

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'wake':
      loop.wake();
      break;
    case 'set-algorithm':
      engine.setAlgorithm(message.name, message.params);
      break;
    case 'vms':
      pending.get(message.id)?.resolve(message.vms);
      pending.delete(message.id);
      break;
    case 'vms-failed':
      pending.get(message.id)?.reject(new Error(`fleet source: ${message.message}`));
      pending.delete(message.id);
      break;
    case 'stop':
      void loop
        .stop()
        .then(() => store.close())
        .finally(() => {
          send({ type: 'stopped' });
          port.close();
        });
      break;
  }
});

loop.start();
send({ type: 'ready' });
