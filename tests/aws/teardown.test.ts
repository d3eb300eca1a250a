import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, paginateDescribeLogGroups } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_CONTEXT, ROOT } from '../../cli/cdk';
import { refuseObjectLockedBuckets } from '../../cli/stack-teardown';
import { bootstrap, deploy, destroy } from './e2e/cdk-cli';
import { dynamoDbClient, emulatorConfig } from './helpers/clients';
import { walkthroughBlocks } from './helpers/walkthrough';

/**
 * docs/aws.md's production tear-down, run verbatim on the emulator against a stack deployed as on an
 * account (stage=prod: table with deletion protection, queues, log bucket, log groups and KMS keys all
 * RETAINed), with the transparency log (on by default) so that the versioned bucket holds object versions and a
 * delete marker. Afterwards nothing of the stack may be left but KMS keys pending deletion.
 */

const STACK = 'BlockchainCloudScheduler'; // the name the doc's block uses; no other test deploys it
const CONTEXT = { ...EMULATOR_CONTEXT, stage: 'prod' }; // the transparency log is on by default
const DEPLOY_TIMEOUT_MS = 20 * 60_000;
const endpoint = emulatorConfig().endpoint;
const s3 = new S3Client({ ...emulatorConfig(), forcePathStyle: true });
let outDir: string;
let shims: string;
let outputs: Record<string, string>;
let resources: StackResourceSummary[] = [];
let deployed = false;
let tornDown = false;

/** Runs `script` in bash with `bcs` on the PATH as `npm link` puts it, stdin not a terminal. */
function bash(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd,
      env: { ...process.env, PATH: `${shims}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-20_000);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function stackResources(): Promise<StackResourceSummary[]> {
  const cloudFormation = new CloudFormationClient(emulatorConfig());
  const all: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: STACK }))
    all.push(...(page.StackResourceSummaries ?? []));
  cloudFormation.destroy();
  return all;
}

const physical = (type: string) =>
  resources.filter((r) => r.ResourceType === type).map((r) => r.PhysicalResourceId!);

async function logGroupsOfStack(): Promise<string[]> {
  const logs = new CloudWatchLogsClient(emulatorConfig());
  const names: string[] = [];
  for await (const page of paginateDescribeLogGroups({ client: logs }, {}))
    for (const g of page.logGroups ?? []) names.push(g.logGroupName!);
  logs.destroy();
  const own = new Set(physical('AWS::Logs::LogGroup'));
  return names.filter((n) => own.has(n) || n.includes(STACK));
}

/** What a call answers with: 'ok', or the error's name (the resource is gone when it is a not-found). */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bcs-teardown-'));
  shims = await mkdtemp(join(tmpdir(), 'bcs-teardown-bin-'));
  await writeFile(join(shims, 'bcs'), `#!/bin/sh\nexec node "${join(ROOT, 'bin/bcs.js')}" "$@"\n`);
  await chmod(join(shims, 'bcs'), 0o755);
  await bootstrap(endpoint);
  outputs = await deploy(endpoint, STACK, CONTEXT, outDir);
  deployed = true;
  resources = await stackResources();
}, DEPLOY_TIMEOUT_MS);

afterAll(async () => {
  // A run that failed half-way: the stack goes (the retained resources stay in the emulator's state).
  if (deployed && !tornDown) await destroy(endpoint, STACK, CONTEXT, outDir).catch(() => {});
  s3.destroy();
  for (const dir of [outDir, shims]) if (dir) await rm(dir, { recursive: true, force: true });
}, DEPLOY_TIMEOUT_MS);

