import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { SchedulingEngine } from '../../../lib/engine/engine';
import type { Block } from '../../../lib/ledger/types';
import { systemClock } from '../../../lib/ports/clock';
import type { TaskRecord } from '../../../lib/ports/ledger-store';
import { type AuditedLedger, auditFailures, auditLedger } from '../../../scripts/reliability/audit';
import { DIMENSIONS, FixedFleet, fleetVms, workloadTasks } from '../../../scripts/reliability/workload';

/**
 * The concurrency runs are only as good as the audit that judges them: each finding must show up
 * when the ledger really has that defect. An honest ledger is built with one engine, then read
 * through a view that changes what the auditor sees.
 */
async function honestLedger() {
  const vms = fleetVms(2);
  const tasks = workloadTasks({ tasks: 12, seed: 3, startedAt: Date.now() });
  const store = new MemoryLedgerStore();
  const engine = new SchedulingEngine({
    store,
    fleet: new FixedFleet(vms),
    clock: systemClock,
    algorithm: 'best-fit',
    dimensions: DIMENSIONS,
  });
  const outcome = await engine.schedule(tasks.slice(0, 8));
  await engine.schedule(tasks.slice(8));
  await engine.completeMany(outcome.decisions.slice(0, 3).map((d) => d.task.id));
  return { store, vms, ids: tasks.map((t) => t.id) };
}

function tampered(
  store: MemoryLedgerStore,
  change: {
    blocks?: (blocks: Block[]) => Block[];
    records?: (r: (TaskRecord | null)[]) => (TaskRecord | null)[];
  },
): AuditedLedger {
  return {
    readHead: () => store.readHead(),
    getReservations: () => store.getReservations(),
    getBlocks: async (from, limit) => {
      const blocks = structuredClone(await store.getBlocks(0, Number.MAX_SAFE_INTEGER));
      return (change.blocks?.(blocks) ?? blocks).slice(from, from + limit);
    },
    getTasks: async (ids) => {
      const records = await store.getTasks(ids);
      return change.records?.(records) ?? records;
    },
  };
}

describe('ledger audit', () => {
  it('finds nothing wrong in a ledger one engine wrote, and counts what it holds', async () => {
    const { store, vms, ids } = await honestLedger();
    const audit = await auditLedger(store, ids, vms, DIMENSIONS);
    expect(auditFailures(audit)).toEqual([]);
    expect(audit.assigned + audit.rejected).toBe(12);
    expect(audit.completed).toBe(3);
    expect(audit.transactions).toBe(15);
  });

  it('reports a submitted task the ledger never decided as lost', async () => {
    const { store, vms, ids } = await honestLedger();
    const audit = await auditLedger(store, [...ids, 'never-scheduled'], vms, DIMENSIONS);
    expect(audit.lost).toEqual(['never-scheduled']);
  });

  it('reports a decision written twice (which also breaks the chain)', async () => {
    const { store, vms, ids } = await honestLedger();
    const view = tampered(store, {
      blocks: (blocks) => {
        blocks[2]!.transactions.push(structuredClone(blocks[1]!.transactions[0]!));
        return blocks;
      },
    });
    const audit = await auditLedger(view, ids, vms, DIMENSIONS);
    expect(audit.recordedTwice).toEqual([ids[0]]);
    expect(audit.chainValid).toBe(false);
  });

  it('reports a VM whose replayed reservations exceed the capacity the fleet gives it', async () => {
    const { store, vms, ids } = await honestLedger();
    const first = (await store.getBlocks(1, 1))[0]!.transactions[0]!;
    const smaller = vms.map((vm) =>
      vm.id === first.vm_id
        ? { ...vm, capacity: { ...vm.capacity, cpu: first.task_requirements.cpu! - 1 } }
        : vm,
    );
    const audit = await auditLedger(store, ids, smaller, DIMENSIONS);
    expect(audit.overCapacity[0]).toMatchObject({ height: 1, vm_id: first.vm_id, dimension: 'cpu' });
  });

  it('reports a decision whose recorded VM state is not what the chain implies (a stale view)', async () => {
    const { store, vms, ids } = await honestLedger();
    const view = tampered(store, {
      blocks: (blocks) => {
        blocks[2]!.transactions[0]!.vm_state_before!.reserved.mem! += 1;
        return blocks;
      },
    });
    const audit = await auditLedger(view, ids, vms, DIMENSIONS);
    expect(audit.staleSnapshots).toEqual([
      {
        height: 2,
        task_id: (await store.getBlocks(2, 1))[0]!.transactions[0]!.task_id,
        vm_id: expect.any(String),
      },
    ]);
  });

  it('reports a task record that disagrees with the chain, and a broken chain', async () => {
    const { store, vms, ids } = await honestLedger();
    const view = tampered(store, {
      records: (records) => records.map((r, i) => (i === 5 && r ? { ...r, status: 'rejected' } : r)),
      blocks: (blocks) => [...blocks.slice(0, 2), ...blocks.slice(3)],
    });
    const audit = await auditLedger(view, ids, vms, DIMENSIONS);
    expect(audit.recordMismatches).toContain(ids[5]);
    expect(audit.heightsContiguous).toBe(false);
    expect(auditFailures(audit).length).toBeGreaterThanOrEqual(3);
  });
});
