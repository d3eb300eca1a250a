import * as z from 'zod';
import { auditJobSchema } from '../engine/audit-job';
import type { LedgerSummary } from '../engine/ledger-reader';
import { blockSchema } from '../ledger/blocks';
import { digestSchema } from '../ledger/digest';
import { transactionProofSchema } from '../ledger/proofs';
import { count, hash64, verificationProblemSchema } from '../ledger/schema-parts';
import { signedDigestSchema } from '../ledger/signed-digest';
import { timestampSchema } from '../ledger/time';
import { transactionSchema } from '../ledger/transactions';
import type { VerificationProblem, VerificationReport } from '../ledger/types';
import { taskIdSchema } from './task-input';

/**
 * Response bodies of the HTTP API, as zod schemas: the OpenAPI document (lib/schemas/openapi.ts)
 * is generated from them, the contract tests parse live responses with them, and the wire types in
 * lib/schemas/http.ts are derived from them. Objects are strict: a field the server sends and this
 * file does not name is drift, and the contract tests say so.
 */

const amount = z.number().finite();
/** A resource vector: one number per configured dimension (cpu, mem, io, bw by default). */
export const resourceVectorBodySchema = z.record(z.string(), amount);
const share = z.number().finite().min(0);
const nullableShare = share.nullable();

// ---------- errors ----------

export const fieldIssueSchema = z.strictObject({
  /** Dotted path of the offending field ("0.cpu", "labels.__proto__"); "" for the body itself. */
  field: z.string(),
  message: z.string().min(1),
});

/** Body of every 4xx/5xx response: a message, plus the offending fields for validation errors. */
export const errorBodySchema = z.strictObject({
  error: z.string().min(1),
  message: z.string().min(1),
  issues: z.array(fieldIssueSchema).min(1).optional(),
});

// ---------- tasks ----------

export const submitResponseSchema = z.strictObject({
  /** Ids queued by this request (ids generated for tasks sent without one included). */
  accepted: z.array(taskIdSchema),
  /** Ids already queued or recorded: nothing was queued again. */
  duplicates: z.array(taskIdSchema),
});

export const taskStatusNameSchema = z.enum([
  'queued',
  'assigned',
  'rejected',
  'completed',
  'failed',
  'expired',
]);

export const taskStatusResponseSchema = z.strictObject({
  task_id: taskIdSchema,
  status: taskStatusNameSchema,
  vm_id: z.string().nullable(),
  block_height: count.nullable(),
  transaction_id: z.string().nullable(),
  reason: z.string().nullable(),
});

export const completeResponseSchema = z.strictObject({
  task_id: taskIdSchema,
  /**
   * closed: recorded now (the local runtime). accepted: queued for the lease closer, which records
   * it (AWS, answered 202; GET /tasks/{id} shows `completed` once the block is committed).
   * already-final: nothing to record.
   */
  status: z.enum(['closed', 'accepted', 'already-final']),
  /** For already-final: the status the task already had; for accepted: `assigned`, as it is until recorded. */
  task_status: z.string().min(1),
  transaction_id: z.string().nullable(),
  block_height: count.nullable(),
});

// ---------- fleet ----------

export const fleetVmBodySchema = z.strictObject({
  id: z.string().min(1),
  state: z.enum(['active', 'draining']),
  labels: z.record(z.string(), z.string()),
  capacity: resourceVectorBodySchema,
  reserved: resourceVectorBodySchema,
  usage: resourceVectorBodySchema,
  active_tasks: count,
  /** Draining with no task left: may be terminated. */
  free_to_terminate: z.boolean().optional(),
  /** Present when the VM is quarantined (the engine refuses its record): what is wrong, naming the field. */
  quarantine: z.string().min(1).optional(),
  /**
   * Its GPU devices in driver order (CUDA_VISIBLE_DEVICES indexes), when it lists them: model,
   * milli-GPU capacity and what the ledger holds on each (docs/ledger-format.md 2.4).
   */
  gpus: z
    .array(
      z.strictObject({
        model: z.string().min(1),
        milli: count,
        reserved: z.number().min(0),
      }),
    )
    .max(64)
    .optional(),
});

export const fleetResponseSchema = z.strictObject({
  /** At most 1000, in id order (vm-2 before vm-10). */
  vms: z.array(fleetVmBodySchema),
  /** VMs in the fleet (local runtime). */
  total: count.optional(),
  /** VMs quarantined in the whole fleet (always locally; on AWS only when some are). */
  quarantined: count.optional(),
  /** The `after` of the next page, null on the last (local runtime). */
  next: z.string().min(1).nullable().optional(),
});

