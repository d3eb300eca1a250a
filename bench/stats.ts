/** Small statistics for benchmark samples. Inputs are not modified. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A figure over several runs: the median run, and the lowest and highest run as the spread. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Rounds for display and JSON: 3 significant digits are all a noisy shared machine supports. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function elapsedUs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000;
}
