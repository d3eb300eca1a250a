import { bytesEqual, HASH_SIZE } from '../hash';
import { emptyRoot, leafHash, nodeHash } from './hasher';

/**
 * Proof verification, RFC 9162 sections 2.1.3.2 and 2.1.4.2, written as "compute the root(s) the proof
 * implies, then compare" so each half can be tested on its own. Sizes and indices are JS numbers
 * below 2^53, so shifts are done with division: the bitwise operators would truncate to 32 bits.
 */

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);
const isSize = (x: number) => Number.isSafeInteger(x) && x >= 0;
const isPowerOfTwo = (x: number) => {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
};
const wellFormed = (proof: readonly Uint8Array[]) => proof.every((p) => p.length === HASH_SIZE);

/**
 * The root that an inclusion proof for the leaf hash at `index` implies (RFC 9162 section 2.1.3.2),
 * or null when the proof cannot be a valid PATH for that index and size (too short, too long,
 * index >= treeSize, a component that is not 32 bytes).
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize || !wellFormed(proof)) return null;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

/** Whether `proof` shows the leaf hash at `index` is in the tree of `treeSize` leaves with head `root`. */
export function verifyInclusionOfLeafHash(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(leaf, index, treeSize, proof);
  return computed !== null && bytesEqual(computed, root);
}

/** Whether `proof` shows the raw `entry` is leaf `index` of the tree of `treeSize` leaves with head `root`. */
export function verifyInclusion(
  entry: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  return verifyInclusionOfLeafHash(leafHash(entry), index, treeSize, proof, root);
}

/**
 * The pair (old root, new root) that a consistency proof implies (RFC 9162 section 2.1.4.2 steps 2-6),
 * given the old root the verifier already trusts; null when the proof has the wrong shape.
 * Precondition: 0 < oldSize < newSize (the other cases need no proof and are handled by verifyConsistency).
 */
export function rootsFromConsistencyProof(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  proof: readonly Uint8Array[],
): { oldRoot: Uint8Array; newRoot: Uint8Array } | null {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize === 0 || oldSize >= newSize) return null;
  if (proof.length === 0 || !wellFormed(proof)) return null;
  // Step 2: when the old tree is a perfect subtree, its root is the first node of the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? { oldRoot: fr, newRoot: sr } : null;
}

/**
 * Whether `proof` shows the tree of `oldSize` leaves with head `oldRoot` is a prefix of the tree of
 * `newSize` leaves with head `newRoot`. Equal sizes need an empty proof and equal roots; the empty old
 * tree needs an empty proof and oldRoot = SHA-256() (every tree extends it).
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, emptyRoot());
  const roots = rootsFromConsistencyProof(oldSize, newSize, oldRoot, proof);
  return roots !== null && bytesEqual(roots.oldRoot, oldRoot) && bytesEqual(roots.newRoot, newRoot);
}
