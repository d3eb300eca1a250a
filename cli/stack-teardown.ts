import {
  CloudFormationClient,
  GetTemplateCommand,
  paginateListStackResources,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTableCommand,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  S3Client,
} from '@aws-sdk/client-s3';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CliExit, EXIT_USAGE } from './exit';

/**
 * What `bcs destroy --delete-retained` removes after cdk destroy: the resources the stack's template
 * keeps (DeletionPolicy Retain outside stage=test: the ledger table with its deletion protection, the
 * task queues, the transparency-log bucket, the log groups, the KMS keys) and the log groups AWS creates
 * beside the stack's own (Lambda's default `/aws/lambda/<function>`, API Gateway's execution logs).
 * They are read from the stack *before* it is deleted: afterwards nothing names them any more.
 */
export interface RetainedResources {
  readonly tables: readonly string[];
  readonly queues: readonly string[];
  readonly buckets: readonly string[];
  readonly logGroups: readonly string[];
  readonly keys: readonly string[];
}

/** KMS lets a key go only after a waiting period of 7 to 30 days; the shortest is used. */
export const KEY_PENDING_DAYS = 7;

const RETAINING = new Set(['Retain', 'RetainExceptOnCreate']);

interface TemplateResource {
  Type?: string;
  DeletionPolicy?: string;
}

/** Reads the stack's template and resources; the retained ones, by type, with their physical ids. */
export async function retainedResources(
  stackName: string,
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<RetainedResources> {
  try {
    const { TemplateBody } = await client.send(
      new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }),
    );
    const template = JSON.parse(TemplateBody ?? '{}') as { Resources?: Record<string, TemplateResource> };
    const retained = new Set(
      Object.entries(template.Resources ?? {})
        .filter(([, r]) => r.DeletionPolicy !== undefined && RETAINING.has(r.DeletionPolicy))
        .map(([id]) => id),
    );
    const resources: StackResourceSummary[] = [];
    for await (const page of paginateListStackResources({ client }, { StackName: stackName }))
      resources.push(...(page.StackResourceSummaries ?? []));
    const kept = (type: string) =>
      resources
        .filter(
          (r) => r.ResourceType === type && retained.has(r.LogicalResourceId ?? '') && r.PhysicalResourceId,
        )
        .map((r) => r.PhysicalResourceId!);
    const all = (type: string) =>
      resources
        .filter((r) => r.ResourceType === type && r.PhysicalResourceId)
        .map((r) => r.PhysicalResourceId!);
    // Lambda writes to /aws/lambda/<name> unless the function names a log group of the stack's; the
    // providers of CDK's custom resources do. API Gateway's execution logs go to a group it creates.
    const apis = all('AWS::ApiGateway::RestApi');
    const implicitLogGroups = [
      ...all('AWS::Lambda::Function').map((name) => `/aws/lambda/${name}`),
      ...apis.flatMap((api) =>
        all('AWS::ApiGateway::Stage').map((stage) => `API-Gateway-Execution-Logs_${api}/${stage}`),
      ),
    ];
    return {
      tables: kept('AWS::DynamoDB::Table'),
      queues: kept('AWS::SQS::Queue'),
      buckets: kept('AWS::S3::Bucket'),
      logGroups: [...new Set([...kept('AWS::Logs::LogGroup'), ...implicitLogGroups])],
      keys: kept('AWS::KMS::Key'),
    };
  } catch (error) {
    if (error instanceof CliExit) throw error;
    const message = (error as Error).message;
    throw new CliExit(
      EXIT_USAGE,
      /does not exist/.test(message)
        ? `--stack: no stack named ${stackName}: --delete-retained finds what the stack kept through the stack itself, so it must run with the destroy (docs/aws.md "Tear down")`
        : `--delete-retained: cannot read the resources of ${stackName}: ${message}`,
    );
  } finally {
    client.destroy();
  }
}

/**
 * Refuses, before anything is deleted, a bucket with S3 Object Lock: its object versions cannot be
 * deleted by anyone (compliance mode: not even the account's root user) until their retention date,
 * so the bucket cannot be emptied and deleted now.
 */
