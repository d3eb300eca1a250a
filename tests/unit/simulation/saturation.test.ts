import { describe, expect, it } from 'vitest';
import { type OpenbNode, type OpenbPod, openbRequirements } from '../../../lib/simulation/openb';
import { inflatePods, saturationReplay, saturationRun } from '../../../lib/simulation/saturation';

const node = (sn: string, gpu: number, model = 'T4'): OpenbNode => ({
  sn,
  cpu_milli: 64_000,
  memory_mib: 262_144,
  gpu,
  model,
});
const pod = (name: string, numGpu: number, gpuMilli: number, cpu = 1000): OpenbPod => ({
  name,
  cpu_milli: cpu,
  memory_mib: 1024,
  num_gpu: numGpu,
  gpu_milli: gpuMilli,
  gpu_spec: '',
});

describe('saturation replay (Weng et al.)', () => {
  const pods = [pod('share', 1, 300), pod('whole', 1, 1000), pod('cpu', 0, 0), pod('multi', 2, 1000)];

  it('samples pods with the seed until their GPU demand reaches 130 % of capacity, reproducibly', () => {
    const a = inflatePods(pods, 10_000, 42);
    const demand = a.reduce((sum, p) => sum + openbRequirements(p).gpu!, 0);
    expect(demand).toBeGreaterThanOrEqual(13_000);
    // Sampling stops at the first pod that crosses the line: at most one pod (2000) beyond it.
    expect(demand).toBeLessThan(13_000 + 2000);
    expect(inflatePods(pods, 10_000, 42)).toEqual(a);
    expect(inflatePods(pods, 10_000, 43)).not.toEqual(a);
  });

  it('reads the allocation when arrived GPU demand reaches capacity, with GPUs as devices', () => {
    // One node with 2 GPUs; every pod asks 600 milli of one GPU. Arrivals up to 2000: three pods
    // (1800). Two fit, one per GPU; the third does not fit in the 400 left on either, although
    // 800 are free in sum. Allocation 1200 / 2000.
    const run = saturationRun([node('n', 2)], [pod('p', 1, 600)], 'best-fit', 42);
    // Per device: both GPUs partly used, 400 of 2000 milli-GPU stranded on them.
    expect(run).toEqual({
      seed: 42,
      tasks: 3,
      placed: 2,
      rejected: 1,
      allocated_share: 0.6,
      gpu_devices: { devices: 2, full: 0, partial: 2, idle: 0, stranded_share: 0.4 },
    });
  });

  it('counts devices full, partly used and idle at the report point', () => {
    // Two nodes of 4 GPUs; whole-GPU pods only: up to 8000 arrived, every GPU either full or idle.
    const run = saturationRun([node('a', 4), node('b', 4)], [pod('whole', 1, 1000)], 'best-fit', 7);
    expect(run.gpu_devices).toEqual({
      devices: 8,
      full: run.placed,
      partial: 0,
      idle: 8 - run.placed,
      stranded_share: 0,
    });
    const shares = saturationRun([node('a', 4)], [pod('s', 1, 250)], 'best-fit', 7);
    // 16 shares of 250 arrive (4000); best-fit fills GPU by GPU: all four full, nothing stranded.
    expect(shares.gpu_devices).toEqual({ devices: 4, full: 4, partial: 0, idle: 0, stranded_share: 0 });
  });

  it('never lets a CPU-only node take GPU work, and reports 0-1 shares averaged over the seeds', () => {
    const [row] = saturationReplay([node('g', 4), { ...node('c', 0), model: '' }], pods, {
      algorithms: ['fgd'],
      seeds: [1, 2, 3],
    });
    expect(row!.runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    const mean = row!.runs.reduce((s, r) => s + r.allocated_share, 0) / 3;
    expect(row!.allocated_share).toBeCloseTo(mean, 12);
    expect(row!.allocated_share_min).toBeLessThanOrEqual(row!.allocated_share);
    expect(row!.allocated_share_max).toBeLessThanOrEqual(1);
    expect(row!.tasks).toBe(row!.placed + row!.rejected);
    // Device use: the fleet's 4 GPUs (the CPU node has none), averaged counts that add up.
    const use = row!.gpu_devices;
    expect(use.devices).toBe(4);
    expect(use.full + use.partial + use.idle).toBe(4);
    const stranded = row!.runs.reduce((s, r) => s + r.gpu_devices.stranded_share, 0) / 3;
    expect(use.stranded_share).toBeCloseTo(stranded, 12);
  });

  it('refuses a pod list with no GPU demand', () => {
    expect(() => saturationRun([node('n', 1)], [pod('c', 0, 0)], 'best-fit', 1)).toThrow(
      /no pod asks for any GPU/,
    );
  });
});
