import { ValidationError } from '../../lib/errors';
import type { AuthMode, BlockchainSchedulerProps } from './props';

/**
 * Context keys (`cdk deploy -c key=value` or cdk.json) and the prop each sets. Values given on the
 * command line arrive as strings; they are converted here and validated with the props, so a bad
 * value is reported with every other problem in one message.
 */
const NUMBER_KEYS = [
  'alpha',
  'beta',
  'tau',
  'historyWindow',
  'blockSize',
  'metricsPeriodSeconds',
  'fleetCacheTtlSeconds',
  'leaseGraceSeconds',
  'maxWaitSeconds',
  'tasksPerMessage',
  'maxReceiveCount',
  'batchSize',
  'maxBatchingWindowSeconds',
  'maxConcurrency',
  'schedulerTimeoutSeconds',
  'verifyIntervalMinutes',
  'verifyReservedConcurrency',
  'fullAuditMaxConcurrency',
  'fullAuditBlocksPerRange',
  'leaseSweepMinutes',
  'throttlingRateLimit',
  'throttlingBurstLimit',
  'logPublishMinutes',
  'logObjectLockDays',
  'witnessAlarmMinutes',
] as const;
const STRING_KEYS = ['stage', 'vmTagKey', 'vmTagValue', 'algorithm', 'logOrigin'] as const;

function toBoolean(key: string, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ValidationError(
    [{ field: key, message: `must be true or false (got ${JSON.stringify(value)})` }],
    'invalid context',
  );
}

export function propsFromContext(get: (key: string) => unknown): BlockchainSchedulerProps {
  const props: Record<string, unknown> = {};
  for (const key of NUMBER_KEYS) {
    const v = get(key);
    if (v !== undefined) props[key] = typeof v === 'number' ? v : Number(v);
  }
  for (const key of STRING_KEYS) {
    const v = get(key);
    if (v !== undefined) props[key] = String(v);
  }
  const authMode = get('authMode');
  if (authMode !== undefined) props.authMode = String(authMode) as AuthMode;
  const cloudWatchRole = get('cloudWatchRole');
  if (cloudWatchRole !== undefined) props.cloudWatchRole = toBoolean('cloudWatchRole', cloudWatchRole);
  for (const key of ['dispatch', 'dispatchViaSsm', 'agents', 'transparencyLog', 'logCloudFront'] as const) {
    const v = get(key);
    if (v !== undefined) props[key] = toBoolean(key, v);
  }
  const dimensions = get('dimensions');
  if (dimensions !== undefined) {
    props.dimensions = Array.isArray(dimensions) ? dimensions.map(String) : String(dimensions).split(',');
  }
  const alarmEmails = get('alarmEmails');
  if (alarmEmails !== undefined) {
    props.alarmEmails = Array.isArray(alarmEmails)
      ? alarmEmails.map(String)
      : String(alarmEmails)
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '');
  }
  const witnesses = get('witnesses');
  if (witnesses !== undefined) props.witnesses = witnessesFromContext(witnesses);
  const autoScaling = get('autoScaling');
  if (autoScaling !== undefined) props.autoScaling = autoScalingFromContext(autoScaling);
  const templates = get('commandTemplates');
  if (templates !== undefined) props.commandTemplates = jsonObjectFromContext('commandTemplates', templates);
  return props as BlockchainSchedulerProps;
}

/**
 * A context value holding an object (`-c 'commandTemplates={...}'`): as is from cdk.json, parsed from
 * JSON on the command line; its contents are checked with the other props.
 */
function jsonObjectFromContext(field: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) return value;
  try {
    return JSON.parse(String(value));
  } catch {
    throw new ValidationError(
      [{ field, message: `must be a JSON object (got ${String(value)})` }],
      'invalid context',
    );
  }
}

/**
 * `-c autoScaling=true`, or the options as JSON (`-c 'autoScaling={"maxCapacity":8}'` or an object in
 * cdk.json); the option values are checked with the other props.
 */
function autoScalingFromContext(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) return value;
  const text = String(value).trim();
  if (!text.startsWith('{')) return toBoolean('autoScaling', value);
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(
      [{ field: 'autoScaling', message: `must be true, false or a JSON object (got ${text})` }],
      'invalid context',
    );
  }
}

/** `-c 'witnesses=[{"url":"https://...","key":"name+id+key"}]'` (JSON), or the list in cdk.json. */
function witnessesFromContext(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  try {
    const parsed = JSON.parse(String(value));
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new ValidationError(
    [{ field: 'witnesses', message: `must be a JSON list of {"url", "key"} (got ${String(value)})` }],
    'invalid context',
  );
}
