import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResourceVector } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { Vm } from '../../lib/model/vm';
import { FleetState, MIN_CAPACITY } from '../../lib/scheduling/fleet-state';
import { Scheduler, scheduleBatch } from '../../lib/scheduling/schedule';
import type { Decision } from '../../lib/scheduling/types';
import { NOW, NOW_S, task, vm } from '../unit/scheduling/fixtures';

/**
 * The contract every registered placement algorithm honours (lib/scheduling/algorithm.ts). The
 * checks replay the decisions against the test's own copy of the fleet, so they do not trust the
 * snapshots the scheduler reports.
 */

const ZONES = ['a', 'b', 'c'] as const;
// Four dimensions take the unrolled scan; two and five take the generic one.
const DIMENSION_SETS = [
  ['cpu', 'mem', 'io', 'bw'],
  ['cpu', 'mem'],
  ['cpu', 'mem', 'io', 'bw', 'gpu'],
] as const;

// Fractions (down to subnormals, except capacity: see MIN_CAPACITY) alongside round numbers.
const amount = (max: number, min: number) =>
  fc.oneof(fc.constant(0), fc.integer({ min: 0, max }), fc.double({ min, max, noNaN: true }));

function vectorArb(dims: readonly string[], max: number, min = 0): fc.Arbitrary<ResourceVector> {
  return fc
    .tuple(...dims.map(() => amount(max, min)))
    .map((values) => Object.fromEntries(dims.map((d, i) => [d, values[i]!])));
}

function vmArb(dims: readonly string[], id: string): fc.Arbitrary<Vm> {
  return fc
    .record({
      capacity: vectorArb(dims, 8000, MIN_CAPACITY),
      // Reservations may exceed capacity (capacity shrank): such a VM must take nothing more.
      reserved: vectorArb(dims, 9000),
      usage: vectorArb(dims, 9000),
      history: fc.array(vectorArb(dims, 9000), { maxLength: 3 }),
      activeTasks: fc.integer({ min: 0, max: 20 }),
      zone: fc.constantFrom(...ZONES),
      draining: fc.boolean(),
    })
    .map((r) => ({
      id,
      capacity: r.capacity,
      reserved: r.reserved,
      usage: r.usage,
      history: r.history,
      activeTasks: r.activeTasks,
      labels: { zone: r.zone, pool: 'default' },
      state: r.draining ? ('draining' as const) : ('active' as const),
    }));
}

function taskArb(dims: readonly string[], id: string): fc.Arbitrary<Task> {
  return fc
    .record({
      requirements: vectorArb(dims, 5000),
      duration: fc.integer({ min: 1, max: 5000 }),
      deadlineOffset: fc.integer({ min: -600, max: 20_000 }),
      priority: fc.integer({ min: -2, max: 2 }),
      // 'z' matches no VM.
      zone: fc.option(fc.constantFrom(...ZONES, 'z'), { nil: undefined }),
    })
    .map((r) =>
      task(
        id,
        r.requirements,
        {
          duration: r.duration,
          deadline: NOW_S + r.deadlineOffset,
          priority: r.priority,
          constraints: r.zone === undefined ? {} : { zone: r.zone },
        },
        dims,
      ),
    );
}

const scenarioArb = fc.constantFrom(...DIMENSION_SETS).chain((dims) =>
  fc.record({
    dims: fc.constant(dims as readonly string[]),
    vms: fc
      .integer({ min: 0, max: 12 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => vmArb(dims, `vm-${i}`)))),
    tasks: fc
      .integer({ min: 1, max: 25 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => taskArb(dims, `t-${i}`)))),
    // A second batch for the tests that reuse one Scheduler.
    more: fc
      .integer({ min: 1, max: 10 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => taskArb(dims, `u-${i}`)))),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
);

/** The test's own feasibility predicate, against its own running copy of the reservations. */
function feasibleOn(v: Vm, reserved: ResourceVector, t: Task, dims: readonly string[]): boolean {
  if (v.state !== 'active') return false;
  if (Object.entries(t.constraints).some(([k, value]) => v.labels[k] !== value)) return false;
  return dims.every((d) => reserved[d]! + t.requirements[d]! <= v.capacity[d]!);
}

