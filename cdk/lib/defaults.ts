import { DEFAULT_SETTINGS } from '../../lib/engine/settings';
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
  // The scheduler's settings (lib/engine/settings.ts), under the same names.
  algorithm: DEFAULT_SETTINGS.algorithm,
  alpha: DEFAULT_SETTINGS.alpha,
  beta: DEFAULT_SETTINGS.beta,
  tau: DEFAULT_SETTINGS.tau,
  historyWindow: DEFAULT_SETTINGS.historyWindow,
  dimensions: [...DEFAULT_SETTINGS.dimensions] as string[],
  blockSize: DEFAULT_SETTINGS.blockSize,
  metricsPeriodSeconds: 60,
  fleetCacheTtlSeconds: 30,
  leaseGraceSeconds: DEFAULT_SETTINGS.leaseGraceSeconds,
  maxWaitSeconds: DEFAULT_SETTINGS.maxWaitSeconds,
  tasksPerMessage: DEFAULT_TASKS_PER_MESSAGE,
  maxReceiveCount: 5,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  // One writer at a time wins the chain head anyway; 2 is the smallest value SQS accepts.
  maxConcurrency: 2,
  schedulerTimeoutSeconds: 60,
  verifyIntervalMinutes: 15,
  verifyReservedConcurrency: 2,
  fullAuditMaxConcurrency: 10,
  fullAuditBlocksPerRange: 20_000,
  leaseSweepMinutes: 1,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  dispatch: false,
  dispatchViaSsm: false,
  agents: false,
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
