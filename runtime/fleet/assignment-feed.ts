import type * as z from 'zod';
import type { ScheduleOutcome } from '../../lib/engine/types';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import type { assignmentItemSchema, assignmentsResponseSchema } from '../../lib/schemas/responses';

/** One task an agent is to run, and the answer of GET /vms/{id}/assignments (lib/schemas/responses.ts). */
export type AssignmentItem = z.output<typeof assignmentItemSchema>;
export type AssignmentsResponse = z.output<typeof assignmentsResponseSchema>;

/** What the runtime hands the feed when a block assigns a task to an agent-managed VM. */
export interface FeedEntry {
  vmId: string;
  taskId: string;
  transactionId: string;
  blockHeight: number;
  command: string | null;
  duration: number;
  devices?: number[];
}

/**
 * The local runtime's assignment feed for agent-managed VMs. The ledger records decisions, not task
 * payloads, so the command of each assignment is kept here from the moment its block is committed;
 * which assignments are still open is always read from the ledger's task records at request time
 * (a completion or an expiry by any path closes an item, and the lease end is the one the ledger
 * enforces). Held in memory: a restarted runtime has no agent VMs until they are added again.
 */
export class AssignmentFeed {
  private readonly byVm = new Map<string, Map<string, FeedEntry>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Assignments added per VM so far: a poll that saw it move while listing lists again. */
  private readonly added = new Map<string, number>();
  private closed = false;

  constructor(private readonly store: LedgerStore) {}

  /** Takes the assignments of a committed outcome whose VM `isAgentVm` says an agent runs. */
  record(outcome: ScheduleOutcome, isAgentVm: (vmId: string) => boolean): void {
    const tasks = new Map<string, ScheduleOutcome['decisions'][number]['task']>();
    for (const d of outcome.decisions) {
      if (d.status === 'assigned' && d.vmId !== null && isAgentVm(d.vmId)) tasks.set(d.task.id, d.task);
    }
    if (tasks.size === 0) return;
    for (const block of outcome.blocks) {
      for (const tx of block.transactions) {
        const task = tasks.get(tx.task_id);
        if (tx.status !== 'assigned' || tx.vm_id === null || !task) continue;
        this.add({
          vmId: tx.vm_id,
          taskId: tx.task_id,
          transactionId: tx.transaction_id,
          blockHeight: block.height,
          command: task.command ?? null,
          duration: task.duration,
          ...(tx.devices === undefined ? {} : { devices: [...tx.devices] }),
        });
      }
    }
  }

  /** A committed assignment to an agent-managed VM; wakes that VM's long polls. */
  add(item: FeedEntry): void {
    let tasks = this.byVm.get(item.vmId);
    if (!tasks) {
      tasks = new Map();
      this.byVm.set(item.vmId, tasks);
    }
    tasks.set(item.taskId, item);
    this.added.set(item.vmId, (this.added.get(item.vmId) ?? 0) + 1);
    this.wake(item.vmId);
  }

  /** The VM's open assignments, oldest block first; items the ledger has closed are dropped. */
  async list(vmId: string): Promise<AssignmentItem[]> {
    const tasks = this.byVm.get(vmId);
    if (!tasks || tasks.size === 0) return [];
    const pending = [...tasks.values()];
    const records = await this.store.getTasks(pending.map((p) => p.taskId));
    const open: AssignmentItem[] = [];
    pending.forEach((p, i) => {
      const record = records[i];
      if (
        record?.status !== 'assigned' ||
        record.transaction_id !== p.transactionId ||
        record.lease_expires_at === null
      ) {
        tasks.delete(p.taskId);
        return;
      }
      open.push({
        task_id: p.taskId,
        transaction_id: p.transactionId,
        block_height: p.blockHeight,
        command: p.command,
        duration: p.duration,
        lease_expires_at: record.lease_expires_at,
        ...(p.devices === undefined ? {} : { devices: p.devices }),
      });
    });
    return open.sort((a, b) => a.block_height - b.block_height || a.task_id.localeCompare(b.task_id));
  }

  /**
   * The VM's open assignments, waiting up to `waitMs` for one from a block above `since` when there
   * is none yet; answers at once (with what there is) when `signal` aborts or the feed closes.
   */
  async poll(vmId: string, since: number, waitMs: number, signal?: AbortSignal): Promise<AssignmentItem[]> {
    const before = this.added.get(vmId) ?? 0;
    const items = await this.list(vmId);
    // An assignment added while the store was read has woken nobody yet: answer with it now.
    if ((this.added.get(vmId) ?? 0) !== before) return this.list(vmId);
    if (waitMs <= 0 || this.closed || signal?.aborted || items.some((a) => a.block_height > since))
      return items;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.get(vmId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      let set = this.waiters.get(vmId);
      if (!set) {
        set = new Set();
        this.waiters.set(vmId, set);
      }
      set.add(done);
    });
    return this.list(vmId);
  }

  /** Ends every wait (server shutdown) and answers later polls without waiting. */
  close(): void {
    this.closed = true;
    for (const vmId of [...this.waiters.keys()]) this.wake(vmId);
  }

  private wake(vmId: string): void {
    const set = this.waiters.get(vmId);
    if (!set) return;
    this.waiters.delete(vmId);
    for (const done of set) done();
  }
}