/** What the test expects for a task nothing can take now: wait, or reject for good and why. */
function expectedKind(vms: readonly Vm[], t: Task, dims: readonly string[]): string {
  const matching = vms.filter((v) =>
    Object.entries(t.constraints).every(([k, value]) => v.labels[k] === value),
  );
  if (matching.some((v) => dims.every((d) => t.requirements[d]! <= v.capacity[d]!))) return 'capacity';
  return vms.length > 0 && matching.length === 0 ? 'constraints' : 'never-fits';
}

/**
 * Replays `decisions` in order over `vms` and asserts the contract on each. Returns nothing; throws
 * (through expect) on the first violation.
 */
function assertContract(
  vms: readonly Vm[],
  tasks: readonly Task[],
  decisions: Decision[],
  dims: readonly string[],
) {
  expect(decisions).toHaveLength(tasks.length);
  expect(new Set(decisions.map((d) => d.task))).toEqual(new Set(tasks));

  const reserved = new Map(vms.map((v) => [v.id, { ...v.reserved }]));
  const active = new Map(vms.map((v) => [v.id, v.activeTasks]));
  for (const decision of decisions) {
    const t = decision.task;
    // The shared filter: a deadline already passed is rejected first, whatever the fleet.
    if (t.deadline * 1000 <= NOW) {
      expect(decision.status).toBe('rejected');
      expect(decision.reason).toMatch(/^deadline passed: /);
    }
    if (decision.status === 'rejected') {
      expect(decision.reason.length).toBeGreaterThan(0);
      expect(decision.vmId).toBeNull();
      expect(decision.score).toBeNull();
      expect(decision.before).toBeNull();
      expect(decision.after).toBeNull();
      // A rejection is justified: nothing was feasible, or the deadline could not be met.
      const anyFeasible = vms.some((v) => feasibleOn(v, reserved.get(v.id)!, t, dims));
      const deadlineMissed = NOW_S + t.duration > t.deadline;
      if (anyFeasible) {
        expect(deadlineMissed).toBe(true);
        expect(decision.reason).toMatch(/deadline/);
      }
      // The kind decides whether the runtimes wait or reject, so it is checked against the test's
      // own reading of the fleet: only a task some matching VM could hold when empty may wait.
      if (t.deadline * 1000 <= NOW || anyFeasible) expect(decision.rejection).toBe('deadline');
      else if (!(deadlineMissed && decision.rejection === 'deadline')) {
        expect(decision.rejection).toBe(expectedKind(vms, t, dims));
      }
      continue;
    }
    expect(decision.status).toBe('assigned');
    const target = vms.find((v) => v.id === decision.vmId);
    expect(target).toBeDefined();
    const current = reserved.get(target!.id)!;
    expect(feasibleOn(target!, current, t, dims)).toBe(true);
    expect(Number.isFinite(decision.score)).toBe(true);
    expect(decision.reason.length).toBeGreaterThan(0);
    // The snapshots chain: before is what the replay holds, after adds exactly the requirements.
    expect(decision.before?.reserved).toEqual(current);
    expect(decision.before?.active_tasks).toBe(active.get(target!.id));
    for (const d of dims) {
      current[d] = current[d]! + t.requirements[d]!;
      expect(current[d]).toBeLessThanOrEqual(target!.capacity[d]!);
    }
    active.set(target!.id, active.get(target!.id)! + 1);
    expect(decision.after?.reserved).toEqual(current);
    expect(decision.after?.active_tasks).toBe(active.get(target!.id));
  }
}

const GPU_DIMS = ['cpu', 'mem', 'gpu'] as const;
const GPU_MODELS = ['A', 'B'] as const;

