import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import type { GpuDevice, Vm } from '../../../lib/model/vm';
import { deviceShape } from '../../../lib/scheduling/devices';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { Scheduler, scheduleBatch } from '../../../lib/scheduling/schedule';
import { NOW, task, vm } from './fixtures';

const DIMS = ['cpu', 'mem', 'gpu'] as const;

/** A VM with the given devices (model, milli, reserved) and capacity.gpu their sum. */
function gpuVm(id: string, gpus: GpuDevice[], extra: Partial<Vm> = {}): Vm {
  const capacity = gpus.reduce((s, g) => s + g.milli, 0);
  const used = gpus.reduce((s, g) => s + (g.reserved ?? 0), 0);
  return {
    ...vm(id, { capacity: { cpu: 64_000, mem: 262_144, gpu: capacity }, reserved: { gpu: used } }, DIMS),
    gpus,
    ...extra,
  };
}
const gpuTask = (id: string, gpu: number, gpuModels?: string[]) => ({
  ...task(id, { cpu: 1000, mem: 1024, gpu }, {}, DIMS),
  ...(gpuModels === undefined ? {} : { gpuModels }),
});
const whole = (model = 'T4'): GpuDevice => ({ model, milli: 1000 });

describe('GPU devices', () => {
  it.each([
    [460, { count: 1, milli: 460 }],
    [1000, { count: 1, milli: 1000 }],
    [4000, { count: 4, milli: 1000 }],
  ])('reads gpu %d milli-GPU as %j', (gpu, shape) => {
    expect(deviceShape(gpu)).toEqual(shape);
  });

  it('has no device shape for 1500 milli-GPU and rejects such a task for good, saying why', () => {
    expect(deviceShape(1500)).toMatch(/neither a share of one GPU/);
    const [decision] = scheduleBatch([gpuTask('t', 1500)], [gpuVm('a', [whole(), whole()])], 'best-fit', {
      now: NOW,
      dimensions: DIMS,
    });
    expect(decision).toMatchObject({ status: 'rejected', rejection: 'never-fits' });
    expect(decision!.reason).toMatch(/gpu 1500 milli-GPU is neither/);
  });

  it('puts a share inside ONE device: 2 x 600 fit a 2-GPU VM, a third 600 does not though 800 are free in sum', () => {
    const decisions = scheduleBatch(
      [gpuTask('a', 600), gpuTask('b', 600), gpuTask('c', 600)],
      [gpuVm('two', [whole(), whole()])],
      'best-fit',
      { now: NOW, dimensions: DIMS },
    );
    expect(decisions.map((d) => [d.status, d.devices])).toEqual([
      ['assigned', [0]],
      ['assigned', [1]],
      ['rejected', undefined],
    ]);
    expect(decisions[2]!.rejection).toBe('capacity');
    expect(decisions[2]!.reason).toBe(
      'no feasible VM: 1 VMs have the room in every dimension but none has one GPU with 600 milli-GPU free',
    );
  });

  it('packs a share on the device with the least room that holds it, keeping whole GPUs whole', () => {
    const fleet = [
      gpuVm('a', [whole(), { model: 'T4', milli: 1000, reserved: 700 }, { ...whole(), reserved: 500 }]),
    ];
    const [decision] = scheduleBatch([gpuTask('s', 300)], fleet, 'least-loaded', {
      now: NOW,
      dimensions: DIMS,
    });
    expect(decision!.devices).toEqual([1]);
  });

  it('gives a multi-GPU task distinct whole devices of one VM, skipping partly used ones', () => {
    const fleet = [gpuVm('a', [{ ...whole(), reserved: 100 }, whole(), whole(), whole()])];
    const decisions = scheduleBatch([gpuTask('m', 3000), gpuTask('n', 1000)], fleet, 'best-fit', {
      now: NOW,
      dimensions: DIMS,
    });
    expect(decisions.map((d) => d.devices)).toEqual([[1, 2, 3], undefined]);
    // The 1-GPU task cannot have the partly used device whole: it waits.
    expect(decisions[1]).toMatchObject({ status: 'rejected', rejection: 'capacity' });
  });

  it('tells never-fits (more GPUs than any VM has) from capacity (all busy now)', () => {
    const fleet = [gpuVm('a', [{ ...whole(), reserved: 1000 }, whole()])];
    const decisions = scheduleBatch([gpuTask('three', 3000), gpuTask('two', 2000)], fleet, 'best-fit', {
      now: NOW,
      dimensions: DIMS,
    });
    expect(decisions.map((d) => d.rejection)).toEqual(['never-fits', 'capacity']);
  });

  it('restricts to GPU models: any one of gpuModels, never another', () => {
    const fleet = [gpuVm('t4', [whole('T4')]), gpuVm('v100', [whole('V100M16')])];
    const decisions = scheduleBatch(
      [gpuTask('v', 500, ['V100M16', 'V100M32']), gpuTask('p', 500, ['P100'])],
      fleet,
      'least-loaded',
      { now: NOW, dimensions: DIMS },
    );
    expect(decisions[0]).toMatchObject({ status: 'assigned', vmId: 'v100', devices: [0] });
    expect(decisions[1]).toMatchObject({ status: 'rejected', rejection: 'never-fits' });
  });

  it('names the field of a bad device list', () => {
    const bad = { ...gpuVm('a', [whole()]), gpus: [{ model: 'T4', milli: 1500 }] };
    const mismatch = { ...gpuVm('b', [whole()]), capacity: { cpu: 1, mem: 1, gpu: 2000 } };
    let error: unknown;
    try {
      FleetState.from([bad, mismatch], DIMS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { field: 'fleet.0.gpus.0.milli', message: 'must be an integer from 1 to 1000' },
      { field: 'fleet.0.gpus', message: 'devices add up to 1500 milli-GPU but capacity.gpu is 1000' },
      { field: 'fleet.1.gpus', message: 'devices add up to 1000 milli-GPU but capacity.gpu is 2000' },
    ]);
  });

  it('carries device reservations back out (toVms) and into the next batch', () => {
    const fleet = FleetState.from([gpuVm('a', [whole(), whole()])], DIMS);
    const scheduler = new Scheduler({ algorithm: 'best-fit', dimensions: DIMS });
    scheduler.schedule([gpuTask('x', 700)], fleet, NOW);
    const [out] = fleet.toVms();
    expect(out!.gpus).toEqual([
      { model: 'T4', milli: 1000, reserved: 700 },
      { model: 'T4', milli: 1000, reserved: 0 },
    ]);
    const [next] = scheduleBatch([gpuTask('y', 1000)], [out!], 'best-fit', { now: NOW, dimensions: DIMS });
    expect(next!.devices).toEqual([1]);
  });

  it('leaves fleets without device lists on the summed model (1500 milli-GPU fits 2000 free)', () => {
    const plain = vm('p', { capacity: { cpu: 4000, mem: 4096, gpu: 2000 } }, DIMS);
    const [decision] = scheduleBatch([gpuTask('t', 1500)], [plain], 'best-fit', {
      now: NOW,
      dimensions: DIMS,
    });
    expect(decision).toMatchObject({ status: 'assigned', vmId: 'p' });
    expect(decision!.devices).toBeUndefined();
  });
});

