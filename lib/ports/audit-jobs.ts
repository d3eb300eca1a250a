import type { AuditJob } from '../engine/audit-job';
import type { RangeResult } from '../engine/range-audit';

/**
 * Where full re-audits (lib/engine/audit-job.ts) and their range results are kept: `AUDIT#` items on
 * AWS (docs/ledger-format.md section 10.3), memory in the local runtime.
 */
export interface AuditJobStore {
  create(job: AuditJob): Promise<void>;
  get(jobId: string): Promise<AuditJob | null>;
  /** Replaces a running job with its final state; a job already finished is left as it is. */
  finish(job: AuditJob): Promise<void>;
  putRange(jobId: string, result: RangeResult): Promise<void>;
  /** The results of the job's ranges, in the order asked; null for a range not recorded (yet). */
  getRanges(jobId: string, froms: readonly number[]): Promise<(RangeResult | null)[]>;
}

/** Starts the workers of a job created in an AuditJobStore (a Step Functions execution on AWS). */
export interface AuditJobRunner {
  start(job: AuditJob): Promise<void>;
}