/** A VM with 0-4 GPUs (whole or a 500-milli slice), some already partly used. */
function gpuVmArb(id: string): fc.Arbitrary<Vm> {
  const device = fc
    .record({ model: fc.constantFrom(...GPU_MODELS), milli: fc.constantFrom(1000, 1000, 500) })
    .chain((d) =>
      fc.record({
        model: fc.constant(d.model),
        milli: fc.constant(d.milli),
        reserved: fc.constantFrom(0, 0, 250, d.milli),
      }),
    );
  return fc
    .record({ gpus: fc.array(device, { maxLength: 4 }), draining: fc.boolean(), listed: fc.boolean() })
    .map(({ gpus, draining, listed }) => {
      const capacity = gpus.reduce((sum, g) => sum + g.milli, 0);
      const used = gpus.reduce((sum, g) => sum + g.reserved, 0);
      return {
        id,
        capacity: { cpu: 8000, mem: 8192, gpu: capacity },
        reserved: { cpu: 0, mem: 0, gpu: used },
        usage: { cpu: 0, mem: 0, gpu: 0 },
        history: [],
        activeTasks: 0,
        labels: {},
        state: draining ? ('draining' as const) : ('active' as const),
        // Most VMs list their devices; the others keep the summed model.
        ...(listed || gpus.length === 0 ? { gpus } : {}),
      };
    });
}

function gpuTaskArb(id: string): fc.Arbitrary<Task> {
  return fc
    .record({
      gpu: fc.constantFrom(0, 100, 250, 500, 750, 1000, 2000, 3000, 1500),
      models: fc.option(fc.subarray([...GPU_MODELS, 'C'], { minLength: 1 }), { nil: undefined }),
    })
    .map(({ gpu, models }) => ({
      ...task(id, { cpu: 100, mem: 64, gpu }, {}, GPU_DIMS),
      ...(models === undefined ? {} : { gpuModels: models }),
    }));
}

const deviceScenarioArb = fc.record({
  vms: fc
    .integer({ min: 0, max: 6 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => gpuVmArb(`g-${i}`)))),
  tasks: fc
    .integer({ min: 1, max: 20 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => gpuTaskArb(`t-${i}`)))),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** The test's own device predicate: which local devices of `v` could take `t` now (null: summed model). */
function deviceOptions(
  v: Vm,
  used: number[] | undefined,
  t: Task,
): { count: number; milli: number; ok: number[] } | null {
  const gpu = t.requirements.gpu!;
  const count = gpu <= 1000 ? 1 : gpu / 1000;
  const milli = gpu <= 1000 ? gpu : 1000;
  if (v.gpus === undefined) return null;
  const ok: number[] = [];
  v.gpus.forEach((g, k) => {
    if (t.gpuModels !== undefined && !t.gpuModels.includes(g.model)) return;
    if (count === 1 ? used![k]! + milli <= g.milli : used![k] === 0 && g.milli === 1000) ok.push(k);
  });
  return { count, milli, ok };
}

function assertDeviceContract(vms: readonly Vm[], tasks: readonly Task[], decisions: Decision[]) {
  expect(decisions).toHaveLength(tasks.length);
  const used = new Map(vms.map((v) => [v.id, v.gpus?.map((g) => g.reserved ?? 0)]));
  const summed = new Map(vms.map((v) => [v.id, v.reserved.gpu!]));
  const anyListed = vms.some((v) => v.gpus !== undefined);
  const placeable = (v: Vm, t: Task): boolean => {
    const gpu = t.requirements.gpu!;
    if (v.state !== 'active' || summed.get(v.id)! + gpu > v.capacity.gpu!) return false;
    if (gpu === 0) return true;
    // GPU models can only be checked on device lists; without any list, gpu is one summed number.
    if (t.gpuModels !== undefined && v.gpus === undefined) return false;
    if (!anyListed) return true;
    if (gpu > 1000 && gpu % 1000 !== 0) return false;
    const options = deviceOptions(v, used.get(v.id), t);
    return options === null || options.ok.length >= options.count;
  };
  for (const decision of decisions) {
    const t = decision.task;
    const gpu = t.requirements.gpu!;
    if (decision.status === 'rejected') {
      // Only cpu 100 is asked of 8000: a rejection must be for want of GPU room, models or shape.
      expect(vms.filter((v) => placeable(v, t)).map((v) => v.id)).toEqual([]);
      continue;
    }
    const v = vms.find((x) => x.id === decision.vmId)!;
    expect(placeable(v, t)).toBe(true);
    summed.set(v.id, summed.get(v.id)! + gpu);
    const options = gpu === 0 ? null : deviceOptions(v, used.get(v.id), t);
    if (options === null) {
      // No device demand (no GPU asked, or a VM without a device list): no device reported.
      if (gpu === 0 || v.gpus === undefined) expect(decision.devices ?? []).toEqual([]);
      continue;
    }
    const devices = decision.devices!;
    expect(devices).toHaveLength(options.count);
    expect(new Set(devices).size).toBe(devices.length);
    for (const k of devices) {
      expect(options.ok).toContain(k);
      const row = used.get(v.id)!;
      row[k] = row[k]! + options.milli;
      expect(row[k]).toBeLessThanOrEqual(v.gpus![k]!.milli);
      expect(row[k]).toBeLessThanOrEqual(1000);
    }
  }
}