describe('fgd', () => {
  it('fills a partly used GPU rather than breaking a whole one that best-fit would take', () => {
    // Learned workload: mostly whole-GPU tasks, so a half-used GPU is fragment for them.
    const scheduler = new Scheduler({ algorithm: 'fgd', dimensions: DIMS });
    const learn = FleetState.from(
      [
        gpuVm(
          'big',
          Array.from({ length: 8 }, () => whole()),
        ),
      ],
      DIMS,
    );
    scheduler.schedule(
      [...Array.from({ length: 19 }, (_, k) => gpuTask(`w${k}`, 1000)), gpuTask('h', 500)],
      learn,
      NOW,
    );
    // A: CPU nearly full, one whole free GPU (best-fit's tightest fit). B: roomy, one GPU half used.
    const a = gpuVm('a', [whole()], {
      capacity: { cpu: 8000, mem: 262_144, gpu: 1000 },
      reserved: { cpu: 6000, mem: 0, gpu: 0 },
    });
    const b = gpuVm('b', [whole(), { ...whole(), reserved: 500 }]);
    const share = gpuTask('share', 500);
    const [chosen] = scheduler.schedule([share], FleetState.from([a, b], DIMS), NOW);
    expect(chosen).toMatchObject({ status: 'assigned', vmId: 'b', devices: [1] });
    // Learned workload at this point: whole-GPU tasks only (refreshed after 16 tasks). On b the half
    // GPU was fragment for them and is now used: growth -500; on a the whole GPU would become half.
    expect(chosen!.reason).toMatch(/^least fragmentation growth of 2 feasible VMs: -500 milli-GPU /);
    const [bestFit] = scheduleBatch([share], [a, b], 'best-fit', { now: NOW, dimensions: DIMS });
    expect(bestFit!.vmId).toBe('a');
  });
});

