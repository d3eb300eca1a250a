import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchScalingMetrics } from '../lib/adapters/autoscaling/cloudwatch-scaling-metrics';
import { AutoScalingGroupProtection } from '../lib/adapters/autoscaling/group-protection';
import { SqsBacklog } from '../lib/adapters/autoscaling/sqs-backlog';
import { fleetMonitorEnvSchema, fleetMonitorHandler } from './handlers/fleet-monitor';
import { readEnv } from './shared/config';
import { fleetSource, ledgerStore } from './shared/wiring';

const env = readEnv(fleetMonitorEnvSchema);

export const handler = fleetMonitorHandler({
  monitor: {
    // Every run must see the fleet as it is now: a cached listing would publish last minute's count.
    fleet: fleetSource({ ...env, FLEET_CACHE_TTL_SECONDS: 0 }),
    store: ledgerStore(env),
    backlog: new SqsBacklog(new SQSClient({}), env.QUEUE_URL),
    metrics: new CloudWatchScalingMetrics({
      client: new CloudWatchClient({}),
      namespace: env.POWERTOOLS_METRICS_NAMESPACE,
      fleet: env.FLEET_NAME,
    }),
    protection: env.AUTO_SCALING_GROUP_NAME
      ? new AutoScalingGroupProtection(new AutoScalingClient({}), env.AUTO_SCALING_GROUP_NAME)
      : undefined,
    dimensions: env.DIMENSIONS,
    now: () => Date.now(),
  },
  logger: new Logger(),
});
