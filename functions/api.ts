import { Logger } from '@aws-lambda-powertools/logger';
import { apiApp } from './handlers/api';
import { readEnv, schedulerEnvSchema } from './shared/config';
import { restApiHandler } from './shared/rest-adapter';
import { ledgerStore, schedulingEngine } from './shared/wiring';

// Completion appends a transaction through the engine, so this function takes the scheduler's settings.
const env = readEnv(schedulerEnvSchema);
const store = ledgerStore(env);
const engine = schedulingEngine(env, store);

export const handler = restApiHandler(
  apiApp({ store: () => store, engine: () => engine, dimensions: env.DIMENSIONS, logger: new Logger() }),
);
