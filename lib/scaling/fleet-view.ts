import { withLedgerReservations } from '../engine/fleet-merge';
import type { Dimensions } from '../model/resources';
import type { Vm } from '../model/vm';
import type { Reservation } from '../ports/ledger-store';
import { freeToTerminate } from './protection';

/** A VM as an operator sees it: the fleet's view with the ledger's reservations, and whether it may go. */
export interface FleetMember {
  readonly vm: Vm;
  readonly freeToTerminate: boolean;
}

/**
 * The fleet source's VMs with the ledger's reservations merged in (lib/engine/fleet-merge.ts: the
 * ledger, not the source, knows what is reserved), each flagged free to terminate or not.
 */
export function fleetView(
  vms: readonly Vm[],
  reservations: readonly Reservation[],
  dimensions: Dimensions,
): FleetMember[] {
  return withLedgerReservations(vms, reservations, dimensions).map((vm) => ({
    vm,
    freeToTerminate: freeToTerminate(vm),
  }));
}
