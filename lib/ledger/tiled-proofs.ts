import { parseOrThrow, ValidationError } from '../errors';
import { blockSchema } from './blocks';
import { blockLeafHash, digestSchema } from './digest';
import { fromHex, toHex } from './hash';
import { verifyConsistency, verifyInclusionOfLeafHash } from './merkle/verify';
import { assembleTransactionProof } from './proofs';
import type { TiledMerkleTree } from './tiles';
import type { Block, Digest, TransactionProof } from './types';

/**
 * Proofs over the block-hash tree a store keeps as tiles (lib/ledger/tiles.ts): the same
 * TransactionProof and consistency proof as proofs.ts and digest.ts produce from a list of block
 * hashes, at O(log n) tile reads instead of O(n) hashing. Each proof is verified against the digest
 * before it is returned, so a stored tile that disagrees with the chain is an error, never a bad proof.
 */

/** Proof that transaction `index` of `block` is in the chain summarised by `digest`. */
export async function tiledTransactionProof(
  block: Block,
  index: number,
  tree: TiledMerkleTree,
  digest: Digest,
): Promise<TransactionProof> {
  const b = parseOrThrow(blockSchema, block, 'block');
  const d = parseOrThrow(digestSchema, digest, 'digest');
  if (!Number.isSafeInteger(index) || index < 0 || index >= b.transactions.length) {
    throw new ValidationError(
      [{ field: 'index', message: `must be 0..${b.transactions.length - 1}` }],
      'transaction proof',
    );
  }
  if (b.height >= d.tree_size || d.tree_size > tree.size) {
    throw new ValidationError(
      [{ field: 'block', message: `height ${b.height} is beyond the digest (tree size ${d.tree_size})` }],
      'transaction proof',
    );
  }
  const blockProof = await tree.inclusionProof(b.height, d.tree_size);
  if (
    !verifyInclusionOfLeafHash(
      blockLeafHash(b.block_hash),
      b.height,
      d.tree_size,
      blockProof,
      fromHex(d.blocks_root),
    )
  ) {
    throw new Error(`stored Merkle tiles do not prove block ${b.height} under blocks_root ${d.blocks_root}`);
  }
  return assembleTransactionProof(b, index, blockProof, d);
}

/**
 * PROOF(old.tree_size, ...) that `newer` extends `older` (both digests of this tree), checked before it
 * is returned. Precondition: 1 <= older.tree_size <= newer.tree_size <= tree.size.
 */
export async function tiledDigestConsistencyProof(
  tree: TiledMerkleTree,
  older: Digest,
  newer: Digest,
): Promise<string[]> {
  const proof = await tree.consistencyProof(older.tree_size, newer.tree_size);
  if (
    !verifyConsistency(
      older.tree_size,
      newer.tree_size,
      fromHex(older.blocks_root),
      fromHex(newer.blocks_root),
      proof,
    )
  ) {
    throw new Error(
      `no consistency proof from tree size ${older.tree_size} to ${newer.tree_size}: the digests are not of one chain`,
    );
  }
  return proof.map(toHex);
}
