import { HASH_SIZE, sha256 } from '../hash';

/**
 * The RFC 9162 section 2.1.1 hashing strategy (identical to RFC 6962 section 2.1) with SHA-256.
 * Leaves and interior nodes are hashed with different one-byte prefixes so that no interior node can
 * be passed off as a leaf (second-preimage resistance). Odd nodes are never duplicated: the tree is
 * split at the largest power of two, which avoids the duplicate-last-leaf ambiguity of CVE-2012-2459.
 */

/** Prefix of a leaf hash: SHA-256(0x00 || entry). */
export const LEAF_HASH_PREFIX = 0x00;
/** Prefix of an interior node hash: SHA-256(0x01 || left || right). */
export const NODE_HASH_PREFIX = 0x01;

const LEAF_PREFIX_BYTES = Uint8Array.of(LEAF_HASH_PREFIX);
const NODE_PREFIX_BYTES = Uint8Array.of(NODE_HASH_PREFIX);

/** MTH({}) = SHA-256(): the hash of the empty string. A fresh copy each call (typed arrays cannot be frozen). */
export function emptyRoot(): Uint8Array {
  return sha256();
}

/** MTH({d}) = SHA-256(0x00 || d) for the raw entry d. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX_BYTES, entry);
}

// Interior nodes are hashed by the million: one reused input buffer instead of a concatenation each time
// (hashing is synchronous, so no caller can observe the buffer between set and hash).
const NODE_INPUT = new Uint8Array(1 + 2 * HASH_SIZE);
NODE_INPUT[0] = NODE_HASH_PREFIX;

/** SHA-256(0x01 || left || right) for two 32-byte child hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return sha256(NODE_PREFIX_BYTES, left, right);
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

/** k in RFC 9162 section 2.1.1: the largest power of two smaller than n. Precondition: n >= 2. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
