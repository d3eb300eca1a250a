import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transactionSchema } from '../../../lib/ledger';
import { canonicalTextOfValidated } from '../../../lib/ledger/canonical-transaction';
import { transactionArbitrary } from './helpers/transactions';

/** canonicalTextOfValidated against the RFC 8785 oracle (the `canonicalize` package) on valid transactions. */

// Dimension names a resource vector may carry, integer-like and non-ASCII ones included: JavaScript
// orders "10" before "9" in an object, RFC 8785 after it.
const dimension = fc.oneof(
  fc.constantFrom('cpu', 'mem', 'io', 'bw', 'gpu', '10', '9', '0', 'é', 'Z', '_', '𝄞'),
  fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).filter((k) => k !== '__proto__'),
);
const vector = fc.dictionary(dimension, fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 6 });

/** A valid transaction with its keys, and its vectors' keys, in a shuffled order. */
const shuffled = fc
  .tuple(transactionArbitrary(7), vector, vector, fc.nat(), fc.func(fc.integer()))
  .map(([tx, requirements, reserved, seed, rank]) => {
    const withVectors = {
      ...tx,
      task_requirements: requirements,
      vm_state_after: tx.vm_state_after && { ...tx.vm_state_after, reserved },
    };
    const entries = Object.entries(withVectors).sort(([a], [b]) => rank(`${a}${seed}`) - rank(`${b}${seed}`));
    return Object.fromEntries(entries) as unknown as typeof tx;
  });

describe('canonicalTextOfValidated', () => {
  it('is the RFC 8785 text of every valid transaction, whatever its key order', () => {
    fc.assert(
      fc.property(shuffled, (tx) => {
        const parsed = transactionSchema.safeParse(tx);
        fc.pre(parsed.success);
        expect(canonicalTextOfValidated(tx)).toBe(canonicalize(tx));
        expect(canonicalTextOfValidated(parsed.data!)).toBe(canonicalize(parsed.data));
      }),
      { numRuns: 500, seed: 11 },
    );
  });
});
