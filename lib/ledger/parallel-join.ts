import type { ChainVerification } from './chain-verifier';
import { HASH_SIZE, toHex } from './hash';
import { CompactRange } from './merkle/compact-range';
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
  // The block-hash tree as DigestBuilder builds it, fed the leaf hashes the slices computed.
  const tree = new CompactRange();
  let transactionCount = 0;
  const ids = new Set<string>();
  let idCount = 0;
  let previous: RangeSummary['head'] | null = null;
  // Assigned decisions of the slices joined so far: each slice's open closings must be among them.
  const assigned = new Map<string, string>();
  for (const slice of slices) {
    for (const [decisionId, vm] of slice.openClosings) if (assigned.get(decisionId) !== vm) return null;
    for (const [decisionId, vm] of slice.assignments) assigned.set(decisionId, vm);
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
      tree.append(slice.blockLeafHashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      transactionCount += count;
      if (trusted && height === trusted.height) {
        const consistent =
          slice.blockHashes.slice(i * HASH_HEX, (i + 1) * HASH_HEX) === trusted.head_hash &&
          toHex(tree.root()) === trusted.blocks_root &&
          transactionCount === trusted.transaction_count;
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
    transactions_checked: transactionCount,
    first_bad_height: null,
    problem: null,
    detail: null,
    digest: {
      height: head.height,
      head_hash: head.block_hash,
      tree_size: tree.size,
      blocks_root: toHex(tree.root()),
      transaction_count: transactionCount,
      timestamp: head.timestamp,
    },
  };
}
