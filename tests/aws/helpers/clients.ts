import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
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
export const cloudWatchClient = () => new CloudWatchClient(emulatorConfig());
