import type { CloseOutcome } from '../engine/types';
import type { Transaction } from '../ledger/types';
import type { Vm } from '../model/vm';
import { freeToTerminate } from '../scaling/protection';
import type { CompleteResponse, DecisionEventItem, FleetVmBody } from './http';

/** Wire shapes (lib/schemas/http.ts) built from the core's types. */

export function decisionItem(tx: Transaction, height: number): DecisionEventItem {
  return {
    task_id: tx.task_id,
    vm_id: tx.vm_id,
    status: tx.status,
    score: tx.score,
    reason: tx.reason,
    algorithm: tx.algorithm,
    transaction_id: tx.transaction_id,
    height,
    at: tx.timestamp,
  };
}

/** `vm` must already carry the ledger's reservations (LocalRuntime.vms()): activeTasks decides free_to_terminate. */
export function vmBody(vm: Vm, quarantine?: string): FleetVmBody {
  return {
    id: vm.id,
    state: vm.state,
    labels: Object.fromEntries(
      Object.entries(vm.labels).filter((e): e is [string, string] => e[1] !== undefined),
    ),
    capacity: vm.capacity,
    reserved: vm.reserved,
    usage: vm.usage,
    active_tasks: vm.activeTasks,
    free_to_terminate: freeToTerminate(vm),
    ...(quarantine === undefined ? {} : { quarantine }),
    ...(vm.gpus === undefined
      ? {}
      : { gpus: vm.gpus.map((g) => ({ model: g.model, milli: g.milli, reserved: g.reserved ?? 0 })) }),
  };
}

/** POST /tasks/{id}/complete's answer for what the engine did; null when no such task was assigned. */
export function completeBody(
  taskId: string,
  outcome: CloseOutcome | { status: 'accepted' },
): CompleteResponse | null {
  if (outcome.status === 'unknown') return null;
  if (outcome.status === 'accepted') {
    return {
      task_id: taskId,
      status: 'accepted',
      task_status: 'assigned',
      transaction_id: null,
      block_height: null,
    };
  }
  if (outcome.status === 'already-final') {
    return {
      task_id: taskId,
      status: 'already-final',
      task_status: outcome.taskStatus,
      transaction_id: null,
      block_height: null,
    };
  }
  return {
    task_id: taskId,
    status: 'closed',
    task_status: outcome.transaction.status,
    transaction_id: outcome.transaction.transaction_id,
    block_height: outcome.head.height,
  };
}