export async function refuseObjectLockedBuckets(
  buckets: readonly string[],
  stackName: string,
  s3: S3Client = new S3Client({}),
): Promise<void> {
  try {
    for (const bucket of buckets) {
      const lock = await objectLock(s3, bucket);
      if (!lock) continue;
      const retention = lock.DefaultRetention;
      const rule = retention
        ? ` (${retention.Mode ?? 'default'} mode, ${retention.Days ?? retention.Years ?? '?'} ${retention.Days ? 'days' : 'years'})`
        : '';
      throw new CliExit(
        EXIT_USAGE,
        `--delete-retained: bucket ${bucket} has S3 Object Lock${rule}: no one can delete an object version before its retention date (in compliance mode not even the account's root user), so the bucket cannot be emptied and deleted now. Nothing was deleted. Destroy without --delete-retained (bcs destroy --stack ${stackName}), delete the other retained resources by hand (docs/aws.md "Tear down"), and delete the bucket after the last object's retention has passed.`,
      );
    }
  } finally {
    s3.destroy();
  }
}

async function objectLock(s3: S3Client, bucket: string) {
  try {
    const { ObjectLockConfiguration } = await s3.send(
      new GetObjectLockConfigurationCommand({ Bucket: bucket }),
    );
    return ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled'
      ? (ObjectLockConfiguration.Rule ?? {})
      : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Names of the "it is not there" errors of the services used here: an already deleted resource is fine. */
const NOT_FOUND =
  /^(ResourceNotFoundException|NoSuchBucket|NotFoundException|ObjectLockConfigurationNotFoundError|AWS\.SimpleQueueService\.NonExistentQueue|QueueDoesNotExist|NotFound)$/;

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return NOT_FOUND.test(e.name ?? '') || NOT_FOUND.test(e.Code ?? '');
}

/** One line per resource on `report`: what was deleted, what was already gone. */
export async function deleteRetained(
  resources: RetainedResources,
  report: (line: string) => void,
): Promise<void> {
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const s3 = new S3Client({});
  const logs = new CloudWatchLogsClient({});
  const kms = new KMSClient({});
  const gone = async (what: string, step: () => Promise<void>, verb = 'deleted') => {
    try {
      await step();
      report(`${verb} ${what}`);
    } catch (error) {
      if (!isNotFound(error))
        throw new CliExit(EXIT_USAGE, `--delete-retained: ${what}: ${(error as Error).message}`);
      if (
        !what.startsWith('log group /aws/lambda/') &&
        !what.startsWith('log group API-Gateway-Execution-Logs_')
      )
        report(`already gone: ${what}`);
    }
  };
  try {
    for (const table of resources.tables) {
      await gone(`table ${table}`, async () => {
        await dynamodb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: false }));
        await dynamodb.send(new DeleteTableCommand({ TableName: table }));
        await waitUntilTableNotExists({ client: dynamodb, maxWaitTime: 600 }, { TableName: table });
      });
    }
    for (const queue of resources.queues)
      await gone(`queue ${queue}`, async () => {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: queue }));
      });
    for (const bucket of resources.buckets)
      await gone(`bucket ${bucket}`, async () => {
        const versions = await emptyBucket(s3, bucket);
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        report(`emptied bucket ${bucket}: ${versions} object versions and delete markers`);
      });
    for (const group of resources.logGroups)
      await gone(`log group ${group}`, async () => {
        await logs.send(new DeleteLogGroupCommand({ logGroupName: group }));
      });
    for (const key of resources.keys)
      await gone(
        `key ${key}`,
        async () => {
          await kms.send(
            new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: KEY_PENDING_DAYS }),
          );
        },
        `scheduled for deletion in ${KEY_PENDING_DAYS} days (KMS's shortest wait; the public key stays readable until then):`,
      );
  } finally {
    for (const c of [dynamodb, sqs, s3, logs, kms]) c.destroy();
  }
}

/**
 * Deletes every object version and delete marker of a versioned bucket (a plain DeleteObject would
 * only add a marker), 1,000 per DeleteObjects, page after page; returns how many it deleted.
 */
async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .filter((v) => v.Key !== undefined)
      .map((v) => ({ Key: v.Key!, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }));
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      const { Errors } = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
      );
      if (Errors && Errors.length > 0) {
        const first = Errors[0]!;
        throw new Error(
          `${Errors.length} of ${batch.length} object versions not deleted, first ${first.Key} ${first.VersionId ?? ''}: ${first.Code} ${first.Message ?? ''}`,
        );
      }
      deleted += batch.length;
    }
    if (!page.IsTruncated) return deleted;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}
