import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import * as z from 'zod';
import { auditCheckpointItem } from '../lib/adapters/dynamodb';
import { auditJobItems } from '../lib/adapters/dynamodb/audit-job-items';
import { signedDigestTable } from '../lib/adapters/dynamodb/signed-digest-table';
import { KmsDigestSigner } from '../lib/adapters/kms';
import { systemClock } from '../lib/ports/clock';
import { auditMergeHandler } from './handlers/full-audit';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStore } from './shared/wiring';

const env = readEnv(
  tableEnvSchema.extend({
    /** The verify function's signing key: a valid full audit signs its head with it. Unset, nothing is signed. */
    DIGEST_KEY_ID: z.string().min(1).optional(),
  }),
);
const dynamodb = new DynamoDBClient({});
const store = ledgerStore(env, dynamodb);

export const handler = auditMergeHandler({
  store: () => store,
  jobs: auditJobItems(dynamodb, env.TABLE_NAME),
  logger: new Logger(),
  clock: systemClock,
  checkpoints: auditCheckpointItem(dynamodb, env.TABLE_NAME),
  ...(env.DIGEST_KEY_ID
    ? {
        signing: {
          signer: new KmsDigestSigner(new KMSClient({}), env.DIGEST_KEY_ID),
          digests: signedDigestTable(dynamodb, env.TABLE_NAME),
        },
      }
    : {}),
});
