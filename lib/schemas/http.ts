import { z } from 'zod';
import type { LedgerSummary } from '../engine/ledger-reader';
import { parseOrThrow, ValidationError } from '../errors';
import type { VerificationReport } from '../ledger/types';
import { DEFAULT_DIMENSIONS, type Dimensions, type ResourceVector } from '../model/resources';
import { algorithmParamsSchema } from '../scheduling/params';
import type { ErrorBody } from './api';
import {
  amountSchema,
  MAX_TASKS_PER_REQUEST,
  type TaskInput,
  taskIdSchema,
  taskInputSchema,
} from './task-input';

/**
 * Request and response shapes of the HTTP API, shared by the local server, the API Gateway
 * functions, the CLI and the dashboard. Wire names are snake_case like the ledger.
 */

// ---------- requests ----------

/**
 * Builds the parser of POST /tasks bodies for a dimension set. The union schema in task-input.ts
 * reports an invalid array as one union failure; parsing each shape on its own keeps the field
 * paths precise ("1.cpu" for the second task of an array, "cpu" for a single task). Building zod
 * schemas costs far more than running them, so callers build the parser once.
 */
export function taskSubmissionParser(
  dimensions: Dimensions = DEFAULT_DIMENSIONS,
): (body: unknown) => TaskInput[] {
  const one = taskInputSchema(dimensions);
  const many = z.array(one).min(1).max(MAX_TASKS_PER_REQUEST);
  return (body) =>
    Array.isArray(body)
      ? parseOrThrow(many, body, 'invalid task submission')
      : [parseOrThrow(one, body, 'invalid task submission')];
}

/** One-off form of taskSubmissionParser. */
export function parseTaskSubmission(body: unknown, dimensions: Dimensions = DEFAULT_DIMENSIONS): TaskInput[] {
  return taskSubmissionParser(dimensions)(body);
}

/** PUT /config/algorithm. `names` are the registered algorithms; anything else fails on `algorithm`. */
export function algorithmChangeSchema(names: readonly string[]) {
  return z.strictObject({
    algorithm: z.string().refine((n) => names.includes(n), {
      message: `unknown algorithm; expected one of: ${names.join(', ')}`,
    }),
    params: algorithmParamsSchema.optional(),
  });
}
export type AlgorithmChange = z.output<ReturnType<typeof algorithmChangeSchema>>;

const secondsRange = z
  .tuple([z.number().finite().min(0), z.number().finite().min(0)])
  .refine(([lo, hi]) => lo <= hi, 'the first bound must not exceed the second');

export const taskSizeSchema = z.enum(['small', 'mixed', 'large']);

/** Settings of the built-in task generator; POST /generator takes any subset. */
export const generatorSettingsSchema = z.strictObject({
  running: z.boolean(),
  /** Tasks per second. */
  rate: z.number().finite().min(0).max(100_000),
  /** Stop after this many tasks; null runs until stopped. */
  count: z.number().int().min(1).max(100_000_000).nullable(),
  duration_s: secondsRange,
  deadline_slack_s: secondsRange,
  size: taskSizeSchema,
});
export type GeneratorSettings = z.output<typeof generatorSettingsSchema>;
export const generatorPatchSchema = generatorSettingsSchema.partial();
export type GeneratorPatch = z.output<typeof generatorPatchSchema>;

const labelValue = z.string().min(1).max(256);
const vmLabelsSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, 'label keys are 1-63 of letters, digits and ._/-'),
    labelValue,
  )
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries');

export function resourceVectorSchema(dimensions: Dimensions) {
  const shape: Record<string, z.ZodNumber> = {};
  for (const d of dimensions) shape[d] = amountSchema;
  return z.strictObject(shape).partial();
}

/** POST /fleet/vms: add simulated VMs. Capacity dimensions left out take the configured default. */
export function addVmsSchema(dimensions: Dimensions) {
  return z.strictObject({
    count: z.number().int().min(1).max(1000).default(1),
    capacity: resourceVectorSchema(dimensions).optional(),
    labels: vmLabelsSchema.optional(),
    /** 'agent': an agent on the VM runs its tasks and reports completions (docs/agent.md). */
    managed: z.enum(['simulation', 'agent']).default('simulation'),
  });
}

export const vmIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'not a VM id');
export { blocksQuerySchema, MAX_BLOCKS_PER_PAGE, taskPathSchema, transactionPathSchema } from './api';
export type { ErrorBody };

export { taskIdSchema };

// ---------- responses ----------

