import { MerkleRangeError } from '../errors';
import { CompactRange } from './compact-range';
import { leafHash, splitPoint } from './hasher';

/**
 * Proof generation, RFC 9162 sections 2.1.3.1 (PATH) and 2.1.4.1 (PROOF / SUBPROOF). Subtrees are
 * addressed as leaf ranges [lo, hi) and their heads come from a `SubtreeRoot` function, so the same
 * recursion serves a plain array of leaf hashes (O(n) hashing per proof) and a DenseMerkleTree that keeps
 * every level (O(log^2 n) per proof).
 */

/** MTH of leaves [lo, hi) of a tree; called only with 0 <= lo < hi <= tree size. */
export type SubtreeRoot = (lo: number, hi: number) => Uint8Array;

export function subtreeRootOfArray(leafHashes: readonly Uint8Array[]): SubtreeRoot {
  return (lo, hi) => {
    const range = new CompactRange();
    for (let i = lo; i < hi; i++) range.append(leafHashes[i]!);
    return range.root();
  };
}

function path(root: SubtreeRoot, m: number, lo: number, hi: number): Uint8Array[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(root, m, lo, lo + k), root(lo + k, hi)];
  return [...path(root, m - k, lo + k, hi), root(lo, lo + k)];
}

function subproof(root: SubtreeRoot, m: number, lo: number, hi: number, b: boolean): Uint8Array[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [root(lo, hi)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(root, m, lo, lo + k, b), root(lo + k, hi)];
  return [...subproof(root, m - k, lo + k, hi, false), root(lo, lo + k)];
}

/**
 * PATH(index, D[treeSize]) from any source of subtree heads.
 * Precondition: 0 <= index < treeSize.
 */
export function inclusionPath(root: SubtreeRoot, index: number, treeSize: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    throw new MerkleRangeError(`leaf index ${index} out of range for tree size ${treeSize}`);
  }
  return path(root, index, 0, treeSize);
}

/**
 * PROOF(oldSize, D[treeSize]) from any source of subtree heads. Precondition: 0 <= oldSize <= treeSize.
 * The proof is empty when oldSize is 0 or treeSize (RFC 9162 defines PROOF for 0 < m < n only; those
 * two cases need no proof, see verifyConsistency).
 */
export function consistencyPath(root: SubtreeRoot, oldSize: number, treeSize: number): Uint8Array[] {
  if (
    !Number.isSafeInteger(oldSize) ||
    !Number.isSafeInteger(treeSize) ||
    oldSize < 0 ||
    oldSize > treeSize
  ) {
    throw new MerkleRangeError(`old size ${oldSize} out of range for tree size ${treeSize}`);
  }
  if (oldSize === 0 || oldSize === treeSize) return [];
  return subproof(root, oldSize, 0, treeSize, true);
}

/** PATH(index, D[n]) over leaf hashes. Precondition: 0 <= index < leafHashes.length. */
export function inclusionProofFromLeafHashes(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  return inclusionPath(subtreeRootOfArray(leafHashes), index, leafHashes.length);
}

/** PATH(index, D[n]) over the raw entries. Precondition: 0 <= index < leaves.length. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return inclusionProofFromLeafHashes(leaves.map(leafHash), index);
}

/** PROOF(oldSize, D[n]) over leaf hashes. Precondition: 0 <= oldSize <= leafHashes.length. */
export function consistencyProofFromLeafHashes(
  leafHashes: readonly Uint8Array[],
  oldSize: number,
): Uint8Array[] {
  return consistencyPath(subtreeRootOfArray(leafHashes), oldSize, leafHashes.length);
}

/** PROOF(oldSize, D[n]) over the raw entries. Precondition: 0 <= oldSize <= leaves.length. */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  return consistencyProofFromLeafHashes(leaves.map(leafHash), oldSize);
}
