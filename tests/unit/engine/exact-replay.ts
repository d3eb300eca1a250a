import type { Transaction } from '../../../lib/ledger/types';
import { fromMicro, isAmount, toMicro } from '../../../lib/model/amount';

/**
 * What an exact replay of a ledger leaves on each VM: reserved micro-units per dimension, active
 * tasks, and milli-GPU per GPU device (docs/ledger-format.md 2.4), by index.
 */
export interface ReplayedVm {
  reservedMicro: Map<string, number>;
  active: number;
  gpus: number[];
}

/**
 * An exact-replay oracle written from docs/ledger-format.md, independent of the engine: walks the
 * transactions in chain order, keeps each VM's reservation as integer micro-units (assignments add
 * their task_requirements, completions and expiries subtract them), and checks that every
 * vm_state_before / vm_state_after records exactly (===, no tolerance) what the replay holds at
 * that point. GPU devices the same way (section 2.4): an assignment adds gpu / devices.length on each
 * of its `devices`, its closing subtracts it; every snapshot's `gpus` must equal the replay, no device
 * may go over 1000 or below 0, and a multi-GPU assignment's devices must be at 0 before it.
 * Returns every mismatch, each naming the transaction and the dimension or device.
 */
export function replayReservations(transactions: readonly Transaction[]): {
  vms: Map<string, ReplayedVm>;
  mismatches: string[];
} {
  const vms = new Map<string, ReplayedVm>();
  const mismatches: string[] = [];
  const check = (tx: Transaction, when: 'before' | 'after', vm: ReplayedVm) => {
    const snapshot = when === 'before' ? tx.vm_state_before : tx.vm_state_after;
    if (!snapshot) return;
    for (const [d, value] of Object.entries(snapshot.reserved)) {
      const expected = fromMicro(vm.reservedMicro.get(d) ?? 0);
      if (value !== expected) {
        mismatches.push(`${tx.transaction_id} vm_state_${when}.reserved.${d}: ${value}, replay ${expected}`);
      }
    }
    if (snapshot.active_tasks !== vm.active) {
      mismatches.push(
        `${tx.transaction_id} vm_state_${when}.active_tasks: ${snapshot.active_tasks}, replay ${vm.active}`,
      );
    }
    snapshot.gpus?.forEach((value, g) => {
      if (value !== (vm.gpus[g] ?? 0)) {
        mismatches.push(
          `${tx.transaction_id} vm_state_${when}.gpus.${g}: ${value}, replay ${vm.gpus[g] ?? 0}`,
        );
      }
    });
  };
  for (const tx of transactions) {
    if (tx.vm_id === null || tx.status === 'rejected') continue;
    const vm = vms.get(tx.vm_id) ?? { reservedMicro: new Map<string, number>(), active: 0, gpus: [] };
    vms.set(tx.vm_id, vm);
    check(tx, 'before', vm);
    const sign = tx.status === 'assigned' ? 1 : -1;
    for (const [d, amount] of Object.entries(tx.task_requirements)) {
      if (!isAmount(amount))
        mismatches.push(`${tx.transaction_id} task_requirements.${d}: ${amount} is not an amount`);
      const after = (vm.reservedMicro.get(d) ?? 0) + sign * toMicro(amount);
      if (after < 0) mismatches.push(`${tx.transaction_id}: ${tx.vm_id} ${d} falls to ${fromMicro(after)}`);
      vm.reservedMicro.set(d, after);
    }
    vm.active += sign;
    const devices = tx.devices ?? [];
    const each = (tx.task_requirements.gpu ?? 0) / Math.max(1, devices.length);
    for (const g of devices) {
      while (vm.gpus.length <= g) vm.gpus.push(0);
      if (sign > 0 && devices.length > 1 && vm.gpus[g] !== 0) {
        mismatches.push(
          `${tx.transaction_id}: ${tx.vm_id} whole GPU device ${g} already holds ${vm.gpus[g]}`,
        );
      }
      vm.gpus[g] = vm.gpus[g]! + sign * each;
      if (vm.gpus[g]! > 1000 || vm.gpus[g]! < 0) {
        mismatches.push(`${tx.transaction_id}: ${tx.vm_id} GPU device ${g} at ${vm.gpus[g]}`);
      }
    }
    check(tx, 'after', vm);
  }
  return { vms, mismatches };
}
