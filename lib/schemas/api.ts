import * as z from 'zod';
import type { errorBodySchema } from './responses';
import { taskIdSchema } from './task-input';

/**
 * Path and query parameters of the HTTP API (AWS and local runtime alike). Query strings arrive as
 * text, hence the coercion; every bound is explicit so that a client cannot ask for the whole chain
 * in one response.
 */

export const MAX_BLOCKS_PER_PAGE = 100;
export const DEFAULT_BLOCKS_PER_PAGE = 20;

export const taskPathSchema = z.strictObject({ id: taskIdSchema });

export const transactionPathSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'must be 1-128 characters: letters, digits and ._:@/-'),
});

/**
 * A count written in decimal digits. Number() would read "" as 0 and also take "0x10", "1e3" or
 * " 7", so `?from=` silently meant the first block; only digits are a count here.
 */
const decimalCount = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number written in decimal digits')
  .transform(Number);

/** The largest count of 15 digits. */
const MAX_DECIMAL_COUNT = 999_999_999_999_999;

/**
 * A decimalCount between min and max, documented in OpenAPI as the integer it stands for (a client
 * sends query integers as their decimal digits, which is all this accepts).
 */
function decimalQuery(min: number, max = MAX_DECIMAL_COUNT) {
  return decimalCount
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max, pattern: undefined });
}

export const blocksQuerySchema = z.strictObject({
  from: decimalQuery(0).default(0),
  limit: decimalQuery(1, MAX_BLOCKS_PER_PAGE).default(DEFAULT_BLOCKS_PER_PAGE),
});

export type BlocksQuery = z.output<typeof blocksQuerySchema>;

export const vmIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'not a VM id');
export const vmPathSchema = z.strictObject({ id: vmIdSchema });

/** GET /ledger/digest: `signed=1` (or true) asks for the signed digest. */
export const digestQuerySchema = z.strictObject({
  signed: z
    .enum(['1', 'true', '0', 'false'], { error: 'must be 1, true, 0 or false' })
    .optional()
    .transform((v) => v === '1' || v === 'true'),
});

/**
 * POST /ledger/verify body (optional: no body is `{}`): `full: true` starts a full re-audit in the
 * background and answers 202 with its job; otherwise only the blocks since the last run are verified.
 */
export const verifyBodySchema = z.strictObject({
  full: z.boolean({ error: 'must be true or false' }).optional(),
});

/** GET /ledger/verify/{id}: a full re-audit's job id. */
export const auditJobPathSchema = z.strictObject({ id: z.uuid({ error: 'must be a job id (a UUID)' }) });

/** Longest long poll of GET /vms/{id}/assignments, seconds: well under common proxy idle timeouts (60 s). */
export const MAX_WAIT_S = 30;

export const assignmentsQuerySchema = z.strictObject({
  /** Seconds to wait for an assignment from a block above `since` when there is none yet. */
  wait: decimalQuery(0, MAX_WAIT_S).default(0),
  /** The highest block height the caller has seen; -1 (the default) means none. */
  since: decimalQuery(0).optional(),
});

/** Most VMs in one GET /fleet page, in the dashboard snapshot and in each `fleet` event. */
export const MAX_VMS_PER_PAGE = 1000;

/** GET /fleet: VMs in id order (vm-2 before vm-10), `limit` of them after the VM `after`. */
export const fleetQuerySchema = z.strictObject({
  limit: decimalQuery(1, MAX_VMS_PER_PAGE).default(MAX_VMS_PER_PAGE),
  after: vmIdSchema.optional(),
});

export type FleetQuery = z.output<typeof fleetQuerySchema>;

export const MAX_DEAD_LETTERS_PER_PAGE = 1000;

/** GET /queue/dead-letters: the oldest `limit` rows. */
export const deadLettersQuerySchema = z.strictObject({
  limit: decimalQuery(1, MAX_DEAD_LETTERS_PER_PAGE).default(100),
});

/**
 * GET /ledger/consistency: `from` and `to` are tree sizes of the block-hash tree (height + 1), as in
 * RFC 9162's get-sth-consistency; `to` defaults to the current size. Ranges are checked by the reader.
 */
export const consistencyQuerySchema = z.strictObject({
  from: decimalQuery(1),
  to: decimalQuery(1).optional(),
});

/** Body of every 4xx/5xx response: a message, plus the offending fields for validation errors. */
export type ErrorBody = z.output<typeof errorBodySchema>;

/**
 * How a run ended, as a runner reports it (POST /tasks/{id}/complete, the agent, the completion
 * message): the ledger's outcome (docs/ledger-format.md 2.5) with `exit_code` or `signal` left out
 * when null. Exactly one of them is given; exit code 0 records `completed`, anything else `failed`.
 */
export const reportedOutcomeSchema = z
  .strictObject({
    exit_code: z.number().int().min(0).max(255).nullable().default(null),
    signal: z
      .string()
      .regex(/^SIG[A-Z0-9]{1,14}$/, 'must be a signal name such as SIGKILL')
      .nullable()
      .default(null),
    duration_ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    output_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (SHA-256)'),
  })
  .superRefine((o, ctx) => {
    if ((o.exit_code === null) === (o.signal === null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['exit_code'],
        message: 'give exactly one of exit_code and signal',
      });
    }
  })
  // The refinement above, as JSON Schema for the OpenAPI document (zod cannot derive it), so that
  // a client generated from the document, or a fuzzer, knows the rule too.
  .meta({
    oneOf: [
      {
        properties: { exit_code: { type: 'integer' }, signal: { type: 'null' } },
        required: ['exit_code'],
      },
      {
        properties: { exit_code: { type: 'null' }, signal: { type: 'string' } },
        required: ['signal'],
      },
    ],
  });

/**
 * POST /tasks/{id}/complete's optional body: the run's outcome. Without a body (or with `{}`) the
 * completion is recorded as `completed` without an outcome.
 */
export const completeBodySchema = z.strictObject({ outcome: reportedOutcomeSchema.optional() });
export type CompleteBody = z.output<typeof completeBodySchema>;
