/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"): a
 * uniformly random wait up to min(cap, base * 2^(attempt - 1)). Writers that lost the same race
 * spread out instead of colliding again in lockstep.
 *
 * The base is at least as long as the attempt that lost (`attemptMs`): a rival's commit takes about
 * one attempt's round trips, so a wait much shorter than that only brings a writer back while the
 * head is still being fought over. On SQLite an attempt takes a millisecond and the 5 ms floor rules;
 * on DynamoDB (tens of ms per round trip) the waits grow with the store's own pace.
 */
export interface BackoffOptions {
  /** Least upper bound of the first wait, ms. Default 5. */
  baseMs?: number;
  /** Largest wait, ms. Default 2000. */
  capMs?: number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}, attemptMs = 0): number {
  const base = Math.max(options.baseMs ?? 5, Number.isFinite(attemptMs) ? attemptMs : 0);
  const cap = options.capMs ?? 2000;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return (options.random ?? Math.random)() * ceiling;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
