import { parseOrThrow, ValidationError } from '../errors';
import { blockHash, blockSchema, chainHeadSchema, GENESIS } from './blocks';
import { canonicalString } from './canonical';
import { DigestBuilder, digestSchema } from './digest';
import { transactionsRoot } from './transactions';
import type { Block, ChainHead, Digest, VerificationProblem, VerificationReport } from './types';

export interface VerifyChainOptions {
  /** The head the chain must end at (e.g. the store's head read before the export). */
  expectedHead?: ChainHead;
  /**
   * A digest saved earlier. The chain must contain its block with the same hash, and the block-hash tree
   * up to that height must have the digest's blocks_root: a shorter or rewritten chain fails (rollback).
   */
  trustedDigest?: Digest;
}

/** A successful report also carries the chain's digest, stamped with the head block's timestamp. */
export type ChainVerification = VerificationReport & { digest?: Digest };

class Failure {
  constructor(
    readonly height: number,
    readonly problem: VerificationProblem,
    readonly detail: string,
  ) {}
}

const GENESIS_CANONICAL = canonicalString(GENESIS);

/**
 * Checks every block of a chain, genesis first, in one pass and stops at the first bad block, naming it
 * and why. Memory: the block-hash tree's compact range (O(log n)) plus the set of transaction ids seen,
 * which duplicate detection needs (about 100 bytes per transaction). Each transaction is canonicalised
 * and hashed once; nothing is revisited.
 *
 * Order of checks per block: malformed, height-gap, bad-genesis, broken-link, wrong-transaction-count,
 * wrong-merkle-root, wrong-block-hash, duplicate-transaction; then digest-mismatch /
 * inconsistent-with-digest at the trusted digest's height; then, after the last block, head-mismatch.
 * A ValidationError thrown by the source (e.g. parseJsonl on a bad line) is reported as malformed.
 */
export async function verifyChain(
  blocks: Iterable<Block> | AsyncIterable<Block>,
  opts: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const expectedHead = opts.expectedHead && parseOrThrow(chainHeadSchema, opts.expectedHead, 'expectedHead');
  const trusted = opts.trustedDigest && parseOrThrow(digestSchema, opts.trustedDigest, 'trustedDigest');

  const digest = new DigestBuilder();
  const seen = new Set<string>();
  let head: Block | null = null;
  let hashAtExpectedHeight: string | null = null;
  let blocksChecked = 0;
  let transactionsChecked = 0;

  const report = (failure: Failure | null): ChainVerification => ({
    valid: failure === null,
    height: head?.height ?? -1,
    head_hash: head?.block_hash ?? null,
    blocks_checked: blocksChecked,
    transactions_checked: transactionsChecked,
    first_bad_height: failure?.height ?? null,
    problem: failure?.problem ?? null,
    detail: failure?.detail ?? null,
    ...(failure === null && head !== null ? { digest: digest.digest(head.timestamp) } : {}),
  });

  const check = (raw: unknown): Failure | null => {
    const due = blocksChecked;
    const parsed = blockSchema.safeParse(raw);
    if (!parsed.success) {
      return new Failure(due, 'malformed', ValidationError.fromZod(parsed.error, `block ${due}`).message);
    }
    const block = parsed.data;
    if (block.height !== due) {
      return new Failure(due, 'height-gap', `block at position ${due} has height ${block.height}`);
    }
    if (due === 0) {
      if (canonicalString(block) !== GENESIS_CANONICAL) {
        return new Failure(
          0,
          'bad-genesis',
          `genesis differs from the fixed genesis block ${GENESIS.block_hash}`,
        );
      }
    } else if (block.previous_hash !== head!.block_hash) {
      return new Failure(
        due,
        'broken-link',
        `previous_hash ${block.previous_hash} is not block ${due - 1}'s hash ${head!.block_hash}`,
      );
    }
    if (block.transaction_count !== block.transactions.length) {
      return new Failure(
        due,
        'wrong-transaction-count',
        `transaction_count ${block.transaction_count} but ${block.transactions.length} transactions`,
      );
    }
    const root = transactionsRoot(block.transactions);
    if (root !== block.merkle_root) {
      return new Failure(
        due,
        'wrong-merkle-root',
        `merkle_root ${block.merkle_root}, transactions give ${root}`,
      );
    }
    const hash = blockHash(block);
    if (hash !== block.block_hash) {
      return new Failure(due, 'wrong-block-hash', `block_hash ${block.block_hash}, header gives ${hash}`);
    }
    for (const tx of block.transactions) {
      if (seen.has(tx.transaction_id)) {
        return new Failure(due, 'duplicate-transaction', `transaction ${tx.transaction_id} appears earlier`);
      }
      seen.add(tx.transaction_id);
    }
    digest.append(block);
    head = block;
    if (expectedHead && due === expectedHead.height) hashAtExpectedHeight = hash;
    blocksChecked += 1;
    transactionsChecked += block.transactions.length;
    if (trusted && due === trusted.height) {
      if (hash !== trusted.head_hash) {
        return new Failure(
          due,
          'digest-mismatch',
          `block ${due} is ${hash}, the trusted digest has ${trusted.head_hash}`,
        );
      }
      const blocksRoot = digest.blocksRoot();
      if (blocksRoot !== trusted.blocks_root || digest.transactionCount !== trusted.transaction_count) {
        return new Failure(
          due,
          'inconsistent-with-digest',
          `blocks_root ${blocksRoot} with ${digest.transactionCount} transactions, the trusted digest has ` +
            `${trusted.blocks_root} with ${trusted.transaction_count}`,
        );
      }
    }
    return null;
  };

  try {
    for await (const block of blocks) {
      const failure = check(block);
      if (failure) return report(failure);
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return report(new Failure(blocksChecked, 'malformed', error.message));
  }

  const end = blocksChecked;
  if (end === 0) return report(new Failure(0, 'bad-genesis', 'the chain is empty: no genesis block'));
  const last = head as Block | null;
  if (trusted && trusted.height >= end) {
    return report(
      new Failure(
        end,
        'digest-mismatch',
        `chain ends at height ${end - 1}, before the trusted digest's height ${trusted.height}`,
      ),
    );
  }
  if (expectedHead && (expectedHead.height !== last!.height || expectedHead.hash !== last!.block_hash)) {
    // Name the first block that differs from the expected history: the missing one after a short chain,
    // the expected head's height when that block was replaced, or the first block past it.
    const firstBad =
      hashAtExpectedHeight === null
        ? end
        : hashAtExpectedHeight !== expectedHead.hash
          ? expectedHead.height
          : expectedHead.height + 1;
    return report(
      new Failure(
        firstBad,
        'head-mismatch',
        `chain ends at ${last!.height}/${last!.block_hash}, expected ${expectedHead.height}/${expectedHead.hash}`,
      ),
    );
  }
  return report(null);
}
