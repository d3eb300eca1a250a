import { describe, expect, it } from 'vitest';
import { withLedgerReservations } from '../../../lib/engine/fleet-merge';
import type { Vm } from '../../../lib/model/vm';

const gpuVm: Vm = {
  id: 'vm-g',
  capacity: { cpu: 8000, gpu: 4000 },
  reserved: { cpu: 0, gpu: 0 },
  usage: { cpu: 0, gpu: 0 },
  history: [],
  activeTasks: 0,
  labels: {},
  state: 'active',
  gpus: [0, 1, 2, 3].map(() => ({ model: 'A10G', milli: 1000, reserved: 0 })),
};

describe('withLedgerReservations and GPU devices', () => {
  it('puts the ledger’s per-device use on the devices the fleet source lists', () => {
    const [vm] = withLedgerReservations(
      [gpuVm],
      [
        {
          vm_id: 'vm-g',
          reserved: { gpu: 1500 },
          active_tasks: 2,
          capacity: gpuVm.capacity,
          gpus: [500, 1000],
        },
      ],
      ['cpu', 'gpu'],
    );
    expect(vm!.gpus!.map((g) => g.reserved)).toEqual([500, 1000, 0, 0]);
    expect(vm!.reserved).toEqual({ cpu: 0, gpu: 1500 });
  });

  it('counts every device full while the ledger holds GPU it cannot place on devices (tasks from before devices were kept)', () => {
    const [vm] = withLedgerReservations(
      [gpuVm],
      [{ vm_id: 'vm-g', reserved: { gpu: 1000 }, active_tasks: 1, capacity: gpuVm.capacity }],
      ['cpu', 'gpu'],
    );
    expect(vm!.gpus!.map((g) => g.reserved)).toEqual([1000, 1000, 1000, 1000]);
  });

  it('leaves devices free on a VM the ledger holds nothing on, whatever the source reported', () => {
    const stale: Vm = { ...gpuVm, gpus: gpuVm.gpus!.map((g) => ({ ...g, reserved: 700 })) };
    const [vm] = withLedgerReservations([stale], [], ['cpu', 'gpu']);
    expect(vm!.gpus!.map((g) => g.reserved)).toEqual([0, 0, 0, 0]);
  });
});
