import { CompactRange } from './compact-range';
import { MerkleRangeError } from './errors';
import { leafHash, splitPoint } from './merkle-hasher';

/**
 * Proof generation, RFC 9162 sections 2.1.3.1 (PATH) and 2.1.4.1 (PROOF / SUBPROOF). Subtrees are
 * addressed as index ranges [lo, hi) of one leaf-hash array, never copied; each proof costs O(n)
 * hashes (the sibling subtrees together cover the tree once) and O(log n) recursion depth.
 */

function subtreeRoot(hashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const range = new CompactRange();
  for (let i = lo; i < hi; i++) range.append(hashes[i]!);
  return range.root();
}

function path(hashes: readonly Uint8Array[], m: number, lo: number, hi: number): Uint8Array[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(hashes, m, lo, lo + k), subtreeRoot(hashes, lo + k, hi)];
  return [...path(hashes, m - k, lo + k, hi), subtreeRoot(hashes, lo, lo + k)];
}

function subproof(
  hashes: readonly Uint8Array[],
  m: number,
  lo: number,
  hi: number,
  b: boolean,
): Uint8Array[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [subtreeRoot(hashes, lo, hi)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(hashes, m, lo, lo + k, b), subtreeRoot(hashes, lo + k, hi)];
  return [...subproof(hashes, m - k, lo + k, hi, false), subtreeRoot(hashes, lo, lo + k)];
}

/**
 * PATH(index, D[n]): the audit path of leaf `index` in the tree of the given leaf hashes, leaf-side first.
 * Precondition: 0 <= index < leafHashes.length.
 */
export function inclusionProofFromLeafHashes(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new MerkleRangeError(`leaf index ${index} out of range for tree size ${leafHashes.length}`);
  }
  return path(leafHashes, index, 0, leafHashes.length);
}

/** PATH(index, D[n]) over the raw entries. Precondition: 0 <= index < leaves.length. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return inclusionProofFromLeafHashes(leaves.map(leafHash), index);
}

/**
 * PROOF(oldSize, D[n]): proves that the tree of the first `oldSize` leaves is a prefix of this one.
 * Precondition: 0 <= oldSize <= leafHashes.length. The proof is empty when oldSize is 0 or n (RFC 9162
 * defines PROOF for 0 < m < n only; those two cases need no proof, see verifyConsistency).
 */
export function consistencyProofFromLeafHashes(
  leafHashes: readonly Uint8Array[],
  oldSize: number,
): Uint8Array[] {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > leafHashes.length) {
    throw new MerkleRangeError(`old size ${oldSize} out of range for tree size ${leafHashes.length}`);
  }
  if (oldSize === 0 || oldSize === leafHashes.length) return [];
  return subproof(leafHashes, oldSize, 0, leafHashes.length, true);
}

/** PROOF(oldSize, D[n]) over the raw entries. Precondition: 0 <= oldSize <= leaves.length. */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  return consistencyProofFromLeafHashes(leaves.map(leafHash), oldSize);
}
