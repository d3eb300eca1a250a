import type { Transaction } from '../../../lib/ledger/types';
import { fromMicro, isAmount, toMicro } from '../../../lib/model/amount';

/** What an exact replay of a ledger leaves on each VM: reserved micro-units per dimension and active tasks. */
export interface ReplayedVm {
  reservedMicro: Map<string, number>;
  active: number;
}

/**
 * An exact-replay oracle written from docs/ledger-format.md, independent of the engine: walks the
 * transactions in chain order, keeps each VM's reservation as integer micro-units (assignments add
 * their task_requirements, completions and expiries subtract them), and checks that every
 * vm_state_before / vm_state_after records exactly (===, no tolerance) what the replay holds at
 * that point. Returns every mismatch, each naming the transaction and the dimension.
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
  };
  for (const tx of transactions) {
    if (tx.vm_id === null || tx.status === 'rejected') continue;
    const vm = vms.get(tx.vm_id) ?? { reservedMicro: new Map<string, number>(), active: 0 };
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
    check(tx, 'after', vm);
  }
  return { vms, mismatches };
}
