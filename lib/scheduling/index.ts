export {
  collectFeasible,
  explainInfeasible,
  isFeasible,
  isRejection,
  type Placement,
  type PlacementAlgorithm,
  type PlacementContext,
  type PlacementRequest,
  prepareRequest,
  type Rejection,
  type Selection,
} from './algorithm';
export { BestFitAlgorithm } from './algorithms/best-fit';
export { BlockchainAlgorithm } from './algorithms/blockchain';
export { LeastConnectionsAlgorithm } from './algorithms/least-connections';
export { LeastLoadedAlgorithm } from './algorithms/least-loaded';
export { DEFAULT_SEED, PowerOfTwoChoicesAlgorithm } from './algorithms/p2c';
export { ResourceBasedAlgorithm } from './algorithms/resource-based';
export { RoundRobinAlgorithm } from './algorithms/round-robin';
export { UrgencyAlgorithm } from './algorithms/urgency';
export { UnknownAlgorithmError } from './errors';
export { FleetState, MIN_CAPACITY, VM_ACTIVE, VM_DRAINING } from './fleet-state';
export {
  type FleetMetrics,
  fleetMetrics,
  fragmentation,
  loadImbalance,
  meanRequirements,
  meanUtilisation,
  utilisation,
} from './metrics';
export { algorithmParamsSchema, resolveParams } from './params';
export { mulberry32 } from './prng';
export { type AdmittedFleet, admitFleet } from './quarantine';
export {
  ALGORITHMS,
  type AlgorithmFactory,
  type AlgorithmName,
  algorithmNames,
  createAlgorithm,
  isAlgorithmName,
} from './registry';
export { rejectionKind } from './rejection-kind';
export { Scheduler, type SchedulerOptions, scheduleBatch } from './schedule';
export {
  type Best,
  bestFitScore,
  blockchainScore,
  DW_MIN,
  dynamicWeight,
  highestResourceScore,
  lowestDynamicWeight,
  lowestLeftover,
  lowestLoadAfter,
  MIN_TIME_REMAINING_S,
  reservedLoadAfter,
  resourceDemandTerm,
  resourceFactors,
  resourceScore,
  scaledDemand,
  urgencyFactor,
} from './scoring';
export {
  type AlgorithmParams,
  DEFAULT_PARAMS,
  type Decision,
  type RejectionKind,
  type ScheduleOptions,
} from './types';
