import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../errors';
import type { ChainVerification } from '../ledger/chain-verifier';
import { exportJsonl } from '../ledger/jsonl';
import { verifyJsonlFileParallel } from '../ledger/parallel-verify';
import type { ChainHead, Digest } from '../ledger/types';
import { verifyChain } from '../ledger/verify';
import type { LedgerStore } from '../ports/ledger-store';
import { verifiableBlocks } from './verifiable-blocks';

/**
 * A store's chain 0..head verified on worker threads (lib/ledger/parallel-verify.ts): the blocks are
 * written as a JSON Lines snapshot to a temporary file, which the parallel verifier cuts into one slice
 * per thread, and held to `head` and `trusted`. Reading the store and writing the snapshot is one
 * sequential pass on the calling thread; the hashing, the expensive part, is spread over the threads.
 * A stored block that cannot be parsed ends the snapshot: the sequential verifier then names it.
 */
export async function verifyStoreInParallel(
  store: LedgerStore,
  head: ChainHead,
  options: { trusted?: Digest | null; workers?: number } = {},
): Promise<ChainVerification> {
  const verifyOptions = {
    expectedHead: head,
    ...(options.trusted ? { trustedDigest: options.trusted } : {}),
  };
  const dir = await mkdtemp(join(tmpdir(), 'bcs-audit-'));
  try {
    const path = join(dir, 'chain.jsonl');
    try {
      await writeSnapshot(store, head.height, path);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return verifyChain(verifiableBlocks(store, head.height), verifyOptions);
    }
    return await verifyJsonlFileParallel(path, {
      ...verifyOptions,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeSnapshot(store: LedgerStore, height: number, path: string): Promise<void> {
  const out = createWriteStream(path);
  try {
    for await (const line of exportJsonl(verifiableBlocks(store, height))) {
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}
