import type { APIGatewayProxyEvent, Context, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';

/** API Gateway REST (v1) proxy events as the gateway sends them to the functions. */
export function apiEvent(
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    resource?: string;
  } = {},
): APIGatewayProxyEvent {
  const body =
    options.rawBody !== undefined
      ? options.rawBody
      : options.body === undefined
        ? null
        : JSON.stringify(options.body);
  return {
    httpMethod: method,
    path,
    resource: options.resource ?? path,
    body,
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json', host: 'api.example.test' },
    multiValueHeaders: {},
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query
      ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]]))
      : null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      httpMethod: method,
      path: `/test${path}`,
      stage: 'test',
      requestId: 'request-1',
      requestTimeEpoch: 0,
      resourceId: 'r',
      resourcePath: options.resource ?? path,
      protocol: 'HTTP/1.1',
      authorizer: undefined,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        userArn: null,
      },
    },
  };
}

export function sqsRecord(messageId: string, body: unknown, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tasks',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: 'event-1',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: '2026-11-21T06:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/verify'],
    detail: {},
  };
}

export const lambdaContext = {
  functionName: 'test',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** The termination lifecycle action event Auto Scaling puts on the default bus for a hooked instance. */
export function terminateLifecycleEvent(detail: {
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  EC2InstanceId: string;
  [field: string]: unknown;
}) {
  return {
    version: '0',
    id: 'e-lifecycle',
    source: 'aws.autoscaling',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    detail: {
      LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      ...detail,
    },
  };
}
