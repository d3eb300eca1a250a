import { createPublicKey, verify as verifySignature } from 'node:crypto';
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScheduledVerification, verifyHandler } from '../../functions/handlers/verify';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb';
import { blockKey, HEAD_KEY, PARTITION_KEY } from '../../lib/adapters/dynamodb/keys';
import {
  LATEST_DIGEST_KEY,
  signedDigestKey,
  signedDigestTable,
} from '../../lib/adapters/dynamodb/signed-digest-table';
import { KmsDigestSigner, KmsSigningError } from '../../lib/adapters/kms';
import { SchedulingEngine } from '../../lib/engine/engine';
import {
  digestOf,
  publicKeyFingerprint,
  type SignedDigest,
  signDigest,
  verifySignedDigest,
} from '../../lib/ledger/signed-digest';
import { ManualClock } from '../../lib/ports/clock';
import { scheduledEvent } from '../unit/functions/helpers/events';
import {
  RecordingLogger,
  RecordingMetrics,
  StaticFleet,
  T0,
  task,
  vm,
} from '../unit/functions/helpers/fixtures';
import { dynamoDbClient, emulatorConfig } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';

/**
 * Signed digests on the emulator: a KMS ECC_NIST_P256 key signs through KmsDigestSigner, the verify
 * handler runs in-process against a ledger table, and what it stores as DIGEST# items checks out with
 * the public key alone. MiniStack needs Python's cryptography package for KMS asymmetric keys
 * (scripts/emulator/requirements.txt pins it); an emulator without it answers CreateKey with a 500.
 */

const kms = new KMSClient(emulatorConfig());
const dynamodb = dynamoDbClient();
const documents = DynamoDBDocumentClient.from(dynamodb);
const keysToDelete: string[] = [];
let keyArn: string;
let publicKeyPem: string;

async function createKey(spec: 'ECC_NIST_P256' | 'RSA_2048' | 'SYMMETRIC_DEFAULT'): Promise<string> {
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({
      KeySpec: spec,
      KeyUsage: spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
      Description: 'bcs signed-digest test',
    }),
  );
  keysToDelete.push(KeyMetadata!.KeyId!);
  return KeyMetadata!.Arn!;
}

