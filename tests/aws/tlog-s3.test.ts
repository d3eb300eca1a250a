import { CreateKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishLogHandler } from '../../functions/handlers/publish-log';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb';
import { KmsDigestSigner, kmsEd25519NoteSigner } from '../../lib/adapters/kms';
import { S3ObjectStore } from '../../lib/adapters/s3';
import { Checkpointer } from '../../lib/engine/checkpointer';
import { SchedulingEngine } from '../../lib/engine/engine';
import { LedgerReader } from '../../lib/engine/ledger-reader';
import type { PublishResult } from '../../lib/engine/tlog-publisher';
import { storeConsistency } from '../../lib/engine/tlog-tiles';
import { ecdsaNoteSigner, ecdsaVerifierKeyOf } from '../../lib/ledger/checkpoint';
import { openNote, parseVerifierKey, signNote } from '../../lib/ledger/signed-note';
import { ManualClock } from '../../lib/ports/clock';
import { buildTlogClients, run, TLOG_BIN } from '../local/helpers/tlog';
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
import { uniqueName } from './helpers/names';

/**
 * The AWS side of the transparency log on the emulator: the publish-log handler (functions/handlers/
 * publish-log.ts) with its real adapters (DynamoDB ledger table, KMS ECC_NIST_P256 key, S3 bucket)
 * writes tiles and the signed checkpoint to a versioned bucket with Block Public Access on; the Go
 * client (tests/tlog, published modules only) then verifies the log from the bucket alone: signature,
 * tiles, inclusion of random blocks, and consistency across a second publication. A full tile is
 * written once: the bucket keeps a single version of it however often the log is published.
 */

const ORIGIN = 'example.test/bcs-on-aws';
const kms = new KMSClient(emulatorConfig());
const s3 = new S3Client({ ...emulatorConfig(), forcePathStyle: true });
const dynamodb = dynamoDbClient();
const clock = new ManualClock(T0);
let keyId: string;
let bucket: string;
let tableName: string;
let drop: () => Promise<void>;
let store: DynamoDbLedgerStore;
let engine: SchedulingEngine;
let vkey: string;
let checkpointer: Checkpointer;

beforeAll(async () => {
  const built = await buildTlogClients();
  expect(built.code, built.stderr).toBe(0);
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'bcs tlog test' }),
  );
  keyId = KeyMetadata!.Arn!;
  bucket = uniqueName('tlog').toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  ({ tableName, drop } = await createLedgerTable(dynamodb));
  store = new DynamoDbLedgerStore({ client: dynamodb, tableName });
  engine = new SchedulingEngine({
    store,
    fleet: new StaticFleet([vm('vm-a', { cpu: 10_000, mem: 10_000, io: 100, bw: 100 })]),
    clock,
    algorithm: 'best-fit',
    dimensions: ['cpu', 'mem', 'io', 'bw'],
    blockSize: 1,
    sleep: async () => {},
  });
  const signer = new KmsDigestSigner(kms, keyId);
  vkey = await ecdsaVerifierKeyOf(ORIGIN, signer);
  const reader = new LedgerReader(store);
  checkpointer = new Checkpointer({
    origin: ORIGIN,
    signers: [await ecdsaNoteSigner(ORIGIN, signer)],
    digest: () => reader.digest(),
    consistency: storeConsistency(store),
    now: () => clock.now(),
    log: () => {},
  });
}, 25 * 60_000);

afterAll(async () => {
  await store?.close();
  await drop?.();
  if (keyId) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
  kms.destroy();
  s3.destroy();
  dynamodb.destroy();
});

/** `count` tasks too big for the VM: each rejected in a block of its own. */
async function reject(prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
      task(`${prefix}-${i + j}`, { cpu: 999_999, mem: 1, io: 0, bw: 0 }),
    );
    await engine.schedule(batch);
  }
}

function publish() {
  return publishLogHandler({
    store: () => store,
    started: async () => true,
    checkpointer: () => checkpointer,
    objects: new S3ObjectStore(s3, bucket),
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
  })() as Promise<PublishResult>;
}

function verifyFromBucket(...extra: string[]) {
  const base = `${emulatorConfig().endpoint}/${bucket}/`;
  return run(`${TLOG_BIN}/tlogcheck`, ['verify', '-url', base, '-vkey', vkey, ...extra]);
}

describe('the transparency log published to S3 (emulator)', { timeout: 600_000 }, () => {
  it('is verified from the bucket alone by the Go client, before and after more scheduling', async () => {
    await reject('a', 270);
    const first = await publish();
    expect(first).toMatchObject({ previous_size: 0, tree_size: 271 });
    const saved = `${process.env.TMPDIR ?? '/tmp'}/${bucket}-checkpoint`;
    const read = await verifyFromBucket('-samples', '8', '-save', saved);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ origin: ORIGIN, tree_size: 271 });

    // Nothing new: nothing written.
    expect(await publish()).toMatchObject({ tree_size: 271, tiles_written: 0 });

    await reject('b', 30);
    const second = await publish();
    expect(second).toMatchObject({ previous_size: 271, tree_size: 301 });
    const later = await verifyFromBucket('-samples', '8', '-old', saved);
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ tree_size: 301, consistency_from: 271 });

    // The full tile was written once, though the log was published three times.
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'tile/0/000' }));
    expect((versions.Versions ?? []).filter((v) => v.Key === 'tile/0/000')).toHaveLength(1);
    // The checkpoint was (a version per publication that had something new).
    const checkpoints = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'checkpoint' }),
    );
    expect((checkpoints.Versions ?? []).filter((v) => v.Key === 'checkpoint')).toHaveLength(2);
  });
});

describe('the Ed25519 checkpoint key on KMS (emulator)', () => {
  it('signs a checkpoint that verifies with its verifier key (type 0x01), as witnesses check it', async () => {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_EDWARDS25519',
        KeyUsage: 'SIGN_VERIFY',
        Description: 'bcs tlog ed25519',
      }),
    );
    try {
      const { signer, verifierKey } = await kmsEd25519NoteSigner(kms, KeyMetadata!.Arn!, ORIGIN);
      expect(verifierKey.startsWith(`${ORIGIN}+`)).toBe(true);
      const note = await signNote(`${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`, [signer]);
      expect(openNote(note, [parseVerifierKey(verifierKey)]).verified).toHaveLength(1);
      expect(() => openNote(note.replace('\n0\n', '\n1\n'), [parseVerifierKey(verifierKey)])).toThrow(
        /does not verify/,
      );
    } finally {
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: KeyMetadata!.KeyId!, PendingWindowInDays: 7 }));
    }
  });
});
