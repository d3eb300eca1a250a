import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { restApiHandler } from '../lib/adapters/apigateway/rest-adapter';
import { Ec2Drain } from '../lib/adapters/autoscaling/ec2-drain';
import { auditJobItems } from '../lib/adapters/dynamodb/audit-job-items';
import { DynamoDbTaskAcceptances } from '../lib/adapters/dynamodb/task-acceptances';
import { S3ObjectStore } from '../lib/adapters/s3';
import { SqsCompletionSender } from '../lib/adapters/sqs/completion-sender';
import { systemClock } from '../lib/ports/clock';
import { apiApp } from './handlers/api';
import { apiFunctionEnvSchema, readEnv } from './shared/config';
import { fleetSource, ledgerStore } from './shared/wiring';

// Reads only: completions go to the completion queue, which the lease closer records.
const env = readEnv(apiFunctionEnvSchema);
const dynamodb = new DynamoDBClient({});
const store = ledgerStore(env, dynamodb, { readOnly: true });
// Its own fleet source: GET /fleet drops its cache after a drain.
const drain = new Ec2Drain(new EC2Client({}));
const fleet = { source: fleetSource(env), drain: (id: string) => drain.drain(id) };

export const handler = restApiHandler(
  apiApp({
    store: () => store,
    completions: new SqsCompletionSender(new SQSClient({}), env.COMPLETION_QUEUE_URL, systemClock),
    acceptances: new DynamoDbTaskAcceptances({ client: dynamodb, tableName: env.TABLE_NAME }),
    dimensions: env.DIMENSIONS,
    logger: new Logger(),
    fleet,
    authMode: env.AUTH_MODE,
    audits: auditJobItems(dynamodb, env.TABLE_NAME),
    ...(process.env.LOG_BUCKET ? { log: new S3ObjectStore(new S3Client({}), process.env.LOG_BUCKET) } : {}),
  }),
);
