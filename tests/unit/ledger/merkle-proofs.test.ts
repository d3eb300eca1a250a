import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  consistencyProofFromLeafHashes,
  emptyRoot,
  inclusionProof,
  inclusionProofFromLeafHashes,
  leafHash,
  MerkleRangeError,
  merkleRoot,
  sha256,
  verifyConsistency,
  verifyInclusion,
} from '../../../lib/ledger';
import { referenceMth, referencePathLength } from './helpers/reference-merkle';

/** Distinct entries of varying length, so no two leaves (or subtrees) hash alike. */
const entries = Array.from({ length: 64 }, (_, i) =>
  new TextEncoder().encode(`entry-${i}-${'x'.repeat(i % 7)}`),
);
const MAX = entries.length;
const sizes = Array.from({ length: MAX }, (_, i) => i + 1);
/** Mutation suites: every size across the first few levels, then the edges of the last one. */
const mutationSizes = sizes.filter((n) => n <= 33 || n === 47 || n >= 63);
const leafHashes = entries.map(leafHash);
const roots = Array.from({ length: MAX + 1 }, (_, n) => merkleRoot(entries.slice(0, n)));
const rootOf = (n: number) => roots[n]!;

function flipBit(proof: Uint8Array[], element: number, bit: number): Uint8Array[] {
  return proof.map((p, i) => {
    if (i !== element) return p;
    const copy = Uint8Array.from(p);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });
}

describe('merkleRoot', () => {
  it.each(sizes)('matches the literal RFC definition for %i leaves', (n) => {
    expect(merkleRoot(entries.slice(0, n))).toEqual(referenceMth(entries.slice(0, n)));
  });

  it('of no leaves is SHA-256 of the empty string', () => {
    expect(merkleRoot([])).toEqual(sha256());
    expect(emptyRoot()).toEqual(sha256());
  });

  it('does not duplicate the last leaf (CVE-2012-2459): [a,b,c] and [a,b,c,c] differ', () => {
    const [a, b, c] = entries;
    expect(merkleRoot([a!, b!, c!])).not.toEqual(merkleRoot([a!, b!, c!, c!]));
  });

  it('separates leaves from nodes: a two-leaf root is not the leaf hash of the children concatenated', () => {
    const [a, b] = entries;
    const root = merkleRoot([a!, b!]);
    const inner = merkleRoot([a!]);
    const other = merkleRoot([b!]);
    expect(merkleRoot([Uint8Array.from([...inner, ...other])])).not.toEqual(root);
  });
});

