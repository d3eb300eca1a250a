import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDbDispatchRecords } from '../lib/adapters/dynamodb/dispatch-records';
import { EventBridgePublisher } from '../lib/adapters/eventbridge/eventbridge-publisher';
import { SqsUndeliveredCommands } from '../lib/adapters/sqs/undelivered-commands';
import { SsmCommandRunner } from '../lib/adapters/ssm/ssm-command-runner';
import { Dispatcher } from '../lib/dispatch/dispatcher';
import { systemClock } from '../lib/ports/clock';
import { dispatchHandler } from './handlers/dispatch';
import { dispatchEnvSchema, readEnv } from './shared/config';
import { ledgerStore } from './shared/wiring';

/**
 * A refused send is retried after 2 s and 8 s (an instance that just launched may not have registered
 * with SSM yet), then dead-lettered with its whole assignment.
 */
const SEND_RETRY_DELAYS_MS = [2_000, 8_000];

const env = readEnv(dispatchEnvSchema);
function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} must be set when DISPATCH_VIA_SSM is true`);
  return value;
}
const dynamodb = new DynamoDBClient({});
const dispatcher = new Dispatcher({
  tasks: ledgerStore(env, dynamodb),
  records: new DynamoDbDispatchRecords({ client: dynamodb, tableName: env.TABLE_NAME }),
  publisher: new EventBridgePublisher({
    client: new EventBridgeClient({}),
    eventBusName: env.EVENT_BUS_NAME,
  }),
  ...(env.DISPATCH_VIA_SSM
    ? {
        commands: new SsmCommandRunner({
          client: new SSMClient({}),
          documentName: required(env.COMMAND_DOCUMENT_NAME, 'COMMAND_DOCUMENT_NAME'),
        }),
        templates: required(env.COMMAND_TEMPLATES, 'COMMAND_TEMPLATES'),
      }
    : {}),
  retryDelaysMs: SEND_RETRY_DELAYS_MS,
  ...(env.UNDELIVERED_COMMANDS_QUEUE_URL
    ? { undelivered: new SqsUndeliveredCommands(new SQSClient({}), env.UNDELIVERED_COMMANDS_QUEUE_URL) }
    : {}),
  clock: systemClock,
});

export const handler = dispatchHandler({
  dispatcher: () => dispatcher,
  logger: new Logger(),
  metrics: new Metrics(),
});
