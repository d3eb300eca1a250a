import * as z from 'zod';

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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

/**
 * What timestampSchema accepts, decided by arithmetic on the digits instead of a Date round trip (which
 * cost a tenth of a million-transaction verify). Proleptic Gregorian calendar like Date; tests hold it
 * equal to the schema on every string of the right shape.
 */
export function isLedgerTimestamp(s: unknown): s is string {
  if (typeof s !== 'string' || !RFC3339_UTC_MS.test(s)) return false;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days && digits(s, 11, 13) <= 23 && digits(s, 14, 16) <= 59 && digits(s, 17, 19) <= 59;
}
