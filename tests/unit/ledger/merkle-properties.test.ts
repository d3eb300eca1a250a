import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../lib/ledger';
import { referenceMth } from './helpers/reference-merkle';

const leavesArb = fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 300 });
const runs = { numRuns: 60, seed: 9162 };

describe('Merkle properties on random trees', () => {
  it('the compact range and merkleRoot equal the literal RFC MTH', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const range = new CompactRange();
        for (const leaf of leaves) range.append(leafHash(leaf));
        const expected = referenceMth(leaves);
        expect(range.root()).toEqual(expected);
        expect(merkleRoot(leaves)).toEqual(expected);
      }),
      runs,
    );
  });

  it('an inclusion proof verifies, and fails once any single bit of it is flipped', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, i, bit) => {
        const index = i % leaves.length;
        const root = merkleRoot(leaves);
        const proof = inclusionProof(leaves, index);
        expect(verifyInclusion(leaves[index]!, index, leaves.length, proof, root)).toBe(true);
        if (proof.length === 0) return;
        const flipped = proof.map((p) => Uint8Array.from(p));
        const target = bit % (proof.length * 256);
        flipped[target >> 8]![(target & 255) >> 3]! ^= 1 << (target & 7);
        expect(verifyInclusion(leaves[index]!, index, leaves.length, flipped, root)).toBe(false);
      }),
      runs,
    );
  });

  it('a consistency proof verifies between any two sizes, and not against a changed old leaf', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, b) => {
        const newSize = leaves.length;
        const oldSize = 1 + (a % newSize);
        const proof = consistencyProof(leaves, oldSize);
        const oldRoot = merkleRoot(leaves.slice(0, oldSize));
        expect(verifyConsistency(oldSize, newSize, oldRoot, merkleRoot(leaves), proof)).toBe(true);
        const changed = leaves.map((l) => Uint8Array.from(l));
        const victim = b % oldSize;
        changed[victim] = Uint8Array.from([...changed[victim]!, 0xff]);
        if (oldSize < newSize) {
          const forged = consistencyProof(changed, oldSize);
          expect(verifyConsistency(oldSize, newSize, oldRoot, merkleRoot(changed), forged)).toBe(false);
        }
      }),
      runs,
    );
  });
});
