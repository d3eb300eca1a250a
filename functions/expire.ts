import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { expireHandler } from './handlers/expire';
import { readEnv, schedulerEnvSchema } from './shared/config';
import { schedulingEngine } from './shared/wiring';

const env = readEnv(schedulerEnvSchema);
const engine = schedulingEngine(env);

export const handler = expireHandler({
  engine: () => engine,
  limit: env.EXPIRE_BATCH_LIMIT,
  logger: new Logger(),
  metrics: new Metrics(),
});
