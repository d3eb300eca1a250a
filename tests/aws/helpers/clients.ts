import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { inject } from 'vitest';

/** SDK client settings for the emulator the aws project's globalSetup started (tests/aws/setup/emulator.ts). */
export function emulatorConfig() {
  return {
    endpoint: inject('awsEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

export const dynamoDbClient = () => new DynamoDBClient(emulatorConfig());
export const ec2Client = () => new EC2Client(emulatorConfig());

/**
 * The SDK speaks awsJson1_0 to CloudWatch, as AWS does. MiniStack up to 1.5.0 answers that protocol
 * with ISO-8601 timestamps where it must send epoch seconds, and the SDK fails with "Expected real
 * number, got implicit NaN". BCS_CLOUDWATCH_PROTOCOL=query switches these clients to the older awsQuery
 * protocol, which such emulators serialise correctly (docs/emulator.md). The pinned MiniStack needs no flag.
 */
export const cloudWatchClient = () =>
  new CloudWatchClient({
    ...emulatorConfig(),
    ...(process.env.BCS_CLOUDWATCH_PROTOCOL === 'query' ? { protocol: AwsQueryProtocol } : {}),
  });
