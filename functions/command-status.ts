import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbDispatchRecords } from '../lib/adapters/dynamodb/dispatch-records';
import { SqsCompletionSender } from '../lib/adapters/sqs/completion-sender';
import { systemClock } from '../lib/ports/clock';
import { commandStatusHandler } from './handlers/command-status';
import { completionSenderEnvSchema, readEnv } from './shared/config';
import { ledgerStore } from './shared/wiring';

// Reads only: completions go to the completion queue, which the lease closer records.
const env = readEnv(completionSenderEnvSchema);
const dynamodb = new DynamoDBClient({});

export const handler = commandStatusHandler({
  tasks: ledgerStore(env, dynamodb, { readOnly: true }),
  completions: new SqsCompletionSender(new SQSClient({}), env.COMPLETION_QUEUE_URL, systemClock),
  records: new DynamoDbDispatchRecords({ client: dynamodb, tableName: env.TABLE_NAME }),
  logger: new Logger(),
  metrics: new Metrics(),
});
