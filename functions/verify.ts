import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import * as z from 'zod';
import { auditCheckpointItem } from '../lib/adapters/dynamodb';
import { signedDigestTable } from '../lib/adapters/dynamodb/signed-digest-table';
import { KmsDigestSigner } from '../lib/adapters/kms';
import { systemClock } from '../lib/ports/clock';
import { verifyHandler } from './handlers/verify';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStarted, ledgerStore } from './shared/wiring';

const env = readEnv(
  tableEnvSchema.extend({
    /** The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs head digests; unset, nothing is signed. */
    DIGEST_KEY_ID: z.string().min(1).optional(),
  }),
);
const dynamodb = new DynamoDBClient({});
const store = ledgerStore(env, dynamodb);

export const handler = verifyHandler({
  store: () => store,
  started: ledgerStarted(env, dynamodb),
  logger: new Logger(),
  metrics: new Metrics(),
  checkpoints: auditCheckpointItem(dynamodb, env.TABLE_NAME),
  ...(env.DIGEST_KEY_ID
    ? {
        signing: {
          signer: new KmsDigestSigner(new KMSClient({}), env.DIGEST_KEY_ID),
          digests: signedDigestTable(dynamodb, env.TABLE_NAME),
          clock: systemClock,
        },
      }
    : {}),
});
