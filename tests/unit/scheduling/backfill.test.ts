import { describe, expect, it } from 'vitest';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import { Backfill, earliestStart, type RunningTask } from '../../../lib/scheduling/backfill';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { Scheduler } from '../../../lib/scheduling/schedule';

const T0 = 1_900_000_000_000;
const DIMS = ['cpu', 'mem'];

function vm(id: string, cpu: number, reservedCpu = 0): Vm {
  return {
    id,
    capacity: { cpu, mem: 1000 },
    reserved: { cpu: reservedCpu, mem: 0 },
    usage: { cpu: 0, mem: 0 },
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active',
  };
}

function task(id: string, cpu: number, durationS: number, submittedAt = T0): Task {
  return {
    id,
    requirements: { cpu, mem: 0 },
    duration: durationS,
    deadline: (T0 + 86_400_000) / 1000,
    priority: 0,
    submittedAt,
    labels: {},
    constraints: {},
  };
}

/** vm-a (1000 cpu) runs 600 ending at T0+100 s and 300 ending at T0+400 s; vm-b (1000) runs 900 ending at T0+300 s. */
function scene() {
  const fleet = FleetState.from([vm('vm-a', 1000, 900), vm('vm-b', 1000, 900)], DIMS, 10);
  const running: RunningTask[] = [
    { vmId: 'vm-a', requirements: { cpu: 600, mem: 0 }, endsAt: T0 + 100_000 },
    { vmId: 'vm-a', requirements: { cpu: 300, mem: 0 }, endsAt: T0 + 400_000 },
    { vmId: 'vm-b', requirements: { cpu: 900, mem: 0 }, endsAt: T0 + 300_000 },
  ];
  return { fleet, running };
}

describe('EASY backfilling (lib/scheduling/backfill.ts)', () => {
  it('finds the VM where a large task starts earliest by the declared ends of the running tasks', () => {
    const { fleet, running } = scene();
    const now = T0 + 10_000;
    // 650 cpu: vm-a frees 600 at +100 s (700 free then), vm-b frees 900 at +300 s.
    expect(earliestStart(task('big', 650, 60), fleet, running, now)).toEqual({
      vmIndex: 0,
      startsAt: T0 + 100_000,
    });
    // 800 cpu: vm-a needs both its tasks gone (+400 s), vm-b only one (+300 s).
    expect(earliestStart(task('bigger', 800, 60), fleet, running, now)).toEqual({
      vmIndex: 1,
      startsAt: T0 + 300_000,
    });
    expect(earliestStart(task('too-big', 1200, 60), fleet, running, now)).toBeNull();
  });

  it('reserves only for a task that has waited longer than the threshold', () => {
    const { fleet, running } = scene();
    const backfill = new Backfill(60_000);
    const big = task('big', 800, 60, T0);
    expect(backfill.update([big], fleet, running, T0 + 30_000)).toBeNull();
    expect(backfill.update([big], fleet, running, T0 + 60_000)).toEqual({
      taskId: 'big',
      vmId: 'vm-b',
      startsAt: T0 + 300_000,
      madeAt: T0 + 60_000,
    });
  });

  it('refuses the reserved VM to a small task that would delay the reservation, and allows one that finishes before', () => {
    const { fleet, running } = scene();
    const backfill = new Backfill(60_000);
    const now = T0 + 60_000;
    backfill.update([task('big', 800, 60)], fleet, running, now);
    const scheduler = new Scheduler({ algorithm: 'best-fit', dimensions: DIMS });
    // Both fit only vm-b's 100 free cpu... and vm-a's 100: best-fit ties go to the first, so the
    // long one would go to vm-a anyway; make vm-b the only room for them.
    fleet.reserveDemand(0, fleet.demandOf(task('fill', 100, 1)));
    const long = task('long', 100, 600); // ends at +660 s, after the reservation starts at +300 s
    const short = task('short', 100, 200); // ends at +260 s, before it
    const decisions = backfill.schedule(scheduler, [long, short], fleet, now);
    const byId = new Map(decisions.map((d) => [d.task.id, d]));
    expect(byId.get('short')).toMatchObject({ status: 'assigned', vmId: 'vm-b' });
    expect(byId.get('long')).toMatchObject({ status: 'rejected' });
    // The VM's state is restored after the held tasks were decided.
    expect(fleet.state[1]).toBe(0);
  });

  it('without a reservation, the same long task takes the VM', () => {
    const { fleet } = scene();
    fleet.reserveDemand(0, fleet.demandOf(task('fill', 100, 1)));
    const decisions = new Backfill(60_000).schedule(
      new Scheduler({ algorithm: 'best-fit', dimensions: DIMS }),
      [task('long', 100, 600)],
      fleet,
      T0 + 60_000,
    );
    expect(decisions[0]).toMatchObject({ status: 'assigned', vmId: 'vm-b' });
  });

  it('releases the reservation when its task is placed or given up, and moves it when the start passed', () => {
    const { fleet, running } = scene();
    const backfill = new Backfill(60_000);
    const big = task('big', 800, 60);
    const other = task('other', 800, 60, T0 + 1);
    backfill.update([big, other], fleet, running, T0 + 60_000);
    expect(backfill.reservation?.taskId).toBe('big');
    backfill.settled('big');
    expect(backfill.reservation).toBeNull();
    // The next oldest past the threshold gets it.
    expect(backfill.update([other], fleet, running, T0 + 61_000)?.taskId).toBe('other');
    // Its task left the waiting list without settled (expired): the reservation ends there too.
    expect(backfill.update([], fleet, running, T0 + 62_000)).toBeNull();
    // A reservation whose start passed while the task still does not fit (an overrun) is moved.
    backfill.update([big], fleet, running, T0 + 60_000);
    const overrun = running.map((r) => ({ ...r, endsAt: r.vmId === 'vm-b' ? T0 + 500_000 : r.endsAt }));
    expect(backfill.update([big], fleet, overrun, T0 + 310_000)).toMatchObject({
      vmId: 'vm-a',
      startsAt: T0 + 400_000,
    });
  });

  it('refuses a threshold that is not a finite number of ms >= 0', () => {
    expect(() => new Backfill(-1)).toThrow(RangeError);
    expect(() => new Backfill(Number.NaN)).toThrow(RangeError);
  });
});
