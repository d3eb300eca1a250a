import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { auditCheckpointItem } from '../lib/adapters/dynamodb';
import { auditJobItems } from '../lib/adapters/dynamodb/audit-job-items';
import { signedDigestTable } from '../lib/adapters/dynamodb/signed-digest-table';
import { KmsDigestSigner } from '../lib/adapters/kms';
import { stepFunctionsAuditRunner } from '../lib/adapters/sfn';
import { systemClock } from '../lib/ports/clock';
import { verifyHandler } from './handlers/verify';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStarted, ledgerStore } from './shared/wiring';

const env = readEnv(
  tableEnvSchema.extend({
    /** The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs head digests; unset, nothing is signed. */
    DIGEST_KEY_ID: z.string().min(1).optional(),
    /** The full-audit state machine (POST /ledger/verify {"full": true}); unset, full audits are refused. */
    AUDIT_STATE_MACHINE_ARN: z.string().min(1).optional(),
    /** Blocks per range of a full audit (one range function invocation each). */
    AUDIT_BLOCKS_PER_RANGE: z.coerce.number().int().min(1).default(20_000),
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
  ...(env.AUDIT_STATE_MACHINE_ARN
    ? {
        fullAudit: {
          jobs: auditJobItems(dynamodb, env.TABLE_NAME),
          runner: stepFunctionsAuditRunner(new SFNClient({}), env.AUDIT_STATE_MACHINE_ARN),
          blocksPerRange: env.AUDIT_BLOCKS_PER_RANGE,
          clock: systemClock,
        },
      }
    : {}),
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
