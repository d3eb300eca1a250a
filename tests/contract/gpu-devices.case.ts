import { describe, expect, it } from 'vitest';
import { SchedulingEngine } from '../../lib/engine/engine';
import { buildBlocks, toTimestamp, transactionId, verifyChain } from '../../lib/ledger';
import type { Block, Transaction } from '../../lib/ledger/types';
import type { Task } from '../../lib/model/task';
import type { Vm, VmSnapshot } from '../../lib/model/vm';
import { ManualClock } from '../../lib/ports/clock';
import type { FleetSource } from '../../lib/ports/fleet-source';
import type { Commit, LedgerStore, ReservationChange, TaskRecord } from '../../lib/ports/ledger-store';
import { replayReservations } from '../unit/engine/exact-replay';

/**
 * GPU devices kept between batches (lib/ports/ledger-store.ts Reservation.gpus): part of the one
 * LedgerStore contract, so memory, SQLite and DynamoDB all run it. The fleet source here is what EC2's
 * is: it lists each VM's devices afresh every time, every device free, so only the ledger can say who
 * holds what. Across batches, restarted engines and racing writers, the chain must replay exactly
 * (tests/unit/engine/exact-replay.ts: every snapshot's `gpus` equals the replay), no device may go over
 * 1000 milli-GPU and no multi-GPU task may get a device somebody holds.
 */

export const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
const DIMENSIONS = ['cpu', 'mem', 'gpu'] as const;
const GPUS_PER_VM = 4;

function gpuVm(id: string): Vm {
  return {
    id,
    capacity: { cpu: 64_000, mem: 262_144, gpu: GPUS_PER_VM * 1000 },
    reserved: { cpu: 0, mem: 0, gpu: 0 },
    usage: { cpu: 0, mem: 0, gpu: 0 },
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active',
    gpus: Array.from({ length: GPUS_PER_VM }, () => ({ model: 'A100', milli: 1000, reserved: 0 })),
  };
}

/** Like Ec2FleetSource: capacity and devices from the instance type, nothing about who holds them. */
export class FreshDevicesFleet implements FleetSource {
  constructor(private readonly ids: readonly string[]) {}
  async listVms(): Promise<Vm[]> {
    return this.ids.map(gpuVm);
  }
}

export function gpuTask(id: string, gpu: number): Task {
  return {
    id,
    requirements: { cpu: 1000, mem: 1024, gpu },
    duration: 600,
    deadline: T0 / 1000 + 86_400,
    priority: 0,
    submittedAt: T0,
    labels: {},
    constraints: {},
  };
}

export function engineOn(
  store: LedgerStore,
  fleet: FleetSource,
  clock: ManualClock,
  seed = 1,
): SchedulingEngine {
  return new SchedulingEngine({
    store,
    fleet,
    clock,
    algorithm: 'best-fit',
    seed,
    dimensions: DIMENSIONS,
    maxWaitSeconds: 0,
    // DynamoDB's 100-item transactions; harmless elsewhere.
    maxTasksPerCommit: 25,
    maxAttempts: 50,
    sleep: async () => {},
  });
}

async function transactionsOf(store: LedgerStore): Promise<Transaction[]> {
  const head = await store.readHead();
  const blocks: Block[] = [];
  while (blocks.length <= head.height) {
    const page = await store.getBlocks(blocks.length, 100);
    if (page.length === 0) break;
    blocks.push(...page);
  }
  expect((await verifyChain(blocks, { expectedHead: head })).valid).toBe(true);
  return blocks.flatMap((b) => b.transactions);
}

/** The chain replays exactly, devices included, and the store holds what the replay ends with. */
export async function expectDevicesReplay(store: LedgerStore): Promise<Transaction[]> {
  const txs = await transactionsOf(store);
  const replay = replayReservations(txs);
  expect(replay.mismatches).toEqual([]);
  for (const r of await store.getReservations()) {
    const replayed = replay.vms.get(r.vm_id)?.gpus ?? [];
    const stored = r.gpus ?? [];
    for (let g = 0; g < Math.max(replayed.length, stored.length); g++) {
      expect(stored[g] ?? 0, `${r.vm_id} device ${g}`).toBe(replayed[g] ?? 0);
    }
  }
  return txs;
}

