import { emptyRoot, nodeHash } from './hasher';

/**
 * An append-only Merkle tree that keeps only the roots of its perfect subtrees (a "compact range"
 * over [0, size)): at most one per set bit of `size`, so O(log n) memory however many leaves go in.
 * The tree head it computes is exactly RFC 9162's MTH, because MTH splits at the largest power of
 * two: the left part is always the biggest perfect subtree and the right part recurses on the rest.
 */
export class CompactRange {
  /** Perfect-subtree roots, largest (leftmost) first; their sizes are the set bits of `size`. */
  readonly #roots: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf by its leaf hash (SHA-256(0x00 || entry)). */
  append(leafHash: Uint8Array): void {
    let node = leafHash;
    // Each trailing one bit of the old size is a perfect subtree of the same size as `node`: merge.
    for (let s = this.#size; s % 2 === 1; s = Math.floor(s / 2)) {
      node = nodeHash(this.#roots.pop()!, node);
    }
    this.#roots.push(node);
    this.#size += 1;
  }

  /** MTH of the leaves appended so far. */
  root(): Uint8Array {
    if (this.#roots.length === 0) return emptyRoot();
    let root = this.#roots[this.#roots.length - 1]!;
    for (let i = this.#roots.length - 2; i >= 0; i--) root = nodeHash(this.#roots[i]!, root);
    return root;
  }
}
