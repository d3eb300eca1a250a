import type { ChainVerification } from '../lib/ledger/chain-verifier';
import { digestSchema } from '../lib/ledger/digest';
import type { Digest } from '../lib/ledger/types';
import { MAX_BLOCKS_PER_PAGE } from '../lib/schemas/api';
import { blocksPageAnswer } from '../lib/schemas/client';
import { getJson, type Remote } from './remote';

/**
 * The ledger read over the HTTP API both runtimes serve (GET /ledger/digest, GET /ledger/blocks), so
 * that one command audits the local server and the AWS stack. No bulk export route is needed: a Lambda
 * answer is capped at 6 MB, a page of blocks is not.
 */

/** The digest the server publishes for its current head. */
export function publishedDigest(remote: Remote): Promise<Digest> {
  return getJson(remote, 'ledger/digest', digestSchema);
}

/**
 * Blocks 0..upTo, a page at a time. Reading up to a height taken beforehand gives a consistent snapshot
 * while the scheduler keeps appending. A server that runs out of blocks early ends the stream: the
 * verifier then reports the chain as shorter than the head it was promised.
 */
export async function* remoteBlocks(
  remote: Remote,
  upTo: number,
  pageSize = MAX_BLOCKS_PER_PAGE,
): AsyncGenerator<unknown> {
  let from = 0;
  while (from <= upTo) {
    const limit = Math.min(pageSize, upTo - from + 1);
    const page = await getJson(remote, `ledger/blocks?from=${from}&limit=${limit}`, blocksPageAnswer);
    if (page.blocks.length === 0) return;
    const blocks = page.blocks.slice(0, limit);
    yield* blocks;
    from += blocks.length;
  }
}

/**
 * A chain verified up to the published digest's head must also give the digest's block-hash tree
 * root and transaction count: otherwise the server publishes a digest for a chain it does not serve,
 * and inclusion proofs against it mean nothing.
 */
export function checkPublishedDigest(report: ChainVerification, published: Digest): ChainVerification {
  const computed = report.digest;
  if (!report.valid || !computed) return report;
  if (
    computed.blocks_root === published.blocks_root &&
    computed.tree_size === published.tree_size &&
    computed.transaction_count === published.transaction_count
  ) {
    return report;
  }
  const { digest: _digest, ...rest } = report;
  return {
    ...rest,
    valid: false,
    first_bad_height: published.height,
    problem: 'inconsistent-with-digest',
    detail:
      `the server's digest has blocks_root ${published.blocks_root} with ${published.transaction_count} ` +
      `transactions, the chain it serves gives ${computed.blocks_root} with ${computed.transaction_count}`,
  };
}
