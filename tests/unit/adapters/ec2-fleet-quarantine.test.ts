import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { Ec2FleetSource } from '../../../lib/adapters/aws/ec2-fleet-source';
import { INSTANCE_METRICS, MAX_QUERIES_PER_REQUEST } from '../../../lib/adapters/aws/metric-queries';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { SchedulingEngine } from '../../../lib/engine/engine';
import { ManualClock } from '../../../lib/ports/clock';

/**
 * Fault isolation on AWS: an EC2 instance whose metadata (instance type) or metrics cannot be read is
 * quarantined, reported, and never placed on; the other instances are scheduled on. Driven with real
 * SDK clients whose `send` answers like EC2 and CloudWatch, failing where a test says.
 */

const SELECTOR = { key: 'bcs:pool', value: 'workers' };
const PER_METRICS_REQUEST = Math.floor(MAX_QUERIES_PER_REQUEST / INSTANCE_METRICS.length);

interface Faults {
  /** Instance types DescribeInstanceTypes refuses (InvalidInstanceType), failing any request naming them. */
  badTypes: Set<string>;
  /** GetMetricData fails for a request that queries one of these instances. */
  unreadable: Set<string>;
  /** Every GetMetricData request fails (CloudWatch down). */
  cloudWatchDown: boolean;
}

function instance(id: string, type = 'm5.large'): Instance {
  return {
    InstanceId: id,
    InstanceType: type as Instance['InstanceType'],
    State: { Name: 'running' },
    Tags: [{ Key: SELECTOR.key, Value: SELECTOR.value }],
  };
}

function clients(instances: Instance[], faults: Faults) {
  const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const cloudWatch = new CloudWatchClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const fail = (name: string, message: string) => Object.assign(new Error(message), { name });
  (ec2 as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command) => {
    if (command instanceof DescribeInstancesCommand) return { Reservations: [{ Instances: instances }] };
    if (command instanceof DescribeInstanceTypesCommand) {
      const types = command.input.InstanceTypes ?? [];
      const bad = types.find((t) => faults.badTypes.has(t));
      if (bad)
        throw fail('InvalidInstanceType', `The following supplied instance types do not exist: [${bad}]`);
      return {
        InstanceTypes: types.map((t) => ({
          InstanceType: t,
          VCpuInfo: { DefaultVCpus: 2 },
          MemoryInfo: { SizeInMiB: 8192 },
        })),
      };
    }
    throw new Error(`unexpected EC2 command ${String(command)}`);
  };
  (cloudWatch as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command) => {
    if (!(command instanceof GetMetricDataCommand)) throw new Error('unexpected CloudWatch command');
    const queried = JSON.stringify(command.input.MetricDataQueries);
    if (faults.cloudWatchDown || [...faults.unreadable].some((id) => queried.includes(id))) {
      throw fail('ThrottlingException', 'Rate exceeded');
    }
    return { MetricDataResults: [] };
  };
  return { ec2, cloudWatch };
}

function source(instances: Instance[], faults: Partial<Faults> = {}) {
  const all: Faults = { badTypes: new Set(), unreadable: new Set(), cloudWatchDown: false, ...faults };
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  return {
    clock,
    fleet: new Ec2FleetSource({ ...clients(instances, all), selector: SELECTOR, cacheTtlMs: 0, clock }),
  };
}

describe('Ec2FleetSource quarantine', () => {
  it('leaves out an instance whose type cannot be described, naming the type and the error', async () => {
    const { fleet } = source(
      [instance('i-a'), instance('i-b', 'x9.nonexistent'), instance('i-c', 'c5.xlarge')],
      {
        badTypes: new Set(['x9.nonexistent']),
      },
    );
    const vms = await fleet.listVms();
    expect(vms.map((vm) => vm.id)).toEqual(['i-a', 'i-c']);
    expect(vms[0]!.capacity).toMatchObject({ cpu: 2000, mem: 8192 });
    expect(fleet.quarantined()).toEqual([
      {
        vm_id: 'i-b',
        reason:
          'instance type x9.nonexistent: InvalidInstanceType: The following supplied instance types do not exist: [x9.nonexistent]',
      },
    ]);
  });

  it('leaves out the instances of a metrics request that failed and keeps the others', async () => {
    // Two GetMetricData requests: the first PER_METRICS_REQUEST instances, then the rest.
    const ids = Array.from({ length: PER_METRICS_REQUEST + 3 }, (_, i) => `i-${String(i).padStart(4, '0')}`);
    const { fleet } = source(
      ids.map((id) => instance(id)),
      { unreadable: new Set([ids.at(-1)!]) },
    );
    const vms = await fleet.listVms();
    expect(vms).toHaveLength(PER_METRICS_REQUEST);
    expect(fleet.quarantined().map((q) => q.vm_id)).toEqual(ids.slice(PER_METRICS_REQUEST));
    expect(fleet.quarantined()[0]!.reason).toBe(
      'metrics could not be read: ThrottlingException: Rate exceeded',
    );
  });

  it('throws when no instance can be read at all: the outage is the service, not an instance', async () => {
    const { fleet } = source([instance('i-a'), instance('i-b')], { cloudWatchDown: true });
    await expect(fleet.listVms()).rejects.toThrow("no instance's metrics could be read: ThrottlingException");
  });

  it('is reported by the engine and never placed on, while the rest of the fleet is', async () => {
    const { fleet, clock } = source([instance('i-a'), instance('i-b', 'x9.nonexistent')], {
      badTypes: new Set(['x9.nonexistent']),
    });
    const engine = new SchedulingEngine({
      store: new MemoryLedgerStore(),
      fleet,
      clock,
      algorithm: 'least-loaded',
      dimensions: ['cpu', 'mem', 'io', 'bw'],
    });
    const tasks = ['t-1', 't-2', 't-3'].map((id) => ({
      id,
      requirements: { cpu: 100, mem: 100, io: 0, bw: 0 },
      duration: 60,
      deadline: clock.now() / 1000 + 3600,
      priority: 0,
      submittedAt: clock.now(),
      labels: {},
      constraints: {},
    }));
    const outcome = await engine.schedule(tasks);
    expect(outcome.decisions.map((d) => [d.status, d.vmId])).toEqual([
      ['assigned', 'i-a'],
      ['assigned', 'i-a'],
      ['assigned', 'i-a'],
    ]);
    expect(outcome.quarantined?.map((q) => q.vm_id)).toEqual(['i-b']);
  });
});