describe('inclusion proofs, every leaf of every tree up to 64 leaves', () => {
  it.each(sizes)('round-trip in a tree of %i leaves, with the RFC path length', (n) => {
    const root = rootOf(n);
    for (let m = 0; m < n; m++) {
      const proof = inclusionProofFromLeafHashes(leafHashes.slice(0, n), m);
      expect(proof).toHaveLength(referencePathLength(m, n));
      expect(verifyInclusion(entries[m]!, m, n, proof, root)).toBe(true);
    }
  });

  it.each(mutationSizes)(
    'tree of %i: wrong index, wrong leaf, wrong root, truncated and extended proofs fail',
    (n) => {
      const root = rootOf(n);
      for (let m = 0; m < n; m++) {
        const proof = inclusionProofFromLeafHashes(leafHashes.slice(0, n), m);
        const acceptedAt = Array.from({ length: n + 2 }, (_, other) => other).filter(
          (other) => other !== m && verifyInclusion(entries[m]!, other, n, proof, root),
        );
        expect(acceptedAt, 'wrong-index').toEqual([]);
        expect(verifyInclusion(entries[(m + 1) % MAX]!, m, n, proof, root), 'wrong-leaf').toBe(false);
        expect(verifyInclusion(entries[m]!, m, n, proof, rootOf(n === 1 ? 2 : n - 1)), 'wrong-root').toBe(
          false,
        );
        expect(verifyInclusion(entries[m]!, m, n, proof, emptyRoot()), 'empty-root').toBe(false);
        if (proof.length > 0) {
          expect(verifyInclusion(entries[m]!, m, n, proof.slice(0, -1), root), 'truncated-proof').toBe(false);
          expect(verifyInclusion(entries[m]!, m, n, proof.slice(1), root), 'removed-first-component').toBe(
            false,
          );
        }
        expect(verifyInclusion(entries[m]!, m, n, [...proof, root], root), 'trailing-root').toBe(false);
        expect(verifyInclusion(entries[m]!, m, n, [root, ...proof], root), 'preceding-root').toBe(false);
        expect(verifyInclusion(entries[m]!, m, n, [...proof, sha256()], root), 'trailing-garbage').toBe(
          false,
        );
        for (const size of [n - 1, n + 1, n * 2, Math.floor(n / 2)]) {
          // The tree size is not committed by the path itself (RFC 9162 binds it in the signed tree head);
          // a wrong size is only detectable when it changes the path's shape.
          if (size > m && referencePathLength(m, size) !== proof.length) {
            expect(verifyInclusion(entries[m]!, m, size, proof, root), `wrong-size ${size}`).toBe(false);
          }
        }
      }
    },
  );

  it.each(sizes.filter((n) => n <= 9))('tree of %i: every flipped bit of every proof element fails', (n) => {
    const root = rootOf(n);
    const accepted: string[] = [];
    for (let m = 0; m < n; m++) {
      const proof = inclusionProofFromLeafHashes(leafHashes.slice(0, n), m);
      for (let e = 0; e < proof.length; e++) {
        for (let bit = 0; bit < 256; bit++) {
          if (verifyInclusion(entries[m]!, m, n, flipBit(proof, e, bit), root))
            accepted.push(`leaf ${m} @${e} bit ${bit}`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it("tree size is the caller's to trust: leaf 0 of 3 verifies as leaf 0 of 4 against the 3-leaf root", () => {
    const proof = inclusionProof(entries.slice(0, 3), 0);
    expect(verifyInclusion(entries[0]!, 0, 4, proof, rootOf(3))).toBe(true);
  });

  it('refuses to build a proof for an index outside the tree', () => {
    expect(() => inclusionProof(entries.slice(0, 4), 4)).toThrow(MerkleRangeError);
    expect(() => inclusionProof(entries.slice(0, 4), -1)).toThrow(MerkleRangeError);
    expect(() => inclusionProof([], 0)).toThrow(MerkleRangeError);
  });

  it('rejects a proof element that is not 32 bytes', () => {
    const proof = inclusionProof(entries.slice(0, 4), 1);
    expect(verifyInclusion(entries[1]!, 1, 4, [proof[0]!.slice(0, 31), proof[1]!], rootOf(4))).toBe(false);
  });
});

describe('consistency proofs, every pair of sizes up to 64', () => {
  it.each(sizes)('round-trip from every older size to %i', (n) => {
    const newRoot = rootOf(n);
    for (let m = 0; m <= n; m++) {
      const proof = consistencyProofFromLeafHashes(leafHashes.slice(0, n), m);
      expect(
        verifyConsistency(m, n, m === 0 ? emptyRoot() : rootOf(m), newRoot, proof),
        `PROOF(${m}, ${n})`,
      ).toBe(true);
    }
  });

  it.each(mutationSizes.filter((n) => n >= 2))('to size %i: mutated proofs, sizes and roots fail', (n) => {
    const newRoot = rootOf(n);
    for (let m = 1; m < n; m++) {
      const oldRoot = rootOf(m);
      const proof = consistencyProofFromLeafHashes(leafHashes.slice(0, n), m);
      const verify = (p: Uint8Array[], a = m, b = n, r1 = oldRoot, r2 = newRoot) =>
        verifyConsistency(a, b, r1, r2, p);
      expect(verify([]), 'empty-proof').toBe(false);
      expect(verify(proof, m, n, newRoot, oldRoot), 'swapped-roots').toBe(false);
      expect(verify(proof, m, n, oldRoot, oldRoot), 'wrong-root2').toBe(false);
      expect(verify(proof, m, n, newRoot, newRoot), 'wrong-root1').toBe(false);
      expect(verify(proof.slice(0, -1)), 'truncated-proof').toBe(false);
      expect(verify([...proof, oldRoot]), 'trailing-root1').toBe(false);
      expect(verify([...proof, newRoot]), 'trailing-root2').toBe(false);
      expect(verify([oldRoot, ...proof]), 'preceding-root1').toBe(false);
      expect(verify([sha256(), ...proof]), 'preceding-garbage').toBe(false);
      expect(verify(proof, n, m), 'sizes-swapped').toBe(false);
      for (let e = 0; e < proof.length; e++) {
        expect(verify(flipBit(proof, e, (m * 7 + e * 13) % 256)), `modified-proof@${e}`).toBe(false);
      }
    }
  });

  it.each(sizes.filter((n) => n >= 2 && n <= 9))(
    'to size %i: every flipped bit of every proof element fails',
    (n) => {
      const accepted: string[] = [];
      for (let m = 1; m < n; m++) {
        const proof = consistencyProofFromLeafHashes(leafHashes.slice(0, n), m);
        for (let e = 0; e < proof.length; e++) {
          for (let bit = 0; bit < 256; bit++) {
            if (verifyConsistency(m, n, rootOf(m), rootOf(n), flipBit(proof, e, bit)))
              accepted.push(`from ${m} @${e} bit ${bit}`);
          }
        }
      }
      expect(accepted).toEqual([]);
    },
  );

  it('a rewritten history is not consistent: changing an old leaf breaks every proof from before it', () => {
    const rewritten = entries.slice(0, 20).map((e, i) => (i === 5 ? new TextEncoder().encode('forged') : e));
    for (let m = 6; m < 20; m++) {
      expect(verifyConsistency(m, 20, rootOf(m), merkleRoot(rewritten), consistencyProof(rewritten, m))).toBe(
        false,
      );
    }
  });

  it('equal sizes need an empty proof and equal roots; size 0 needs the empty root', () => {
    expect(verifyConsistency(5, 5, rootOf(5), rootOf(5), [])).toBe(true);
    expect(verifyConsistency(5, 5, rootOf(5), rootOf(6), [])).toBe(false);
    expect(verifyConsistency(5, 5, rootOf(5), rootOf(5), [rootOf(5)])).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), rootOf(5), [])).toBe(true);
    expect(verifyConsistency(0, 5, rootOf(1), rootOf(5), [])).toBe(false);
    expect(verifyConsistency(6, 5, rootOf(6), rootOf(5), [])).toBe(false);
  });

  it('refuses to build a proof from a size outside 0..n', () => {
    expect(() => consistencyProof(entries.slice(0, 4), 5)).toThrow(MerkleRangeError);
    expect(() => consistencyProof(entries.slice(0, 4), -1)).toThrow(MerkleRangeError);
  });
});
