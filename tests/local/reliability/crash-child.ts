import { SqliteLedgerStore, SqliteTaskQueue } from '../../../lib/adapters/sqlite';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { ScheduleOutcome } from '../../../lib/engine/types';
import { systemClock } from '../../../lib/ports/clock';
import type { TaskQueue } from '../../../lib/ports/task-queue';
import { SchedulerLoop } from '../../../runtime/scheduler-loop';
import { createSerial } from '../../../runtime/serial';
import { DIMENSIONS, FixedFleet, fleetVms } from '../../../scripts/reliability/workload';

/**
 * A scheduler process for tests/local/reliability/crash-after-commit.test.ts: the runtime's
 * SchedulerLoop draining the SQLite queue into the engine. Test code only: with KILL_AT_ACK=k its
 * queue SIGKILLs the process at the k-th ack, which the loop makes only once the engine has
 * returned, so that batch is committed and never acked. Otherwise it drains the queue, reports every
 * outcome over IPC and exits.
 */
const [dbPath, vmCount, batchSize] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const killAtAck = Number(process.env.KILL_AT_ACK ?? 0);
let acks = 0;

const store = new SqliteLedgerStore(dbPath);
const sqliteQueue = new SqliteTaskQueue(store.db);
const queue: TaskQueue = {
  enqueue: (tasks) => sqliteQueue.enqueue(tasks),
  receive: (max) => sqliteQueue.receive(max),
  release: (receipts) => sqliteQueue.release(receipts),
  depth: () => sqliteQueue.depth(),
  ack: async (receipts) => {
    if (++acks === killAtAck) process.kill(process.pid, 'SIGKILL');
    await sqliteQueue.ack(receipts);
  },
};
const outcomes: { decided: string[]; duplicates: string[] }[] = [];
const loop = new SchedulerLoop({
  queue,
  engine: new SchedulingEngine({
    store,
    fleet: new FixedFleet(fleetVms(vmCount)),
    clock: systemClock,
    algorithm: 'best-fit',
    dimensions: DIMENSIONS,
  }),
  serial: createSerial(),
  batchSize,
  onOutcome: (outcome: ScheduleOutcome) =>
    outcomes.push({ decided: outcome.decisions.map((d) => d.task.id), duplicates: outcome.duplicates }),
  onError: (error) => {
    throw error;
  },
});

// As the runtime does at start: what a killed predecessor held is visible again at once.
await sqliteQueue.releaseInFlight();
while ((await loop.step()) > 0);
await store.close();
process.send!({ outcomes }, () => process.disconnect());
