import { appendFileSync } from 'node:fs';
import { Client } from '@smithy/core/client';
import { PARTITION_KEY } from '../dynamodb/keys';

/**
 * Records every AWS API call this process makes as the IAM requests AWS would authorise for it
 * (action, resource ARN, DynamoDB leading keys), one JSON line per request appended to a file. The
 * aws tests turn it on for the deployed functions (BCS_AWS_CALL_LOG, tests/aws/setup/emulator.ts)
 * and then evaluate every recorded request against the function's synthesized role policy and the
 * table's resource policy with an IAM policy simulator (tests/aws/e2e/recorded-calls.ts): the
 * emulator enforces no IAM, so this is how a missing grant shows up before a real deploy.
 *
 * It is an SDK middleware (build step: DynamoDB input is already marshalled there, by the document
 * client's own middleware). The SDK has no global middleware, so installing it wraps
 * `Client.prototype.send` to add the middleware to each client's stack on its first call: the
 * functions build their clients in many places (and other engineers add more), and a client left out
 * would silently be left unchecked.
 */

export interface IamRequest {
  /** The IAM action, e.g. `dynamodb:PutItem` (a TransactWriteItems is one request per item). */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** dynamodb:LeadingKeys of an item request. */
  readonly leadingKeys?: readonly string[];
  /** Condition keys the request itself carries (e.g. aws:TagKeys, aws:RequestTag/<key> of a tagging call). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface RecordedCall extends IamRequest {
  /** AWS_LAMBDA_FUNCTION_NAME of the process that made the call. */
  readonly function: string;
  /** The SDK operation, e.g. `TransactWriteItems`. */
  readonly operation: string;
}

/** Where the call comes from: the partition, region and account for the ARNs. */
export interface CallOrigin {
  readonly region: string;
  readonly account: string;
  readonly partition?: string;
}

type AttributeValue = { S?: string };
type Key = Record<string, AttributeValue>;
type Input = Record<string, unknown>;

/** The IAM prefix of an SDK client (`context.clientName`). */
const SERVICE_PREFIX: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  SQSClient: 'sqs',
  EC2Client: 'ec2',
  CloudWatchClient: 'cloudwatch',
  KMSClient: 'kms',
  SSMClient: 'ssm',
  EventBridgeClient: 'events',
  AutoScalingClient: 'autoscaling',
  SNSClient: 'sns',
};

const leadingKey = (key: Key | undefined): string[] => {
  const value = key?.[PARTITION_KEY]?.S;
  return value === undefined ? [] : [value];
};

