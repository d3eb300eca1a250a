import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../errors';
import { fromHex, toHex } from './hash';
import { CompactRange } from './merkle/compact-range';
import { DenseMerkleTree } from './merkle/dense-tree';
import { leafHash } from './merkle/hasher';
import { consistencyProofFromLeafHashes } from './merkle/proof';
import { verifyConsistency } from './merkle/verify';
import { count, hash64 } from './schema-parts';
import { timestampSchema } from './time';
import type { Block, Digest } from './types';

/**
 * The digest an auditor keeps: the chain head plus blocks_root, the RFC 9162 MTH whose entries are the
 * raw 32-byte block hashes of heights 0..height (leaf i = SHA-256(0x00 || block_hash(i))). A later digest
 * is proven to extend it with a consistency proof over that tree, which is how rollback is detected.
 */

export const digestSchema = z
  .strictObject({
    height: count,
    head_hash: hash64,
    tree_size: count,
    blocks_root: hash64,
    transaction_count: count,
    timestamp: timestampSchema,
  })
  .refine((d) => d.tree_size === d.height + 1, {
    path: ['tree_size'],
    message: 'must be height + 1 (the genesis block is leaf 0)',
  }) satisfies z.ZodType<Digest>;

/** The leaf hash of a block in the block-hash tree. */
export function blockLeafHash(blockHashHex: string): Uint8Array {
  return leafHash(fromHex(blockHashHex));
}

/**
 * Accumulates a digest block by block in O(log n) memory; the caller supplies blocks in height order
 * from genesis (verifyChain checks that before appending).
 */
export class DigestBuilder {
  readonly #range = new CompactRange();
  #head: string | null = null;
  #transactions = 0;

  append(block: Pick<Block, 'height' | 'block_hash' | 'transaction_count'>): void {
    if (block.height !== this.#range.size) {
      throw new RangeError(`block height ${block.height} appended where ${this.#range.size} was due`);
    }
    this.#range.append(blockLeafHash(block.block_hash));
    this.#head = block.block_hash;
    this.#transactions += block.transaction_count;
  }

  get treeSize(): number {
    return this.#range.size;
  }

