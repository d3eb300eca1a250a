import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  fromHex,
  inclusionProof,
  LEAF_HASH_PREFIX,
  leafHash,
  merkleRoot,
  NODE_HASH_PREFIX,
  rootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusion,
  verifyInclusionOfLeafHash,
} from '../../../lib/ledger';

// Published RFC 6962 values (see tests/vectors/rfc6962/README.md): not computed by this code base.
const vectorsDir = new URL('../../vectors/rfc6962/', import.meta.url);
const roots = JSON.parse(readFileSync(new URL('roots.json', vectorsDir), 'utf8')) as {
  leaves: string[];
  roots_by_size: string[];
  leaf_hashes: string[];
};
const proofs = JSON.parse(readFileSync(new URL('proofs.json', vectorsDir), 'utf8')) as {
  inclusion: {
    source: string;
    leaf_index: number;
    tree_size: number;
    leaf_hash: string;
    root: string;
    proof: string[];
  }[];
  consistency: {
    source: string;
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[];
  }[];
};
const leaves = roots.leaves.map(fromHex);

describe('RFC 9162 section 2.1 against the RFC 6962 reference vectors', () => {
  it('uses the RFC domain-separation prefixes', () => {
    expect([LEAF_HASH_PREFIX, NODE_HASH_PREFIX]).toEqual([0x00, 0x01]);
  });

  it.each(roots.leaf_hashes.map((h, i) => [i, h] as const))(
    'leaf hash of reference leaf %i',
    (i, expected) => {
      expect(toHex(leafHash(leaves[i]!))).toBe(expected);
    },
  );

  it.each(roots.roots_by_size.map((r, n) => [n, r] as const))(
    'tree head of the first %i leaves',
    (n, expected) => {
      expect(toHex(merkleRoot(leaves.slice(0, n)))).toBe(expected);
      expect(toHex(rootFromLeafHashes(leaves.slice(0, n).map(leafHash)))).toBe(expected);
    },
  );

  it('compact range reports every intermediate head while leaves are appended', () => {
    const range = new CompactRange();
    expect(toHex(range.root())).toBe(roots.roots_by_size[0]);
    leaves.forEach((leaf, i) => {
      range.append(leafHash(leaf));
      expect(range.size).toBe(i + 1);
      expect(toHex(range.root())).toBe(roots.roots_by_size[i + 1]);
    });
  });

  describe.each(proofs.inclusion)('inclusion vector $source', (v) => {
    it('generates the published audit path', () => {
      expect(inclusionProof(leaves.slice(0, v.tree_size), v.leaf_index).map(toHex)).toEqual(v.proof);
    });
    it('verifies the published audit path', () => {
      const proof = v.proof.map(fromHex);
      expect(
        verifyInclusionOfLeafHash(fromHex(v.leaf_hash), v.leaf_index, v.tree_size, proof, fromHex(v.root)),
      ).toBe(true);
      expect(verifyInclusion(leaves[v.leaf_index]!, v.leaf_index, v.tree_size, proof, fromHex(v.root))).toBe(
        true,
      );
    });
  });

  describe.each(proofs.consistency)('consistency vector $source', (v) => {
    it('generates the published proof', () => {
      expect(consistencyProof(leaves.slice(0, v.size2), v.size1).map(toHex)).toEqual(v.proof);
    });
    it('verifies the published proof', () => {
      expect(
        verifyConsistency(v.size1, v.size2, fromHex(v.root1), fromHex(v.root2), v.proof.map(fromHex)),
      ).toBe(true);
    });
  });
});
