import { type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  type _InstanceType,
  CreateTagsCommand,
  DescribeInstanceTypesCommand,
  type InstanceTypeInfo,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2FleetSource, instanceTypeCapacity, networkPerformanceMbps } from '../../lib/adapters/aws';
import { usageSamples } from '../../lib/adapters/aws/metric-queries';
import { ValidationError } from '../../lib/errors';
import { ManualClock } from '../../lib/ports/clock';
import { cloudWatchClient, ec2Client } from './helpers/clients';
import { uniqueName } from './helpers/names';

describe('instance type capacity mapping', () => {
  it.each([
    // [label, Mbit/s]: "N Gigabit" as stated; "Up to N" counts a tenth of the ceiling
    ['10 Gigabit', 10_000],
    ['25 Gigabit', 25_000],
    ['Up to 5 Gigabit', 500],
    ['Up to 12.5 Gigabit', 1250],
    ['Low to Moderate', 300],
    ['Moderate', 500],
    ['High', 1000],
    ['something new', 0],
  ])('network performance %j is %d Mbit/s', (label, mbps) => {
    expect(networkPerformanceMbps(label)).toBe(mbps);
  });

  it('maps vCPUs, memory, EBS baseline, network baseline and GPUs into the model units', () => {
    const info: InstanceTypeInfo = {
      InstanceType: 'g5.xlarge',
      VCpuInfo: { DefaultVCpus: 4 },
      MemoryInfo: { SizeInMiB: 16_384 },
      EbsInfo: { EbsOptimizedInfo: { BaselineThroughputInMBps: 87.5 } },
      NetworkInfo: {
        NetworkPerformance: 'Up to 10 Gigabit',
        DefaultNetworkCardIndex: 0,
        NetworkCards: [{ NetworkCardIndex: 0, BaselineBandwidthInGbps: 2.5 }],
      },
      GpuInfo: { Gpus: [{ Count: 1 }] },
    };
    // cpu 4 x 1000, mem as is, io the EBS baseline, bw 2.5 Gbit/s (baseline wins over the label), 1 GPU
    expect(instanceTypeCapacity(info, ['cpu', 'mem', 'io', 'bw', 'gpu', 'fpga'])).toEqual({
      cpu: 4000,
      mem: 16_384,
      io: 87.5,
      bw: 2500,
      gpu: 1000,
      fpga: 0,
    });
  });

  it('falls back to the network performance label and to zero for missing EBS figures', () => {
    const info: InstanceTypeInfo = {
      VCpuInfo: { DefaultVCpus: 2 },
      MemoryInfo: { SizeInMiB: 1024 },
      NetworkInfo: { NetworkPerformance: 'Low' },
    };
    expect(instanceTypeCapacity(info, ['cpu', 'mem', 'io', 'bw'])).toEqual({
      cpu: 2000,
      mem: 1024,
      io: 0,
      bw: 100,
    });
  });
});

describe('CloudWatch results to usage samples', () => {
  const t = (minute: number) => new Date(Date.UTC(2026, 10, 21, 6, minute));
  const capacities = new Map([['i-a', { cpu: 2000, mem: 4096, io: 100, bw: 1000 }]]);

  it('orders samples by time, converts each metric and counts a missing point as 0', () => {
    const samples = usageSamples(
      [
        // q<instance>_<metric index in INSTANCE_METRICS>; results may come newest first
        { Id: 'q0_0', Timestamps: [t(2), t(1)], Values: [50, 25] },
        { Id: 'q0_1', Timestamps: [t(1)], Values: [10] },
        { Id: 'q0_2', Timestamps: [t(2)], Values: [30e6] },
        { Id: 'q0_3', Timestamps: [t(2)], Values: [30e6] },
        { Id: 'q0_4', Timestamps: [t(1)], Values: [15e6] },
        { Id: 'q0_5', Timestamps: [t(1)], Values: [0] },
      ],
      ['i-a'],
      capacities,
      60,
      ['cpu', 'mem', 'io', 'bw'],
    );
    expect(samples.get('i-a')).toEqual([
      // minute 1: cpu 25% of 2000; mem 10% of 4096; no EBS; 15e6 B x 8 / 60 s = 2 Mbit/s
      { cpu: 500, mem: 409.6, io: 0, bw: 2 },
      // minute 2: cpu 50% of 2000; no mem point; (30e6 + 30e6) B / 60 s = 1 MB/s; no network
      { cpu: 1000, mem: 0, io: 1, bw: 0 },
    ]);
  });
});

