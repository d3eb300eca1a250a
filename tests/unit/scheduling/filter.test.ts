import { describe, expect, it } from 'vitest';
import {
  collectFeasible,
  explainInfeasible,
  isFeasible,
  prepareRequest,
  rejectPastDeadline,
} from '../../../lib/scheduling/algorithm';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { DIMS, task, vm } from './fixtures';

function feasibleIds(fleet: FleetState, t: ReturnType<typeof task>): string[] {
  const request = prepareRequest(t, fleet);
  const count = collectFeasible(fleet, request);
  return [...fleet.candidates.subarray(0, count)].map((i) => fleet.ids[i]!);
}

describe('the shared feasibility filter', () => {
  const vms = [
    vm('full-cpu', { reserved: { cpu: 4000 }, labels: { zone: 'a' } }),
    vm('draining', { state: 'draining', labels: { zone: 'a' } }),
    vm('zone-b', { labels: { zone: 'b', pool: 'gpu' } }),
    vm('zone-a', { labels: { zone: 'a', pool: 'gpu' } }),
  ];

  it.each([DIMS, ['cpu', 'mem'], [...DIMS, 'gpu']])(
    'keeps active, matching VMs that fit, on %j',
    (...dims) => {
      const fleet = FleetState.from(vms, dims);
      expect(feasibleIds(fleet, task('t', { cpu: 1 }, {}, dims))).toEqual(['zone-b', 'zone-a']);
      expect(feasibleIds(fleet, task('t', { cpu: 1 }, { constraints: { zone: 'a' } }, dims))).toEqual([
        'zone-a',
      ]);
      expect(feasibleIds(fleet, task('t', {}, { constraints: { zone: 'a' } }, dims))).toEqual([
        'full-cpu',
        'zone-a',
      ]);
      expect(
        feasibleIds(fleet, task('t', { cpu: 1 }, { constraints: { zone: 'a', pool: 'cpu' } }, dims)),
      ).toEqual([]);
    },
  );

  it('agrees with isFeasible VM by VM', () => {
    const fleet = FleetState.from(vms, DIMS);
    const request = prepareRequest(task('t', { cpu: 10 }, { constraints: { pool: 'gpu' } }), fleet);
    expect(vms.map((_, i) => isFeasible(fleet, i, request))).toEqual([false, false, true, true]);
  });
});

describe('rejectPastDeadline', () => {
  const decisionAt = Date.UTC(2026, 10, 21, 5, 10, 0);
  const dueAt = (ms: number) => task('t', { cpu: 1 }, { deadline: ms / 1000 });

  it('rejects a deadline before the decision, naming both instants', () => {
    expect(rejectPastDeadline(dueAt(Date.UTC(2026, 10, 21, 5, 0, 0)), decisionAt)).toEqual({
      index: -1,
      kind: 'deadline',
      reason: 'deadline passed: 2026-11-21T05:00:00Z is before the decision at 2026-11-21T05:10:00Z',
    });
  });

  it('rejects a deadline that is the decision time itself', () => {
    expect(rejectPastDeadline(dueAt(decisionAt), decisionAt)?.reason).toBe(
      'deadline passed: 2026-11-21T05:10:00Z is the very moment of the decision at 2026-11-21T05:10:00Z',
    );
  });

  it('keeps the milliseconds of a fractional deadline or decision time', () => {
    expect(rejectPastDeadline(dueAt(decisionAt - 500), decisionAt + 250)?.reason).toBe(
      'deadline passed: 2026-11-21T05:09:59.500Z is before the decision at 2026-11-21T05:10:00.250Z',
    );
  });

  it('lets through a deadline a millisecond ahead, even one the task cannot meet', () => {
    expect(rejectPastDeadline(dueAt(decisionAt + 1), decisionAt)).toBeNull();
    const late = task('late', { cpu: 1 }, { duration: 3600, deadline: decisionAt / 1000 + 60 });
    expect(rejectPastDeadline(late, decisionAt)).toBeNull();
  });
});

describe('explainInfeasible', () => {
  const explain = (vms: ReturnType<typeof vm>[], t: ReturnType<typeof task>) => {
    const fleet = FleetState.from(vms, DIMS);
    return explainInfeasible(fleet, prepareRequest(t, fleet));
  };

  it.each([
    {
      case: 'one dimension short everywhere',
      vms: [vm('a', { reserved: { cpu: 1000 } }), vm('b', { reserved: { cpu: 2500 } })],
      t: task('t', { cpu: 5000 }),
      // largest free cpu: 4000 - 1000 = 3000
      reason: 'no feasible VM: needs cpu 5000 millicores, largest free is 3000',
    },
    {
      case: 'two dimensions short',
      vms: [vm('a')],
      t: task('t', { mem: 9000, bw: 1500 }),
      reason:
        'no feasible VM: needs mem 9000 MiB, largest free is 8192; needs bw 1500 Mbit/s, largest free is 1000',
    },
    {
      case: 'each dimension fits somewhere, never together',
      vms: [vm('a', { reserved: { cpu: 3500 } }), vm('b', { reserved: { mem: 8000 } })],
      t: task('t', { cpu: 1000, mem: 1000 }),
      reason:
        'no feasible VM: no VM has cpu 1000 millicores and mem 1000 MiB free at once (cpu short on 1 of 2, mem short on 1 of 2)',
    },
    {
      case: 'only draining VMs match',
      vms: [vm('a', { labels: { zone: 'c' }, state: 'draining' }), vm('b', { labels: { zone: 'd' } })],
      t: task('t', { cpu: 1 }, { constraints: { zone: 'c' } }),
      reason: 'no feasible VM: all matching VMs draining (1)',
    },
    {
      case: 'the whole fleet draining',
      vms: [vm('a', { state: 'draining' }), vm('b', { state: 'draining' })],
      t: task('t', { cpu: 1 }),
      reason: 'no feasible VM: all VMs draining (2)',
    },
    {
      case: 'no VM with the labels',
      vms: [vm('a', { labels: { zone: 'eu-west-1a' } })],
      t: task('t', { cpu: 1 }, { constraints: { zone: 'eu-west-1c' } }),
      reason: 'no VM matches constraints zone=eu-west-1c',
    },
    {
      case: 'an empty fleet',
      vms: [],
      t: task('t', { cpu: 1 }),
      reason: 'no feasible VM: the fleet has no VMs',
    },
    {
      case: 'a reservation already over capacity',
      vms: [vm('a', { reserved: { cpu: 5000 } })],
      t: task('t', { cpu: 1 }),
      reason: 'no feasible VM: needs cpu 1 millicores, largest free is 0',
    },
  ])('names what binds: $case', ({ vms, t, reason }) => {
    expect(explain(vms, t)).toBe(reason);
  });
});
