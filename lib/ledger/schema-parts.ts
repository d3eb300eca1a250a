import { z } from 'zod';

/** Building blocks shared by the ledger's zod schemas. */

/** A SHA-256 hash as the ledger writes it. */
export const hash64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** A height, count or index: a non-negative integer exact in float64. */
export const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// With the u flag a well-formed surrogate pair is one code point, so only lone surrogates match.
export const LONE_SURROGATE = /\p{Cs}/u;

/** A string with a UTF-8 form: RFC 8785 section 3.2.2.2 cannot canonicalise a lone surrogate. */
export const unicodeString = z
  .string()
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode (lone surrogate)');
