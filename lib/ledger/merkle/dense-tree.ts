import { MerkleRangeError } from '../errors';
import { HASH_SIZE } from '../hash';
import { emptyRoot, nodeHash, splitPoint } from './hasher';
import { consistencyPath, inclusionPath } from './proof';

/** h when n = 2^h, else null. */
function perfectHeight(n: number): number | null {
  let h = 0;
  for (let size = 1; size <= n; size *= 2, h++) if (size === n) return h;
  return null;
}

/** One level of the tree: node hashes packed end to end in a buffer that doubles as it fills. */
class Level {
  #bytes = new Uint8Array(HASH_SIZE * 16);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * HASH_SIZE > this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(hash, this.length * HASH_SIZE);
    this.length += 1;
  }

  at(i: number): Uint8Array {
    return this.#bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}

/**
 * An append-only RFC 9162 tree that keeps every complete node (about 2n hashes, 64 bytes per leaf), so
 * the head of any earlier size and inclusion and consistency proofs cost O(log^2 n) hashes instead of
 * rehashing all leaves. For servers that answer proof requests over a long chain; verifiers that only
 * need the current head use CompactRange (O(log n) memory).
 */
export class DenseMerkleTree {
  /** levels[h][i] is the head of the perfect subtree of leaves [i * 2^h, (i + 1) * 2^h). */
  readonly #levels: Level[] = [new Level()];

  get size(): number {
    return this.#levels[0]!.length;
  }

  /** Appends one leaf by its leaf hash. */
  append(leafHash: Uint8Array): void {
    let node = leafHash;
    for (let h = 0; ; h++) {
      if (h === this.#levels.length) this.#levels.push(new Level());
      const level = this.#levels[h]!;
      level.push(node);
      if (level.length % 2 === 1) return;
      node = nodeHash(level.at(level.length - 2), node);
    }
  }

  /** The leaf hash at `index`. */
  leaf(index: number): Uint8Array {
    this.#check(index + 1);
    return Uint8Array.from(this.#levels[0]!.at(index));
  }

  /** MTH of leaves [lo, hi). */
  readonly #subtreeRoot = (lo: number, hi: number): Uint8Array => {
    const n = hi - lo;
    if (lo % n === 0) {
      const height = perfectHeight(n);
      const level = height === null ? undefined : this.#levels[height];
      if (level && lo / n < level.length) return level.at(lo / n);
    }
    const k = splitPoint(n);
    return nodeHash(this.#subtreeRoot(lo, lo + k), this.#subtreeRoot(lo + k, hi));
  };

  /** The tree head at `treeSize` (default: the current size); SHA-256() for size 0. */
  root(treeSize = this.size): Uint8Array {
    this.#check(treeSize);
    if (treeSize === 0) return emptyRoot();
    return Uint8Array.from(this.#subtreeRoot(0, treeSize));
  }

  /** PATH(index, D[treeSize]). Preconditions: 0 <= index < treeSize <= size. */
  inclusionProof(index: number, treeSize = this.size): Uint8Array[] {
    this.#check(treeSize);
    return inclusionPath(this.#subtreeRoot, index, treeSize).map((h) => Uint8Array.from(h));
  }

  /** PROOF(oldSize, D[treeSize]). Preconditions: 0 <= oldSize <= treeSize <= size. */
  consistencyProof(oldSize: number, treeSize = this.size): Uint8Array[] {
    this.#check(treeSize);
    return consistencyPath(this.#subtreeRoot, oldSize, treeSize).map((h) => Uint8Array.from(h));
  }

  #check(treeSize: number): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > this.size) {
      throw new MerkleRangeError(`tree size ${treeSize} out of range 0..${this.size}`);
    }
  }
}