const snapshot = (gpus: number[], active: number): VmSnapshot => ({
  reserved: { gpu: gpus.reduce((a, b) => a + b, 0) },
  usage: {},
  active_tasks: active,
  gpus,
});

/** One assignment or closing with devices, as a commit the store is asked to append on `head`. */
function deviceCommit(
  head: { height: number; hash: string },
  taskId: string,
  gpu: number,
  devices: number[],
  gpusBefore: number[],
  closing = false,
): Commit {
  const sign = closing ? -1 : 1;
  const each = gpu / devices.length;
  const after = gpusBefore.map((v, g) => (devices.includes(g) ? v + sign * each : v));
  const active = gpusBefore.filter((v) => v > 0).length;
  const tx: Transaction = {
    transaction_id: transactionId(taskId, closing ? 'close' : 'decision'),
    timestamp: toTimestamp(T0),
    task_id: taskId,
    vm_id: 'vm-g',
    status: closing ? 'completed' : 'assigned',
    algorithm: 'contract',
    score: closing ? null : 1,
    reason: 'contract',
    task_requirements: { gpu },
    vm_state_before: snapshot(gpusBefore, active),
    vm_state_after: snapshot(after, active + sign),
    devices,
  };
  const blocks = buildBlocks(head, [tx], { maxPerBlock: 5, timestamp: toTimestamp(T0) });
  const record: TaskRecord = {
    task_id: taskId,
    status: tx.status,
    vm_id: 'vm-g',
    block_height: blocks[0]!.height,
    transaction_id: tx.transaction_id,
    requirements: { gpu },
    deadline: T0 / 1000 + 3600,
    duration: 60,
    lease_expires_at: closing ? null : T0 + 60_000,
    updated_at: T0,
    devices,
  };
  const change: ReservationChange = {
    vm_id: 'vm-g',
    delta: { gpu: sign * gpu },
    active_delta: sign,
    capacity: { gpu: 4000 },
    devices: devices.map((index) => ({ index, delta: sign * each, capacity: 1000 })),
  };
  return {
    blocks,
    reservations: [change],
    tasks: [{ record, expect: closing ? { status: 'assigned' } : 'absent' }],
  };
}

