import * as z from 'zod';
import { type FieldIssue, parseOrThrow, ValidationError } from '../errors';
import { blockHash, blockHeaderSchema, blockSchema } from './blocks';
import { canonicalBytesOfValidated } from './canonical';
import { blockLeafHash, digestSchema } from './digest';
import { fromHex, toHex } from './hash';
import { DenseMerkleTree } from './merkle/dense-tree';
import { leafHash } from './merkle/hasher';
import { inclusionProofFromLeafHashes } from './merkle/proof';
import { rootFromLeafHashes } from './merkle/tree';
import { verifyInclusionOfLeafHash } from './merkle/verify';
import { count, hash64 } from './schema-parts';
import { transactionSchema } from './transactions';
import type { Block, Digest, TransactionProof } from './types';

/** A TransactionProof as it arrives from outside (a file, an HTTP response). */
export const transactionProofSchema = z.strictObject({
  transaction: transactionSchema,
  height: count,
  index: count,
  tx_proof: z.array(hash64).max(64),
  block_header: blockHeaderSchema,
  block_proof: z.array(hash64).max(64),
  digest: digestSchema,
}) satisfies z.ZodType<TransactionProof>;

/**
 * Proof that transaction `index` of `block` is in the chain summarised by `digest`. `blockHashes` are
 * either the hex block hashes of heights 0..digest.height the digest was computed from (the proof then
 * rehashes all of them, O(n)), or a DenseMerkleTree of their leaf hashes (blockLeafHash) holding at least
 * digest.tree_size leaves (O(log^2 n)). Throws ValidationError when the arguments do not fit together.
 */
export function transactionProof(
  block: Block,
  index: number,
  blockHashes: readonly string[] | DenseMerkleTree,
  digest: Digest,
): TransactionProof {
  const b = parseOrThrow(blockSchema, block, 'block');
  const d = parseOrThrow(digestSchema, digest, 'digest');
  const tree = blockHashes instanceof DenseMerkleTree ? blockHashes : null;
  const list = blockHashes instanceof DenseMerkleTree ? null : blockHashes;
  const size = tree ? tree.size : list!.length;
  const problems: FieldIssue[] = [];
  if (!Number.isSafeInteger(index) || index < 0 || index >= b.transactions.length) {
    problems.push({ field: 'index', message: `must be 0..${b.transactions.length - 1}` });
  }
  if (tree ? size < d.tree_size : size !== d.tree_size) {
    problems.push({ field: 'blockHashes', message: `has ${size} hashes, digest covers ${d.tree_size}` });
  }
  if (b.height >= Math.min(size, d.tree_size)) {
    problems.push({
      field: 'block',
      message: `height ${b.height} is beyond the digest (tree size ${d.tree_size})`,
    });
  } else {
    const known = tree ? toHex(tree.leaf(b.height)) : toHex(blockLeafHash(list![b.height]!));
    if (known !== toHex(blockLeafHash(b.block_hash))) {
      problems.push({
        field: 'block',
        message: `block ${b.height} is not the one in blockHashes at that height`,
      });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, 'transaction proof');

  const leafHashes = list ? list.map(blockLeafHash) : null;
  const blocksRoot = tree ? tree.root(d.tree_size) : rootFromLeafHashes(leafHashes!);
  if (toHex(blocksRoot) !== d.blocks_root) {
    throw new ValidationError(
      [{ field: 'digest.blocks_root', message: 'is not the root of blockHashes' }],
      'transaction proof',
    );
  }
  const blockProof = tree
    ? tree.inclusionProof(b.height, d.tree_size)
    : inclusionProofFromLeafHashes(leafHashes!, b.height);
  return assembleTransactionProof(b, index, blockProof, d);
}

/**
 * The proof object for transaction `index` of validated block `b`, given the block's inclusion proof
 * under `d.blocks_root` (however it was obtained: a dense tree, leaf hashes, or stored tiles).
 */
export function assembleTransactionProof(
  b: Block,
  index: number,
  blockProof: readonly Uint8Array[],
  d: Digest,
): TransactionProof {
  const txLeaves = b.transactions.map((tx) => leafHash(canonicalBytesOfValidated(tx)));
  const { block_hash: _hash, transactions, ...header } = b;
  return {
    transaction: transactions[index]!,
    height: b.height,
    index,
    tx_proof: inclusionProofFromLeafHashes(txLeaves, index).map(toHex),
    block_header: header,
    block_proof: blockProof.map(toHex),
    digest: d,
  };
}

/**
 * Whether a transaction proof holds: the transaction is leaf `index` under the header's merkle_root, the
 * header hashes to a block hash that is leaf `height` under the digest's blocks_root (and is the digest's
 * head when height is the digest's height). With `trustedDigest`, the proof's digest must be that one;
 * without it, the proof is only as good as the digest it carries. Malformed input gives false.
 */
export function verifyTransactionProof(proof: TransactionProof, trustedDigest?: Digest): boolean {
  const parsed = transactionProofSchema.safeParse(proof);
  if (!parsed.success) return false;
  const p = parsed.data;
  const header = p.block_header;
  if (p.height !== header.height || p.height >= p.digest.tree_size) return false;
  if (trustedDigest) {
    const t = digestSchema.safeParse(trustedDigest);
    if (!t.success) return false;
    const same =
      t.data.tree_size === p.digest.tree_size &&
      t.data.blocks_root === p.digest.blocks_root &&
      t.data.head_hash === p.digest.head_hash;
    if (!same) return false;
  }
  const txInBlock = verifyInclusionOfLeafHash(
    leafHash(canonicalBytesOfValidated(p.transaction)),
    p.index,
    header.transaction_count,
    p.tx_proof.map(fromHex),
    fromHex(header.merkle_root),
  );
  if (!txInBlock) return false;
  const hash = blockHash(header);
  if (p.height === p.digest.height && hash !== p.digest.head_hash) return false;
  return verifyInclusionOfLeafHash(
    blockLeafHash(hash),
    p.height,
    p.digest.tree_size,
    p.block_proof.map(fromHex),
    fromHex(p.digest.blocks_root),
  );
}
