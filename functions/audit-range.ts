import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { auditJobItems } from '../lib/adapters/dynamodb/audit-job-items';
import { auditRangeHandler } from './handlers/full-audit';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStore } from './shared/wiring';

const env = readEnv(tableEnvSchema);
const dynamodb = new DynamoDBClient({});
const store = ledgerStore(env, dynamodb);

export const handler = auditRangeHandler({
  store: () => store,
  jobs: auditJobItems(dynamodb, env.TABLE_NAME),
  logger: new Logger(),
});
