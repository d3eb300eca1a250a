import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { iamRequestsOf, recordAwsCalls } from '../../../lib/adapters/aws/call-recorder';

const origin = { region: 'eu-west-1', account: '111122223333' };
const TABLE = 'arn:aws:dynamodb:eu-west-1:111122223333:table/ledger';

describe('iamRequestsOf: the IAM requests AWS authorises for an SDK call', () => {
  it('splits a TransactWriteItems into one item request per item, with its leading key', () => {
    const requests = iamRequestsOf(
      'DynamoDBClient',
      'TransactWriteItems',
      {
        TransactItems: [
          { Put: { TableName: 'ledger', Item: { pk: { S: 'HEAD' }, height: { N: '1' } } } },
          { Update: { TableName: 'ledger', Key: { pk: { S: 'VM#i-1' } }, UpdateExpression: 'SET a = :a' } },
          { ConditionCheck: { TableName: 'ledger', Key: { pk: { S: 'TASK#t' } }, ConditionExpression: 'x' } },
          { Delete: { TableName: 'ledger', Key: { pk: { S: 'DISPATCH#d' } } } },
        ],
      },
      origin,
    );
    expect(requests).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE, leadingKeys: ['HEAD'] },
      { action: 'dynamodb:UpdateItem', resource: TABLE, leadingKeys: ['VM#i-1'] },
      { action: 'dynamodb:ConditionCheckItem', resource: TABLE, leadingKeys: ['TASK#t'] },
      { action: 'dynamodb:DeleteItem', resource: TABLE, leadingKeys: ['DISPATCH#d'] },
    ]);
  });

  it('authorises TransactGetItems as GetItem per item, BatchGetItem per table with all its keys', () => {
    expect(
      iamRequestsOf(
        'DynamoDBClient',
        'TransactGetItems',
        { TransactItems: [{ Get: { TableName: 'ledger', Key: { pk: { S: 'HEAD' } } } }] },
        origin,
      ),
    ).toEqual([{ action: 'dynamodb:GetItem', resource: TABLE, leadingKeys: ['HEAD'] }]);
    expect(
      iamRequestsOf(
        'DynamoDBClient',
        'BatchGetItem',
        { RequestItems: { ledger: { Keys: [{ pk: { S: 'TASK#a' } }, { pk: { S: 'TASK#b' } }] } } },
        origin,
      ),
    ).toEqual([{ action: 'dynamodb:BatchGetItem', resource: TABLE, leadingKeys: ['TASK#a', 'TASK#b'] }]);
  });

  it('names the index a Query reads, the queue from its URL, the bus of PutEvents, the SSM document and instances', () => {
    expect(
      iamRequestsOf('DynamoDBClient', 'Query', { TableName: 'ledger', IndexName: 'open-leases' }, origin),
    ).toEqual([{ action: 'dynamodb:Query', resource: `${TABLE}/index/open-leases` }]);
    expect(
      iamRequestsOf(
        'SQSClient',
        'SendMessageBatch',
        { QueueUrl: 'http://127.0.0.1:4566/000000000000/tasks' },
        origin,
      ),
    ).toEqual([{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:000000000000:tasks' }]);
    // A queue named rather than addressed (the agent feed creates and looks up queues by name).
    for (const operation of ['CreateQueue', 'GetQueueUrl']) {
      expect(iamRequestsOf('SQSClient', operation, { QueueName: 'S-agent-i-1' }, origin)).toEqual([
        { action: `sqs:${operation}`, resource: 'arn:aws:sqs:eu-west-1:111122223333:S-agent-i-1' },
      ]);
    }
    expect(
      iamRequestsOf('EventBridgeClient', 'PutEvents', { Entries: [{ EventBusName: 'bus' }, {}] }, origin),
    ).toEqual([
      { action: 'events:PutEvents', resource: 'arn:aws:events:eu-west-1:111122223333:event-bus/bus' },
      { action: 'events:PutEvents', resource: 'arn:aws:events:eu-west-1:111122223333:event-bus/default' },
    ]);
    expect(
      iamRequestsOf('SSMClient', 'SendCommand', { DocumentName: 'bcs-run', InstanceIds: ['i-1'] }, origin),
    ).toEqual([
      { action: 'ssm:SendCommand', resource: 'arn:aws:ssm:eu-west-1:111122223333:document/bcs-run' },
      { action: 'ssm:SendCommand', resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-1' },
    ]);
    expect(iamRequestsOf('EC2Client', 'DescribeInstances', {}, origin)).toEqual([
      { action: 'ec2:DescribeInstances', resource: '*' },
    ]);
  });

  it('carries the namespace of PutMetricData, the condition key that narrows it (it has no resource)', () => {
    expect(
      iamRequestsOf(
        'CloudWatchClient',
        'PutMetricData',
        { Namespace: 'BlockchainScheduler', MetricData: [] },
        origin,
      ),
    ).toEqual([
      {
        action: 'cloudwatch:PutMetricData',
        resource: '*',
        context: { 'cloudwatch:namespace': 'BlockchainScheduler' },
      },
    ]);
  });
});

describe('recordAwsCalls', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('appends every call of every client, document clients included, as marshalled IAM requests', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bcs-calls-'));
    const log = join(dir, 'calls.jsonl');
    recordAwsCalls(log, { AWS_LAMBDA_FUNCTION_NAME: 'fn-1', AWS_REGION: 'eu-west-1', AWS_ACCOUNT_ID: '1' });
    // Nothing listens there: the call fails after the middleware ran, and the recording stays.
    const unreachable = {
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    };
    const dynamo = new DynamoDBClient(unreachable);
    const sqs = new SQSClient(unreachable);
    await expect(
      DynamoDBDocumentClient.from(dynamo).send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'ledger', Item: { pk: 'BLOCK#000000000001', n: 1 } } },
            { Update: { TableName: 'ledger', Key: { pk: 'VM#i-1' }, UpdateExpression: 'SET n = :n' } },
          ],
        }),
      ),
    ).rejects.toThrow();
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: 'http://127.0.0.1:9/1/q', MessageBody: '{}' })),
    ).rejects.toThrow();
    dynamo.destroy();
    sqs.destroy();
    const lines = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        function: 'fn-1',
        operation: 'TransactWriteItems',
        action: 'dynamodb:PutItem',
        resource: 'arn:aws:dynamodb:eu-west-1:1:table/ledger',
        leadingKeys: ['BLOCK#000000000001'],
      },
      {
        function: 'fn-1',
        operation: 'TransactWriteItems',
        action: 'dynamodb:UpdateItem',
        resource: 'arn:aws:dynamodb:eu-west-1:1:table/ledger',
        leadingKeys: ['VM#i-1'],
      },
      {
        function: 'fn-1',
        operation: 'SendMessage',
        action: 'sqs:SendMessage',
        resource: 'arn:aws:sqs:eu-west-1:1:q',
      },
    ]);
  });
});
