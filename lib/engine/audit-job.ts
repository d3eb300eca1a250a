import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { chainHeadSchema } from '../ledger/blocks';
import { digestSchema } from '../ledger/digest';
import { count, verificationProblemSchema } from '../ledger/schema-parts';
import { signedDigestSchema } from '../ledger/signed-digest';
import { timestampSchema } from '../ledger/time';
import { auditRangeSchema } from './range-audit';

/**
 * A full re-audit run in the background (POST /ledger/verify {"full": true} answers 202 with its id;
 * GET /ledger/verify/{job_id} reads it). `running` until the audit ends; `done` with the report,
 * whether the chain is valid or not (an invalid chain is a finding, not a failed job); `failed` when the
 * audit itself could not finish (a range that could not be read), with `error`.
 */
export const jobIdSchema = z.uuid({ error: 'must be a job id (a UUID)' });

export const auditReportSchema = z.strictObject({
  valid: z.boolean(),
  height: z.number().int(),
  head_hash: z.string().nullable(),
  blocks_checked: count,
  transactions_checked: count,
  first_bad_height: count.nullable(),
  problem: verificationProblemSchema.nullable(),
  detail: z.string().nullable(),
});

export const auditJobSchema = z.strictObject({
  job_id: jobIdSchema,
  state: z.enum(['running', 'done', 'failed']),
  started_at: timestampSchema,
  finished_at: timestampSchema.nullable(),
  /** The head the audit verifies up to (blocks appended later are left to the next audit). */
  head: chainHeadSchema,
  /** The block ranges verified in parallel (each by its own worker), in chain order. */
  ranges: z.array(auditRangeSchema),
  /** The latest signed digest when the audit started: the chain must extend it. */
  trusted: digestSchema.nullable(),
  report: auditReportSchema.nullable(),
  /** The digest of the verified head, signed when the deployment signs and the chain is valid. */
  digest: z.union([signedDigestSchema, digestSchema]).nullable(),
  error: z.string().nullable(),
});
export type AuditJob = z.output<typeof auditJobSchema>;

export function newAuditJob(
  fields: Pick<AuditJob, 'head' | 'ranges' | 'trusted' | 'started_at'>,
  jobId: string = randomUUID(),
): AuditJob {
  return {
    job_id: jobId,
    state: 'running',
    finished_at: null,
    report: null,
    digest: null,
    error: null,
    ...fields,
  };
}
