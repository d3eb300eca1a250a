import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SchedulerError, ValidationError } from '../../../lib/errors';
import { FleetState, VM_ACTIVE, VM_DRAINING } from '../../../lib/scheduling/fleet-state';
import { DIMS, task, vm } from './fixtures';

const fleetOf = () =>
  FleetState.from(
    [
      vm('a', {
        capacity: { cpu: 4000, mem: 8192, io: 500, bw: 1000 },
        reserved: { cpu: 3000 },
        activeTasks: 2,
      }),
      vm('b', { state: 'draining', labels: { zone: 'b' } }),
    ],
    DIMS,
  );

describe('FleetState.from', () => {
  it('lays out every VM row by row in the given dimension order', () => {
    const fleet = fleetOf();
    expect(fleet.size).toBe(2);
    expect(fleet.width).toBe(4);
    expect([...fleet.capacity.subarray(0, 4)]).toEqual([4000, 8192, 500, 1000]);
    expect([...fleet.reserved.subarray(0, 4)]).toEqual([3000, 0, 0, 0]);
    expect([...fleet.activeTasks]).toEqual([2, 0]);
    expect([...fleet.state]).toEqual([VM_ACTIVE, VM_DRAINING]);
    expect(fleet.ids).toEqual(['a', 'b']);
  });

  it('counts a dimension the VM leaves out as 0', () => {
    const fleet = FleetState.from([vm('a', { capacity: { cpu: 10 } }, ['cpu'])], ['cpu', 'gpu']);
    expect([...fleet.capacity]).toEqual([10, 0]);
  });

  it.each([
    { name: 'negative capacity', v: vm('x', { capacity: { cpu: -1 } }), field: 'fleet.0.capacity.cpu' },
    { name: 'NaN usage', v: vm('x', { usage: { mem: Number.NaN } }), field: 'fleet.0.usage.mem' },
    {
      name: 'infinite reservation',
      v: vm('x', { reserved: { io: Number.POSITIVE_INFINITY } }),
      field: 'fleet.0.reserved.io',
    },
    { name: 'subnormal capacity', v: vm('x', { capacity: { bw: 5e-324 } }), field: 'fleet.0.capacity.bw' },
    { name: 'fractional activeTasks', v: vm('x', { activeTasks: 1.5 }), field: 'fleet.0.activeTasks' },
    {
      name: 'bad history sample',
      v: vm('x', { history: [{}, { cpu: -3 }] }),
      field: 'fleet.0.history.1.cpu',
    },
    { name: 'unknown state', v: { ...vm('x'), state: 'stopped' as never }, field: 'fleet.0.state' },
  ])('refuses $name, naming $field', ({ v, field }) => {
    const attempt = () => FleetState.from([v], DIMS);
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(field);
  });

  it('refuses duplicate VM ids', () => {
    expect(() => FleetState.from([vm('a'), vm('a')], DIMS)).toThrow('fleet.1.id: duplicate VM id "a"');
  });
});

describe('fits', () => {
  it.each([
    // free cpu 4000 - 3000 = 1000
    { need: { cpu: 1000 }, fits: true },
    { need: { cpu: 1001 }, fits: false },
    // cpu fits, mem 8193 > 8192 does not
    { need: { cpu: 1, mem: 8193 }, fits: false },
    { need: { cpu: 1, mem: 8192, io: 500, bw: 1000 }, fits: true },
    { need: { bw: 1000.5 }, fits: false },
  ])('needs $need: $fits (every dimension must fit)', ({ need, fits }) => {
    expect(fleetOf().fits(0, task('t', need))).toBe(fits);
  });

  it('ignores state and labels: those are the filter', () => {
    expect(fleetOf().fits(1, task('t', { cpu: 1 }))).toBe(true);
  });
});

describe('reserve and snapshot', () => {
  it('adds the requirements, counts the task, and reports it in the snapshot', () => {
    const fleet = fleetOf();
    const before = fleet.snapshot(0);
    fleet.reserve(0, task('t', { cpu: 500, mem: 1024 }));
    expect(before).toEqual({
      reserved: { cpu: 3000, mem: 0, io: 0, bw: 0 },
      usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
      active_tasks: 2,
    });
    expect(fleet.snapshot(0)).toEqual({
      reserved: { cpu: 3500, mem: 1024, io: 0, bw: 0 },
      usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
      active_tasks: 3,
    });
  });

  it('refuses a reservation past capacity and leaves the VM unchanged', () => {
    const fleet = fleetOf();
    expect(() => fleet.reserve(0, task('t', { cpu: 1001 }))).toThrow(SchedulerError);
    expect(fleet.snapshot(0).reserved.cpu).toBe(3000);
    expect(fleet.activeTasks[0]).toBe(2);
    expect(() => fleet.reserve(7, task('t', { cpu: 1 }))).toThrow(RangeError);
  });
});

describe('clone and toVms', () => {
  it('clones independently: reserving on the clone leaves the original as it was', () => {
    const original = fleetOf();
    const copy = original.clone();
    copy.reserve(0, task('t', { cpu: 1000 }));
    expect(original.snapshot(0).reserved.cpu).toBe(3000);
    expect(copy.snapshot(0).reserved.cpu).toBe(4000);
    expect(original.activeTasks[0]).toBe(2);
    expect(copy.activeTasks[0]).toBe(3);
  });

  it('gives back the VMs with the new reservations and task counts, without touching the input', () => {
    const input = [vm('a', { labels: { zone: 'x' }, history: [{ cpu: 5 }] })];
    const fleet = FleetState.from(input, DIMS);
    fleet.reserve(0, task('t', { cpu: 100, mem: 200 }));
    const [out] = fleet.toVms();
    expect(out).toEqual({ ...input[0], reserved: { cpu: 100, mem: 200, io: 0, bw: 0 }, activeTasks: 1 });
    expect(input[0]!.reserved.cpu).toBe(0);
    expect(input[0]!.activeTasks).toBe(0);
  });
});

describe('release', () => {
  it('gives a reservation back, flooring at 0', () => {
    const fleet = fleetOf();
    fleet.release(0, task('t', { cpu: 1000, mem: 10 }));
    expect(fleet.snapshot(0)).toMatchObject({ reserved: { cpu: 2000, mem: 0 }, active_tasks: 1 });
    fleet.release(1, task('t', { cpu: 1 }));
    expect(fleet.snapshot(1)).toMatchObject({ reserved: { cpu: 0 }, active_tasks: 0 });
  });

  it('is undone by releasing what was reserved', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 8 }), (cpus) => {
        const fleet = fleetOf();
        const before = fleet.snapshot(0);
        const tasks = cpus.map((cpu, k) => task(`t${k}`, { cpu, mem: cpu }));
        const placed: typeof tasks = [];
        for (const t of tasks) {
          if (!fleet.fits(0, t)) continue;
          fleet.reserve(0, t);
          placed.push(t);
        }
        for (const t of placed.reverse()) fleet.release(0, t);
        const after = fleet.snapshot(0);
        expect(after.active_tasks).toBe(before.active_tasks);
        for (const d of DIMS) expect(after.reserved[d]).toBeCloseTo(before.reserved[d]!, 9);
      }),
    );
  });
});

describe('FleetState.from arguments', () => {
  it('refuses a repeated dimension and a bad history window', () => {
    expect(() => FleetState.from([vm('a')], ['cpu', 'cpu'])).toThrow(
      'dimensions: must not repeat a dimension',
    );
    expect(() => FleetState.from([vm('a')], DIMS, 0)).toThrow('historyWindow');
  });
});