export function errorBody(error: unknown): ErrorBody {
  if (error instanceof ValidationError) {
    return { error: 'ValidationError', message: error.message, issues: error.issues };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { error: e.name, message: e.message };
}

export interface SubmitResponse {
  accepted: string[];
  duplicates: string[];
}

export type TaskStatusName = 'queued' | 'assigned' | 'rejected' | 'completed' | 'expired';

export interface TaskStatusResponse {
  task_id: string;
  status: TaskStatusName;
  vm_id: string | null;
  block_height: number | null;
  transaction_id: string | null;
  reason: string | null;
}

export interface CompleteResponse {
  task_id: string;
  status: 'closed' | 'already-final';
  /** For already-final: the status the task already had. */
  task_status: string;
  transaction_id: string | null;
  block_height: number | null;
}

export interface FleetVmBody {
  id: string;
  state: 'active' | 'draining';
  labels: Record<string, string>;
  capacity: ResourceVector;
  reserved: ResourceVector;
  usage: ResourceVector;
  active_tasks: number;
  /** Draining with no task left: may be terminated (set by the AWS API's GET /fleet; lib/scaling). */
  free_to_terminate?: boolean;
}

export interface FleetResponse {
  vms: FleetVmBody[];
}

export interface AlgorithmParamsBody {
  alpha: number;
  beta: number;
  tau: number;
  historyWindow: number;
}

export interface ConfigResponse {
  dimensions: string[];
  units: Record<string, string>;
  algorithm: string;
  algorithms: string[];
  params: AlgorithmParamsBody;
  block_size: number;
  batch_size: number;
  fleet: { size: number; capacity: ResourceVector; speed: number };
  /** The autoscaling settings (lib/schemas/config.ts); absent from servers without autoscaling. */
  autoscale?: AutoscaleSettingsBody;
}

export interface AutoscaleSettingsBody {
  enabled: boolean;
  min: number;
  max: number;
  target_backlog_per_vm: number;
  max_step: number;
  tick_ms: number;
  scale_out_window_s: number;
  scale_out_cooldown_s: number;
  scale_in_window_s: number;
  scale_in_cooldown_s: number;
}

/** GET /ledger: the ledger summary both runtimes serve (lib/engine/ledger-reader.ts). */
export type { VmLedgerStats } from '../engine/ledger-reader';
export type LedgerSummaryResponse = LedgerSummary;

export type VerifyResponse = VerificationReport;

// ---------- server-sent events (GET /events) ----------

export interface DecisionEventItem {
  task_id: string;
  vm_id: string | null;
  status: 'assigned' | 'rejected' | 'completed' | 'expired';
  score: number | null;
  reason: string;
  algorithm: string;
  transaction_id: string;
  height: number;
  /** RFC 3339 timestamp of the transaction. */
  at: string;
}

export interface DecisionsEvent {
  items: DecisionEventItem[];
}

export interface BlockEvent {
  height: number;
  hash: string;
  transaction_count: number;
  timestamp: string;
}

export interface FleetEvent {
  at: string;
  vms: Omit<FleetVmBody, 'labels'>[];
}

export interface AlgorithmMetricsBody {
  decided: number;
  placed: number;
  rejected: number;
  /** placed / decided; null before any decision. */
  success_rate: number | null;
  /** Coefficient of variation of mean VM utilisation across active VMs while this algorithm ran. */
  imbalance_cv: number | null;
  /** Share of placed tasks whose duration fits before their deadline at decision time. */
  deadline_compliance: number | null;
  mean_utilisation: number | null;
}

export interface MetricsEvent {
  at: string;
  algorithm: string;
  queue_depth: number;
  throughput_per_s: number;
  by_algorithm: Record<string, AlgorithmMetricsBody>;
  /** Present while autoscaling is on. */
  autoscale?: AutoscaleStatusBody;
}

/** One action of the local autoscaler (runtime/fleet/autoscaler.ts). */
export interface ScalingEvent {
  at: string;
  /** scale-out adds VMs; scale-in drains idle ones; retire removes drained ones the ledger shows empty. */
  action: 'scale-out' | 'scale-in' | 'retire';
  vm_ids: string[];
  reason: string;
  /** Tasks waiting in the queue when the policy ran. */
  backlog: number;
  /** backlog / active VMs (the whole backlog when no VM is active). */
  backlog_per_vm: number;
  /** VMs in the fleet after the action, draining ones included. */
  fleet_size: number;
  active_vms: number;
}

/** GET /fleet/autoscaling: the settings, and the state while autoscaling is on (null when off). */
export interface AutoscaleResponse {
  settings: AutoscaleSettingsBody;
  status: AutoscaleStatusBody | null;
}

export interface AutoscaleStatusBody {
  enabled: boolean;
  fleet_size: number;
  active_vms: number;
  backlog: number;
  backlog_per_vm: number;
  scale_outs: number;
  scale_ins: number;
  retired: number;
  last: ScalingEvent | null;
}

export interface SnapshotEvent {
  config: ConfigResponse;
  ledger: LedgerSummaryResponse;
  fleet: FleetResponse;
  queue_depth: number;
  metrics: MetricsEvent;
}

export interface ServerEvents {
  snapshot: SnapshotEvent;
  decisions: DecisionsEvent;
  block: BlockEvent;
  fleet: FleetEvent;
  metrics: MetricsEvent;
  scaling: ScalingEvent;
}
