import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { systemClock } from '../lib/ports/clock';
import { completionsHandler } from './handlers/completions';
import { expireHandler, leaseCloserHandler } from './handlers/expire';
import { readEnv, schedulerEnvSchema } from './shared/config';
import { schedulingEngine } from './shared/wiring';

// Expiry on its schedule, and the completions the API and command-status functions queue: the two
// ways a lease closes, both written by this function (they may not write the chain themselves).
const env = readEnv(schedulerEnvSchema);
const engine = schedulingEngine(env);
const logger = new Logger();
const metrics = new Metrics();

export const handler = leaseCloserHandler({
  expire: expireHandler({ engine: () => engine, limit: env.EXPIRE_BATCH_LIMIT, logger, metrics }),
  completions: completionsHandler({ engine: () => engine, logger, metrics, clock: systemClock }),
});
