import type { Block } from '../ledger/types';
import type { TaskAssigned, TaskSpec } from '../ports/dispatcher';
import type { TaskRecord } from '../ports/ledger-store';

/** An `assigned` transaction of a committed block, with where it sits. */
export interface CommittedAssignment {
  transactionId: string;
  taskId: string;
  vmId: string;
  blockHeight: number;
  /** The transaction's GPU devices (docs/ledger-format.md 2.4), when it has them. */
  devices?: number[];
}

export type SkipReason =
  /** No task record: the block and the records are written in one transaction, so the table is damaged. */
  | 'no-record'
  /** The task has moved on (completed, expired) or is held by another transaction: running it now would run it twice. */
  | 'no-longer-assigned';

export interface Skipped {
  assignment: CommittedAssignment;
  reason: SkipReason;
}

/** Every `assigned` transaction in `blocks`, in chain order. */
/** Statuses after which a task is never dispatched again (docs/ledger-format.md: no transition leaves them). */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['rejected', 'completed', 'expired', 'failed']);

/** Task ids whose transaction in these blocks is final: their dispatch records are no longer needed. */
export function finalTaskIds(blocks: readonly Block[]): string[] {
  const ids = new Set<string>();
  for (const block of blocks) {
    for (const tx of block.transactions) if (FINAL_STATUSES.has(tx.status)) ids.add(tx.task_id);
  }
  return [...ids];
}

export function committedAssignments(blocks: readonly Block[]): CommittedAssignment[] {
  const out: CommittedAssignment[] = [];
  for (const block of [...blocks].sort((a, b) => a.height - b.height)) {
    for (const tx of block.transactions) {
      if (tx.status !== 'assigned' || tx.vm_id === null) continue;
      out.push({
        transactionId: tx.transaction_id,
        taskId: tx.task_id,
        vmId: tx.vm_id,
        blockHeight: block.height,
        ...(tx.devices === undefined ? {} : { devices: [...tx.devices] }),
      });
    }
  }
  return out;
}

/**
 * The TaskAssigned events for committed assignments whose task is still held by that very
 * transaction. The ledger's task record supplies what the transaction does not hold (duration,
 * deadline, the lease); the spec, when one was recorded, the command and the labels.
 */
export function taskAssignedEvents(
  assignments: readonly CommittedAssignment[],
  records: ReadonlyMap<string, TaskRecord>,
  specs: ReadonlyMap<string, TaskSpec>,
): { events: TaskAssigned[]; skipped: Skipped[] } {
  const events: TaskAssigned[] = [];
  const skipped: Skipped[] = [];
  for (const assignment of assignments) {
    const record = records.get(assignment.taskId);
    if (!record) {
      skipped.push({ assignment, reason: 'no-record' });
      continue;
    }
    if (
      record.status !== 'assigned' ||
      record.transaction_id !== assignment.transactionId ||
      record.lease_expires_at === null
    ) {
      skipped.push({ assignment, reason: 'no-longer-assigned' });
      continue;
    }
    const spec = specs.get(assignment.taskId);
    events.push({
      task: {
        id: record.task_id,
        requirements: { ...record.requirements },
        duration: record.duration,
        deadline: record.deadline,
        ...(spec?.command === undefined ? {} : { command: spec.command }),
        labels: { ...(spec?.labels ?? {}) },
      },
      vmId: assignment.vmId,
      transactionId: assignment.transactionId,
      blockHeight: assignment.blockHeight,
      leaseExpiresAt: record.lease_expires_at,
      ...(assignment.devices === undefined ? {} : { devices: [...assignment.devices] }),
    });
  }
  return { events, skipped };
}
