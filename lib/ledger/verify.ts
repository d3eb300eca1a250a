import { parseOrThrow, ValidationError } from '../errors';
import { chainHeadSchema } from './blocks';
import { ChainFailure, type ChainVerification, ChainVerifier, type VerifierMode } from './chain-verifier';
import { digestSchema } from './digest';
import { jsonlValues, readLines } from './jsonl';
import type { ChainHead, Digest } from './types';

export type { ChainVerification, VerifierMode } from './chain-verifier';

export interface VerifyChainOptions {
  /** The head the chain must end at (e.g. the store's head read before the export). */
  expectedHead?: ChainHead;
  /**
   * A digest saved earlier. The chain must contain its block with the same hash, and the block-hash tree
   * up to that height must have the digest's blocks_root: a shorter or rewritten chain fails (rollback).
   */
  trustedDigest?: Digest;
  /**
   * 'fast' (default) or 'reference': the same report either way; 'reference' validates every block with
   * zod and canonicalises every transaction with the `canonicalize` package, for tests and audits.
   */
  mode?: VerifierMode;
}

/**
 * Checks every block of a chain (Blocks, or any values: each is validated here and reported as malformed
 * if it is not a block), genesis first, in one streaming pass (docs/ledger-format.md section 5)
 * and stops at the first bad block, naming it and why.
 *
 * Order of checks per block: malformed, height-gap, bad-genesis, broken-link, wrong-transaction-count,
 * wrong-merkle-root, wrong-block-hash, malformed (a transaction_id not derived from its task_id and
 * status), duplicate-transaction; then digest-mismatch /
 * inconsistent-with-digest at the trusted digest's height; after the last block, bad-genesis for an empty
 * chain, digest-mismatch for a chain that ends before the digest, head-mismatch. A ValidationError thrown
 * by the source (e.g. parseJsonl on a bad line) is reported as malformed; other errors propagate.
 * Throws ValidationError when an option is malformed.
 */
export async function verifyChain(
  blocks: Iterable<unknown> | AsyncIterable<unknown>,
  opts: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const expectedHead = opts.expectedHead && parseOrThrow(chainHeadSchema, opts.expectedHead, 'expectedHead');
  const trusted = opts.trustedDigest && parseOrThrow(digestSchema, opts.trustedDigest, 'trustedDigest');
  const verifier = new ChainVerifier(
    expectedHead ? [expectedHead.height] : [],
    opts.mode === 'reference' ? 'reference' : 'fast',
  );

  const digestFailure = (): ChainFailure | null => {
    if (!trusted || verifier.blocksChecked !== trusted.height + 1) return null;
    const hash = verifier.head!.block_hash;
    if (hash !== trusted.head_hash) {
      return new ChainFailure(
        trusted.height,
        'digest-mismatch',
        `block ${trusted.height} is ${hash}, the trusted digest has ${trusted.head_hash}`,
      );
    }
    const blocksRoot = verifier.blocksRoot();
    if (blocksRoot !== trusted.blocks_root || verifier.transactionCount !== trusted.transaction_count) {
      return new ChainFailure(
        trusted.height,
        'inconsistent-with-digest',
        `blocks_root ${blocksRoot} with ${verifier.transactionCount} transactions, the trusted digest has ` +
          `${trusted.blocks_root} with ${trusted.transaction_count}`,
      );
    }
    return null;
  };

  try {
    for await (const block of blocks) {
      const problem = verifier.check(block) ?? digestFailure();
      if (problem) return verifier.report(problem);
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return verifier.report(new ChainFailure(verifier.blocksChecked, 'malformed', error.message));
  }

  const end = verifier.blocksChecked;
  if (end === 0)
    return verifier.report(new ChainFailure(0, 'bad-genesis', 'the chain is empty: no genesis block'));
  if (trusted && trusted.height >= end) {
    return verifier.report(
      new ChainFailure(
        end,
        'digest-mismatch',
        `chain ends at height ${end - 1}, before the trusted digest's height ${trusted.height}`,
      ),
    );
  }
  return verifier.report(expectedHead ? verifier.headFailure(expectedHead) : null);
}

/**
 * verifyChain over a JSON Lines export (docs/ledger-format.md section 6), validating each block once.
 * A line that is not JSON is reported as malformed naming the line; blank lines are skipped.
 */
export function verifyJsonl(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: VerifyChainOptions = {},
): Promise<ChainVerification> {
  return verifyChain(jsonlValues(lines), opts);
}

/** verifyJsonl on a file, streamed: memory does not grow with the file. */
export function verifyJsonlFile(path: string, opts: VerifyChainOptions = {}): Promise<ChainVerification> {
  return verifyJsonl(readLines(path), opts);
}
