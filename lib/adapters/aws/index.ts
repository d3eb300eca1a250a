export { Ec2FleetSource, type Ec2FleetSourceOptions } from './ec2-fleet-source';
export { instanceTypeCapacity, networkPerformanceMbps } from './instance-capacity';
export { INSTANCE_METRICS, MAX_QUERIES_PER_REQUEST } from './metric-queries';