describe('production tear-down (docs/aws.md) on the emulator', () => {
  it('the stack keeps its table, queues, log bucket, log groups and keys (what the block must delete)', () => {
    expect(physical('AWS::DynamoDB::Table')).toEqual([outputs.TableName]);
    expect(physical('AWS::SQS::Queue').length).toBeGreaterThanOrEqual(3);
    expect(physical('AWS::S3::Bucket')).toEqual([outputs.LogBucketName]);
    expect(physical('AWS::Logs::LogGroup').length).toBeGreaterThanOrEqual(5);
    expect(physical('AWS::KMS::Key').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses --delete-retained without --yes when stdin is not a terminal, deleting nothing', async () => {
    const run = await bash(`bcs destroy --stack ${STACK} --delete-retained`, outDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give --yes to confirm when stdin is not a terminal; nothing was deleted/);
    const cloudFormation = new CloudFormationClient(emulatorConfig());
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: STACK }));
    cloudFormation.destroy();
    expect(Stacks?.[0]?.StackStatus).toMatch(/_COMPLETE$/);
    expect(
      await outcome(() => dynamoDbClient().send(new DescribeTableCommand({ TableName: outputs.TableName! }))),
    ).toBe('ok');
  });

  it('refuses a bucket with Object Lock before anything is deleted, naming it and its retention', async () => {
    const bucket = `bcs-teardown-locked-${Date.now().toString(36)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    try {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3 } },
          },
        }),
      );
      await expect(refuseObjectLockedBuckets([outputs.LogBucketName!, bucket], STACK)).rejects.toThrow(
        new RegExp(`bucket ${bucket} has S3 Object Lock \\(COMPLIANCE mode, 3 days\\).*Nothing was deleted`),
      );
      // The stack's own bucket has no lock: it alone passes.
      await expect(refuseObjectLockedBuckets([outputs.LogBucketName!], STACK)).resolves.toBeUndefined();
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  });

  it(
    'runs the block verbatim: exports the ledger, destroys the stack, and nothing of it is left',
    async () => {
      const bucket = outputs.LogBucketName!;
      // Object versions and a delete marker, as a log bucket has after a few publications.
      for (const body of ['one', 'two', 'three'])
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'checkpoint', Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tile/0/000.p/1', Body: 'x' }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'tile/0/000.p/1' }));
      const before = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      expect(before.Versions?.length).toBeGreaterThanOrEqual(4);
      expect(before.DeleteMarkers?.length).toBe(1);
      const logGroupsBefore = await logGroupsOfStack();
      expect(logGroupsBefore.length).toBeGreaterThanOrEqual(5);
      // A production stack has a ledger to export. Its first writer (the scheduler, on the first task)
      // writes genesis; until then the read API answers 503 "not started". One task starts it.
      const enqueued = await bash(`bcs enqueue --stack ${STACK} --aws-sigv4 --count 1 --seed 1`, outDir);
      expect(enqueued.code, enqueued.stderr).toBe(0);
      let started = await bash(`bcs ledger digest --stack ${STACK} --aws-sigv4`, outDir);
      for (const deadline = Date.now() + 180_000; started.code !== 0 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        started = await bash(`bcs ledger digest --stack ${STACK} --aws-sigv4`, outDir);
      }
      expect(started.code, started.stderr).toBe(0);

      const [block, ...others] = walkthroughBlocks(
        await readFile(join(ROOT, 'docs/aws.md'), 'utf8'),
        'production',
      );
      expect(others).toEqual([]);
      expect(block!.name).toBe('tear-down');
      const run = await bash(block!.code, outDir);
      tornDown = run.code === 0;
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`${STACK} destroyed`));
      expect(run.stderr).toMatch(
        new RegExp(`emptied bucket ${bucket}: [5-9]\\d* object versions and delete markers`),
      );
      // The export holds the chain (genesis at least), one canonical block per line.
      const exported = (await readFile(join(outDir, `${STACK}-ledger.jsonl`), 'utf8')).trim().split('\n');
      expect(JSON.parse(exported[0]!)).toMatchObject({ height: 0 });

      const cloudFormation = new CloudFormationClient(emulatorConfig());
      expect(
        await outcome(() => cloudFormation.send(new DescribeStacksCommand({ StackName: STACK }))),
      ).not.toBe('ok');
      cloudFormation.destroy();
      expect(
        await outcome(() =>
          dynamoDbClient().send(new DescribeTableCommand({ TableName: outputs.TableName! })),
        ),
      ).toBe('ResourceNotFoundException');
      const sqs = new SQSClient(emulatorConfig());
      for (const queue of physical('AWS::SQS::Queue'))
        expect(await outcome(() => sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue })))).not.toBe(
          'ok',
        );
      sqs.destroy();
      expect(await outcome(() => s3.send(new HeadBucketCommand({ Bucket: bucket })))).toBe('NotFound');
      expect(await logGroupsOfStack()).toEqual([]);
      const kms = new KMSClient(emulatorConfig());
      for (const key of physical('AWS::KMS::Key')) {
        const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key }));
        expect(KeyMetadata?.KeyState, key).toBe('PendingDeletion');
      }
      kms.destroy();
    },
    DEPLOY_TIMEOUT_MS,
  );
});
