import { type CommandTemplates, commandTemplatesSchema } from '../../lib/dispatch/command-templates';
import { DIMENSION_NAME, SETTING_NAMES, settingsIssues } from '../../lib/engine/settings';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import { checkOrigin } from '../../lib/ledger/checkpoint';
import { parseVerifierKey, SIG_COSIGNATURE_V1 } from '../../lib/ledger/signed-note';
import { algorithmNames, isAlgorithmName } from '../../lib/scheduling/registry';
import { MAX_TASKS_PER_MESSAGE } from '../../lib/schemas/queue-message';
import { type AutoScalingOptions, autoScalingIssues, resolveAutoScaling } from './constructs/autoscaling';
import { DEFAULTS } from './defaults';

export type AuthMode = 'iam' | 'api-key';

/** Everything a deployment can tune. Each default lives in ./defaults.ts. */
export interface BlockchainSchedulerProps {
  /**
   * Deployment stage. 'test' (emulator runs) lets the table be destroyed with the stack; any other
   * stage keeps it (RETAIN, deletion protection).
   * @default 'prod'
   */
  readonly stage?: string;
  /**
   * How API callers authenticate: SigV4-signed requests ('iam') or an API key with a usage plan.
   * @default 'iam'
   */
  readonly authMode?: AuthMode;
  /**
   * Create the account-level role API Gateway needs to write logs (AWS::ApiGateway::Account).
   * Off only where it does not exist (the emulator) or where the account already has one.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /** Tag key selecting the EC2 instances tasks are placed on. @default 'bcs:pool' */
  readonly vmTagKey?: string;
  /** Tag value selecting the EC2 instances tasks are placed on. @default 'workers' */
  readonly vmTagValue?: string;
  /** Scheduling algorithm registry name. @default 'blockchain' */
  readonly algorithm?: string;
  /** Weight of current usage in the dynamic weight. @default 0.7 */
  readonly alpha?: number;
  /** Weight of historical usage in the dynamic weight. @default 0.3 */
  readonly beta?: number;
  /** Urgency time constant. @default 1 */
  readonly tau?: number;
  /** Usage samples kept per VM. @default 10 */
  readonly historyWindow?: number;
  /** Resource dimensions scheduled on. @default ['cpu','mem','io','bw'] */
  readonly dimensions?: readonly string[];
  /** Maximum transactions per block. @default 5 */
  readonly blockSize?: number;
  /** CloudWatch metrics period read for VM usage, seconds. @default 60 */
  readonly metricsPeriodSeconds?: number;
  /** How long a warm scheduler reuses the fleet it read, seconds. @default 30 */
  readonly fleetCacheTtlSeconds?: number;
  /** Seconds after a task's duration before its lease expires. @default 60 */
  readonly leaseGraceSeconds?: number;
  /**
   * Seconds a task may wait for capacity (its message redelivered) before it is recorded as rejected.
   * @default 900
   */
  readonly maxWaitSeconds?: number;
  /** Most tasks the enqueue function packs into one queue message (1 to 100). @default 25 */
  readonly tasksPerMessage?: number;
  /** Deliveries before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Messages per scheduler invocation. @default 10 */
  readonly batchSize?: number;
  /** Seconds the event source mapping waits to fill a batch. @default 1 */
  readonly maxBatchingWindowSeconds?: number;
  /** Concurrent scheduler invocations from the queue (2..1000). @default 2 */
  readonly maxConcurrency?: number;
  /** Scheduler function timeout, seconds; the queue's visibility timeout is six times this. @default 60 */
  readonly schedulerTimeoutSeconds?: number;
  /** Minutes between scheduled verifications, 1 to 240. @default 15 */
  readonly verifyIntervalMinutes?: number;
  /**
   * Concurrent executions reserved for (and capping) the verify function, 1 to 10; 0 reserves none (for
   * accounts whose concurrency limit leaves no room). @default 2
   */
  readonly verifyReservedConcurrency?: number;
  /**
   * Range functions a full re-audit (POST /ledger/verify {"full": true}) runs at once: the Distributed
   * Map's MaxConcurrency. Each takes one unit of the account's Lambda concurrency while it runs. @default 10
   */
  readonly fullAuditMaxConcurrency?: number;
  /** Blocks each range function of a full re-audit verifies (at most 1,000 ranges: longer chains get longer ranges). @default 20000 */
  readonly fullAuditBlocksPerRange?: number;
  /** Minutes between lease-expiry runs. @default 1 */
  readonly leaseSweepMinutes?: number;
  /** Steady-state requests per second at the gateway. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Burst requests at the gateway. @default 100 */
  readonly throttlingBurstLimit?: number;
  /**
   * Publish a TaskAssigned event per committed assignment to the stack's event bus, from the ledger
   * table's stream (docs/aws.md, "Dispatch").
   * @default false
   */
  readonly dispatch?: boolean;
  /**
   * Also run each task's `command` on its instance with SSM Run Command, and complete the task when
   * the command ends. Needs `dispatch`.
   * @default false
   */
  readonly dispatchViaSsm?: boolean;
  /**
   * The allow-list of commands SSM dispatch may run (lib/dispatch/command-templates.ts): a task's
   * `command` is `<template> [argument ...]`, run as the instances' unprivileged `bcs-task` user,
   * never as shell text. Needed (at least one) with `dispatchViaSsm`. Example:
   * `{ train: { run: ['/opt/app/train.sh'], argumentPattern: '--epochs=[0-9]{1,4}', maxArguments: 1 } }`
   * @default none
   */
  readonly commandTemplates?: CommandTemplates;
  /**
   * The fleet's instances run `bcs agent` (docs/agent.md "On AWS"): each assignment also goes to its
   * instance's SQS queue, which the dispatcher creates on the instance's first assignment, and the
   * stack adds the agents' instance role (its profile is the output AgentInstanceProfileName; with
   * `autoScaling`, the workers get its rights). Needs `dispatch`; refused with `dispatchViaSsm`: an
   * instance's commands are run by its agent or by SSM, never both.
   * @default false
   */
  readonly agents?: boolean;
  /**
   * Run the workers as an EC2 Auto Scaling group scaled by target tracking on the fleet monitor's
   * BacklogPerInstance (docs/aws.md, "Scaling and draining"). `true` takes every default of
   * AutoScalingOptions (cdk/lib/constructs/autoscaling.ts).
   * @default false: the fleet is whatever running instances carry the fleet tag
   */
  readonly autoScaling?: boolean | AutoScalingOptions;
  /**
   * Email addresses subscribed to the stack's alarm topic (each confirms by mail). Every alarm of the
   * stack notifies the topic on ALARM and OK; other subscribers (chat, paging) can subscribe to it.
   * @default none: the topic exists, nobody is subscribed
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Publish the ledger as a C2SP tiled transparency log to a versioned, private S3 bucket (tiles and
   * the signed checkpoint; docs/ledger-format.md section 12).
   * @default true
   */
  readonly transparencyLog?: boolean;
  /**
   * The checkpoint origin line (and note key name), e.g. `example.com/scheduler-ledger`.
   * @default '': bcs-ledger/<first 16 hex digits of the digest key's fingerprint>
   */
  readonly logOrigin?: string;
  /** @default 1: minutes between two publications (a new checkpoint only when the chain grew) */
  readonly logPublishMinutes?: number;
  /**
   * S3 Object Lock in compliance mode on the log bucket with this default retention in days: no one,
   * the root user included, can overwrite or delete a published object before it ends. Only at bucket
   * creation; the bucket is then retained when the stack goes.
   * @default 0: no Object Lock
   */
  readonly logObjectLockDays?: number;
  /** @default false: a CloudFront distribution (origin access control) in front of the log bucket */
  readonly logCloudFront?: boolean;
  /**
   * Witnesses the checkpoints are submitted to (C2SP tlog-witness): submission URL and verifier key
   * (cosignature/v1). With any, an Ed25519 KMS key signs checkpoints too (witnesses verify only Ed25519
   * log signatures) and an alarm fires when no cosignature was obtained for witnessAlarmMinutes.
   * @default none
   */
  readonly witnesses?: readonly { readonly url: string; readonly key: string }[];
  /** @default 60: minutes without any witness cosignature before the alarm */
  readonly witnessAlarmMinutes?: number;
}

