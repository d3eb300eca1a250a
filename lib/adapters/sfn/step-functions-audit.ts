import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AuditJob } from '../../engine/audit-job';
import type { AuditJobRunner } from '../../ports/audit-jobs';

/**
 * Starts the full-audit state machine (cdk/lib/constructs/full-audit.ts) for a job: the execution is
 * named after the job (a retried start is the same execution), its input the job id and its ranges,
 * which the Distributed Map hands one by one to the range function.
 */
export function stepFunctionsAuditRunner(client: SFNClient, stateMachineArn: string): AuditJobRunner {
  return {
    async start(job: AuditJob): Promise<void> {
      try {
        await client.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: job.job_id,
            input: JSON.stringify({
              job_id: job.job_id,
              ranges: job.ranges.map((r) => ({ job_id: job.job_id, from: r.from, to: r.to })),
            }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
    },
  };
}