describe('Ec2FleetSource on the emulator', () => {
  const ec2 = ec2Client();
  const cloudWatch = cloudWatchClient();
  const selector = { key: 'bcs:fleet', value: uniqueName('fleet') };
  const periodMs = 60_000;
  // The source reads whole periods before "now"; the clock sits at the start of the current minute.
  const now = Math.floor(Date.now() / periodMs) * periodMs;
  const launched: string[] = [];
  let types: Map<string, InstanceTypeInfo>;

  async function launch(instanceType: _InstanceType, tags: Record<string, string>): Promise<string> {
    const result = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: instanceType,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
    );
    const id = result.Instances![0]!.InstanceId!;
    launched.push(id);
    return id;
  }

  async function publish(namespace: string, instanceId: string, name: string, points: [number, number][]) {
    const data: MetricDatum[] = points.map(([minutesAgo, value]) => ({
      MetricName: name,
      Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
      Timestamp: new Date(now - minutesAgo * periodMs),
      Value: value,
    }));
    await cloudWatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
  }

  function source(overrides: Partial<ConstructorParameters<typeof Ec2FleetSource>[0]> = {}) {
    return new Ec2FleetSource({
      ec2,
      cloudWatch,
      selector,
      historyWindow: 3,
      clock: new ManualClock(now),
      ...overrides,
    });
  }

  let busy: string;
  let idle: string;
  let draining: string;

  beforeAll(async () => {
    busy = await launch('m5.large', { ...tagOf(selector), 'bcs:pool': 'batch', 'bcs:label:disk': 'ssd' });
    idle = await launch('t3.micro', tagOf(selector));
    draining = await launch('t3.micro', { ...tagOf(selector), 'bcs:draining': 'true' });
    await launch('m5.large', { 'bcs:fleet': 'some-other-fleet' });
    const stopped = await launch('m5.large', tagOf(selector));
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));

    const described = await ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 't3.micro'] }),
    );
    types = new Map(described.InstanceTypes!.map((t) => [t.InstanceType!, t]));

    // Four whole periods for `busy`; the oldest falls outside a window of 3.
    await publish('AWS/EC2', busy, 'CPUUtilization', [
      [4, 90],
      [3, 20],
      [2, 40],
      [1, 60],
    ]);
    await publish('CWAgent', busy, 'mem_used_percent', [[1, 50]]);
    await publish('AWS/EC2', busy, 'EBSReadBytes', [[1, 90e6]]);
    await publish('AWS/EC2', busy, 'EBSWriteBytes', [[1, 30e6]]);
    await publish('AWS/EC2', busy, 'NetworkIn', [[1, 45e6]]);
    await publish('AWS/EC2', busy, 'NetworkOut', [[1, 30e6]]);
    // A point in the period still in progress must not count as the current sample.
    await publish('AWS/EC2', busy, 'CPUUtilization', [[-0.5, 100]]);
  });

  afterAll(async () => {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: launched }));
    ec2.destroy();
    cloudWatch.destroy();
  });

  it('lists the running instances with the selector tag, with capacity from their instance type', async () => {
    const vms = await source().listVms();
    expect(vms.map((vm) => vm.id).sort()).toEqual([busy, idle, draining].sort());

    const byId = new Map(vms.map((vm) => [vm.id, vm]));
    for (const [id, type] of [
      [busy, 'm5.large'],
      [idle, 't3.micro'],
    ] as const) {
      const info = types.get(type)!;
      expect(byId.get(id)!.capacity).toEqual({
        cpu: info.VCpuInfo!.DefaultVCpus! * 1000,
        mem: info.MemoryInfo!.SizeInMiB!,
        io: info.EbsInfo!.EbsOptimizedInfo!.BaselineThroughputInMBps!,
        bw: info.NetworkInfo!.NetworkCards![0]!.BaselineBandwidthInGbps! * 1000,
      });
    }
  });

  it('labels VMs from tags and placement and marks the draining one', async () => {
    const byId = new Map((await source().listVms()).map((vm) => [vm.id, vm]));
    expect(byId.get(busy)!.labels).toEqual({
      pool: 'batch',
      disk: 'ssd',
      zone: expect.stringMatching(/^us-east-1[a-z]$/),
      instanceType: 'm5.large',
    });
    expect(byId.get(busy)!.state).toBe('active');
    expect(byId.get(draining)!.state).toBe('draining');
    expect(byId.get(idle)!.reserved).toEqual({ cpu: 0, mem: 0, io: 0, bw: 0 });
    expect(byId.get(idle)!.activeTasks).toBe(0);
  });

  it('reads usage and a history window from CloudWatch, converted to the capacity units', async () => {
    const byId = new Map((await source().listVms()).map((vm) => [vm.id, vm]));
    const vm = byId.get(busy)!;
    const cpu = vm.capacity.cpu!;
    const mem = vm.capacity.mem!;
    // Latest whole period: cpu 60%, mem 50%, (90e6 + 30e6) B / 60 s = 2 MB/s, (45e6 + 30e6) x 8 / 60 = 10 Mbit/s
    expect(vm.usage).toEqual({ cpu: 0.6 * cpu, mem: 0.5 * mem, io: 2, bw: 10 });
    // Window of 3, oldest first; the 90% four periods ago is outside it.
    expect(vm.history.map((s) => s.cpu)).toEqual([0.2 * cpu, 0.4 * cpu, 0.6 * cpu]);
    expect(vm.history.at(-1)).toEqual(vm.usage);

    expect(byId.get(idle)!.usage).toEqual({ cpu: 0, mem: 0, io: 0, bw: 0 });
    expect(byId.get(idle)!.history).toEqual([]);
  });

  it('reuses the fleet within the cache TTL and reads it again after', async () => {
    const clock = new ManualClock(now);
    const fleet = source({ clock, cacheTtlMs: 30_000 });
    const before = await fleet.listVms();

    const added = await launch('t3.micro', tagOf(selector));
    await ec2.send(
      new CreateTagsCommand({ Resources: [idle], Tags: [{ Key: 'bcs:draining', Value: 'true' }] }),
    );

    clock.advance(29_999);
    expect((await fleet.listVms()).map((vm) => vm.id)).toEqual(before.map((vm) => vm.id));

    clock.advance(1);
    const after = await fleet.listVms();
    expect(after.map((vm) => vm.id)).toContain(added);
    expect(after.find((vm) => vm.id === idle)!.state).toBe('draining');
  });

  it('shares one read between concurrent callers and hands each its own copy', async () => {
    const fleet = source();
    const [a, b] = await Promise.all([fleet.listVms(), fleet.listVms()]);
    expect(a).toEqual(b);
    expect(a[0]).not.toBe(b[0]);
  });

  it('rejects invalid options, naming the field', () => {
    expect(() => source({ periodSeconds: 90 })).toThrow(ValidationError);
    expect(() => source({ periodSeconds: 90 })).toThrow(/periodSeconds: must be a multiple of 60/);
    expect(() => source({ selector: { key: '', value: 'x' } })).toThrow(/selector\.key/);
  });
});

function tagOf(selector: { key: string; value: string }): Record<string, string> {
  return { [selector.key]: selector.value };
}