beforeAll(async () => {
  try {
    keyArn = await createKey('ECC_NIST_P256');
  } catch (error) {
    throw new Error(
      `the emulator cannot create an ECC_NIST_P256 KMS key (${(error as Error).message}); MiniStack needs the cryptography package: scripts/emulator/setup.sh installs it, then restart the emulator`,
    );
  }
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
  publicKeyPem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(PublicKey!)
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PUBLIC KEY-----\n`;
}, 60_000);

afterAll(async () => {
  for (const id of keysToDelete)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));
  kms.destroy();
  dynamodb.destroy();
});

describe('KmsDigestSigner on the emulator', () => {
  it('names the key by its fingerprint (and resolves its ARN), serves its public key, and signs in DER that node:crypto checks', async () => {
    const keyId = keyArn.split('/').pop()!;
    const signer = new KmsDigestSigner(kms, keyId);
    expect(await signer.keyArn()).toBe(keyArn);
    expect(await signer.keyId()).toBe(publicKeyFingerprint(createPublicKey(publicKeyPem)));
    expect(await signer.publicKeyPem()).toBe(publicKeyPem);
    const message = new TextEncoder().encode('{"blocks_root":"00"}');
    const signature = await signer.sign(message);
    expect(signature[0]).toBe(0x30); // ASN.1 SEQUENCE: DER, not JOSE r||s
    expect(verifySignature('sha256', message, publicKeyPem, signature)).toBe(true);
    expect(verifySignature('sha256', new TextEncoder().encode('other'), publicKeyPem, signature)).toBe(false);
  });

  it.each([
    ['an RSA signing key', async () => createKey('RSA_2048'), /is RSA_2048 for SIGN_VERIFY; ECC_NIST_P256/],
    ['a symmetric key', async () => createKey('SYMMETRIC_DEFAULT'), /GetPublicKey.*UnsupportedOperation/],
    [
      'an unknown key',
      async () => 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
      /GetPublicKey.*NotFound/,
    ],
  ])('refuses %s with a KmsSigningError naming the operation', async (_name, key, message) => {
    const signer = new KmsDigestSigner(kms, await key());
    const error = await signer.sign(new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsSigningError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('the verify function signs head digests into the ledger table', () => {
  let tableName: string;
  let drop: () => Promise<void>;
  let store: DynamoDbLedgerStore;
  const clock = new ManualClock(T0);

  const handler = () =>
    verifyHandler({
      store: () => store,
      started: async () => true,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      signing: {
        signer: new KmsDigestSigner(kms, keyArn),
        digests: signedDigestTable(dynamodb, tableName),
        clock,
      },
    });
  const item = async (key: string) =>
    (
      await documents.send(
        new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }),
      )
    ).Item;

  beforeAll(async () => {
    ({ tableName, drop } = await createLedgerTable(dynamodb));
    store = new DynamoDbLedgerStore({ client: dynamodb, tableName });
    const engine = new SchedulingEngine({
      store,
      fleet: new StaticFleet([vm('vm-a', { cpu: 10_000, mem: 10_000, io: 100, bw: 100 })]),
      clock,
      algorithm: 'best-fit',
      dimensions: ['cpu', 'mem', 'io', 'bw'],
      sleep: async () => {},
    });
    for (const id of ['a', 'b', 'c', 'd'])
      await engine.schedule([task(id, { cpu: 10, mem: 1, io: 0, bw: 0 })]);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  it('stores DIGEST#<height> and DIGEST#LATEST, which verify with the KMS public key alone', async () => {
    clock.set(T0 + 60_000);
    const result = (await handler()(scheduledEvent())) as ScheduledVerification;
    const head = await store.readHead();
    expect(result).toMatchObject({ valid: true, height: head.height });
    for (const key of [signedDigestKey(head.height), LATEST_DIGEST_KEY]) {
      const stored = await item(key);
      // Format 2: the key id is the public key's fingerprint, bound to the key that verifies it.
      const fingerprint = publicKeyFingerprint(createPublicKey(publicKeyPem));
      expect(stored).toMatchObject({ height: head.height, key_id: fingerprint });
      const check = verifySignedDigest(JSON.parse(stored!.signed_digest as string), publicKeyPem);
      expect(check).toMatchObject({
        valid: true,
        key_id: fingerprint,
        digest: { height: head.height, head_hash: head.hash },
      });
    }
  });

  it('LATEST only moves up: an older digest published late does not replace it', async () => {
    const latest = JSON.parse((await item(LATEST_DIGEST_KEY))!.signed_digest as string) as SignedDigest;
    const older = await signDigest(
      {
        ...digestOf(latest),
        height: 0,
        tree_size: 1,
        head_hash: (await store.getBlock(0))!.block_hash,
        blocks_root: latest.blocks_root,
      },
      new KmsDigestSigner(kms, keyArn),
    );
    await signedDigestTable(dynamodb, tableName).publish(older);
    expect(JSON.parse((await item(LATEST_DIGEST_KEY))!.signed_digest as string)).toEqual(latest);
  });

  it('a consistent rollback (last block deleted, HEAD moved back) passes the hash checks but not the signed digest', async () => {
    const head = await store.readHead();
    const previous = (await store.getBlock(head.height - 1))!;
    const last = (await item(blockKey(head.height)))!;
    const headItem = (await item(HEAD_KEY))!;
    await documents.send(
      new DeleteCommand({ TableName: tableName, Key: { [PARTITION_KEY]: blockKey(head.height) } }),
    );
    await documents.send(
      new PutCommand({
        TableName: tableName,
        // Consistent all through: HEAD loses the stored Merkle state of the deleted block too, as a
        // table from before the tiles (the store then rebuilds that state from the blocks it has).
        Item: { ...withoutTreeHead(headItem), height: previous.height, hash: previous.block_hash },
      }),
    );
    try {
      const unsigned = verifyHandler({
        store: () => store,
        started: async () => true,
        logger: new RecordingLogger(),
        metrics: new RecordingMetrics(),
      });
      expect(await unsigned(scheduledEvent())).toMatchObject({
        valid: true,
        height: head.height - 1,
      });
      const report = (await handler()(scheduledEvent())) as ScheduledVerification;
      expect(report).toMatchObject({
        valid: false,
        problem: 'digest-mismatch',
        first_bad_height: head.height,
      });
      expect(report.signed_digest).toBeUndefined();
    } finally {
      await documents.send(new PutCommand({ TableName: tableName, Item: last }));
      await documents.send(new PutCommand({ TableName: tableName, Item: headItem }));
    }
    expect(await handler()(scheduledEvent())).toMatchObject({ valid: true });
  });

  it('a forged DIGEST#LATEST item is reported, not trusted', async () => {
    const latest = (await item(LATEST_DIGEST_KEY))!;
    const signed = JSON.parse(latest.signed_digest as string) as SignedDigest;
    const forged = { ...signed, height: signed.height + 10, tree_size: signed.tree_size + 10 };
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...latest, height: forged.height, signed_digest: JSON.stringify(forged) },
      }),
    );
    try {
      const report = (await handler()(scheduledEvent())) as ScheduledVerification;
      expect(report).toMatchObject({ valid: false, problem: 'digest-mismatch' });
      expect(report.detail).toContain('not genuine');
    } finally {
      await documents.send(new PutCommand({ TableName: tableName, Item: latest }));
    }
  });
});

/** HEAD without the tree head and counts the Merkle state keeps on it (docs/ledger-format.md 7.1). */
function withoutTreeHead(head: Record<string, unknown>): Record<string, unknown> {
  const tree = new Set(['tile_height', 'tree_size', 'frontier', 'head_timestamp']);
  return Object.fromEntries(Object.entries(head).filter(([k]) => !tree.has(k) && !k.startsWith('count_')));
}
