export { activeInstances, backlogPerInstance, desiredInstances, type VmScalingView } from './backlog';
export {
  busyInstances,
  freeToTerminate,
  type GroupInstance,
  type ProtectionChanges,
  protectionChanges,
} from './protection';
export { BINDING, type UtilisationStats, utilisation, type VmUtilisationView } from './utilisation';