/** The IAM requests AWS authorises for one SDK call (its documented authorisation for the operation). */
export function iamRequestsOf(
  clientName: string,
  operation: string,
  input: Input,
  origin: CallOrigin,
): IamRequest[] {
  const service = SERVICE_PREFIX[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
  const arn = (resource: string, svc = service) =>
    `arn:${origin.partition ?? 'aws'}:${svc}:${origin.region}:${origin.account}:${resource}`;
  const table = (name: unknown, index?: unknown) =>
    String(name).startsWith('arn:')
      ? String(name)
      : arn(`table/${String(name)}${index === undefined ? '' : `/index/${String(index)}`}`);
  const one = (action: string, resource: string, leadingKeys?: string[]): IamRequest => ({
    action: `${service}:${action}`,
    resource,
    ...(leadingKeys && leadingKeys.length > 0 ? { leadingKeys } : {}),
  });

  if (service === 'dynamodb') {
    switch (operation) {
      case 'GetItem':
      case 'DeleteItem':
      case 'UpdateItem':
        return [one(operation, table(input.TableName), leadingKey(input.Key as Key))];
      case 'PutItem':
        return [one(operation, table(input.TableName), leadingKey(input.Item as Key))];
      case 'Query':
      case 'Scan':
        return [one(operation, table(input.TableName, input.IndexName))];
      case 'BatchGetItem':
        return Object.entries(input.RequestItems as Record<string, { Keys: Key[] }>).map(([name, r]) =>
          one(operation, table(name), r.Keys.flatMap(leadingKey)),
        );
      case 'BatchWriteItem':
        return Object.entries(
          input.RequestItems as Record<
            string,
            { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[]
          >,
        ).map(([name, writes]) =>
          one(
            operation,
            table(name),
            writes.flatMap((w) => leadingKey(w.PutRequest?.Item ?? w.DeleteRequest?.Key)),
          ),
        );
      case 'TransactWriteItems':
        // Authorised per item, as the item operation it performs (no TransactWriteItems action exists).
        return (input.TransactItems as Record<string, { TableName: string; Key?: Key; Item?: Key }>[]).map(
          (item) => {
            const [kind, op] = Object.entries(item)[0]!;
            const action = kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`;
            return one(action, table(op.TableName), leadingKey(op.Key ?? op.Item));
          },
        );
      case 'TransactGetItems':
        return (input.TransactItems as { Get: { TableName: string; Key: Key } }[]).map(({ Get }) =>
          one('GetItem', table(Get.TableName), leadingKey(Get.Key)),
        );
      default:
        return [one(operation, input.TableName === undefined ? '*' : table(input.TableName))];
    }
  }
  if (service === 'sqs' && typeof input.QueueUrl === 'string') {
    // https://sqs.<region>.amazonaws.com/<account>/<name>, or an emulator's <endpoint>/<account>/<name>
    const [account, name] = new URL(input.QueueUrl).pathname.split('/').filter(Boolean).slice(-2);
    const action = operation.replace(/Batch$/, '');
    return [
      one(
        action,
        `arn:${origin.partition ?? 'aws'}:sqs:${origin.region}:${account ?? origin.account}:${name}`,
      ),
    ];
  }
  if (service === 'sqs' && typeof input.QueueName === 'string') {
    // CreateQueue, GetQueueUrl: the queue named, in the caller's account.
    return [one(operation, arn(input.QueueName))];
  }
  if (service === 'kms' && typeof input.KeyId === 'string') {
    const id = input.KeyId;
    return [one(operation, id.startsWith('arn:') ? id : arn(id.startsWith('alias/') ? id : `key/${id}`))];
  }
  if (service === 'events' && operation === 'PutEvents') {
    const buses = new Set(
      (input.Entries as { EventBusName?: string }[]).map((e) => e.EventBusName ?? 'default'),
    );
    return [...buses].map((bus) => one(operation, bus.startsWith('arn:') ? bus : arn(`event-bus/${bus}`)));
  }
  if (service === 'ssm' && operation === 'SendCommand') {
    const document = String(input.DocumentName);
    const documentArn = document.startsWith('arn:')
      ? document
      : document.startsWith('AWS-')
        ? `arn:${origin.partition ?? 'aws'}:ssm:${origin.region}::document/${document}`
        : arn(`document/${document}`);
    const instances = ((input.InstanceIds as string[] | undefined) ?? []).map((id) =>
      arn(`instance/${id}`, 'ec2'),
    );
    return [documentArn, ...instances].map((resource) => one(operation, resource));
  }
  if (service === 'ec2' && operation === 'CreateTags') {
    const tags = (input.Tags as { Key: string; Value?: string }[] | undefined) ?? [];
    const context = {
      'aws:TagKeys': tags.map((t) => t.Key),
      ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value ?? ''])),
    };
    return ((input.Resources as string[] | undefined) ?? []).map((id) => ({
      ...one(operation, arn(`${id.startsWith('i-') ? 'instance' : 'resource'}/${id}`)),
      context,
    }));
  }
  if (service === 'cloudwatch' && operation === 'PutMetricData') {
    // No resource-level permissions; policies narrow it by namespace, a condition key the request carries.
    return [{ ...one(operation, '*'), context: { 'cloudwatch:namespace': String(input.Namespace) } }];
  }
  if (service === 'autoscaling' && typeof input.AutoScalingGroupName === 'string') {
    return [one(operation, `*:autoScalingGroupName/${input.AutoScalingGroupName}`)];
  }
  // EC2 Describe*, CloudWatch metrics and the rest: no resource-level permissions, or none modelled.
  return [one(operation, '*')];
}

// The slice of @smithy/types the middleware needs (that package is not a direct dependency).
type Context = { clientName?: string; commandName?: string };
type Handler = (args: { input: object }) => Promise<unknown>;
type Middleware = (next: Handler, context: Context) => Handler;
type Stack = {
  add(middleware: Middleware, options: { step: 'build'; name: string; priority: 'high' }): void;
};

let installed = false;
const instrumented = new WeakSet<Stack>();

/** Starts appending every AWS call of this process to `path` (idempotent). */
export function recordAwsCalls(path: string, env: NodeJS.ProcessEnv = process.env): void {
  if (installed) return;
  installed = true;
  const fn = env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  const recorder: Middleware = (next, context) => async (args) => {
    const clientName = context.clientName ?? 'unknown';
    const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    const region = env.AWS_REGION ?? 'us-east-1';
    // Lambda does not tell a function its account; the evaluation maps ARNs by resource name.
    const origin = { region, account: env.AWS_ACCOUNT_ID ?? '000000000000' };
    let lines: string;
    try {
      lines = iamRequestsOf(clientName, operation, args.input as Input, origin)
        .map((r) => `${JSON.stringify({ function: fn, operation, ...r } satisfies RecordedCall)}\n`)
        .join('');
    } catch (error) {
      lines = `${JSON.stringify({ function: fn, operation, action: `${clientName}:${operation}`, resource: '?', error: String(error) })}\n`;
    }
    // One append per call: O_APPEND writes of a few KB do not interleave between processes.
    appendFileSync(path, lines);
    return next(args);
  };
  const send = Client.prototype.send;
  Client.prototype.send = function (this: Client<never, never, never, never>, ...rest: unknown[]) {
    const stack = this.middlewareStack as unknown as Stack;
    if (!instrumented.has(stack)) {
      instrumented.add(stack);
      stack.add(recorder, { step: 'build', name: 'bcsAwsCallRecorder', priority: 'high' });
    }
    return (send as (...a: unknown[]) => unknown).apply(this, rest);
  } as typeof send;
}
