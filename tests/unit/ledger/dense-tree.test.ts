import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProofFromLeafHashes,
  DenseMerkleTree,
  emptyRoot,
  inclusionProofFromLeafHashes,
  leafHash,
  MerkleRangeError,
  rootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusionOfLeafHash,
} from '../../../lib/ledger';
import { referenceMth } from './helpers/reference-merkle';

const entries = Array.from({ length: 64 }, (_, i) => new TextEncoder().encode(`dense-${i}`));
const leafHashes = entries.map(leafHash);
const tree = new DenseMerkleTree();
for (const h of leafHashes) tree.append(h);

describe('DenseMerkleTree', () => {
  it('has the head of every earlier size, equal to the literal RFC MTH', () => {
    expect(tree.root(0)).toEqual(emptyRoot());
    for (let n = 1; n <= 64; n++)
      expect(tree.root(n), `size ${n}`).toEqual(referenceMth(entries.slice(0, n)));
  });

  it('gives the same inclusion and consistency proofs as the array form, sizes 1-33 and 60-64', () => {
    const mismatches: string[] = [];
    const same = (a: Uint8Array[], b: Uint8Array[]) =>
      a.length === b.length && a.every((x, i) => toHex(x) === toHex(b[i]!));
    for (let n = 1; n <= 64; n = n === 33 ? 60 : n + 1) {
      const prefix = leafHashes.slice(0, n);
      for (let m = 0; m < n; m++) {
        if (!same(tree.inclusionProof(m, n), inclusionProofFromLeafHashes(prefix, m)))
          mismatches.push(`PATH(${m}, ${n})`);
      }
      for (let m = 0; m <= n; m++) {
        if (!same(tree.consistencyProof(m, n), consistencyProofFromLeafHashes(prefix, m)))
          mismatches.push(`PROOF(${m}, ${n})`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('produces proofs that verify on random large trees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.nat(), fc.nat(), (size, a, b) => {
        const big = new DenseMerkleTree();
        const hashes = Array.from({ length: size }, (_, i) => leafHash(Uint8Array.of(i & 255, i >> 8, 7)));
        for (const h of hashes) big.append(h);
        expect(big.root()).toEqual(rootFromLeafHashes(hashes));
        const index = a % size;
        expect(
          verifyInclusionOfLeafHash(hashes[index]!, index, size, big.inclusionProof(index), big.root()),
        ).toBe(true);
        const old = 1 + (b % size);
        expect(verifyConsistency(old, size, big.root(old), big.root(), big.consistencyProof(old))).toBe(true);
      }),
      { numRuns: 25, seed: 42 },
    );
  });

  it('returns copies: mutating a returned hash does not change the tree', () => {
    const root = tree.root(5);
    tree.inclusionProof(3, 5)[0]!.fill(0);
    tree.leaf(2).fill(0);
    root.fill(0);
    expect(tree.root(5)).toEqual(referenceMth(entries.slice(0, 5)));
  });

  it('refuses sizes beyond what it holds', () => {
    expect(() => tree.root(65)).toThrow(MerkleRangeError);
    expect(() => tree.inclusionProof(0, 65)).toThrow(MerkleRangeError);
    expect(() => tree.inclusionProof(10, 10)).toThrow(MerkleRangeError);
    expect(() => tree.consistencyProof(11, 10)).toThrow(MerkleRangeError);
    expect(() => tree.leaf(64)).toThrow(MerkleRangeError);
  });
});
