import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetterSender } from '../lib/adapters/sqs/dead-letter-sender';
import { schedulerHandler } from './handlers/scheduler';
import { dispatchSpecsEnvSchema, readEnv, schedulerFunctionEnvSchema } from './shared/config';
import { ledgerStore, schedulingEngine, withTaskSpecs } from './shared/wiring';

const env = readEnv(schedulerFunctionEnvSchema);
const logger = new Logger();
const metrics = new Metrics();
const store = ledgerStore(env);
const scheduling = schedulingEngine(env, store);
const engine = readEnv(dispatchSpecsEnvSchema).DISPATCH_SPECS ? withTaskSpecs(env, scheduling) : scheduling;

export const handler = schedulerHandler({
  engine: () => engine,
  dimensions: env.DIMENSIONS,
  logger,
  metrics,
  deadLetters: new SqsDeadLetterSender(new SQSClient({}), env.DEAD_LETTER_QUEUE_URL),
  maxReceiveCount: env.MAX_RECEIVE_COUNT,
  exhaustedQueueArn: env.EXHAUSTED_QUEUE_ARN,
  blocks: store,
});
