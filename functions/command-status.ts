import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDispatchRecords } from '../lib/adapters/dynamodb/dispatch-records';
import { commandStatusHandler } from './handlers/command-status';
import { readEnv, schedulerEnvSchema } from './shared/config';
import { ledgerStore, schedulingEngine } from './shared/wiring';

// Completion appends a transaction through the engine, so this function takes the scheduler's settings.
const env = readEnv(schedulerEnvSchema);
const dynamodb = new DynamoDBClient({});
const engine = schedulingEngine(env, ledgerStore(env, dynamodb));

export const handler = commandStatusHandler({
  engine: () => engine,
  records: new DynamoDbDispatchRecords({ client: dynamodb, tableName: env.TABLE_NAME }),
  logger: new Logger(),
  metrics: new Metrics(),
});
