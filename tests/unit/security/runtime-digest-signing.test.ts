import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { computeDigest, toTimestamp } from '../../../lib/ledger';
import { verifySignedDigest } from '../../../lib/ledger/signed-digest';
import type { Digest } from '../../../lib/ledger/types';
import { ManualClock } from '../../../lib/ports/clock';
import { DigestSigning } from '../../../runtime/digest-signing';
import { buildChain, sampleTransactions, T0 } from '../ledger/helpers/transactions';

const chain = buildChain(sampleTransactions(30, 4), 3); // genesis + 10 blocks
const digestAt = (height: number): Digest => computeDigest(chain.slice(0, height + 1), toTimestamp(T0));

let dir: string;
let signer: LocalKeySigner;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bcs-runtime-signing-'));
  signer = await LocalKeySigner.open(join(dir, 'digest-key.pem'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('DigestSigning (the local runtime)', () => {
  it('records a signed digest only when the head moved, stamped with the signing time', async () => {
    let height = 4;
    const clock = new ManualClock(Date.UTC(2026, 10, 21, 9, 0, 0));
    const logFile = join(dir, 'signed-digests.jsonl');
    const signing = new DigestSigning({ signer, digest: async () => digestAt(height), clock, logFile });

    expect((await signing.signIfMoved())?.height).toBe(4);
    clock.advance(60_000);
    expect(await signing.signIfMoved()).toBeNull();
    height = 9;
    clock.advance(60_000);
    expect((await signing.signIfMoved())?.height).toBe(9);

    const lines = (await readFile(logFile, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.height, l.timestamp])).toEqual([
      [4, '2026-11-21T09:00:00.000Z'],
      [9, '2026-11-21T09:02:00.000Z'],
    ]);
    const pem = await signing.publicKeyPem();
    for (const line of lines) expect(verifySignedDigest(line, pem).valid).toBe(true);
  });

  it('signs on request whether or not the head moved, and writes nothing', async () => {
    const signing = new DigestSigning({
      signer,
      digest: async () => digestAt(2),
      clock: new ManualClock(T0),
    });
    const [a, b] = [await signing.sign(), await signing.sign()];
    expect([a.height, b.height]).toEqual([2, 2]);
    expect(verifySignedDigest(a, await signer.publicKeyPem())).toMatchObject({
      valid: true,
      digest: digestAt(2),
    });
  });
});