export type ResolvedProps = {
  -readonly [K in keyof BlockchainSchedulerProps]-?: NonNullable<BlockchainSchedulerProps[K]>;
};

export function resolveProps(props: BlockchainSchedulerProps = {}): ResolvedProps {
  const defined = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
  return { ...DEFAULTS, ...defined } as ResolvedProps;
}

const isInt = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: number, min: number, max: number) => Number.isFinite(v) && v >= min && v <= max;

/**
 * Checks every prop and reports all problems in one ValidationError naming each prop, so that one `cdk synth` shows
 * everything to fix. Bounds are the ones AWS enforces where AWS has one (event source mapping,
 * SQS), so a bad value fails here at synth and not halfway through a deployment.
 */
export function validateProps(p: ResolvedProps): void {
  const problems: FieldIssue[] = [];
  const need = (ok: boolean, field: keyof ResolvedProps, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  type NumericProp = {
    [K in keyof ResolvedProps]: ResolvedProps[K] extends number ? K : never;
  }[keyof ResolvedProps];
  const needInt = (field: NumericProp, min: number, max: number) =>
    need(isInt(p[field], min, max), field, `must be an integer from ${min} to ${max} (got ${p[field]})`);
  const needNum = (field: NumericProp, min: number, max: number) =>
    need(isNum(p[field], min, max), field, `must be from ${min} to ${max} (got ${p[field]})`);
  need(
    /^[a-z][a-z0-9-]{0,15}$/.test(p.stage),
    'stage',
    `must be 1-16 lower-case letters, digits or - (got "${p.stage}")`,
  );
  need(
    p.authMode === 'iam' || p.authMode === 'api-key',
    'authMode',
    `must be 'iam' or 'api-key' (got "${p.authMode}")`,
  );
  need(p.vmTagKey.length >= 1 && p.vmTagKey.length <= 128, 'vmTagKey', 'must be 1-128 characters');
  need(p.vmTagValue.length >= 1 && p.vmTagValue.length <= 256, 'vmTagValue', 'must be 1-256 characters');
  need(
    isAlgorithmName(p.algorithm),
    'algorithm',
    `must be one of ${algorithmNames().join(', ')} (got "${p.algorithm}")`,
  );
  need(isNum(p.alpha, 0, 1), 'alpha', `must be between 0 and 1 (got ${p.alpha})`);
  need(isNum(p.beta, 0, 1), 'beta', `must be between 0 and 1 (got ${p.beta})`);
  need(Number.isFinite(p.tau) && p.tau > 0, 'tau', `must be greater than 0 (got ${p.tau})`);
  needInt('historyWindow', 1, 1440);
  need(
    p.dimensions.length > 0 && p.dimensions.every((d) => DIMENSION_NAME.test(d)),
    'dimensions',
    `must be a non-empty list of lower-case identifiers (got ${JSON.stringify(p.dimensions)})`,
  );
  needInt('blockSize', 1, 1000);
  need(
    isInt(p.metricsPeriodSeconds, 60, 86_400) && p.metricsPeriodSeconds % 60 === 0,
    'metricsPeriodSeconds',
    `must be a multiple of 60 from 60 to 86400 (got ${p.metricsPeriodSeconds})`,
  );
  needNum('fleetCacheTtlSeconds', 0, 3600);
  needInt('leaseGraceSeconds', 0, 86_400);
  needNum('maxWaitSeconds', 0, 86_400);
  needInt('tasksPerMessage', 1, MAX_TASKS_PER_MESSAGE);
  needInt('maxReceiveCount', 1, 1000);
  needInt('batchSize', 1, 10_000);
  needInt('maxBatchingWindowSeconds', 0, 300);
  need(
    p.batchSize <= 10 || p.maxBatchingWindowSeconds >= 1,
    'batchSize',
    `above 10 needs maxBatchingWindowSeconds of at least 1 (got batchSize ${p.batchSize}, window ${p.maxBatchingWindowSeconds})`,
  );
  needInt('maxConcurrency', 2, 1000);
  // The visibility timeout is six times the function timeout (AWS's advice for SQS event sources)
  // and SQS caps it at 12 hours.
  needInt('schedulerTimeoutSeconds', 3, 900);
  // The invalid-chain alarm reads 3 periods of twice the interval, and CloudWatch evaluates at most
  // one day: 3 x 2 x 240 min.
  needInt('verifyIntervalMinutes', 1, 240);
  needInt('verifyReservedConcurrency', 0, 10);
  needInt('fullAuditMaxConcurrency', 1, 1000);
  needInt('fullAuditBlocksPerRange', 100, 1_000_000);
  needNum('throttlingRateLimit', 1, 10_000);
  needInt('leaseSweepMinutes', 1, 1440);
  needInt('throttlingBurstLimit', 1, 5000);
  need(
    !p.dispatchViaSsm || p.dispatch,
    'dispatchViaSsm',
    'needs dispatch: true (commands are sent by the dispatcher)',
  );
  need(!p.agents || p.dispatch, 'agents', 'needs dispatch: true (the dispatcher feeds the agents)');
  // Both would run a task's command twice on one instance, once by SSM and once by its agent.
  need(
    !(p.agents && p.dispatchViaSsm),
    'agents',
    'is refused with dispatchViaSsm: an instance runs its commands through its agent or through SSM, not both (deploy a stack per mode)',
  );
  // One shared key opens every route: with SSM dispatch, every key holder could run commands on the
  // fleet and complete any task. Commands need per-caller identities (SigV4).
  need(
    !(p.dispatchViaSsm && p.authMode === 'api-key'),
    'authMode',
    "must be 'iam' when dispatchViaSsm is on: with one shared API key every key holder could run commands on the fleet",
  );
  need(
    p.alarmEmails.length <= 10 && p.alarmEmails.every((e) => /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(e)),
    'alarmEmails',
    `must be at most 10 email addresses (got ${JSON.stringify(p.alarmEmails)})`,
  );
  need(
    p.logOrigin === '' || checkOriginOk(p.logOrigin),
    'logOrigin',
    `must be 1-255 printable characters without spaces or "+" (got ${JSON.stringify(p.logOrigin)})`,
  );
  needInt('logPublishMinutes', 1, 1440);
  needInt('logObjectLockDays', 0, 36_500);
  needInt('witnessAlarmMinutes', 1, 1440);
  need(
    p.witnesses.length <= 32 && p.witnesses.every((w) => /^https?:\/\//.test(w.url) && vkeyOk(w.key)),
    'witnesses',
    'must be at most 32 of {url: http(s) URL, key: a verifier key name+id+key of type 0x04}',
  );
  need(p.transparencyLog || p.witnesses.length === 0, 'witnesses', 'need transparencyLog');
  const templates = commandTemplatesSchema.safeParse(p.commandTemplates);
  if (!templates.success) {
    problems.push(...ValidationError.fromZod(templates.error, '', ['commandTemplates']).issues);
  }
  need(
    !p.dispatchViaSsm || Object.keys(p.commandTemplates).length > 0,
    'commandTemplates',
    'must name at least one command template when dispatchViaSsm is on (SSM runs nothing else)',
  );
  // The core's own bounds (lib/engine/settings.ts) hold too; a prop already named above, by the
  // narrower bound a deployment has, is not named twice.
  const named = new Set(problems.map((i) => i.field));
  const core = settingsIssues(
    Object.fromEntries(Object.entries(SETTING_NAMES.cdk).map(([setting, prop]) => [setting, p[prop]])),
    SETTING_NAMES.cdk,
  );
  problems.push(...core.filter((i) => !named.has(i.field.split('.')[0]!)));
  const autoScaling = resolveAutoScaling(p.autoScaling);
  if (autoScaling) problems.push(...autoScalingIssues(autoScaling));
  // The scale-in hook's function waits out placements under way within one invocation (15 min at most).
  need(
    !autoScaling || Math.ceil(p.fleetCacheTtlSeconds) + p.schedulerTimeoutSeconds <= 600,
    'fleetCacheTtlSeconds',
    `with autoScaling, fleetCacheTtlSeconds + schedulerTimeoutSeconds must be at most 600 (the scale-in hook waits that long after a drain; got ${Math.ceil(p.fleetCacheTtlSeconds) + p.schedulerTimeoutSeconds})`,
  );
  if (problems.length > 0) throw new ValidationError(problems, 'invalid BlockchainScheduler props');
}

function checkOriginOk(origin: string): boolean {
  try {
    checkOrigin(origin);
    return true;
  } catch {
    return false;
  }
}

function vkeyOk(vkey: string): boolean {
  try {
    return parseVerifierKey(vkey).type === SIG_COSIGNATURE_V1;
  } catch {
    return false;
  }
}