/** A request refused by a configured limit (409 max_fleet_size, 503 max_event_clients). */
/** 409 of POST /tasks: the ids already submitted with a different body; nothing of the request was queued. */
export const conflictErrorBodySchema = errorBodySchema.extend({
  task_ids: z.array(taskIdSchema).min(1),
});

export const limitErrorBodySchema = errorBodySchema.extend({
  limit: z.strictObject({ name: z.string().min(1), value: count }),
});

// ---------- queue ----------

export const queueResponseSchema = z.strictObject({
  /** Tasks queued: visible, delayed and in flight. */
  depth: count,
  /** Rows in the dead-letter table. */
  dead_letters: count,
});

/** A queue row that could not be read back as a task. */
export const deadLetterBodySchema = z.strictObject({
  task_id: z.string(),
  /** The row's text as stored. */
  task: z.string(),
  attempts: count,
  error: z.string(),
  /** ISO 8601. */
  failed_at: z.string().min(1),
});

export const deadLettersResponseSchema = z.strictObject({
  total: count,
  items: z.array(deadLetterBodySchema),
});

export const addVmsResponseSchema = z.strictObject({ added: z.array(z.string().min(1)).min(1) });

export const drainResponseSchema = z.strictObject({ id: z.string().min(1), state: z.literal('draining') });

export const autoscaleSettingsBodySchema = z.strictObject({
  enabled: z.boolean(),
  min: count,
  max: count,
  target_backlog_per_vm: share,
  max_step: count,
  tick_ms: count,
  scale_out_window_s: share,
  scale_out_cooldown_s: share,
  scale_in_window_s: share,
  scale_in_cooldown_s: share,
});

/** One action of the local autoscaler (runtime/fleet/autoscaler.ts). */
export const scalingEventSchema = z.strictObject({
  at: z.string(),
  /** scale-out adds VMs; scale-in drains idle ones; retire removes drained ones the ledger shows empty. */
  action: z.enum(['scale-out', 'scale-in', 'retire']),
  vm_ids: z.array(z.string()),
  reason: z.string(),
  /** Tasks waiting in the queue when the policy ran. */
  backlog: share,
  /** backlog / active VMs (the whole backlog when no VM is active). */
  backlog_per_vm: share,
  /** VMs in the fleet after the action, draining ones included. */
  fleet_size: count,
  active_vms: count,
});

export const autoscaleStatusBodySchema = z.strictObject({
  enabled: z.boolean(),
  fleet_size: count,
  active_vms: count,
  backlog: share,
  backlog_per_vm: share,
  scale_outs: count,
  scale_ins: count,
  retired: count,
  last: scalingEventSchema.nullable(),
});

/** GET /fleet/autoscaling: the settings, and the state while autoscaling is on (null when off). */
export const autoscaleResponseSchema = z.strictObject({
  settings: autoscaleSettingsBodySchema,
  status: autoscaleStatusBodySchema.nullable(),
});

// ---------- agent assignments ----------

export const assignmentItemSchema = z.strictObject({
  task_id: taskIdSchema,
  transaction_id: z.string(),
  block_height: count,
  /** The task's command, or null when it has none (the agent then simulates its duration). */
  command: z.string().nullable(),
  /** Seconds. */
  duration: z.number().finite().positive(),
  /** Epoch ms: the ledger expires the assignment then unless the agent has reported completion. */
  lease_expires_at: z.number().finite(),
  /** The GPU devices the task holds (local indexes), when it holds any: its CUDA_VISIBLE_DEVICES. */
  devices: z.array(z.number().int().min(0).max(63)).min(1).max(64).optional(),
});

export const assignmentsResponseSchema = z.strictObject({
  vm_id: z.string().min(1),
  managed: z.enum(['simulation', 'agent']),
  /** Highest block height among the items (or the `since` asked for, -1 for none, when there are none). */
  height: z.number().int().min(-1),
  assignments: z.array(assignmentItemSchema),
});

// ---------- config and generator ----------

export const algorithmParamsBodySchema = z.strictObject({
  alpha: z.number().finite(),
  beta: z.number().finite(),
  tau: z.number().finite(),
  historyWindow: count,
  weights: z.record(z.string(), z.number().finite()).optional(),
});

