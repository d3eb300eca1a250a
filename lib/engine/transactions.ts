import { toTimestamp, transactionId } from '../ledger';
import { type Block, type TaskOutcome, TRANSACTION_FORMAT_VERSION, type Transaction } from '../ledger/types';
import { subtractAmounts } from '../model/amount';
import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { VmSnapshot } from '../model/vm';
import type { ReservationChange, TaskChange, TaskRecord } from '../ports/ledger-store';
import { GPU_DIMENSION, WHOLE_GPU } from '../scheduling/devices';
import type { Decision } from '../scheduling/types';

/** One decision transaction per decision, in the order given (the order they enter blocks). */
export function decisionsToTransactions(
  decisions: readonly Decision[],
  algorithm: string,
  now: number,
): Transaction[] {
  const timestamp = toTimestamp(now);
  return decisions.map((d) => ({
    transaction_id: transactionId(d.task.id, 'decision'),
    timestamp,
    task_id: d.task.id,
    vm_id: d.status === 'assigned' ? d.vmId : null,
    status: d.status,
    algorithm,
    score: d.status === 'assigned' ? d.score : null,
    reason: d.reason,
    task_requirements: { ...d.task.requirements },
    vm_state_before: d.before,
    vm_state_after: d.after,
    format_version: TRANSACTION_FORMAT_VERSION,
    ...(d.status === 'assigned' && d.devices !== undefined && d.devices.length > 0
      ? { devices: [...d.devices].sort((a, b) => a - b) }
      : {}),
  }));
}

/** Where each transaction landed, by transaction id. */
export function blockHeights(blocks: readonly Block[]): Map<string, number> {
  const heights = new Map<string, number>();
  for (const block of blocks)
    for (const tx of block.transactions) heights.set(tx.transaction_id, block.height);
  return heights;
}

/**
 * The task record a decision leaves: an assignment holds a lease of the task's duration plus a
 * grace period (after it, expiry releases the reservation); a rejection is final and holds none.
 */
export function decisionRecord(
  task: Task,
  tx: Transaction,
  height: number,
  now: number,
  leaseGraceSeconds: number,
): TaskChange {
  return {
    record: {
      task_id: task.id,
      status: tx.status,
      vm_id: tx.vm_id,
      block_height: height,
      transaction_id: tx.transaction_id,
      requirements: { ...task.requirements },
      deadline: task.deadline,
      duration: task.duration,
      lease_expires_at: tx.status === 'assigned' ? now + (task.duration + leaseGraceSeconds) * 1000 : null,
      updated_at: now,
      ...(tx.devices === undefined ? {} : { devices: [...tx.devices] }),
    },
    expect: 'absent',
  };
}

/**
 * What an assignment (sign 1) reserves on its VM, or its closing (-1) gives back: the requirements,
 * one active task and, when it holds GPU devices, `gpu / devices.length` milli-GPU on each of them.
 * `deviceCapacity(index)` is that device's milli-GPU (checked on reserve; a release needs none).
 */
export function reservationChange(
  vmId: string,
  requirements: ResourceVector,
  capacity: ResourceVector,
  sign: 1 | -1,
  devices: readonly number[] = [],
  deviceCapacity: (index: number) => number = () => WHOLE_GPU,
): ReservationChange {
  const delta: ResourceVector = {};
  for (const [d, v] of Object.entries(requirements)) delta[d] = sign * v;
  const change: ReservationChange = { vm_id: vmId, delta, active_delta: sign, capacity: { ...capacity } };
  if (devices.length > 0) {
    const each = perDevice(requirements, devices);
    change.devices = devices.map((index) => ({ index, delta: sign * each, capacity: deviceCapacity(index) }));
  }
  return change;
}

/** milli-GPU a task holds on each of its devices: a share on one, or whole devices. */
function perDevice(requirements: ResourceVector, devices: readonly number[]): number {
  return (requirements[GPU_DIMENSION] ?? 0) / devices.length;
}

/**
 * How a reported run ended, as a closing status (docs/ledger-format.md 2.5): exit code 0 is
 * `completed`; a non-zero exit code or a signal is `failed`. A report without an outcome is `completed`.
 */
export function reportedStatus(outcome: TaskOutcome | undefined): 'completed' | 'failed' {
  return outcome === undefined || (outcome.exit_code === 0 && outcome.signal === null)
    ? 'completed'
    : 'failed';
}

function outcomeReason(outcome: TaskOutcome | undefined): string {
  if (outcome === undefined) return 'task reported complete';
  const how =
    outcome.signal !== null ? `killed by ${outcome.signal}` : `exited with code ${outcome.exit_code}`;
  return `task ${how} after ${outcome.duration_ms} ms`;
}

/**
 * The transaction ending an assignment, releasing what it reserved, including the GPU devices it held
 * (`devices`, and their use in the snapshots' `gpus`): `expired`, or for a report `completed`/`failed`
 * by its outcome (reportedStatus), which the transaction then carries.
 */
export function closingTransaction(
  record: TaskRecord,
  status: 'completed' | 'expired',
  algorithm: string,
  now: number,
  before: VmSnapshot | null,
  outcome?: TaskOutcome,
): Transaction {
  const devices = record.devices ?? [];
  let after: VmSnapshot | null = null;
  if (before) {
    const reserved: ResourceVector = { ...before.reserved };
    for (const [d, v] of Object.entries(record.requirements))
      reserved[d] = Math.max(0, subtractAmounts(reserved[d] ?? 0, v));
    after = { reserved, usage: { ...before.usage }, active_tasks: Math.max(0, before.active_tasks - 1) };
    if (before.gpus !== undefined) {
      const gpus = [...before.gpus];
      const each = perDevice(record.requirements, devices);
      for (const g of devices) if (g < gpus.length) gpus[g] = Math.max(0, subtractAmounts(gpus[g]!, each));
      after.gpus = gpus;
    }
  }
  return {
    transaction_id: transactionId(record.task_id, 'close'),
    timestamp: toTimestamp(now),
    task_id: record.task_id,
    vm_id: record.vm_id,
    status: status === 'expired' ? 'expired' : reportedStatus(outcome),
    algorithm,
    score: null,
    reason:
      status === 'expired'
        ? `lease expired at ${toTimestamp(record.lease_expires_at ?? now)} without completion`
        : outcomeReason(outcome),
    task_requirements: { ...record.requirements },
    vm_state_before: before,
    vm_state_after: after,
    ...(devices.length > 0 ? { devices: [...devices] } : {}),
    format_version: TRANSACTION_FORMAT_VERSION,
    ...(status === 'completed' && outcome !== undefined ? { outcome: { ...outcome } } : {}),
  };
}
