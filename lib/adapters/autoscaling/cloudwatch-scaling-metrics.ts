import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { ScalingMetricsSink, ScalingSnapshot } from '../../ports/scaling';
import { SCALING_DIMENSIONS, SCALING_METRICS } from './metric-names';

/** PutMetricData accepts at most 1000 data per request (and 1 MB; a datum here is about 200 bytes). */
export const MAX_DATA_PER_REQUEST = 1000;

/**
 * One snapshot as CloudWatch data, all stamped with the snapshot's time. Utilisation goes as a
 * statistic set (SampleCount, Sum, Minimum, Maximum) per resource: one datum carries the mean and the
 * maximum over the VMs, which CloudWatch then aggregates correctly across periods.
 */
export function scalingMetricData(snapshot: ScalingSnapshot, fleet: string): MetricDatum[] {
  const Timestamp = new Date(snapshot.at);
  const fleetDimension = { Name: SCALING_DIMENSIONS.fleet, Value: fleet };
  const gauge = (MetricName: string, Value: number, Unit: 'Count' | 'None'): MetricDatum => ({
    MetricName,
    Dimensions: [fleetDimension],
    Timestamp,
    Value,
    Unit,
  });
  return [
    gauge(SCALING_METRICS.backlog, snapshot.backlog, 'Count'),
    // No unit: a target-tracking customized metric compares the raw value with the target.
    gauge(SCALING_METRICS.backlogPerInstance, snapshot.backlogPerInstance, 'None'),
    gauge(SCALING_METRICS.activeInstances, snapshot.activeInstances, 'Count'),
    gauge(SCALING_METRICS.drainingInstances, snapshot.drainingInstances, 'Count'),
    gauge(SCALING_METRICS.freeToTerminate, snapshot.freeToTerminate, 'Count'),
    ...snapshot.utilisation.map(
      (u): MetricDatum => ({
        MetricName: SCALING_METRICS.utilisation,
        Dimensions: [fleetDimension, { Name: SCALING_DIMENSIONS.resource, Value: u.dimension }],
        Timestamp,
        StatisticValues: { SampleCount: u.count, Sum: u.sum, Minimum: u.min, Maximum: u.max },
        Unit: 'None',
      }),
    ),
  ];
}

export interface CloudWatchScalingMetricsOptions {
  readonly client: CloudWatchClient;
  readonly namespace: string;
  /** Value of the Fleet dimension. */
  readonly fleet: string;
}

/**
 * Publishes with PutMetricData rather than Powertools' EMF: EMF becomes metrics only once CloudWatch
 * Logs extracts them, which no emulator does, and it has no statistic sets; a scaling policy is the
 * one consumer here that must see every point (docs/aws.md, "Scaling and draining").
 */
export class CloudWatchScalingMetrics implements ScalingMetricsSink {
  constructor(private readonly options: CloudWatchScalingMetricsOptions) {}

  async publish(snapshot: ScalingSnapshot): Promise<void> {
    const data = scalingMetricData(snapshot, this.options.fleet);
    for (let i = 0; i < data.length; i += MAX_DATA_PER_REQUEST) {
      await this.options.client.send(
        new PutMetricDataCommand({
          Namespace: this.options.namespace,
          MetricData: data.slice(i, i + MAX_DATA_PER_REQUEST),
        }),
      );
    }
  }
}
