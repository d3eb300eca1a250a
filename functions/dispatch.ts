import './shared/aws-call-log';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDbDispatchRecords } from '../lib/adapters/dynamodb/dispatch-records';
import { EventBridgePublisher } from '../lib/adapters/eventbridge/eventbridge-publisher';
import { SqsAgentFeed } from '../lib/adapters/sqs/agent-feed';
import { SqsUndeliveredCommands } from '../lib/adapters/sqs/undelivered-commands';
import { SsmCommandRunner } from '../lib/adapters/ssm/ssm-command-runner';
import { Dispatcher } from '../lib/dispatch/dispatcher';
import { publishToAll } from '../lib/dispatch/publishers';
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
// One instance, one way to run its commands: the stack refuses both at synth (cdk/lib/props.ts).
if (env.AGENT_QUEUE_PREFIX && env.DISPATCH_VIA_SSM) {
  throw new Error('AGENT_QUEUE_PREFIX and DISPATCH_VIA_SSM are exclusive: agents or SSM run the commands');
}
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
const bus = new EventBridgePublisher({ client: new EventBridgeClient({}), eventBusName: env.EVENT_BUS_NAME });
const dispatcher = new Dispatcher({
  tasks: ledgerStore(env, dynamodb),
  records: new DynamoDbDispatchRecords({ client: dynamodb, tableName: env.TABLE_NAME }),
  // With agents (docs/agent.md "On AWS"), each assignment also goes to its instance's queue.
  publisher: env.AGENT_QUEUE_PREFIX
    ? publishToAll([bus, new SqsAgentFeed({ client: sqs, queuePrefix: env.AGENT_QUEUE_PREFIX })])
    : bus,
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
    ? { undelivered: new SqsUndeliveredCommands(sqs, env.UNDELIVERED_COMMANDS_QUEUE_URL) }
    : {}),
  clock: systemClock,
});

export const handler = dispatchHandler({
  dispatcher: () => dispatcher,
  logger: new Logger(),
  metrics: new Metrics(),
});
