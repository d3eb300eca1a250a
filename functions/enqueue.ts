import './shared/aws-call-log';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbTaskAcceptances } from '../lib/adapters/dynamodb/task-acceptances';
import { SqsTaskSender } from '../lib/adapters/sqs/task-sender';
import { systemClock } from '../lib/ports/clock';
import { enqueueHandler } from './handlers/enqueue';
import { enqueueEnvSchema, readEnv } from './shared/config';

const env = readEnv(enqueueEnvSchema);

export const handler = enqueueHandler({
  sender: new SqsTaskSender(new SQSClient({}), env.QUEUE_URL, { tasksPerMessage: env.TASKS_PER_MESSAGE }),
  acceptances: new DynamoDbTaskAcceptances({ client: new DynamoDBClient({}), tableName: env.TABLE_NAME }),
  dimensions: env.DIMENSIONS,
  clock: systemClock,
  newId: randomUUID,
});
