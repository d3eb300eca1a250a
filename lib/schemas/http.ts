import * as z from 'zod';
import type { AuditJob } from '../engine/audit-job';
import type { LedgerSummary } from '../engine/ledger-reader';
import { parseOrThrow, ValidationError } from '../errors';
import type { VerificationReport } from '../ledger/types';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../model/resources';
import { algorithmParamsSchema } from '../scheduling/params';
import { capacityAmountSchema } from './amounts';
import type { ErrorBody } from './api';
import type {
  algorithmParamsBodySchema,
  autoscaleResponseSchema,
  autoscaleSettingsBodySchema,
  autoscaleStatusBodySchema,
  completeResponseSchema,
  configResponseSchema,
  conflictErrorBodySchema,
  deadLetterBodySchema,
  deadLettersResponseSchema,
  fleetResponseSchema,
  fleetVmBodySchema,
  queueResponseSchema,
  scalingEventSchema,
  submitResponseSchema,
  taskStatusNameSchema,
  taskStatusResponseSchema,
} from './responses';
import {
  gpuModelSchema,
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
    algorithm: z
      .string()
      .refine((n) => names.includes(n), {
        message: `unknown algorithm; expected one of: ${names.join(', ')}`,
      })
      .meta({ enum: [...names] }),
    params: algorithmParamsSchema.optional(),
  });
}
export type AlgorithmChange = z.output<ReturnType<typeof algorithmChangeSchema>>;

/**
 * How the OpenAPI document shows a [lo, hi] pair: as an array of two numbers rather than zod's
 * prefixItems, which Schemathesis 4 misreads as an invalid schema.
 */
const PAIR_OF_SECONDS = { prefixItems: undefined, items: { type: 'number', minimum: 0 } };

const secondsRange = z
  .tuple([z.number().finite().min(0), z.number().finite().min(0)])
  .refine(([lo, hi]) => lo <= hi, 'the first bound must not exceed the second')
  .meta(PAIR_OF_SECONDS);

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
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries')
  .meta({ maxProperties: 32 });

/** A VM's capacity per dimension, by the engine's own rule (lib/schemas/amounts.ts): what it accepts, the engine accepts. */
export function resourceVectorSchema(dimensions: Dimensions) {
  const shape: Record<string, typeof capacityAmountSchema> = {};
  for (const d of dimensions) shape[d] = capacityAmountSchema;
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
    /** GPU model of the VMs' devices (one per 1000 of capacity.gpu); default the fleet's gpu_model. */
    gpu_model: gpuModelSchema.optional(),
  });
}

export {
  blocksQuerySchema,
  consistencyQuerySchema,
  deadLettersQuerySchema,
  type FleetQuery,
  fleetQuerySchema,
  MAX_BLOCKS_PER_PAGE,
  MAX_DEAD_LETTERS_PER_PAGE,
  MAX_VMS_PER_PAGE,
  taskPathSchema,
  transactionPathSchema,
  vmIdSchema,
  vmPathSchema,
} from './api';
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

/** 409 of POST /tasks: ids already submitted with a different body (lib/engine/task-intake.ts). */
export function conflictBody(error: {
  name: string;
  message: string;
  taskIds: readonly string[];
}): ConflictErrorBody {
  return { error: error.name, message: error.message, task_ids: [...error.taskIds] };
}
export type ConflictErrorBody = z.output<typeof conflictErrorBodySchema>;

// Response types are derived from the response schemas (lib/schemas/responses.ts), which the OpenAPI
// document is generated from: one description of the wire.
export type SubmitResponse = z.output<typeof submitResponseSchema>;
export type TaskStatusName = z.output<typeof taskStatusNameSchema>;
export type TaskStatusResponse = z.output<typeof taskStatusResponseSchema>;
export type CompleteResponse = z.output<typeof completeResponseSchema>;
export type FleetVmBody = z.output<typeof fleetVmBodySchema>;
export type FleetResponse = z.output<typeof fleetResponseSchema>;
export type AlgorithmParamsBody = z.output<typeof algorithmParamsBodySchema>;
export type ConfigResponse = z.output<typeof configResponseSchema>;
export type AutoscaleSettingsBody = z.output<typeof autoscaleSettingsBodySchema>;
export type QueueResponse = z.output<typeof queueResponseSchema>;
export type DeadLetterBody = z.output<typeof deadLetterBodySchema>;
export type DeadLettersResponse = z.output<typeof deadLettersResponseSchema>;

/** GET /ledger: the ledger summary both runtimes serve (lib/engine/ledger-reader.ts). */
export type { VmLedgerStats } from '../engine/ledger-reader';
export type LedgerSummaryResponse = LedgerSummary;

export type VerifyResponse = VerificationReport;
/** POST /ledger/verify {"full": true} (202) and GET /ledger/verify/{id}. */
export type AuditJobResponse = AuditJob;

// ---------- server-sent events (GET /events) ----------

export interface DecisionEventItem {
  task_id: string;
  vm_id: string | null;
  status: 'assigned' | 'rejected' | 'completed' | 'failed' | 'expired';
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
  /** The first MAX_VMS_PER_PAGE VMs in id order. */
  vms: Omit<FleetVmBody, 'labels'>[];
  /** VMs in the fleet, when more than `vms` holds. */
  total?: number;
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

export type ScalingEvent = z.output<typeof scalingEventSchema>;
export type AutoscaleResponse = z.output<typeof autoscaleResponseSchema>;
export type AutoscaleStatusBody = z.output<typeof autoscaleStatusBodySchema>;

export interface SnapshotEvent {
  config: ConfigResponse;
  ledger: LedgerSummaryResponse;
  /** The first page of GET /fleet (with `total` when the fleet is larger). */
  fleet: FleetResponse;
  queue_depth: number;
  /** Rows in the queue's dead-letter table (GET /queue/dead-letters); absent from older servers. */
  dead_letters?: number;
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