export function describeAlgorithmContract(name: string): void {
  describe(`placement algorithm contract: ${name}`, () => {
    it('places only on active VMs whose labels match, never past capacity in any dimension, and rejects only with cause', () => {
      fc.assert(
        fc.property(scenarioArb, ({ dims, vms, tasks, seed }) => {
          const decisions = scheduleBatch(tasks, vms, name, { now: NOW, seed, dimensions: dims });
          assertContract(vms, tasks, decisions, dims);
        }),
        { numRuns: 150 },
      );
    });

    it('gives the same decisions for the same inputs and seed, and leaves its inputs untouched', () => {
      fc.assert(
        fc.property(scenarioArb, ({ dims, vms, tasks, seed }) => {
          const vmsBefore = structuredClone(vms);
          const tasksBefore = structuredClone(tasks);
          const first = scheduleBatch(tasks, vms, name, { now: NOW, seed, dimensions: dims });
          const second = scheduleBatch(tasks, vms, name, { now: NOW, seed, dimensions: dims });
          expect(second).toEqual(first);
          expect(vms).toEqual(vmsBefore);
          expect(tasks).toEqual(tasksBefore);
        }),
        { numRuns: 60 },
      );
    });

    it('keeps the contract across batches on one reused Scheduler and FleetState', () => {
      fc.assert(
        fc.property(scenarioArb, ({ dims, vms, tasks, more, seed }) => {
          const scheduler = new Scheduler({ algorithm: name, seed, dimensions: dims });
          const fleet = FleetState.from(vms, dims);
          const decisions = [
            ...scheduler.schedule(tasks, fleet, NOW),
            ...scheduler.schedule(more, fleet, NOW),
          ];
          assertContract(vms, [...tasks, ...more], decisions, dims);
        }),
        { numRuns: 40 },
      );
    });

    it('on VMs that list GPU devices: a share on ONE device, multi-GPU tasks on distinct whole devices, no device over its milli', () => {
      fc.assert(
        fc.property(deviceScenarioArb, ({ vms, tasks, seed }) => {
          const decisions = scheduleBatch(tasks, vms, name, { now: NOW, seed, dimensions: GPU_DIMS });
          assertDeviceContract(vms, tasks, decisions);
        }),
        { numRuns: 150 },
      );
    });

    it('rejects, naming the binding dimension, a task larger than any VM', () => {
      const fleet = [
        vm('small', { capacity: { cpu: 2000, mem: 4096 } }),
        vm('big', { capacity: { cpu: 4000, mem: 4096 }, reserved: { cpu: 1000 } }),
      ];
      const [decision] = scheduleBatch([task('huge', { cpu: 5000, mem: 1024 })], fleet, name, { now: NOW });
      expect(decision).toMatchObject({ status: 'rejected', vmId: null, score: null });
      expect(decision!.reason).toBe('no feasible VM: needs cpu 5000 millicores, largest free is 3000');
    });

    it('rejects when every VM is draining or none matches the constraints', () => {
      const fleet = [
        vm('a', { labels: { zone: 'a' }, state: 'draining' }),
        vm('b', { labels: { zone: 'b' } }),
      ];
      const decisions = scheduleBatch(
        [
          task('drain', { cpu: 1 }, { constraints: { zone: 'a' } }),
          task('nowhere', { cpu: 1 }, { constraints: { zone: 'c' } }),
        ],
        fleet,
        name,
        { now: NOW },
      );
      const byId = new Map(decisions.map((d) => [d.task.id, d]));
      expect(byId.get('drain')).toMatchObject({
        status: 'rejected',
        reason: 'no feasible VM: all matching VMs draining (1)',
      });
      expect(byId.get('nowhere')).toMatchObject({
        status: 'rejected',
        reason: 'no VM matches constraints zone=c',
      });
    });

    it('rejects a task whose deadline has passed, saying when, and places nothing for it', () => {
      const fleet = [vm('idle-a'), vm('idle-b')];
      const decisions = scheduleBatch(
        [
          task('overdue', { cpu: 1 }, { deadline: NOW_S - 600 }),
          task('due-now', { cpu: 1 }, { deadline: NOW_S }),
          task('on-time', { cpu: 1 }, { deadline: NOW_S + 3600 }),
        ],
        fleet,
        name,
        { now: NOW },
      );
      const byId = new Map(decisions.map((d) => [d.task.id, d]));
      // NOW is 2025-11-04T23:46:40Z (fixtures.ts).
      expect(byId.get('overdue')).toEqual(
        expect.objectContaining({
          status: 'rejected',
          vmId: null,
          score: null,
          before: null,
          after: null,
          reason: 'deadline passed: 2025-11-04T23:36:40Z is before the decision at 2025-11-04T23:46:40Z',
        }),
      );
      expect(byId.get('due-now')).toMatchObject({ status: 'rejected', vmId: null });
      expect(byId.get('due-now')!.reason).toMatch(/^deadline passed: 2025-11-04T23:46:40Z /);
      // Only the on-time task reserved anything: one assignment, one task's worth of cpu.
      const assigned = decisions.filter((d) => d.status === 'assigned');
      expect(assigned.map((d) => d.task.id)).toEqual(['on-time']);
      expect(assigned[0]!.after!.reserved.cpu).toBe(1);
    });

    it('tells a task that fits once room frees (capacity) from one that never fits or matches no VM', () => {
      const fleet = [
        vm('full', { capacity: { cpu: 2000, mem: 4096 }, reserved: { cpu: 2000 }, labels: { zone: 'a' } }),
        vm('draining-big', { capacity: { cpu: 8000, mem: 4096 }, labels: { zone: 'b' }, state: 'draining' }),
      ];
      const decisions = scheduleBatch(
        [
          task('wait', { cpu: 1000 }),
          task('wait-for-draining-shape', { cpu: 6000 }),
          task('too-big', { cpu: 9000 }),
          task('too-big-in-zone', { cpu: 3000 }, { constraints: { zone: 'a' } }),
          task('no-zone', { cpu: 1 }, { constraints: { zone: 'z' } }),
        ],
        fleet,
        name,
        { now: NOW },
      );
      const kinds = Object.fromEntries(decisions.map((d) => [d.task.id, [d.status, d.rejection]]));
      expect(kinds).toEqual({
        wait: ['rejected', 'capacity'],
        'wait-for-draining-shape': ['rejected', 'capacity'],
        'too-big': ['rejected', 'never-fits'],
        'too-big-in-zone': ['rejected', 'never-fits'],
        'no-zone': ['rejected', 'constraints'],
      });
    });

    it('rejects every task on an empty fleet', () => {
      const decisions = scheduleBatch([task('t', { cpu: 1 })], [], name, { now: NOW });
      expect(decisions).toEqual([
        expect.objectContaining({
          status: 'rejected',
          rejection: 'never-fits',
          reason: 'no feasible VM: the fleet has no VMs',
        }),
      ]);
    });
  });
}