export const configResponseSchema = z.strictObject({
  dimensions: z.array(z.string()).min(1),
  units: z.record(z.string(), z.string()),
  algorithm: z.string(),
  algorithms: z.array(z.string()).min(1),
  params: algorithmParamsBodySchema,
  block_size: count,
  batch_size: count,
  fleet: z.strictObject({ size: count, capacity: resourceVectorBodySchema, speed: z.number().finite() }),
  /** The autoscaling settings (lib/schemas/config.ts); absent from servers without autoscaling. */
  autoscale: autoscaleSettingsBodySchema.optional(),
});

// An array of two numbers in the document: Schemathesis 4 misreads zod's prefixItems as invalid.
const secondsRangeBody = z
  .tuple([z.number().finite(), z.number().finite()])
  .meta({ prefixItems: undefined, items: { type: 'number' } });

export const generatorStateSchema = z.strictObject({
  running: z.boolean(),
  /** Tasks per second. */
  rate: share,
  /** Stop after this many tasks; null runs until stopped. */
  count: count.nullable(),
  duration_s: secondsRangeBody,
  deadline_slack_s: secondsRangeBody,
  size: z.enum(['small', 'mixed', 'large']),
  /** Tasks generated (and queued) since the count was last set. */
  generated: count,
  /** Tasks generated but refused because the queue was full. */
  dropped: count,
});

// ---------- ledger ----------

export const vmLedgerStatsSchema = z.strictObject({
  vm_id: z.string(),
  /** Decisions that placed a task on this VM. */
  assignments: count,
  completed: count,
  /** Closings whose run exited non-zero or was killed by a signal (ledger format 3). */
  failed: count,
  expired: count,
  /** Assigned tasks not yet completed, failed or expired. */
  active_tasks: count,
  /** completed / (completed + failed + expired); null before any finished. */
  success_rate: nullableShare,
  /** Mean over the VM's dimensions of reserved / capacity. */
  utilisation: share,
});

export const ledgerSummaryResponseSchema = z.strictObject({
  height: count,
  head_hash: hash64,
  transaction_count: count,
  assignments: count,
  rejections: count,
  completed: count,
  failed: count,
  expired: count,
  /** assignments / (assignments + rejections); null before any decision. */
  success_rate: nullableShare,
  vms: z.array(vmLedgerStatsSchema),
});

export const blocksPageResponseSchema = z.strictObject({
  /** The chain's height when the page was read. */
  height: count,
  blocks: z.array(blockSchema),
});

export { verificationProblemSchema };

export const verifyResponseSchema = z.strictObject({
  valid: z.boolean(),
  height: z.number().int(),
  head_hash: hash64.nullable(),
  blocks_checked: count,
  transactions_checked: count,
  /** First bad block, if any. */
  first_bad_height: count.nullable(),
  problem: verificationProblemSchema.nullable(),
  detail: z.string().nullable(),
  /**
   * AWS (incremental, docs/ledger-format.md 10.2): the run stopped at its time budget before the head; the
   * chain is valid as far as `height`, and the next request or scheduled run resumes there.
   */
  incomplete: z.boolean().optional(),
  /** AWS: blocks between the verified height and the head the run read. */
  behind: count.optional(),
});

/** POST /ledger/verify {"full": true} (202) and GET /ledger/verify/{id}: a full re-audit's job. */
export const auditJobResponseSchema = auditJobSchema;

/** GET /ledger/digest: the digest, or with ?signed=1 the signed digest. */
export const digestResponseSchema = z.union([signedDigestSchema, digestSchema]);

export { digestSchema, timestampSchema, transactionProofSchema, transactionSchema };

// The core's own types for what these schemas describe: a field added on one side and not the other
// fails the type check here, not a client.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const responseSchemasMatchTheCore: [
  Same<z.output<typeof ledgerSummaryResponseSchema>, LedgerSummary>,
  Same<z.output<typeof verifyResponseSchema>, VerificationReport>,
  Same<z.output<typeof verificationProblemSchema>, VerificationProblem>,
] = [true, true, true];

/** GET /ledger/tlog: the transparency log's identity and its witnesses (lib/engine/checkpointer.ts). */
export const tlogResponseSchema = z.strictObject({
  origin: z.string(),
  /** Note verifier keys: ECDSA P-256 (type 0x02) first, then Ed25519 (type 0x01). */
  verifier_keys: z.array(z.string()),
  witnesses: z.array(
    z.strictObject({
      name: z.string(),
      url: z.string(),
      tree_size: z.number().int().min(0),
      cosigned: z.number().int().min(0),
      failures: z.number().int().min(0),
      last_cosigned_at: z.string().nullable(),
      last_error: z.string().nullable(),
    }),
  ),
});
