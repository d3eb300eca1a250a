export { activeInstances, backlogPerInstance, desiredInstances, type VmScalingView } from './backlog';
export { type FleetMember, fleetView } from './fleet-view';
export {
  type BacklogGauge,
  type FleetMonitorDeps,
  FleetMonitorError,
  type FleetMonitorReport,
  runFleetMonitor,
  type ScaleInProtection,
  type ScalingMetricsSink,
  type ScalingSnapshot,
} from './monitor';
export {
  busyInstances,
  freeToTerminate,
  type GroupInstance,
  type ProtectionChanges,
  protectionChanges,
} from './protection';
export { BINDING, type UtilisationStats, utilisation, type VmUtilisationView } from './utilisation';
