import './shared/aws-call-log';
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../lib/ports/clock';
import { enqueueHandler } from './handlers/enqueue';
import { enqueueEnvSchema, readEnv } from './shared/config';
import { SqsTaskSender } from './shared/sqs-task-sender';

const env = readEnv(enqueueEnvSchema);

export const handler = enqueueHandler({
  sender: new SqsTaskSender(new SQSClient({}), env.QUEUE_URL, { tasksPerMessage: env.TASKS_PER_MESSAGE }),
  dimensions: env.DIMENSIONS,
  clock: systemClock,
  newId: randomUUID,
});
