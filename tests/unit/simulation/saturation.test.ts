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
    expect(run).toEqual({ seed: 42, tasks: 3, placed: 2, rejected: 1, allocated_share: 0.6 });
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
  });

  it('refuses a pod list with no GPU demand', () => {
    expect(() => saturationRun([node('n', 1)], [pod('c', 0, 0)], 'best-fit', 1)).toThrow(
      /no pod asks for any GPU/,
    );
  });
});
