import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { Ec2FleetSource } from '../../../lib/adapters/aws/ec2-fleet-source';
import { instanceTypeDevices } from '../../../lib/adapters/aws/instance-capacity';
import { ManualClock } from '../../../lib/ports/clock';
import { FleetState } from '../../../lib/scheduling/fleet-state';

/** GpuInfo of DescribeInstanceTypes as EC2 answers it for these types (trimmed to what is read). */
const TYPES: Record<string, object> = {
  'p4d.24xlarge': {
    VCpuInfo: { DefaultVCpus: 96 },
    MemoryInfo: { SizeInMiB: 1_179_648 },
    GpuInfo: {
      Gpus: [{ Name: 'A100', Manufacturer: 'NVIDIA', Count: 8, MemoryInfo: { SizeInMiB: 40_960 } }],
    },
  },
  'g5.12xlarge': {
    VCpuInfo: { DefaultVCpus: 48 },
    MemoryInfo: { SizeInMiB: 196_608 },
    GpuInfo: {
      Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 4, MemoryInfo: { SizeInMiB: 24_576 } }],
    },
  },
  'm5.large': { VCpuInfo: { DefaultVCpus: 2 }, MemoryInfo: { SizeInMiB: 8192 } },
};

function fleetSource(dimensions: string[]) {
  const credentials = { accessKeyId: 'x', secretAccessKey: 'y' };
  const ec2 = new EC2Client({ region: 'us-east-1', credentials });
  const cloudWatch = new CloudWatchClient({ region: 'us-east-1', credentials });
  const instances = Object.keys(TYPES).map((type, k) => ({
    InstanceId: `i-${k}`,
    InstanceType: type,
    State: { Name: 'running' },
    Tags: [{ Key: 'bcs:pool', Value: 'gpu' }],
  }));
  (ec2 as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command) => {
    if (command instanceof DescribeInstancesCommand) return { Reservations: [{ Instances: instances }] };
    if (command instanceof DescribeInstanceTypesCommand) {
      return {
        InstanceTypes: (command.input.InstanceTypes ?? []).map((t) => ({ InstanceType: t, ...TYPES[t] })),
      };
    }
    throw new Error('unexpected EC2 command');
  };
  (cloudWatch as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command) => {
    if (!(command instanceof GetMetricDataCommand)) throw new Error('unexpected CloudWatch command');
    return { MetricDataResults: [] };
  };
  return new Ec2FleetSource({
    ec2,
    cloudWatch,
    selector: { key: 'bcs:pool', value: 'gpu' },
    cacheTtlMs: 0,
    clock: new ManualClock(Date.UTC(2026, 11, 7)),
    dimensions,
  });
}

describe('EC2 GPU devices from DescribeInstanceTypes GpuInfo', () => {
  it('gives each GPU instance one device per GPU, named by model, adding up to capacity.gpu', async () => {
    const vms = await fleetSource(['cpu', 'mem', 'gpu']).listVms();
    expect(vms.map((vm) => [vm.id, vm.capacity.gpu, vm.gpus?.length, vm.gpus?.[0]?.model])).toEqual([
      ['i-0', 8000, 8, 'A100'],
      ['i-1', 4000, 4, 'A10G'],
      ['i-2', 0, undefined, undefined],
    ]);
    // The scheduler takes them as they are: a 2-GPU task gets two distinct devices of the g5.
    const fleet = FleetState.from(vms, ['cpu', 'mem', 'gpu']);
    expect(fleet.devices?.count(1)).toBe(4);
    expect(fleet.devices?.modelNames).toEqual(['A100', 'A10G']);
  });

  it('lists no devices when GPUs are not a scheduled dimension (they would not add up to a capacity)', async () => {
    const vms = await fleetSource(['cpu', 'mem']).listVms();
    expect(vms.every((vm) => vm.gpus === undefined)).toBe(true);
  });

  it('makes an odd model name fit the device-name rule', () => {
    expect(instanceTypeDevices({ GpuInfo: { Gpus: [{ Name: 'Radeon Pro V520 (x)', Count: 1 }] } })).toEqual([
      { model: 'Radeon Pro V520 -x-', milli: 1000 },
    ]);
    expect(instanceTypeDevices({ GpuInfo: { Gpus: [] } })).toBeUndefined();
  });
});
