import * as z from 'zod';
import { commandTemplatesSchema } from '../../lib/dispatch/command-templates';
import { DEFAULT_SETTINGS, settingsSchema } from '../../lib/engine/settings';
import { parseOrThrow } from '../../lib/errors';
import { DEFAULT_TASKS_PER_MESSAGE, MAX_TASKS_PER_MESSAGE } from '../../lib/schemas/queue-message';

/**
 * Function configuration comes from environment variables the stack sets. It is read once per
 * container and validated, so a misconfigured deployment fails at cold start naming the variable,
 * not halfway through a batch.
 */

// The settings (lib/engine/settings.ts) under their environment names (SETTING_NAMES.environment):
// the defaults come from there; a value is parsed from its string, then held to the settings' bounds.
const dimensions = z
  .string()
  .default(DEFAULT_SETTINGS.dimensions.join(','))
  .transform((s) => s.split(',').map((d) => d.trim()))
  .pipe(settingsSchema.shape.dimensions.unwrap());

type NumericSetting =
  | 'alpha'
  | 'beta'
  | 'tau'
  | 'historyWindow'
  | 'blockSize'
  | 'leaseGraceSeconds'
  | 'maxWaitSeconds';
const setting = (name: NumericSetting) =>
  z.coerce.number().pipe(settingsSchema.shape[name].unwrap()).default(DEFAULT_SETTINGS[name]);

export const tableEnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** The sparse index of open leases; without it lease expiry scans the table. */
  LEASE_INDEX_NAME: z.string().min(1).optional(),
  DIMENSIONS: dimensions,
});

export const enqueueEnvSchema = z.object({
  QUEUE_URL: z.url(),
  /** The ledger table, of which the function writes only ACCEPTED# items. */
  TABLE_NAME: z.string().min(1),
  DIMENSIONS: dimensions,
  /** Most tasks packed into one queue message (SqsTaskSender); 1 sends one message per task. */
  TASKS_PER_MESSAGE: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TASKS_PER_MESSAGE)
    .default(DEFAULT_TASKS_PER_MESSAGE),
});

export const schedulerEnvSchema = tableEnvSchema.extend({
  ALGORITHM: z.string().min(1),
  ALPHA: setting('alpha'),
  BETA: setting('beta'),
  TAU: setting('tau'),
  HISTORY_WINDOW: setting('historyWindow'),
  BLOCK_SIZE: setting('blockSize'),
  VM_TAG_KEY: z.string().min(1),
  VM_TAG_VALUE: z.string().min(1),
  METRICS_PERIOD_SECONDS: z.coerce.number().int().min(1).default(60),
  FLEET_CACHE_TTL_SECONDS: z.coerce.number().min(0).default(30),
  LEASE_GRACE_SECONDS: setting('leaseGraceSeconds'),
  /** How long a task may wait for capacity before it is rejected (the engine's maxWaitSeconds). */
  MAX_WAIT_SECONDS: setting('maxWaitSeconds'),
  /** Leases closed per expiry run. */
  EXPIRE_BATCH_LIMIT: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * The scheduler function alone: where it forwards tasks that can never be placed, and after how many
 * deliveries SQS gives up on a message (the queue's maxReceiveCount), which makes a delivery the last.
 */
export const schedulerFunctionEnvSchema = schedulerEnvSchema.extend({
  DEAD_LETTER_QUEUE_URL: z.url(),
  MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000),
  /** The task queue's redrive target, also consumed: tasks it gave up on are recorded there. */
  EXHAUSTED_QUEUE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/, 'must be an SQS queue ARN'),
});

/** The completion queue the API and command-status functions send to (the lease closer consumes it). */
export const completionSenderEnvSchema = tableEnvSchema.extend({
  COMPLETION_QUEUE_URL: z.url(),
});

/** The API function: the scheduler's settings (the fleet view), the completion queue and the gateway's auth mode. */
export const apiFunctionEnvSchema = schedulerEnvSchema.extend({
  COMPLETION_QUEUE_URL: z.url(),
  AUTH_MODE: z.enum(['iam', 'api-key']).default('iam'),
});

/** 'true' or 'false' exactly: a typo must fail at cold start, not silently switch a feature off. */
const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

/** The dispatch function: where TaskAssigned events go, and whether commands run through SSM. */
export const dispatchEnvSchema = tableEnvSchema.extend({
  EVENT_BUS_NAME: z.string().min(1),
  DISPATCH_VIA_SSM: flag,
  /** With `agents`: each TaskAssigned also goes to the queue `<prefix><vm id>` (lib/adapters/sqs/agent-feed.ts). */
  AGENT_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,46}$/, 'must be 1-46 letters, digits, hyphens or underscores')
    .optional(),
  /** Where commands refused on every attempt go (the dispatch failure queue); set with SSM dispatch. */
  UNDELIVERED_COMMANDS_QUEUE_URL: z.url().optional(),
  /** With SSM dispatch: the stack's command document and the allow-list it enforces (JSON). */
  COMMAND_DOCUMENT_NAME: z.string().min(1).optional(),
  COMMAND_TEMPLATES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(commandTemplatesSchema)
    .optional(),
});

/** Set on the scheduler when dispatch is on: it then records each task's command and labels. */
export const dispatchSpecsEnvSchema = z.object({ DISPATCH_SPECS: flag });

export type DispatchEnv = z.output<typeof dispatchEnvSchema>;
export type TableEnv = z.output<typeof tableEnvSchema>;
export type EnqueueEnv = z.output<typeof enqueueEnvSchema>;
export type SchedulerEnv = z.output<typeof schedulerEnvSchema>;
export type SchedulerFunctionEnv = z.output<typeof schedulerFunctionEnvSchema>;

export function readEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  return parseOrThrow(schema, env, 'function configuration');
}
