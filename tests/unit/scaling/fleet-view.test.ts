import { describe, expect, it } from 'vitest';
import type { Vm } from '../../../lib/model/vm';
import { fleetView } from '../../../lib/scaling/fleet-view';

const dims = ['cpu', 'mem'];
const vm = (id: string, state: Vm['state']): Vm => ({
  id,
  capacity: { cpu: 2000, mem: 4096 },
  // what a fleet source reports: it does not know reservations
  reserved: { cpu: 0, mem: 0 },
  usage: { cpu: 100, mem: 200 },
  history: [],
  activeTasks: 0,
  labels: { zone: 'us-east-1a' },
  state,
});

describe('fleetView', () => {
  it('merges the ledger reservations and flags drained VMs with no task left', () => {
    const view = fleetView(
      [vm('i-a', 'active'), vm('i-b', 'draining'), vm('i-c', 'draining')],
      [
        {
          vm_id: 'i-a',
          reserved: { cpu: 500, mem: 1024 },
          active_tasks: 1,
          capacity: { cpu: 2000, mem: 4096 },
        },
        { vm_id: 'i-c', reserved: { cpu: 250, mem: 0 }, active_tasks: 1, capacity: { cpu: 2000, mem: 4096 } },
      ],
      dims,
    );
    expect(view.map((m) => [m.vm.id, m.vm.state, m.vm.activeTasks, m.freeToTerminate])).toEqual([
      ['i-a', 'active', 1, false],
      ['i-b', 'draining', 0, true], // draining, nothing reserved
      ['i-c', 'draining', 1, false], // draining but still running a task
    ]);
    expect(view[0]!.vm.reserved).toEqual({ cpu: 500, mem: 1024 });
  });
});
