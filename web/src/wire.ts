import * as z from 'zod';
import type { Digest } from '../../lib/ledger/types';
import type {
  BlockEvent as BlockEventWire,
  DecisionsEvent as DecisionsEventWire,
  FleetEvent as FleetEventWire,
  GeneratorSettings,
  MetricsEvent as MetricsEventWire,
  ScalingEvent as ScalingEventWire,
  SnapshotEvent as SnapshotEventWire,
  VerifyResponse,
} from '../../lib/schemas/http';

/**
 * The shapes the dashboard reads from the local HTTP API and its Server-Sent Events. The server is
 * another process (possibly another version), so every payload is parsed here before it reaches the
 * DOM: a payload that drifted from the contract is reported by field instead of breaking a panel.
 * Objects are not strict: new fields on the server must not break an older dashboard.
 */

const vector = z.record(z.string(), z.number());
const nullableNumber = z.number().nullable();

export const configSchema = z.object({
  dimensions: z.array(z.string()).min(1),
  units: z.record(z.string(), z.string()).default({}),
  algorithm: z.string(),
  algorithms: z.array(z.string()),
  params: z.object({ alpha: z.number(), beta: z.number(), tau: z.number(), historyWindow: z.number() }),
  block_size: z.number().int().positive(),
  fleet: z.object({ size: z.number(), speed: z.number().positive() }).optional(),
  autoscale: z
    .object({ enabled: z.boolean(), min: z.number(), max: z.number(), target_backlog_per_vm: z.number() })
    .optional(),
});
export type Config = z.output<typeof configSchema>;

export const fleetVmSchema = z.object({
  id: z.string(),
  state: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  capacity: vector,
  reserved: vector,
  usage: vector,
  active_tasks: z.number(),
  /** Why the engine refuses this VM's record and places nothing on it; absent when it is healthy. */
  quarantine: z.string().optional(),
  /** GPU devices in driver order with the milli-GPU the ledger holds on each; absent when none are listed. */
  gpus: z.array(z.object({ model: z.string(), milli: z.number(), reserved: z.number() })).optional(),
});
export type FleetVm = z.output<typeof fleetVmSchema>;

/** `total` is set when the fleet is larger than the page the server sends (the first 1000 VMs). */
export const fleetSchema = z.object({
  vms: z.array(fleetVmSchema),
  total: z.number().int().min(0).optional(),
});

export const fleetEventSchema = z.object({
  at: z.union([z.number(), z.string()]),
  vms: z.array(fleetVmSchema),
  total: z.number().int().min(0).optional(),
});
export type FleetEvent = z.output<typeof fleetEventSchema>;

export const vmLedgerStatsSchema = z.object({
  vm_id: z.string(),
  assignments: z.number(),
  completed: z.number(),
  /** Absent from a server older than ledger format 3. */
  failed: z.number().default(0),
  success_rate: nullableNumber,
  utilisation: nullableNumber.optional(),
});

export type VmLedgerStats = z.output<typeof vmLedgerStatsSchema>;

export const ledgerSummarySchema = z.object({
  height: z.number().int().min(0),
  head_hash: z.string(),
  transaction_count: z.number().int().min(0),
  vms: z.array(vmLedgerStatsSchema).default([]),
});
export type LedgerSummary = z.output<typeof ledgerSummarySchema>;

/** GET /ledger/digest: the tree head an auditor keeps (RFC 9162 root over all block hashes). */
export const digestSchema = z.object({
  height: z.number().int().min(0),
  head_hash: z.string(),
  tree_size: z.number().int().min(1),
  blocks_root: z.string(),
  transaction_count: z.number().int().min(0),
  timestamp: z.string(),
});
export type DigestView = z.output<typeof digestSchema>;

export const algorithmMetricsSchema = z.object({
  decided: z.number(),
  placed: z.number(),
  rejected: z.number(),
  success_rate: nullableNumber,
  imbalance_cv: nullableNumber,
  deadline_compliance: nullableNumber,
  mean_utilisation: nullableNumber,
});
export type AlgorithmMetrics = z.output<typeof algorithmMetricsSchema>;

