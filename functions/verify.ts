import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { verifyHandler } from './handlers/verify';
import { readEnv, tableEnvSchema } from './shared/config';
import { ledgerStarted, ledgerStore } from './shared/wiring';

const env = readEnv(tableEnvSchema);
const store = ledgerStore(env);

export const handler = verifyHandler({
  store: () => store,
  started: ledgerStarted(env),
  logger: new Logger(),
  metrics: new Metrics(),
});
