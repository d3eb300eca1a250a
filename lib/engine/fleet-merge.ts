import { toMicro } from '../model/amount';
import { type Dimensions, zeroVector } from '../model/resources';
import type { GpuDevice, Vm } from '../model/vm';
import type { Reservation } from '../ports/ledger-store';
import { GPU_DIMENSION } from '../scheduling/devices';

/**
 * The fleet source knows capacity and measured usage; only the ledger knows what is reserved. The
 * ledger's reservations replace whatever the source reported, and a VM the ledger has never
 * reserved on holds nothing. Reservations on VMs no longer in the fleet are not schedulable.
 *
 * The same holds for GPU devices: the source lists them (model, capacity), the ledger says what
 * each holds (Reservation.gpus), so a device taken in an earlier batch, by another scheduler or
 * before a restart is never given again.
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
    const merged: Vm = { ...vm, reserved, activeTasks: reservation?.active_tasks ?? 0 };
    return vm.gpus === undefined ? merged : { ...merged, gpus: ledgerDevices(vm.gpus, reservation) };
  });
}

/**
 * The VM's devices holding what the ledger reserved on each. When the ledger holds more GPU on the VM
 * than on its devices (tasks placed before device reservations were kept), which devices those tasks
 * hold is unknown: every device then counts as full until they end, so none is given twice.
 */
export function ledgerDevices(gpus: readonly GpuDevice[], reservation: Reservation | undefined): GpuDevice[] {
  const perDevice = reservation?.gpus ?? [];
  const onDevices = perDevice.reduce((sum, v) => sum + toMicro(v), 0);
  const unplaced = toMicro(reservation?.reserved[GPU_DIMENSION] ?? 0) > onDevices;
  return gpus.map((device, g) => ({ ...device, reserved: unplaced ? device.milli : (perDevice[g] ?? 0) }));
}