/** One action of the local autoscaler (SSE `scaling`). */
export const scalingEventSchema = z.object({
  at: z.string(),
  action: z.enum(['scale-out', 'scale-in', 'retire']),
  vm_ids: z.array(z.string()),
  reason: z.string(),
  backlog: z.number().min(0),
  backlog_per_vm: z.number().min(0),
  fleet_size: z.number().int().min(0),
  active_vms: z.number().int().min(0),
});
export type ScalingEvent = z.output<typeof scalingEventSchema>;

export const autoscaleStatusSchema = z.object({
  enabled: z.boolean(),
  fleet_size: z.number().int().min(0),
  active_vms: z.number().int().min(0),
  backlog: z.number().min(0),
  backlog_per_vm: z.number().min(0),
  scale_outs: z.number().int().min(0),
  scale_ins: z.number().int().min(0),
  retired: z.number().int().min(0),
  last: scalingEventSchema.nullable(),
});
export type AutoscaleStatus = z.output<typeof autoscaleStatusSchema>;

export const metricsEventSchema = z.object({
  at: z.union([z.number(), z.string()]),
  algorithm: z.string(),
  queue_depth: z.number().min(0),
  throughput_per_s: z.number().min(0),
  by_algorithm: z.record(z.string(), algorithmMetricsSchema),
  autoscale: autoscaleStatusSchema.optional(),
});
export type MetricsEvent = z.output<typeof metricsEventSchema>;

export const snapshotEventSchema = z.object({
  config: configSchema,
  ledger: ledgerSummarySchema,
  fleet: fleetSchema,
  queue_depth: z.number().min(0),
  dead_letters: z.number().int().min(0).optional(),
  metrics: metricsEventSchema.nullable().optional(),
});
export type SnapshotEvent = z.output<typeof snapshotEventSchema>;

/** GET /queue. */
export const queueSummarySchema = z.object({
  depth: z.number().min(0),
  dead_letters: z.number().int().min(0),
});

export const decisionSchema = z.object({
  task_id: z.string(),
  vm_id: z.string().nullable(),
  status: z.string(),
  score: nullableNumber,
  reason: z.string(),
  algorithm: z.string(),
  transaction_id: z.string(),
  height: z.number().int(),
  at: z.union([z.number(), z.string()]),
});
export type DecisionItem = z.output<typeof decisionSchema>;

export const decisionsEventSchema = z.object({ items: z.array(decisionSchema) });

export const blockEventSchema = z.object({
  height: z.number().int().min(0),
  hash: z.string(),
  transaction_count: z.number().int().min(0),
  timestamp: z.string(),
});
export type BlockEvent = z.output<typeof blockEventSchema>;

export const verificationReportSchema = z.object({
  valid: z.boolean(),
  height: z.number(),
  head_hash: z.string().nullable(),
  blocks_checked: z.number(),
  transactions_checked: z.number(),
  first_bad_height: nullableNumber,
  problem: z.string().nullable(),
  detail: z.string().nullable(),
});
export type VerificationReportView = z.output<typeof verificationReportSchema>;

export const generatorStateSchema = z.object({
  running: z.boolean(),
  rate: z.number(),
  count: z.number().nullable().optional(),
  duration_s: z.tuple([z.number(), z.number()]).optional(),
  deadline_slack_s: z.tuple([z.number(), z.number()]).optional(),
  size: z.string().optional(),
  generated: z.number().optional(),
});
export type GeneratorState = z.output<typeof generatorStateSchema>;

/** The 400 body every route returns for bad input. */
export const errorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/**
 * Compile-time guard against contract drift: every payload the server's types allow must parse with
 * the schemas above. If lib/schemas/http.ts changes a field, `tsc` fails here, not the dashboard.
 */
type Accepts<Schema extends z.ZodType, Wire> = Wire extends z.input<Schema> ? true : never;
export const contractChecks: [
  Accepts<typeof snapshotEventSchema, SnapshotEventWire>,
  Accepts<typeof decisionsEventSchema, DecisionsEventWire>,
  Accepts<typeof blockEventSchema, BlockEventWire>,
  Accepts<typeof fleetEventSchema, FleetEventWire>,
  Accepts<typeof metricsEventSchema, MetricsEventWire>,
  Accepts<typeof scalingEventSchema, ScalingEventWire>,
  Accepts<typeof verificationReportSchema, VerifyResponse>,
  Accepts<typeof digestSchema, Digest>,
  Accepts<typeof generatorStateSchema, GeneratorSettings & { generated: number }>,
] = [true, true, true, true, true, true, true, true, true];
