import { z } from 'zod';

const RFC3339_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Epoch milliseconds as RFC 3339 UTC with exactly three fraction digits, e.g. "2026-11-21T05:28:25.123Z". */
export function toTimestamp(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a finite epoch time: ${epochMs}`);
  const iso = new Date(Math.trunc(epochMs)).toISOString();
  // toISOString switches to the expanded "+275760-..." form outside years 0000-9999.
  if (!RFC3339_UTC_MS.test(iso)) throw new RangeError(`epoch time outside years 0000-9999: ${epochMs}`);
  return iso;
}

/**
 * The only timestamp form the ledger accepts: the exact output of toTimestamp, so that one instant has
 * one spelling (hashes would otherwise differ for "…Z" and "…+00:00"). Impossible dates are rejected.
 */
export const timestampSchema = z
  .string()
  .regex(RFC3339_UTC_MS, 'must be RFC 3339 UTC with milliseconds, e.g. 2026-11-21T05:28:25.123Z')
  .refine((s) => {
    const ms = Date.parse(s);
    return Number.isFinite(ms) && new Date(ms).toISOString() === s;
  }, 'is not a real date and time');
