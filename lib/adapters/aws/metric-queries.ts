import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { ResourceVector } from '../../model/resources';

/**
 * The CloudWatch metrics read per instance and how each becomes a usage figure in the units of
 * lib/model/resources.ts. `percentOf` scales a percentage by the instance's capacity; `perSecond`
 * turns a per-period Sum of bytes into a rate.
 */
export const INSTANCE_METRICS = [
  { key: 'cpu', namespace: 'AWS/EC2', name: 'CPUUtilization', stat: 'Average', dimension: 'cpu' },
  // Published only where the CloudWatch agent runs; without it memory usage reads as 0.
  { key: 'mem', namespace: 'CWAgent', name: 'mem_used_percent', stat: 'Average', dimension: 'mem' },
  { key: 'ebsRead', namespace: 'AWS/EC2', name: 'EBSReadBytes', stat: 'Sum', dimension: 'io' },
  { key: 'ebsWrite', namespace: 'AWS/EC2', name: 'EBSWriteBytes', stat: 'Sum', dimension: 'io' },
  { key: 'netIn', namespace: 'AWS/EC2', name: 'NetworkIn', stat: 'Sum', dimension: 'bw' },
  { key: 'netOut', namespace: 'AWS/EC2', name: 'NetworkOut', stat: 'Sum', dimension: 'bw' },
] as const;

/** GetMetricData accepts at most 500 queries per request. */
export const MAX_QUERIES_PER_REQUEST = 500;

/** Query ids must start with a lowercase letter; the index maps a result back to (instance, metric). */
export function metricQueries(instanceIds: readonly string[], periodSeconds: number): MetricDataQuery[] {
  return instanceIds.flatMap((instanceId, i) =>
    INSTANCE_METRICS.map((m, j) => ({
      Id: `q${i}_${j}`,
      MetricStat: {
        Metric: {
          Namespace: m.namespace,
          MetricName: m.name,
          Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
        },
        Period: periodSeconds,
        Stat: m.stat,
      },
      ReturnData: true,
    })),
  );
}

/**
 * Folds GetMetricData results into usage samples per instance, oldest first, one per period that has
 * any data point. Within a sample a metric without a point counts as 0.
 *
 * cpu = CPUUtilization% x capacity.cpu; mem = mem_used_percent% x capacity.mem;
 * io = (EBSReadBytes + EBSWriteBytes) / period / 1e6 (MB/s);
 * bw = (NetworkIn + NetworkOut) x 8 / period / 1e6 (Mbit/s): both directions together, the
 * conservative reading of an instance's bandwidth allowance.
 */
export function usageSamples(
  results: readonly MetricDataResult[],
  instanceIds: readonly string[],
  capacities: ReadonlyMap<string, ResourceVector>,
  periodSeconds: number,
  dimensions: readonly string[],
): Map<string, ResourceVector[]> {
  // instance index -> timestamp ms -> metric key -> value
  const points = new Map<number, Map<number, Map<string, number>>>();
  for (const result of results) {
    const match = /^q(\d+)_(\d+)$/.exec(result.Id ?? '');
    if (!match) continue;
    const instance = Number(match[1]);
    const metric = INSTANCE_METRICS[Number(match[2])];
    if (!metric || instance >= instanceIds.length) continue;
    const timestamps = result.Timestamps ?? [];
    const values = result.Values ?? [];
    let byTime = points.get(instance);
    if (!byTime) {
      byTime = new Map();
      points.set(instance, byTime);
    }
    timestamps.forEach((t, k) => {
      const value = values[k];
      if (value === undefined || !Number.isFinite(value)) return;
      const at = new Date(t).getTime();
      let sample = byTime.get(at);
      if (!sample) {
        sample = new Map();
        byTime.set(at, sample);
      }
      sample.set(metric.key, value);
    });
  }

  const samples = new Map<string, ResourceVector[]>();
  instanceIds.forEach((instanceId, i) => {
    const capacity = capacities.get(instanceId) ?? {};
    const byTime = points.get(i) ?? new Map<number, Map<string, number>>();
    const ordered = [...byTime.entries()].sort((a, b) => a[0] - b[0]);
    samples.set(
      instanceId,
      ordered.map(([, sample]) => toUsage(sample, capacity, periodSeconds, dimensions)),
    );
  });
  return samples;
}

function toUsage(
  sample: ReadonlyMap<string, number>,
  capacity: ResourceVector,
  periodSeconds: number,
  dimensions: readonly string[],
): ResourceVector {
  const v = (key: string) => sample.get(key) ?? 0;
  const known: ResourceVector = {
    cpu: (v('cpu') / 100) * (capacity.cpu ?? 0),
    mem: (v('mem') / 100) * (capacity.mem ?? 0),
    io: (v('ebsRead') + v('ebsWrite')) / periodSeconds / 1e6,
    bw: ((v('netIn') + v('netOut')) * 8) / periodSeconds / 1e6,
  };
  const usage: ResourceVector = {};
  for (const d of dimensions) usage[d] = known[d] ?? 0;
  return usage;
}
