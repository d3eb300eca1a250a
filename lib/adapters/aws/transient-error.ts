import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Whether an error from an AWS SDK v3 call means "try again later": throttling, a timeout, a refused
 * or broken connection, or any 5xx, as the SDK's own retry strategy classifies them. By the time
 * such an error reaches the caller the SDK has already retried it with backoff. Anything else (access
 * denied, no such table, a failed condition) would fail the same way on retry.
 */
export function isAwsUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Parameters<typeof isTransientError>[0];
  return isThrottlingError(e) || isTransientError(e) || isServerError(e);
}
