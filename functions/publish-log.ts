import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { KmsDigestSigner, kmsEd25519NoteSigner } from '../lib/adapters/kms';
import { S3ObjectStore } from '../lib/adapters/s3';
import { HttpWitnessClient } from '../lib/adapters/witness';
import { Checkpointer, parseWitnesses } from '../lib/engine/checkpointer';
import { LedgerReader } from '../lib/engine/ledger-reader';
import { storeConsistency } from '../lib/engine/tlog-tiles';
import { defaultOrigin, ecdsaNoteSigner } from '../lib/ledger/checkpoint';
import { publishLogHandler } from './handlers/publish-log';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStarted, ledgerStore } from './shared/wiring';

const env = readEnv(
  tableEnvSchema.extend({
    /** The digest key (ECC_NIST_P256): signs checkpoints with the note signature type 0x02. */
    DIGEST_KEY_ID: z.string().min(1),
    LOG_BUCKET: z.string().min(1),
    /** The checkpoint origin; default bcs-ledger/<digest key fingerprint>. */
    CHECKPOINT_ORIGIN: z.string().min(1).optional(),
    /** JSON [{"url", "key"}]: witnesses (C2SP tlog-witness) the checkpoints are submitted to. */
    WITNESSES: z
      .string()
      .default('[]')
      .transform((s, ctx) => {
        try {
          return z.array(z.object({ url: z.url(), key: z.string().min(1) })).parse(JSON.parse(s));
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `not a JSON list of {url, key}: ${(error as Error).message}`,
          });
          return z.NEVER;
        }
      }),
    /** An ECC_NIST_EDWARDS25519 key: the Ed25519 note signature witnesses verify; required with WITNESSES. */
    WITNESS_KEY_ID: z.string().min(1).optional(),
  }),
);
const dynamodb = new DynamoDBClient({});
const kms = new KMSClient({});
const store = ledgerStore(env, dynamodb);
const reader = new LedgerReader(store);
const witnesses = parseWitnesses(env.WITNESSES);

// One checkpointer per container: it remembers the sizes the witnesses cosigned (a cold start learns
// them again from their 409 answers).
let checkpointer: Promise<Checkpointer> | undefined;
async function makeCheckpointer(): Promise<Checkpointer> {
  const digestSigner = new KmsDigestSigner(kms, env.DIGEST_KEY_ID);
  const origin = env.CHECKPOINT_ORIGIN ?? defaultOrigin(await digestSigner.keyId());
  const signers = [await ecdsaNoteSigner(origin, digestSigner)];
  if (env.WITNESS_KEY_ID) signers.push((await kmsEd25519NoteSigner(kms, env.WITNESS_KEY_ID, origin)).signer);
  const logger = new Logger();
  return new Checkpointer({
    origin,
    signers,
    digest: () => reader.digest(),
    consistency: storeConsistency(store),
    witnesses,
    witnessClient: new HttpWitnessClient(),
    now: () => Date.now(),
    log: (message) => logger.warn(message),
  });
}

export const handler = publishLogHandler({
  store: () => store,
  started: ledgerStarted(env, dynamodb),
  checkpointer: () => {
    checkpointer ??= makeCheckpointer().catch((error) => {
      checkpointer = undefined;
      throw error;
    });
    return checkpointer;
  },
  objects: new S3ObjectStore(new S3Client({}), env.LOG_BUCKET),
  logger: new Logger(),
  metrics: new Metrics(),
});
