export type { BacklogGauge, ScaleInProtection, ScalingMetricsSink, ScalingSnapshot } from '../ports/scaling';
export { activeInstances, backlogPerInstance, desiredInstances, type VmScalingView } from './backlog';
export { type FleetMember, fleetView } from './fleet-view';
export {
  type FleetMonitorDeps,
  FleetMonitorError,
  type FleetMonitorReport,
  runFleetMonitor,
} from './monitor';
export {
  busyInstances,
  freeToTerminate,
  type GroupInstance,
  type ProtectionChanges,
  protectionChanges,
} from './protection';
export { BINDING, type UtilisationStats, utilisation, type VmUtilisationView } from './utilisation';
