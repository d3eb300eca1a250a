import type { ChainVerification } from './chain-verifier';
import { DigestBuilder } from './digest';
import type { RangeSummary } from './parallel-range';
import type { ChainHead, Digest } from './types';

const HASH_HEX = 64;
const ID_HEX = 32;

/**
 * Joins the summaries of consecutive slices of one export (in file order) into verifyChain's report
 * for a valid chain: heights and links across slices, no transaction id in two slices, the digest
 * (built from the slices' block hashes), the trusted digest and the expected head. Null when any slice
 * failed or any of these does not hold: the caller then verifies sequentially for the exact report.
 * `expectedHead` and `trustedDigest` must be validated already.
 */
export function joinSlices(
  summaries: readonly (RangeSummary | null)[],
  opts: { expectedHead?: ChainHead | undefined; trustedDigest?: Digest | undefined },
): ChainVerification | null {
  const { expectedHead, trustedDigest: trusted } = opts;
  if (summaries.length === 0 || summaries.some((s) => s === null)) return null;
  const slices = summaries as RangeSummary[];
  const digest = new DigestBuilder();
  const ids = new Set<string>();
  let idCount = 0;
  let previous: RangeSummary['head'] | null = null;
  for (const slice of slices) {
    if (slice.firstHeight !== (previous === null ? 0 : previous.height + 1)) return null;
    if (previous !== null && slice.firstPrevious !== previous.block_hash) return null;
    // Each slice's ids are unique within it; a repeat across slices shows as a smaller set.
    for (let i = 0; i < slice.transactionIds.length; i += ID_HEX) {
      ids.add(slice.transactionIds.slice(i, i + ID_HEX));
    }
    idCount += slice.transactionIds.length / ID_HEX;
    if (ids.size !== idCount) return null;
    for (const [i, count] of slice.transactionCounts.entries()) {
      const height = slice.firstHeight + i;
      const block_hash = slice.blockHashes.slice(i * HASH_HEX, (i + 1) * HASH_HEX);
      digest.append({ height, block_hash, transaction_count: count });
      if (trusted && height === trusted.height) {
        const consistent =
          block_hash === trusted.head_hash &&
          digest.blocksRoot() === trusted.blocks_root &&
          digest.transactionCount === trusted.transaction_count;
        if (!consistent) return null;
      }
    }
    previous = slice.head;
  }
  const head = previous!;
  if (trusted && trusted.height > head.height) return null;
  if (expectedHead && (expectedHead.height !== head.height || expectedHead.hash !== head.block_hash)) {
    return null;
  }
  return {
    valid: true,
    height: head.height,
    head_hash: head.block_hash,
    blocks_checked: head.height + 1,
    transactions_checked: digest.transactionCount,
    first_bad_height: null,
    problem: null,
    detail: null,
    digest: digest.digest(head.timestamp),
  };
}
