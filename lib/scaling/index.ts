export type {
  BacklogGauge,
  ScaleInProtection,
  ScalingMetricsSink,
  ScalingSnapshot,
  TerminatingInstance,
  TerminationLifecycle,
} from '../ports/scaling';
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
export { settleTerminations, type TerminationDeps, type TerminationOutcome } from './termination';
export { BINDING, type UtilisationStats, utilisation, type VmUtilisationView } from './utilisation';
