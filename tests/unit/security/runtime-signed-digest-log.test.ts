import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { SignedDigestFile } from '../../../lib/adapters/local-key/signed-digest-file';
import { computeDigest, toTimestamp, verifyChain } from '../../../lib/ledger';
import type { Digest } from '../../../lib/ledger/types';
import { ManualClock } from '../../../lib/ports/clock';
import { DigestSigning } from '../../../runtime/digest-signing';
import { buildChain, sampleTransactions, T0 } from '../ledger/helpers/transactions';

/**
 * The local runtime's signed-digest log (signed-digests.jsonl) is read back: a full POST /ledger/verify
 * holds the chain to the latest digest the runtime signed, as the verify Lambda holds it to DIGEST#.
 */

const chain = buildChain(sampleTransactions(30, 4), 3); // genesis + 10 blocks
const digestAt = (height: number): Digest => computeDigest(chain.slice(0, height + 1), toTimestamp(T0));

let dir: string;
let signer: LocalKeySigner;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bcs-signed-digest-log-'));
  signer = await LocalKeySigner.open(join(dir, 'digest-key.pem'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the local signed-digest log', () => {
  it('gives the latest signed digest, checked against the key, and a rolled-back chain fails against it', async () => {
    const logFile = join(dir, 'rollback.jsonl');
    let height = 4;
    const clock = new ManualClock(T0);
    const signing = new DigestSigning({ signer, digest: async () => digestAt(height), clock, logFile });
    expect(await signing.trusted()).toBeNull();

    await signing.signIfMoved();
    height = 9;
    clock.advance(60_000);
    const signed = await signing.signIfMoved();
    const trusted = await signing.trusted();
    expect(trusted).toEqual({ digest: expect.objectContaining({ height: 9, head_hash: signed!.head_hash }) });
    const { digest } = trusted as { digest: Digest };

    expect((await verifyChain(chain, { trustedDigest: digest })).valid).toBe(true);
    // The chain cut back to height 6 is valid on its own, not against the digest signed at 9.
    expect((await verifyChain(chain.slice(0, 7))).valid).toBe(true);
    const rolledBack = await verifyChain(chain.slice(0, 7), { trustedDigest: digest });
    expect(rolledBack.valid).toBe(false);
  });

  it('reports a forged latest line as a finding instead of trusting it', async () => {
    const logFile = join(dir, 'forged.jsonl');
    const signing = new DigestSigning({
      signer,
      digest: async () => digestAt(5),
      clock: new ManualClock(T0),
      logFile,
    });
    const signed = await signing.signIfMoved();
    await appendFile(logFile, `${JSON.stringify({ ...signed, height: 10, head_hash: 'ab'.repeat(32) })}\n`);
    expect(await signing.trusted()).toEqual({ problem: expect.stringMatching(/height 10\) is not genuine/) });

    await appendFile(logFile, 'not json\n');
    expect(await new SignedDigestFile(logFile).latest()).toBe('not json');
    expect(await signing.trusted()).toEqual({ problem: expect.stringMatching(/not genuine/) });
  });
});
