import * as z from 'zod';
import type { VerificationProblem } from './types';

/** Building blocks shared by the ledger's zod schemas. */

/** A SHA-256 hash as the ledger writes it. */
export const hash64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/**
 * A height, count or index: an integer 0..2^53-1 (docs/ledger-format.md section 1.1), the range in which
 * every integer is exact in an IEEE 754 double, so every JSON parser reads the same value.
 */
export const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// With the u flag a well-formed surrogate pair is one code point, so only lone surrogates match.
export const LONE_SURROGATE = /\p{Cs}/u;

/** A string with a UTF-8 form: RFC 8785 section 3.2.2.2 cannot canonicalise a lone surrogate. */
export const unicodeString = z
  .string()
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode (lone surrogate)');

/**
 * A string of `min` to `max` UTF-16 code units (JavaScript `length`, docs/ledger-format.md section 2).
 * Written as a refinement because zod's own min/max on strings count code points, which lets a string
 * of 65 emoji (130 code units) pass a limit of 128.
 */
export function utf16Text(min: number, max: number) {
  return unicodeString.refine(
    (s) => s.length >= min && s.length <= max,
    min === 0 ? `must be at most ${max} UTF-16 code units` : `must be ${min} to ${max} UTF-16 code units`,
  );
}

/** Why a chain failed verification (docs/ledger-format.md section 5.1), as reports and audit jobs name it. */
export const verificationProblemSchema = z.enum([
  'broken-link',
  'wrong-block-hash',
  'wrong-merkle-root',
  'wrong-transaction-count',
  'height-gap',
  'bad-genesis',
  'malformed',
  'duplicate-transaction',
  'unmatched-closing',
  'head-mismatch',
  'digest-mismatch',
  'inconsistent-with-digest',
]) satisfies z.ZodType<VerificationProblem>;