export function gpuDeviceContract(currentStore: () => LedgerStore): void {
  describe('GPU devices kept between batches', () => {
    it('stores per-device reservations with the others and releases exactly the closing task’s devices', async () => {
      const store = currentStore();
      let head = await store.readHead();
      const appendOk = async (commit: Commit) => {
        const result = await store.append(head, commit);
        expect(result.ok).toBe(true);
        if (result.ok) head = result.head;
      };
      await appendOk(deviceCommit(head, 'share', 500, [0], [0, 0, 0, 0]));
      await appendOk(deviceCommit(head, 'pair', 2000, [1, 2], [500, 0, 0, 0]));
      expect(await store.getReservations(['vm-g'])).toEqual([
        expect.objectContaining({
          vm_id: 'vm-g',
          reserved: { gpu: 2500 },
          active_tasks: 2,
          gpus: [500, 1000, 1000],
        }),
      ]);
      // The record keeps the devices, so a closing (even by another engine, later) frees those.
      expect((await store.getTask('pair'))?.devices).toEqual([1, 2]);

      await appendOk(deviceCommit(head, 'pair', 2000, [1, 2], [500, 1000, 1000, 0], true));
      const [reservation] = await store.getReservations(['vm-g']);
      expect(reservation).toMatchObject({ reserved: { gpu: 500 }, active_tasks: 1, gpus: [500, 0, 0] });
    });

    it('refuses, writing nothing, a reservation that takes a device over its capacity', async () => {
      const store = currentStore();
      const head0 = await store.readHead();
      const first = await store.append(head0, deviceCommit(head0, 'share', 600, [3], [0, 0, 0, 0]));
      expect(first.ok).toBe(true);
      const head = await store.readHead();
      const before = await store.getReservations();
      // A whole GPU on the device holding the share: the writer believed it free (a stale view).
      for (const [taskId, gpu, devices] of [
        ['whole', 1000, [3]],
        ['pair', 2000, [2, 3]],
        ['share-2', 500, [3]],
      ] as const) {
        const result = await store.append(head, deviceCommit(head, taskId, gpu, [...devices], [0, 0, 0, 0]));
        expect(result).toMatchObject({ ok: false, conflict: 'over-capacity' });
        if (!result.ok) expect(result.detail).toContain('device 3');
      }
      expect(await store.readHead()).toEqual(head);
      expect(await store.getReservations()).toEqual(before);
      expect(await store.getTask('whole')).toBeNull();
    });

    it('across batches, completions and a restarted engine: devices replay, none over 1000, whole GPUs only where free', async () => {
      const store = currentStore();
      const fleet = new FreshDevicesFleet(['vm-a', 'vm-b']);
      const clock = new ManualClock(T0);
      let engine = engineOn(store, fleet, clock);
      // Batch 1: six whole GPUs and two shares of one device, on 8 devices: one device left free.
      const first = await engine.schedule([
        gpuTask('w1', 2000),
        gpuTask('w2', 2000),
        gpuTask('w3', 2000),
        gpuTask('s1', 500),
        gpuTask('s2', 500),
      ]);
      expect(first.decisions.every((d) => d.status === 'assigned')).toBe(true);

      // Batch 2, same engine: the fleet again says every device is free; only the ledger knows better.
      const second = await engine.schedule([gpuTask('w4', 2000), gpuTask('one', 1000), gpuTask('s3', 500)]);
      const status = new Map(second.decisions.map((d) => [d.task.id, d]));
      expect(status.get('w4')?.status).toBe('rejected');
      expect(status.get('one')?.status).toBe('assigned');
      expect(status.get('s3')?.status).toBe('rejected');

      // A whole pair ends; a new engine (a restart: nothing kept in memory) places on exactly those devices.
      const pair = first.decisions.find((d) => d.task.id === 'w2')!;
      clock.advance(1000);
      expect((await engine.complete('w2')).status).toBe('closed');
      engine = engineOn(store, fleet, clock, 2);
      const third = await engine.schedule([gpuTask('w5', 2000), gpuTask('w6', 2000)]);
      const w5 = third.decisions.find((d) => d.task.id === 'w5')!;
      expect(w5).toMatchObject({ status: 'assigned', vmId: pair.vmId, devices: pair.devices });
      expect(third.decisions.find((d) => d.task.id === 'w6')?.status).toBe('rejected');

      // Expiry releases the devices too.
      clock.advance(10_000_000);
      const expired = await engine.expireLeases(100);
      expect(expired.length).toBeGreaterThan(0);
      expect(expired.every((tx) => tx.status === 'expired')).toBe(true);
      const txs = await expectDevicesReplay(store);
      // Every closing names the devices its assignment took.
      const taken = new Map(txs.filter((t) => t.status === 'assigned').map((t) => [t.task_id, t.devices]));
      for (const t of txs.filter((t) => t.status === 'completed' || t.status === 'expired')) {
        expect(t.devices).toEqual(taken.get(t.task_id));
      }
      for (const r of await store.getReservations()) expect((r.gpus ?? []).every((v) => v === 0)).toBe(true);
    });

    it('racing engines never give one device twice', async () => {
      const store = currentStore();
      const fleet = new FreshDevicesFleet(['vm-a', 'vm-b']);
      const clock = new ManualClock(T0);
      const engines = Array.from({ length: 4 }, (_, i) => engineOn(store, fleet, clock, i + 1));
      // 4 writers x 4 tasks of 1, 2 or a share: far more than the 8 devices hold.
      const outcomes = await Promise.all(
        engines.map((engine, w) =>
          engine.schedule(
            Array.from({ length: 4 }, (_, k) => gpuTask(`e${w}-${k}`, [1000, 2000, 500, 1000][(w + k) % 4]!)),
          ),
        ),
      );
      const assigned = outcomes.flatMap((o) => o.decisions).filter((d) => d.status === 'assigned');
      expect(assigned.length).toBeGreaterThan(0);
      expect(outcomes.flatMap((o) => o.decisions).some((d) => d.status === 'rejected')).toBe(true);
      await expectDevicesReplay(store);
    });
  });
}
