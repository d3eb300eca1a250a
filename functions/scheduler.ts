import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { schedulerHandler } from './handlers/scheduler';
import { readEnv, schedulerEnvSchema } from './shared/config';
import { schedulingEngine } from './shared/wiring';

const env = readEnv(schedulerEnvSchema);
const logger = new Logger();
const metrics = new Metrics();
const engine = schedulingEngine(env);

export const handler = schedulerHandler({
  engine: () => engine,
  dimensions: env.DIMENSIONS,
  logger,
  metrics,
});
