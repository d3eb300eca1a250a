import { DEFAULT_DIMENSIONS } from '../../lib/model/resources';
import { DEFAULT_PARAMS } from '../../lib/scheduling/types';
import { DEFAULT_TASKS_PER_MESSAGE } from '../../lib/schemas/queue-message';

/**
 * Every default of the stack in one place; the props documentation (`@default`) refers here.
 * AWS behaviour is the default throughout: the emulator's gaps are switched off by explicit flags.
 */
export const DEFAULTS = {
  stage: 'prod',
  authMode: 'iam',
  cloudWatchRole: true,
  vmTagKey: 'bcs:pool',
  vmTagValue: 'workers',
  algorithm: 'blockchain',
  alpha: DEFAULT_PARAMS.alpha,
  beta: DEFAULT_PARAMS.beta,
  tau: DEFAULT_PARAMS.tau,
  historyWindow: DEFAULT_PARAMS.historyWindow,
  dimensions: [...DEFAULT_DIMENSIONS] as string[],
  blockSize: 5,
  metricsPeriodSeconds: 60,
  fleetCacheTtlSeconds: 30,
  leaseGraceSeconds: 60,
  // The engine's own default: a task waits this long for capacity before it is rejected.
  maxWaitSeconds: 900,
  tasksPerMessage: DEFAULT_TASKS_PER_MESSAGE,
  maxReceiveCount: 5,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  // One writer at a time wins the chain head anyway; 2 is the smallest value SQS accepts.
  maxConcurrency: 2,
  schedulerTimeoutSeconds: 60,
  verifyIntervalMinutes: 15,
  verifyReservedConcurrency: 2,
  leaseSweepMinutes: 1,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  dispatch: false,
  dispatchViaSsm: false,
  commandTemplates: {} as Record<string, never>,
  autoScaling: false,
  alarmEmails: [] as string[],
  transparencyLog: true,
  logOrigin: '',
  logPublishMinutes: 1,
  logObjectLockDays: 0,
  logCloudFront: false,
  witnesses: [] as { url: string; key: string }[],
  witnessAlarmMinutes: 60,
} as const;

/** Names of the stage values that relax data retention for throw-away emulator deployments. */
export const TEST_STAGES: readonly string[] = ['test'];
