import { StoreUnavailableError } from '../../errors';

/**
 * SQLite result codes that mean "not now" rather than "never": another connection held the write
 * lock past busy_timeout, or the disk is full or failing. A statement or transaction that fails so
 * wrote nothing.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;

/**
 * Runs a call on the task store, turning a transient SQLite failure into a StoreUnavailableError
 * (503 with Retry-After at the API), as the DynamoDB adapters do with throttling and outages.
 */
export function unlessUnavailable<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE.test(code)) {
      throw new StoreUnavailableError(`the task store is unavailable (${code}); retry later`, error);
    }
    throw error;
  }
}
