import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { ValidationError } from '../../../lib/errors';
import { computeDigest, toTimestamp } from '../../../lib/ledger';
import {
  digestOf,
  lowS,
  type SignedDigest,
  signDigest,
  signedDigestStatement,
  verifySignedDigest,
} from '../../../lib/ledger/signed-digest';
import type { Digest } from '../../../lib/ledger/types';
import { buildChain, sampleTransactions, T0 } from './helpers/transactions';

const chain = buildChain(sampleTransactions(20, 5), 4);
const digest: Digest = computeDigest(chain, toTimestamp(T0));

let dir: string;
let signer: LocalKeySigner;
let signed: SignedDigest;
let publicKey: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bcs-signed-digest-'));
  signer = await LocalKeySigner.open(join(dir, 'key.pem'));
  publicKey = await signer.publicKeyPem();
  signed = await signDigest(digest, signer);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('signedDigestStatement', () => {
  it('is the RFC 8785 text of every member but the signature: keys sorted, no spaces', () => {
    const statement = {
      height: 2,
      head_hash: 'b'.repeat(64),
      tree_size: 3,
      blocks_root: 'a'.repeat(64),
      transaction_count: 7,
      timestamp: '2026-11-21T05:28:25.123Z',
      format: 'bcs-signed-digest/1',
      key_id: 'arn:aws:kms:us-east-1:111122223333:key/k-1',
      signing_algorithm: 'ECDSA_SHA_256',
    } as const;
    const expected =
      `{"blocks_root":"${'a'.repeat(64)}","format":"bcs-signed-digest/1",` +
      `"head_hash":"${'b'.repeat(64)}","height":2,` +
      '"key_id":"arn:aws:kms:us-east-1:111122223333:key/k-1","signing_algorithm":"ECDSA_SHA_256",' +
      '"timestamp":"2026-11-21T05:28:25.123Z","transaction_count":7,"tree_size":3}';
    expect(new TextDecoder().decode(signedDigestStatement(statement))).toBe(expected);
    expect(signedDigestStatement({ ...statement, signature: 'AAAA' } as SignedDigest)).toEqual(
      signedDigestStatement(statement),
    );
  });
});

