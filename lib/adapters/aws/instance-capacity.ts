import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { Dimensions, ResourceVector } from '../../model/resources';
import type { GpuDevice } from '../../model/vm';
import { GPU_MODEL_PATTERN } from '../../schemas/task-input';

/**
 * Allocatable capacity of an EC2 instance type, in the units of lib/model/resources.ts:
 *
 * | dimension | source (DescribeInstanceTypes)                                   | unit        |
 * |-----------|------------------------------------------------------------------|-------------|
 * | cpu       | VCpuInfo.DefaultVCpus x 1000                                     | millicores  |
 * | mem       | MemoryInfo.SizeInMiB                                             | MiB         |
 * | io        | EbsInfo.EbsOptimizedInfo.BaselineThroughputInMBps (0 without)    | MB/s        |
 * | bw        | default network card BaselineBandwidthInGbps x 1000, else the    | Mbit/s      |
 * |           | NetworkPerformance text (see networkPerformanceMbps)             |             |
 * | gpu       | sum of GpuInfo.Gpus[].Count x 1000                               | milli-GPU   |
 *
 * Baselines, not burst figures: a scheduler that packs to the burst rate overcommits once the
 * instance's burst credits run out. Any other configured dimension has capacity 0 (nothing fits
 * that needs it), so a typo in a dimension name shows up as rejections rather than overcommit.
 */
export function instanceTypeCapacity(info: InstanceTypeInfo, dimensions: Dimensions): ResourceVector {
  const known: ResourceVector = {
    cpu: (info.VCpuInfo?.DefaultVCpus ?? 0) * 1000,
    mem: info.MemoryInfo?.SizeInMiB ?? 0,
    io: info.EbsInfo?.EbsOptimizedInfo?.BaselineThroughputInMBps ?? 0,
    bw: networkBaselineMbps(info),
    gpu: (info.GpuInfo?.Gpus ?? []).reduce((n, g) => n + (g.Count ?? 0), 0) * 1000,
  };
  const capacity: ResourceVector = {};
  for (const d of dimensions) capacity[d] = known[d] ?? 0;
  return capacity;
}

function networkBaselineMbps(info: InstanceTypeInfo): number {
  const network = info.NetworkInfo;
  const cardIndex = network?.DefaultNetworkCardIndex ?? 0;
  const card = network?.NetworkCards?.find((c) => (c.NetworkCardIndex ?? 0) === cardIndex);
  if (card?.BaselineBandwidthInGbps !== undefined) return Math.round(card.BaselineBandwidthInGbps * 1000);
  return networkPerformanceMbps(network?.NetworkPerformance ?? '');
}

/**
 * Older instance types publish only a label. "N Gigabit" is taken at its word; "Up to N Gigabit" is a
 * burst ceiling, so only a tenth of it counts (AWS documents baselines of roughly 5-20% for those);
 * the qualitative labels get conservative figures from AWS's published baselines of such types.
 */
export function networkPerformanceMbps(label: string): number {
  const text = label.trim().toLowerCase();
  const gigabit = /^(up to\s+)?(\d+(?:\.\d+)?)\s*gigabit/.exec(text);
  if (gigabit) return Math.round(Number(gigabit[2]) * 1000 * (gigabit[1] ? 0.1 : 1));
  const qualitative: Record<string, number> = {
    'very low': 50,
    low: 100,
    'low to moderate': 300,
    moderate: 500,
    high: 1000,
  };
  return qualitative[text] ?? 0;
}

/**
 * The GPU devices of an instance type, one per physical GPU, from GpuInfo.Gpus (each entry is a
 * model with a Count): model = the entry's Name (e.g. "A100", "A10G", "T4"; a name outside the
 * device-name rule is made to fit by replacing the other characters with "-"), milli = 1000. So a
 * p4d.24xlarge has 8 devices "A100", a g5.12xlarge 4 "A10G". Undefined when the type has no GPU, so
 * such VMs keep no device list. The order is GpuInfo's, which is the order the devices are numbered
 * in (CUDA_VISIBLE_DEVICES 0..n-1) on instances with one GPU model, every current type.
 */
export function instanceTypeDevices(info: InstanceTypeInfo): GpuDevice[] | undefined {
  const devices: GpuDevice[] = [];
  for (const gpu of info.GpuInfo?.Gpus ?? []) {
    const model = deviceModelName(gpu.Name ?? gpu.Manufacturer ?? 'GPU');
    for (let k = 0; k < (gpu.Count ?? 0); k++) devices.push({ model, milli: 1000 });
  }
  return devices.length === 0 ? undefined : devices;
}

function deviceModelName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return GPU_MODEL_PATTERN.test(cleaned) ? cleaned : 'GPU';
}
