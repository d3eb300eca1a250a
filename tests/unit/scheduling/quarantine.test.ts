import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import type { Vm } from '../../../lib/model/vm';
import { admitFleet } from '../../../lib/scheduling/quarantine';

const dims = ['cpu', 'mem'];
const vm = (id: string, overrides: Partial<Vm> = {}): Vm => ({
  id,
  capacity: { cpu: 1000, mem: 1000 },
  reserved: { cpu: 0, mem: 0 },
  usage: { cpu: 0, mem: 0 },
  history: [],
  activeTasks: 0,
  labels: {},
  state: 'active',
  ...overrides,
});

describe('admitFleet', () => {
  it('builds the whole fleet when every record passes', () => {
    const { fleet, quarantined } = admitFleet([vm('a'), vm('b')], dims);
    expect(fleet.ids).toEqual(['a', 'b']);
    expect(quarantined).toEqual([]);
  });

  // Each case: a record FleetState.from refuses, and the reason the quarantine gives for it.
  it.each([
    [
      'a capacity below MIN_CAPACITY',
      vm('x', { capacity: { cpu: 1000, mem: 1e-9 } }),
      'capacity.mem: must be 0 or at least 0.000001',
    ],
    [
      'a negative reservation (float drift)',
      vm('x', { reserved: { cpu: -7.1e-15, mem: 0 } }),
      'reserved.cpu: must be a number from 0 to 1000000000',
    ],
    [
      'a NaN usage',
      vm('x', { usage: { cpu: Number.NaN, mem: 0 } }),
      'usage.cpu: must be a number from 0 to 1000000000',
    ],
    [
      'a bad history sample',
      vm('x', { history: [{ cpu: -1, mem: 0 }] }),
      'history.0.cpu: must be a number from 0 to 1000000000',
    ],
    ['an unknown state', vm('x', { state: 'gone' as Vm['state'] }), 'state: must be "active" or "draining"'],
    ['a fractional task count', vm('x', { activeTasks: 1.5 }), 'activeTasks: must be a non-negative integer'],
    ['a repeated id', vm('a'), 'id: duplicate VM id "a"'],
  ])('quarantines a VM with %s and keeps the others', (_name, bad, reason) => {
    const { fleet, quarantined } = admitFleet([vm('a'), bad, vm('b')], dims);
    expect(fleet.ids).toEqual(['a', 'b']);
    expect(quarantined).toEqual([{ vm_id: bad.id, reason }]);
  });

  it('names every field at fault in one reason', () => {
    const bad = vm('x', { capacity: { cpu: 1e-7, mem: 1000 }, reserved: { cpu: 0, mem: -1 } });
    expect(admitFleet([bad], dims).quarantined).toEqual([
      {
        vm_id: 'x',
        reason:
          'capacity.cpu: must be 0 or at least 0.000001; reserved.mem: must be a number from 0 to 1000000000',
      },
    ]);
  });

  it('still throws for a problem that is not one VM’s', () => {
    expect(() => admitFleet([vm('a')], ['cpu', 'cpu'])).toThrow(ValidationError);
    expect(() => admitFleet([vm('a')], dims, 0)).toThrow(ValidationError);
  });
});