describe('signDigest / verifySignedDigest', () => {
  it('signs the digest under the key id, and the signature checks with the public key alone', async () => {
    expect(signed).toMatchObject({ ...digest, key_id: await signer.keyId(), format: 'bcs-signed-digest/2' });
    expect(verifySignedDigest(signed, publicKey)).toEqual({
      valid: true,
      digest,
      key_id: await signer.keyId(),
      key_bound: true,
    });
    expect(digestOf(signed)).toEqual(digest);
    // Independently of verifySignedDigest: node:crypto over the documented statement bytes.
    expect(
      verify('sha256', signedDigestStatement(signed), publicKey, Buffer.from(signed.signature, 'base64')),
    ).toBe(true);
  });

  it('survives a JSON round trip (what a file holds)', () => {
    expect(verifySignedDigest(JSON.parse(JSON.stringify(signed)), publicKey).valid).toBe(true);
  });

  const mutations: [string, (s: SignedDigest) => SignedDigest][] = [
    ['height and tree_size', (s) => ({ ...s, height: s.height - 1, tree_size: s.tree_size - 1 })],
    ['head_hash', (s) => ({ ...s, head_hash: chain[chain.length - 2]!.block_hash })],
    [
      'blocks_root',
      (s) => ({
        ...s,
        blocks_root: `${s.blocks_root.slice(0, 63)}${s.blocks_root.endsWith('0') ? '1' : '0'}`,
      }),
    ],
    ['transaction_count', (s) => ({ ...s, transaction_count: s.transaction_count + 1 })],
    ['timestamp', (s) => ({ ...s, timestamp: '2030-01-01T00:00:00.000Z' })],
  ];

  it.each(mutations)('a changed %s fails the signature', (_field, mutate) => {
    const check = verifySignedDigest(mutate(signed), publicKey);
    expect(check).toEqual({
      valid: false,
      problem: 'bad-signature',
      reason: expect.stringContaining('does not verify'),
    });
  });

  it('a key_id that does not name the public key is key-id-mismatch, before the signature', async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    expect(verifySignedDigest({ ...signed, key_id: other }, publicKey)).toEqual({
      valid: false,
      problem: 'key-id-mismatch',
      reason: expect.stringContaining(await signer.keyId()),
    });
  });

  it('signs low-S only, and refuses the high-S twin of a valid signature', async () => {
    const n = p256.Point.CURVE().n;
    // Many signatures: ECDSA's s is uniform, so about half come out of the key high-S before signDigest.
    for (let i = 0; i < 32; i++) {
      const again = await signDigest({ ...digest, transaction_count: digest.transaction_count }, signer);
      const sig = p256.Signature.fromBytes(Buffer.from(again.signature, 'base64'), 'der');
      expect(sig.hasHighS()).toBe(false);
      const twin = new p256.Signature(sig.r, n - sig.s).toBytes('der');
      // The twin is a valid ECDSA signature (node:crypto accepts it) that the format refuses.
      expect(verify('sha256', signedDigestStatement(again), publicKey, twin)).toBe(true);
      expect(
        verifySignedDigest({ ...again, signature: Buffer.from(twin).toString('base64') }, publicKey),
      ).toMatchObject({
        valid: false,
        problem: 'high-s-signature',
      });
    }
  });

  it('lowS normalises a high-S DER signature and keeps a low one', () => {
    const sig = p256.Signature.fromBytes(Buffer.from(signed.signature, 'base64'), 'der');
    const high = new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s).toBytes('der');
    expect(Buffer.from(lowS(high)).toString('base64')).toBe(signed.signature);
    expect(Buffer.from(lowS(Buffer.from(signed.signature, 'base64'))).toString('base64')).toBe(
      signed.signature,
    );
    expect(() => lowS(new Uint8Array([0x30, 0x00]))).toThrow(ValidationError);
  });

  it('a flipped bit in the signature fails', () => {
    const bytes = Buffer.from(signed.signature, 'base64');
    bytes[bytes.length - 1]! ^= 0x01;
    const check = verifySignedDigest({ ...signed, signature: bytes.toString('base64') }, publicKey);
    expect(check.valid).toBe(false);
  });

  it("another key's public key fails", () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    expect(verifySignedDigest(signed, other).valid).toBe(false);
  });

  it.each([
    ['format', { format: 'bcs-signed-digest/3' }],
    ['signing_algorithm', { signing_algorithm: 'RSASSA_PSS_SHA_256' }],
    ['signature', { signature: 'not base64!' }],
    ['key_id', { key_id: 'has space' }],
    ['tree_size', { tree_size: 99 }],
    ['extra', { extra: 1 }],
  ])('a malformed %s is reported, naming the field', (field, change) => {
    const check = verifySignedDigest({ ...signed, ...change }, publicKey);
    expect(check).toEqual({
      valid: false,
      problem: 'malformed-digest',
      reason: expect.stringContaining(field === 'extra' ? 'extra' : `${field}:`),
    });
  });

  it('refuses a public key that is not EC P-256, naming the parameter', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    for (const key of [rsa.toString(), p384, 'not a key']) {
      expect(() => verifySignedDigest(signed, key)).toThrow(ValidationError);
      expect(() => verifySignedDigest(signed, key)).toThrow(/publicKey/);
    }
  });

  it('signs nothing for a malformed digest', async () => {
    let calls = 0;
    const counting = {
      keyId: signer.keyId.bind(signer),
      publicKeyPem: signer.publicKeyPem.bind(signer),
      sign: async (m: Uint8Array) => {
        calls++;
        return signer.sign(m);
      },
    };
    await expect(signDigest({ ...digest, tree_size: 1 }, counting)).rejects.toThrow(/tree_size/);
    expect(calls).toBe(0);
  });
});
