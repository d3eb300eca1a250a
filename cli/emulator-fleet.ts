import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type _InstanceType, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { INSTANCE_METRICS } from '../lib/adapters/aws/metric-queries';

/** Usage a launched worker reports: percentages of its CPU and memory, bytes per minute of disk and network. */
export interface WorkerUsage {
  cpuPercent: number;
  memPercent: number;
  ioBytesPerMinute: number;
  netBytesPerMinute: number;
}

export const DEFAULT_USAGE: WorkerUsage = {
  cpuPercent: 20,
  memPercent: 0,
  ioBytesPerMinute: 0,
  netBytesPerMinute: 0,
};

/** Any image id will do on the emulator; AWS needs a real one, which is why `bcs fleet` is emulator-only. */
export const EMULATOR_IMAGE_ID = 'ami-12345678';

/**
 * The data points the fleet reader queries (lib/adapters/aws/metric-queries.ts INSTANCE_METRICS, the
 * same names, namespaces and statistics) for one instance at `at`: CPUUtilization and
 * mem_used_percent as given, the byte counters split evenly between their two metrics.
 */
export function usageData(instanceId: string, usage: WorkerUsage, at: Date): MetricDatum[] {
  const value: Record<(typeof INSTANCE_METRICS)[number]['key'], number> = {
    cpu: usage.cpuPercent,
    mem: usage.memPercent,
    ebsRead: usage.ioBytesPerMinute / 2,
    ebsWrite: usage.ioBytesPerMinute / 2,
    netIn: usage.netBytesPerMinute / 2,
    netOut: usage.netBytesPerMinute / 2,
  };
  return INSTANCE_METRICS.map((m) => ({
    MetricName: m.name,
    Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
    Timestamp: at,
    Value: value[m.key],
  }));
}

/**
 * Publishes usage for `minutes` closed one-minute buckets before now (1..minutes minutes ago). The
 * fleet reader takes the latest bucket as current usage and the rest as history; a point stamped in
 * the current minute would land in a bucket that is still filling.
 */
export async function publishUsage(
  cloudWatch: CloudWatchClient,
  instanceId: string,
  usage: WorkerUsage,
  minutes = 2,
  now = Date.now(),
): Promise<void> {
  const byNamespace = new Map<string, MetricDatum[]>();
  for (let ago = 1; ago <= minutes; ago++) {
    const at = new Date(now - ago * 60_000);
    usageData(instanceId, usage, at).forEach((datum, i) => {
      const namespace = INSTANCE_METRICS[i]!.namespace;
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), datum]);
    });
  }
  for (const [Namespace, data] of byNamespace) {
    // PutMetricData takes up to 1,000 data per request.
    for (let i = 0; i < data.length; i += 1000)
      await cloudWatch.send(new PutMetricDataCommand({ Namespace, MetricData: data.slice(i, i + 1000) }));
  }
}

/**
 * Launches one worker per entry of `types`, tagged `<tagKey>=<pool>` as the stack's VM selector
 * (vmTagKey, vmTagValue) expects, and publishes its usage. Returns the instance ids in order.
 */
export async function launchWorkers(
  ec2: EC2Client,
  cloudWatch: CloudWatchClient,
  options: { pool: string; types: readonly _InstanceType[]; tagKey?: string; usage?: WorkerUsage },
): Promise<string[]> {
  const ids: string[] = [];
  for (const type of options.types) {
    const { Instances } = await ec2.send(
      new RunInstancesCommand({
        ImageId: EMULATOR_IMAGE_ID,
        InstanceType: type,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: options.tagKey ?? 'bcs:pool', Value: options.pool }] },
        ],
      }),
    );
    const id = Instances![0]!.InstanceId!;
    ids.push(id);
    await publishUsage(cloudWatch, id, options.usage ?? DEFAULT_USAGE);
  }
  return ids;
}
