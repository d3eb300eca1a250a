import { ValidationError } from '../errors';
import { ChainVerifier, type VerifierMode } from './chain-verifier';
import { blockLeafHash } from './digest';
import { HASH_SIZE } from './hash';
import { type ByteRange, jsonlValues, readLines } from './jsonl';

/** What one worker learnt about its slice of a JSON Lines export, when every block in it checked out. */
export interface RangeSummary {
  firstHeight: number;
  /** The first block's previous_hash, which must be the hash of the slice before's last block. */
  firstPrevious: string;
  head: { height: number; block_hash: string; timestamp: string };
  /** The slice's block hashes, 64 hex digits each, concatenated (one string crosses threads cheaply). */
  blockHashes: string;
  /**
   * The blocks' leaf hashes in the block-hash tree (32 bytes each), hashed here so that the join, which
   * runs on one thread after every slice, only has the tree's interior nodes left to hash.
   */
  blockLeafHashes: Uint8Array;
  transactionCounts: number[];
  /** The slice's transaction ids, 32 hex digits each, concatenated. */
  transactionIds: string;
  /** The slice's assigned decisions as [decision id, vm_id], in chain order. */
  assignments: [string, string][];
  /** The slice's closings whose decision is in an earlier slice (or nowhere), as [decision id, vm_id]. */
  openClosings: [string, string][];
}

/**
 * Checks the blocks on the lines of `range` as ChainVerifier does a whole chain, except for what needs
 * the rest of the chain (the link into the slice, duplicates across slices, the digest), which the
 * summary carries for parallel-verify.ts to check. Null when anything is wrong, or the slice holds no
 * block: the caller then runs the sequential verifier for the exact report, so this never has to
 * reproduce a failure's wording.
 */
export async function verifyRange(
  path: string,
  range: ByteRange,
  mode: VerifierMode = 'fast',
): Promise<RangeSummary | null> {
  const verifier = new ChainVerifier([], mode, 'range');
  try {
    for await (const block of jsonlValues(readLines(path, range))) {
      if (verifier.check(block) !== null) return null;
    }
  } catch (error) {
    if (error instanceof ValidationError) return null;
    throw error;
  }
  const first = verifier.first;
  const head = verifier.head;
  if (first === null || head === null) return null;
  return {
    firstHeight: first.height,
    firstPrevious: first.previous_hash,
    head: { height: head.height, block_hash: head.block_hash, timestamp: head.timestamp },
    blockHashes: verifier.blockHashes.join(''),
    blockLeafHashes: leafHashesOf(verifier.blockHashes),
    transactionCounts: [...verifier.blockTransactionCounts],
    transactionIds: [...verifier.transactionIds].join(''),
    assignments: [...verifier.assignments],
    openClosings: verifier.openClosings.map(([id, vm]) => [id, vm]),
  };
}

function leafHashesOf(blockHashes: readonly string[]): Uint8Array {
  const out = new Uint8Array(blockHashes.length * HASH_SIZE);
  for (const [i, hash] of blockHashes.entries()) out.set(blockLeafHash(hash), i * HASH_SIZE);
  return out;
}
