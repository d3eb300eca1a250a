/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"): a
 * uniformly random wait up to min(cap, base * 2^(attempt - 1)). Writers that lost the same race
 * spread out instead of colliding again in lockstep.
 */
export interface BackoffOptions {
  /** Upper bound of the first wait, ms. Default 5. */
  baseMs?: number;
  /** Largest wait, ms. Default 250. */
  capMs?: number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 5;
  const cap = options.capMs ?? 250;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return (options.random ?? Math.random)() * ceiling;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
