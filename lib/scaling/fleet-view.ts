import { withLedgerReservations } from '../engine/fleet-merge';
import { type Dimensions, zeroVector } from '../model/resources';
import type { Vm } from '../model/vm';
import type { Reservation } from '../ports/ledger-store';
import { freeToTerminate } from './protection';

/** A VM as an operator sees it: the fleet's view with the ledger's reservations, and whether it may go. */
export interface FleetMember {
  readonly vm: Vm;
  readonly freeToTerminate: boolean;
}

/**
 * The fleet source's VMs with the ledger's reservations merged in (lib/engine/fleet-merge.ts), plus
 * every VM the ledger still holds tasks on that the source no longer lists (stopped, or lost its
 * fleet tag), shown as draining with the capacity the ledger recorded: its tasks still need
 * completing or expiring, and hiding it would hide them. The local runtime does the same at start.
 */
export function fleetView(
  vms: readonly Vm[],
  reservations: readonly Reservation[],
  dimensions: Dimensions,
): FleetMember[] {
  const listed = new Set(vms.map((vm) => vm.id));
  const merged = withLedgerReservations(vms, reservations, dimensions);
  for (const r of reservations) {
    if (r.active_tasks <= 0 || listed.has(r.vm_id)) continue;
    const reserved = zeroVector(dimensions);
    const capacity = zeroVector(dimensions);
    for (const d of dimensions) {
      reserved[d] = r.reserved[d] ?? 0;
      capacity[d] = r.capacity[d] ?? 0;
    }
    merged.push({
      id: r.vm_id,
      capacity,
      reserved,
      usage: zeroVector(dimensions),
      history: [],
      activeTasks: r.active_tasks,
      labels: {},
      state: 'draining',
    });
  }
  merged.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return merged.map((vm) => ({ vm, freeToTerminate: freeToTerminate(vm) }));
}
