import { SchedulerError, StoreUnavailableError } from '../../errors';
import { isAwsUnavailable } from '../aws/transient-error';

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

/**
 * Runs one DynamoDB call; an error the SDK classes as transient (isAwsUnavailable) becomes a
 * StoreUnavailableError carrying it as the cause, so callers and logs say "store unavailable"
 * instead of an SDK name. Nothing was committed: a TransactWriteItems either applied or did not,
 * and its ClientRequestToken makes re-sending it safe.
 */
export async function storeCall<T>(tableName: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw unavailable(tableName, error);
  }
}

/** The same mapping for pages of a paginator, which call the client themselves. */
export async function* storePages<T>(tableName: string, pages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* pages;
  } catch (error) {
    throw unavailable(tableName, error);
  }
}

function unavailable(tableName: string, error: unknown): unknown {
  if (!isAwsUnavailable(error)) return error;
  const name = error instanceof Error ? error.name : 'Error';
  return new StoreUnavailableError(
    `the ledger store (DynamoDB table ${tableName}) is unavailable: ${name}`,
    error,
  );
}
