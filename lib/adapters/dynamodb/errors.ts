import { SchedulerError } from '../../errors';

/**
 * A commit that cannot fit in one DynamoDB transaction (100 items, 4 MB) or that holds an item over
 * 400 KB. Nothing was written; the caller must split its batch (see commitItemCount).
 */
export class CommitTooLargeError extends SchedulerError {
  override name = 'CommitTooLargeError';
  constructor(
    readonly limit: 'items' | 'transaction-bytes' | 'item-bytes',
    readonly actual: number,
    readonly maximum: number,
    detail: string,
  ) {
    super(`commit too large for one DynamoDB transaction: ${detail} (${actual} > ${maximum})`);
  }
}
