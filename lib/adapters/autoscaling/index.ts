export {
  CloudWatchScalingMetrics,
  type CloudWatchScalingMetricsOptions,
  MAX_DATA_PER_REQUEST,
  scalingMetricData,
} from './cloudwatch-scaling-metrics';
export { DRAINING_TAG, Ec2Drain } from './ec2-drain';
export { AutoScalingGroupProtection, MAX_INSTANCES_PER_CALL } from './group-protection';
export { SCALING_DIMENSIONS, SCALING_METRICS } from './metric-names';
export { SqsBacklog } from './sqs-backlog';
export { AutoScalingTerminationLifecycle, TERMINATE_ACTION_DETAIL_TYPE } from './termination-lifecycle';
