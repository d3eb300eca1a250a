import { emptyRoot, nodeHash } from './hasher';

/**
 * A compact range [begin, end) of an RFC 9162 Merkle tree: the roots of the fewest perfect subtrees
 * that tile exactly the leaves begin..end-1, left to right, each aligned (a subtree of 2^k leaves
 * starts at a multiple of 2^k). It is what one worker that saw only those leaves can hand on: two
 * adjacent ranges merge into the range over both, and a range that starts at 0 folds to the tree head
 * over [0, end) (the frontier of docs/ledger-format.md "Stored Merkle tiles" is that range). The same
 * notion as transparency-dev/merkle's compact.Range; written here because the ledger's hashes are
 * plain Uint8Arrays and the merge is twenty lines.
 */
export interface MerkleRange {
  begin: number;
  end: number;
  /** Subtree roots, left to right (32 bytes each). */
  hashes: Uint8Array[];
}

export class MerkleRangeMismatch extends Error {}

export function emptyRange(begin: number): MerkleRange {
  return { begin, end: begin, hashes: [] };
}

/**
 * The perfect subtrees [begin, end) decomposes into, left to right, as [level, index] (the subtree of
 * 2^level leaves starting at index * 2^level): the largest aligned subtree at each step.
 */
export function decomposition(begin: number, end: number): [number, number][] {
  const nodes: [number, number][] = [];
  let at = begin;
  while (at < end) {
    let level = 0;
    while ((at / 2 ** (level + 1)) % 1 === 0 && at + 2 ** (level + 1) <= end) level += 1;
    nodes.push([level, at / 2 ** level]);
    at += 2 ** level;
  }
  return nodes;
}

/** The range extended by one leaf hash (the leaf at index `range.end`). Returns a new range. */
export function appendLeaf(range: MerkleRange, leafHash: Uint8Array): MerkleRange {
  return mergeRanges(range, { begin: range.end, end: range.end + 1, hashes: [leafHash] });
}

/**
 * The range over [left.begin, right.end) from two adjacent ranges: the right range's subtrees are
 * pushed one by one, each merged with its left sibling while the last two are siblings. Throws when
 * they are not adjacent or a range's hash count does not match its bounds (a malformed range).
 */
export function mergeRanges(left: MerkleRange, right: MerkleRange): MerkleRange {
  if (left.end !== right.begin) {
    throw new MerkleRangeMismatch(
      `ranges [${left.begin}, ${left.end}) and [${right.begin}, ${right.end}) are not adjacent`,
    );
  }
  checkShape(left);
  checkShape(right);
  // The stack holds [level, index, hash] of the merged range so far.
  const stack: [number, number, Uint8Array][] = decomposition(left.begin, left.end).map(
    ([level, index], i) => [level, index, left.hashes[i]!],
  );
  for (const [i, [level, index]] of decomposition(right.begin, right.end).entries()) {
    let node: [number, number, Uint8Array] = [level, index, right.hashes[i]!];
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top || top[0] !== node[0] || top[1] % 2 !== 0 || top[1] + 1 !== node[1]) break;
      stack.pop();
      node = [node[0] + 1, top[1] / 2, nodeHash(top[2], node[2])];
    }
    stack.push(node);
  }
  const merged = { begin: left.begin, end: right.end, hashes: stack.map(([, , hash]) => hash) };
  // Merging pairs greedily yields the canonical decomposition; checked, as a cheap guard.
  checkShape(merged);
  return merged;
}

/** The tree head (RFC 9162 MTH) over [0, range.end): only a range that starts at 0 has one. */
export function rangeRoot(range: MerkleRange): Uint8Array {
  if (range.begin !== 0) throw new MerkleRangeMismatch(`a range from ${range.begin} has no tree head`);
  checkShape(range);
  if (range.hashes.length === 0) return emptyRoot();
  let root = range.hashes[range.hashes.length - 1]!;
  for (let i = range.hashes.length - 2; i >= 0; i--) root = nodeHash(range.hashes[i]!, root);
  return root;
}

function checkShape(range: MerkleRange): void {
  if (!Number.isSafeInteger(range.begin) || range.begin < 0 || range.end < range.begin) {
    throw new MerkleRangeMismatch(`range bounds [${range.begin}, ${range.end}) are not a range`);
  }
  const expected = decomposition(range.begin, range.end).length;
  if (range.hashes.length !== expected || range.hashes.some((h) => h.length !== 32)) {
    throw new MerkleRangeMismatch(
      `range [${range.begin}, ${range.end}) must hold ${expected} hashes of 32 bytes, has ${range.hashes.length}`,
    );
  }
}
