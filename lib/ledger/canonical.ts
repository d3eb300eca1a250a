import canonicalize from 'canonicalize';
import { CanonicalizationError } from './errors';
import { LONE_SURROGATE } from './schema-parts';

/**
 * RFC 8785 (JSON Canonicalization Scheme) through the `canonicalize` package. The package silently
 * drops undefined members and turns undefined array elements into null; a ledger must not hash
 * something other than what the caller meant, so such values are rejected first, naming the path.
 */

const encoder = new TextEncoder();

function assertCanonicalizable(value: unknown, path: string[], seen: Set<object>): void {
  const at = () => path.join('.');
  switch (typeof value) {
    case 'string':
      // RFC 8785 section 3.2.2.2: strings must be valid Unicode to have a UTF-8 form.
      if (LONE_SURROGATE.test(value)) throw new CanonicalizationError(at(), 'lone surrogate in string');
      return;
    case 'number':
      // RFC 8785 section 3.2.2.3: NaN and Infinity have no JSON representation.
      if (!Number.isFinite(value)) throw new CanonicalizationError(at(), `non-finite number ${value}`);
      return;
    case 'boolean':
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new CanonicalizationError(at(), 'circular reference');
      const proto = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
        throw new CanonicalizationError(at(), `not a plain object or array (${proto?.constructor?.name})`);
      }
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertCanonicalizable(value[i], [...path, String(i)], seen);
      } else {
        for (const [key, member] of Object.entries(value)) {
          assertCanonicalizable(key, [...path, key], seen);
          assertCanonicalizable(member, [...path, key], seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw new CanonicalizationError(at(), `${typeof value} has no JSON representation`);
  }
}

/** The RFC 8785 canonical JSON text of `value`. Throws CanonicalizationError naming the bad path. */
export function canonicalString(value: unknown): string {
  assertCanonicalizable(value, [], new Set());
  return canonicalize(value) as string;
}

/** The UTF-8 bytes of the RFC 8785 canonical JSON text (RFC 8785 section 3.2.4): what the ledger hashes. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalString(value));
}

/**
 * Canonical bytes of a value a zod schema has already validated (plain, finite, no undefined): skips the
 * structural walk, which costs as much as the serialisation itself when a verifier hashes millions of
 * transactions.
 */
export function canonicalBytesOfValidated(value: object): Uint8Array {
  return encoder.encode(canonicalize(value) as string);
}
