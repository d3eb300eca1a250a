import * as z from 'zod';
import { jobIdSchema } from '../../lib/engine/audit-job';
import { auditJobRange, finishFullAudit } from '../../lib/engine/full-audit';
import { signIntoLog } from '../../lib/engine/trusted-digest';
import { parseOrThrow } from '../../lib/errors';
import { toTimestamp } from '../../lib/ledger/time';
import type { AuditCheckpointStore } from '../../lib/ports/audit-checkpoint-store';
import type { AuditJobStore } from '../../lib/ports/audit-jobs';
import type { Clock } from '../../lib/ports/clock';
import type { DigestSigner } from '../../lib/ports/digest-signer';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import type { LogSink } from '../../lib/ports/observability';
import type { SignedDigestLog } from '../../lib/ports/signed-digest-log';

/**
 * The two Lambda steps of a full re-audit's state machine (cdk/lib/constructs/full-audit.ts): the range
 * function, one invocation per item of the Distributed Map, and the merge function after the map (or
 * after its failure, with the error). Their events come from the state machine, which builds them from
 * the execution input the verify function wrote; they are validated anyway.
 */

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const rangeEventSchema = z
  .strictObject({ job_id: jobIdSchema, from: count, to: count })
  .refine((e) => e.from <= e.to, { path: ['to'], message: 'must not be below from' });

export const mergeEventSchema = z.strictObject({
  job_id: jobIdSchema,
  /** Set by the state machine's Catch when the map failed: { Error, Cause }. */
  error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export interface RangeDeps {
  store: () => LedgerStore | Promise<LedgerStore>;
  jobs: AuditJobStore;
  logger: LogSink;
}

export function auditRangeHandler(deps: RangeDeps) {
  return async (event: unknown): Promise<{ from: number; to: number; valid: boolean }> => {
    const { job_id, from, to } = parseOrThrow(rangeEventSchema, event, 'audit range event');
    const result = await auditJobRange(await deps.store(), deps.jobs, job_id, { from, to });
    deps.logger.info('audit range verified', {
      job_id,
      from,
      to,
      valid: result.valid,
      ...(result.valid ? {} : { problem: result.problem, first_bad_height: result.first_bad_height }),
    });
    return { from, to, valid: result.valid };
  };
}

export interface MergeDeps extends RangeDeps {
  clock: Clock;
  checkpoints?: AuditCheckpointStore;
  /** With it, a valid chain's head digest is signed (stamped with the signing time) and published. */
  signing?: { signer: DigestSigner; digests: SignedDigestLog };
}

export function auditMergeHandler(deps: MergeDeps) {
  return async (event: unknown): Promise<{ job_id: string; state: string; valid: boolean | null }> => {
    const { job_id, error } = parseOrThrow(mergeEventSchema, event, 'audit merge event');
    const signing = deps.signing;
    const job = await finishFullAudit(job_id, {
      store: await deps.store(),
      jobs: deps.jobs,
      now: () => toTimestamp(deps.clock.now()),
      ...(error
        ? { failure: `the range workers failed: ${error.Error ?? 'error'}: ${error.Cause ?? ''}`.trim() }
        : {}),
      ...(deps.checkpoints ? { checkpoints: deps.checkpoints } : {}),
      ...(signing
        ? {
            sign: (digest) => signIntoLog(digest, signing, deps.clock),
          }
        : {}),
    });
    const log = job.report?.valid === false || job.state === 'failed' ? deps.logger.error : deps.logger.info;
    log.call(deps.logger, 'full audit finished', {
      job_id,
      state: job.state,
      report: job.report,
      error: job.error,
    });
    return { job_id, state: job.state, valid: job.report?.valid ?? null };
  };
}
