import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScheduledVerification, verifyHandler } from '../../../functions/handlers/verify';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import {
  digestOf,
  type SignedDigest,
  signDigest,
  verifySignedDigest,
} from '../../../lib/ledger/signed-digest';
import { ManualClock } from '../../../lib/ports/clock';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import type { SignedDigestLog } from '../../../lib/ports/signed-digest-log';
import { apiEvent, scheduledEvent } from './helpers/events';
import { ledger, RecordingLogger, RecordingMetrics, T0, task, vm } from './helpers/fixtures';

class MemoryDigestLog implements SignedDigestLog {
  published: SignedDigest[] = [];
  forged: unknown = null;
  async latest() {
    return (this.forged as SignedDigest | null) ?? this.published.at(-1) ?? null;
  }
  async publish(signed: SignedDigest) {
    this.published.push(signed);
  }
}

let dir: string;
let signer: LocalKeySigner;
let otherSigner: LocalKeySigner;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bcs-verify-signing-'));
  signer = await LocalKeySigner.open(join(dir, 'key.pem'));
  otherSigner = await LocalKeySigner.open(join(dir, 'other.pem'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function chainOf(taskIds: string[]): Promise<LedgerStore> {
  const { store, engine } = ledger([vm('vm-a', { cpu: 10_000, mem: 10_000, io: 100, bw: 100 })]);
  for (const id of taskIds) await engine.schedule([task(id, { cpu: 10, mem: 1, io: 0, bw: 0 })]);
  return store;
}

function handlerOn(store: LedgerStore, digests: SignedDigestLog, clock = new ManualClock(T0 + 60_000)) {
  const logger = new RecordingLogger();
  const handler = verifyHandler({
    store: () => store,
    started: async () => true,
    logger,
    metrics: new RecordingMetrics(),
    signing: { signer, digests, clock },
  });
  return { handler, logger };
}

describe('verify: signed digests', () => {
  it('a scheduled run signs the verified head digest, stamped with the signing time, and publishes it', async () => {
    const store = await chainOf(['a', 'b', 'c']);
    const digests = new MemoryDigestLog();
    const { handler, logger } = handlerOn(store, digests, new ManualClock(Date.UTC(2026, 10, 21, 7, 0, 0)));
    const result = (await handler(scheduledEvent())) as ScheduledVerification;
    const head = await store.readHead();

    expect(result.valid).toBe(true);
    expect(digests.published).toEqual([result.signed_digest]);
    const check = verifySignedDigest(result.signed_digest, await signer.publicKeyPem());
    expect(check).toMatchObject({
      valid: true,
      key_id: await signer.keyId(),
      digest: { height: head.height, head_hash: head.hash, timestamp: '2026-11-21T07:00:00.000Z' },
    });
    expect(logger.at('info').find((e) => e.message === 'digest signed')?.extra[0]).toMatchObject({
      height: head.height,
      key_id: await signer.keyId(),
    });
  });

  it('POST /ledger/verify signs nothing', async () => {
    const digests = new MemoryDigestLog();
    const { handler } = handlerOn(await chainOf(['a']), digests);
    const res = (await handler(apiEvent('POST', '/ledger/verify'))) as APIGatewayProxyResult;
    expect(JSON.parse(res.body)).toMatchObject({ valid: true });
    expect(JSON.parse(res.body)).not.toHaveProperty('signed_digest');
    expect(digests.published).toEqual([]);
  });

  it('a chain that fails verification is not signed', async () => {
    const store = await chainOf(['a', 'b']);
    const broken = Object.assign(Object.create(store), {
      getBlocks: async (from: number, limit: number) =>
        (await store.getBlocks(from, limit)).map((b) =>
          b.height === 1 ? { ...b, timestamp: '2020-01-01T00:00:00.000Z' } : b,
        ),
    });
    const digests = new MemoryDigestLog();
    const result = (await handlerOn(broken, digests).handler(scheduledEvent())) as ScheduledVerification;
    expect(result).toMatchObject({ valid: false, first_bad_height: 1 });
    expect(result.signed_digest).toBeUndefined();
    expect(digests.published).toEqual([]);
  });

  it.each([
    ['rewritten: same length, other transactions, every hash recomputed', ['x', 'y', 'z']],
    ['rolled back: a valid but shorter chain', ['a']],
  ])(
    'after a digest was signed, a chain %s is reported (scheduled and on request)',
    async (_name, replacement) => {
      const digests = new MemoryDigestLog();
      await handlerOn(await chainOf(['a', 'b', 'c']), digests).handler(scheduledEvent());
      const signedHeight = digests.published[0]!.height;

      const { handler } = handlerOn(await chainOf(replacement), digests);
      const scheduled = (await handler(scheduledEvent())) as ScheduledVerification;
      expect(scheduled).toMatchObject({ valid: false, problem: 'digest-mismatch' });
      expect(scheduled.signed_digest).toBeUndefined();
      const requested = (await handler(apiEvent('POST', '/ledger/verify'))) as APIGatewayProxyResult;
      expect(JSON.parse(requested.body)).toMatchObject({ valid: false, problem: 'digest-mismatch' });
      expect(JSON.parse(requested.body).detail).toContain(String(signedHeight));
      expect(digests.published).toHaveLength(1);
    },
  );

  it('a chain that grew past the signed digest verifies and gets a new signed digest', async () => {
    const digests = new MemoryDigestLog();
    const store = await chainOf(['a', 'b']);
    await handlerOn(store, digests).handler(scheduledEvent());
    const grown = await chainOf(['a', 'b', 'c', 'd']);
    const result = (await handlerOn(grown, digests).handler(scheduledEvent())) as ScheduledVerification;
    expect(result.valid).toBe(true);
    expect(digests.published.map((d) => d.height)).toEqual([
      (await store.readHead()).height,
      (await grown.readHead()).height,
    ]);
  });

  it.each([
    ['signed by another key', async (d: SignedDigest) => signDigest(digestOf(d), otherSigner)],
    [
      'altered after signing',
      async (d: SignedDigest) => ({ ...d, height: d.height + 5, tree_size: d.tree_size + 5 }),
    ],
    ['not a digest at all', async () => ({ pk: 'DIGEST#LATEST', signed_digest: 42 })],
  ])('a latest digest %s is reported, not trusted', async (_name, forge) => {
    const digests = new MemoryDigestLog();
    const store = await chainOf(['a', 'b']);
    await handlerOn(store, digests).handler(scheduledEvent());
    digests.forged = await forge(digests.published[0]!);
    const result = (await handlerOn(store, digests).handler(scheduledEvent())) as ScheduledVerification;
    expect(result).toMatchObject({ valid: false, problem: 'digest-mismatch' });
    expect(result.detail).toContain('not genuine');
    expect(digests.published).toHaveLength(1);
  });
});
