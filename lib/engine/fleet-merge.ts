import { type Dimensions, zeroVector } from '../model/resources';
import type { Vm } from '../model/vm';
import type { Reservation } from '../ports/ledger-store';

/**
 * The fleet source knows capacity and measured usage; only the ledger knows what is reserved. The
 * ledger's reservations replace whatever the source reported, and a VM the ledger has never
 * reserved on holds nothing. Reservations on VMs no longer in the fleet are not schedulable.
 */
export function withLedgerReservations(
  vms: readonly Vm[],
  reservations: readonly Reservation[],
  dimensions: Dimensions,
): Vm[] {
  const byVm = new Map(reservations.map((r) => [r.vm_id, r]));
  return vms.map((vm) => {
    const reservation = byVm.get(vm.id);
    const reserved = zeroVector(dimensions);
    if (reservation) for (const d of dimensions) reserved[d] = reservation.reserved[d] ?? 0;
    return { ...vm, reserved, activeTasks: reservation?.active_tasks ?? 0 };
  });
}
