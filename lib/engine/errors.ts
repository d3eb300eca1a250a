import { SchedulerError } from '../errors';
import type { AppendConflict } from '../ports/ledger-store';

/**
 * Every compare-and-set attempt lost (or met a conflict) and the engine gave up. Nothing was written
 * by this call; the caller may retry the whole batch later (SQS redelivers, the local loop releases).
 */
export class AppendRetriesExhausted extends SchedulerError {
  override name = 'AppendRetriesExhausted';
  constructor(
    readonly attempts: number,
    readonly lastConflict: AppendConflict,
    readonly detail: string,
  ) {
    super(`gave up after ${attempts} append attempts; last conflict ${lastConflict}: ${detail}`);
  }
}