  blocksRoot(): string {
    return toHex(this.#range.root());
  }

  get transactionCount(): number {
    return this.#transactions;
  }

  digest(timestamp: string): Digest {
    if (this.#head === null) throw new RangeError('no block appended: a digest covers at least genesis');
    return {
      height: this.#range.size - 1,
      head_hash: this.#head,
      tree_size: this.#range.size,
      blocks_root: this.blocksRoot(),
      transaction_count: this.#transactions,
      timestamp,
    };
  }
}

/**
 * The digest of `blocks`, which must be heights 0..n in order (verify them first: this trusts each
 * block_hash). `timestamp` records when the digest was taken (RFC 3339 UTC with ms).
 */
export function computeDigest(blocks: Iterable<Block>, timestamp: string): Digest {
  parseOrThrow(timestampSchema, timestamp, 'digest timestamp');
  const builder = new DigestBuilder();
  for (const block of blocks) builder.append(block);
  return builder.digest(timestamp);
}

/**
 * RFC 9162 PROOF(oldSize, ...) over the block-hash tree: proves that the digest with tree_size oldSize is
 * a prefix of the one with tree_size n. `blockHashes` are the hex block hashes of heights 0..n-1 (O(n)
 * hashing), or a DenseMerkleTree of their leaf hashes (blockLeafHash) whose whole size is n (O(log^2 n)).
 * Precondition: 0 < oldSize <= n.
 */
export function digestConsistencyProof(
  blockHashes: readonly string[] | DenseMerkleTree,
  oldSize: number,
): string[] {
  if (oldSize < 1) {
    throw new ValidationError([
      { field: 'oldSize', message: 'must be >= 1: a digest covers at least genesis' },
    ]);
  }
  const proof =
    blockHashes instanceof DenseMerkleTree
      ? blockHashes.consistencyProof(oldSize)
      : consistencyProofFromLeafHashes(blockHashes.map(blockLeafHash), oldSize);
  return proof.map(toHex);
}

/**
 * Whether `newDigest` extends `oldDigest`: same chain, no block rewritten or dropped. Malformed digests or
 * proofs give false, as does any claim a verifier can check directly (equal sizes with different heads).
 */
export function verifyDigestConsistency(
  oldDigest: Digest,
  newDigest: Digest,
  proof: readonly string[],
): boolean {
  const older = digestSchema.safeParse(oldDigest);
  const newer = digestSchema.safeParse(newDigest);
  if (!older.success || !newer.success) return false;
  if (!proof.every((p) => /^[0-9a-f]{64}$/.test(p))) return false;
  const a = older.data;
  const b = newer.data;
  if (a.tree_size > b.tree_size || a.transaction_count > b.transaction_count) return false;
  if (a.tree_size === b.tree_size && a.head_hash !== b.head_hash) return false;
  return verifyConsistency(
    a.tree_size,
    b.tree_size,
    fromHex(a.blocks_root),
    fromHex(b.blocks_root),
    proof.map(fromHex),
  );
}

/**
 * A consistency proof as served (GET /ledger/consistency, `bcs ledger consistency`): the digests at
 * tree sizes `from.tree_size` and `to.tree_size` and RFC 9162 PROOF(from.tree_size, D[to.tree_size])
 * over the block-hash tree (docs/ledger-format.md section 7.2).
 */
export interface DigestConsistency {
  from: Digest;
  to: Digest;
  proof: string[];
}

export const digestConsistencySchema = z.strictObject({
  from: digestSchema,
  to: digestSchema,
  // A proof has at most 2 * log2(2^53) nodes.
  proof: z.array(hash64).max(128),
}) satisfies z.ZodType<DigestConsistency>;

/** The outcome of checking a served consistency proof against a digest the auditor kept. */
export type ConsistencyCheck =
  | { valid: true; from: Digest; to: Digest }
  | { valid: false; problem: 'malformed-proof' | 'inconsistent-with-digest'; detail: string };

const sameDigest = (a: Digest, b: Digest): boolean =>
  a.tree_size === b.tree_size &&
  a.head_hash === b.head_hash &&
  a.blocks_root === b.blocks_root &&
  a.transaction_count === b.transaction_count;

/**
 * Whether `served` (a DigestConsistency from whoever serves it) proves that the chain summarised by the
 * trusted `older` digest is a prefix of the one summarised by its `to` digest (docs/ledger-format.md
 * section 7.2), and, given `newer`, that `to` is that digest. Timestamps are not compared: they are
 * not part of any hash. Never throws: a bad proof is a finding.
 */
export function checkDigestConsistency(older: Digest, served: unknown, newer?: Digest): ConsistencyCheck {
  const parsed = digestConsistencySchema.safeParse(served);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(proof)'}: ${i.message}`);
    return {
      valid: false,
      problem: 'malformed-proof',
      detail: `not a consistency proof: ${issues.join('; ')}`,
    };
  }
  const { from, to, proof } = parsed.data;
  if (!sameDigest(from, older)) {
    return {
      valid: false,
      problem: 'inconsistent-with-digest',
      detail: `the proof starts from tree size ${from.tree_size} root ${from.blocks_root}, the trusted digest has ${older.tree_size} root ${older.blocks_root}`,
    };
  }
  if (newer && !sameDigest(to, newer)) {
    return {
      valid: false,
      problem: 'inconsistent-with-digest',
      detail: `the proof ends at tree size ${to.tree_size} root ${to.blocks_root}, the newer digest has ${newer.tree_size} root ${newer.blocks_root}`,
    };
  }
  if (!verifyDigestConsistency(from, to, proof)) {
    return {
      valid: false,
      problem: 'inconsistent-with-digest',
      detail: `the proof does not show tree size ${from.tree_size} to be a prefix of tree size ${to.tree_size}`,
    };
  }
  return { valid: true, from, to };
}