describe('fgd: scarce GPU models and its caches', () => {
  it('puts a task that may run anywhere on the GPU model that model-constrained tasks need least', () => {
    const scheduler = new Scheduler({ algorithm: 'fgd', dimensions: DIMS });
    // Learned workload: whole-GPU tasks, a third of them allowed only on A100.
    const learn = FleetState.from(
      [
        gpuVm(
          'a',
          Array.from({ length: 8 }, () => whole('A100')),
        ),
        gpuVm(
          't',
          Array.from({ length: 8 }, () => whole()),
        ),
      ],
      DIMS,
    );
    scheduler.schedule(
      Array.from({ length: 24 }, (_, k) =>
        k % 3 === 0 ? gpuTask(`c${k}`, 1000, ['A100']) : gpuTask(`w${k}`, 1000),
      ),
      learn,
      NOW,
    );
    // Two empty VMs, alike but for the model; the A100 one comes first, so a plain first-fit would take it.
    const fleet = FleetState.from(
      [gpuVm('a100', [whole('A100'), whole('A100')]), gpuVm('t4', [whole(), whole()])],
      DIMS,
    );
    const [free] = scheduler.schedule([gpuTask('any', 1000)], fleet, NOW);
    expect(free).toMatchObject({ status: 'assigned', vmId: 't4' });
    const [bound] = scheduler.schedule([gpuTask('only', 1000, ['A100'])], fleet, NOW);
    expect(bound).toMatchObject({ status: 'assigned', vmId: 'a100' });
  });

  it('decides as if it recomputed every growth: its cache follows each change to a VM', () => {
    // One scheduler keeps one fleet (and its growth cache) for the whole sequence; the other gets a
    // fresh FleetState, so a fresh cache, before every task. Same tasks, same learned workload: the
    // decisions must agree one by one, device indexes included.
    const models = ['T4', 'A100'];
    const vms = Array.from({ length: 12 }, (_, k) =>
      gpuVm(
        `v${k}`,
        Array.from({ length: 1 + (k % 4) }, () => whole(models[k % 2])),
        k % 3 === 0 ? { capacity: { cpu: 8000, mem: 262_144, gpu: (1 + (k % 4)) * 1000 } } : {},
      ),
    );
    const shapes = [1000, 600, 400, 250, 2000, 810, 0];
    const tasks = Array.from({ length: 60 }, (_, k) =>
      gpuTask(`t${k}`, shapes[(k * 5) % shapes.length]!, k % 7 === 0 ? ['A100'] : undefined),
    );
    const kept = new Scheduler({ algorithm: 'fgd', dimensions: DIMS });
    const fresh = new Scheduler({ algorithm: 'fgd', dimensions: DIMS });
    const fleet = FleetState.from(vms, DIMS);
    let other = FleetState.from(vms, DIMS);
    let assigned = 0;
    for (const t of tasks) {
      const [a] = kept.schedule([t], fleet, NOW);
      const [b] = fresh.schedule([t], other, NOW);
      expect(a).toEqual(b);
      if (a!.status === 'assigned') assigned++;
      other = FleetState.from(other.toVms(), DIMS);
    }
    expect(assigned).toBeGreaterThan(20);
    expect(assigned).toBeLessThan(tasks.length); // the fleet filled: the late decisions were on full VMs
    expect(fleet.revision.some((r) => r > 1)).toBe(true);
  });

  it('answers fits from its per-VM summaries exactly as a pass over the devices does', () => {
    // Random device states on 4-GPU VMs; every demand shape without models.
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const levels = [0, 250, 500, 810, 1000];
    const vms = Array.from({ length: 200 }, (_, k) =>
      gpuVm(
        `v${k}`,
        Array.from({ length: 4 }, () => ({
          ...whole(),
          reserved: levels[Math.floor(next() * levels.length)]!,
        })),
      ),
    );
    const fleet = FleetState.from(vms, DIMS);
    const devices = fleet.devices!;
    for (const demand of [
      { count: 1, milli: 190, models: null },
      { count: 1, milli: 500, models: null },
      { count: 1, milli: 1000, models: null },
      { count: 2, milli: 1000, models: null },
      { count: 4, milli: 1000, models: null },
    ]) {
      for (let i = 0; i < fleet.size; i++) {
        expect(devices.fits(i, demand)).toBe(devices.usable(i, demand).length >= demand.count);
      }
    }
    // After a reservation and a release the summaries still agree.
    devices.reserve(0, [0], 250);
    devices.release(1, [0], 1000);
    for (let i = 0; i < 2; i++) {
      const demand = { count: 1, milli: 1000, models: null };
      expect(devices.fits(i, demand)).toBe(devices.usable(i, demand).length >= 1);
    }
  });
});
