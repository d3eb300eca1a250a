import type { AuditJob } from '../../engine/audit-job';
import type { RangeResult } from '../../engine/range-audit';
import type { AuditJobStore } from '../../ports/audit-jobs';

/** AuditJobStore in memory (tests; the item layout of the DynamoDB one is in audit-job-items.ts). */
export class MemoryAuditJobs implements AuditJobStore {
  readonly jobs = new Map<string, AuditJob>();
  readonly ranges = new Map<string, RangeResult>();

  async create(job: AuditJob): Promise<void> {
    if (this.jobs.has(job.job_id)) throw new Error(`audit job ${job.job_id} exists`);
    this.jobs.set(job.job_id, structuredClone(job));
  }
  async get(jobId: string): Promise<AuditJob | null> {
    const job = this.jobs.get(jobId);
    return job ? structuredClone(job) : null;
  }
  async finish(job: AuditJob): Promise<void> {
    if (this.jobs.get(job.job_id)?.state === 'running') this.jobs.set(job.job_id, structuredClone(job));
  }
  async putRange(jobId: string, result: RangeResult): Promise<void> {
    this.ranges.set(`${jobId}/${result.from}`, structuredClone(result));
  }
  async getRanges(jobId: string, froms: readonly number[]): Promise<(RangeResult | null)[]> {
    return froms.map((from) => structuredClone(this.ranges.get(`${jobId}/${from}`) ?? null));
  }
}
