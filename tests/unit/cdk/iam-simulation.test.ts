import { beforeAll, describe, expect, it } from 'vitest';
import { DESCRIPTIONS, SSM_TEMPLATES, synth } from './helpers';
import {
  ACCOUNT,
  adminPrincipal,
  arnOfResource,
  bucketPolicyOf,
  type Decision,
  decide,
  functionPrincipal,
  keyPolicyOf,
  type Principal,
  REGION,
  type Request,
  rolePrincipal,
  type TemplateJson,
  tableOf,
} from './iam-model';

/**
 * IAM evaluated, not assumed: the synthesized role policies and the ledger table's resource policy
 * run through a local IAM policy simulator (@cloud-copilot/iam-simulate), which applies AWS's
 * evaluation logic (explicit deny, then allow, conditions with dynamodb:LeadingKeys and
 * aws:PrincipalArn). The emulator enforces none of this.
 */
let template: TemplateJson;
let table: { arn: string; resourcePolicy?: { Statement: unknown[] } };
const fn: Record<string, Principal> = {};

const MORE = {
  dispatch: 'Publishes TaskAssigned events',
  commandStatus: 'Completes the task of a dispatched command',
  fleetMonitor: 'Publishes backlog per instance',
  auditRange: 'Full re-audit: verifies one block range',
  auditMerge: 'Full re-audit: merges the range results',
} as const;
let auditMachine: Principal;
let auditMachineArn: string;

beforeAll(() => {
  template = synth({
    dispatch: true,
    dispatchViaSsm: true,
    commandTemplates: SSM_TEMPLATES,
    autoScaling: true,
  })
    .template()
    .toJSON() as TemplateJson;
  table = tableOf(template);
  for (const [name, description] of Object.entries({ ...DESCRIPTIONS, ...MORE })) {
    fn[name] = functionPrincipal(template, description);
  }
  const machineRole = Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::IAM::Role' &&
      JSON.stringify(r.Properties?.AssumeRolePolicyDocument ?? {}).includes('states.amazonaws.com'),
  );
  if (!machineRole) throw new Error('no state machine role');
  auditMachine = rolePrincipal(template, machineRole[0]);
  auditMachineArn = arnOfResource(template, 'FullAuditStateMachine', 'AWS::StepFunctions::StateMachine');
}, 120_000);

/** A DynamoDB item request on the table, evaluated with the table's resource policy. */
const item = (action: string, key: string): Request => ({
  action: `dynamodb:${action}`,
  resource: table.arn,
  leadingKeys: [key],
  ...(table.resourcePolicy ? { resourcePolicy: table.resourcePolicy } : {}),
});

const keyPolicy = () => keyPolicyOf(template, 'VerifierDigestKey');

/** An S3 request on the transparency-log bucket (or one of its objects), over TLS unless `tls` is false. */
const logBucket = (action: string, key?: string, tls = true): Request => {
  const bucket = arnOfResource(template, 'TransparencyLogBucket', 'AWS::S3::Bucket');
  const policy = bucketPolicyOf(template, 'TransparencyLogBucket');
  return {
    action: `s3:${action}`,
    resource: key === undefined ? bucket : `${bucket}/${key}`,
    ...(policy ? { resourcePolicy: policy } : {}),
    context: { 'aws:SecureTransport': String(tls) },
  };
};

const CHAIN_KEYS = [
  'HEAD',
  'BLOCK#000000000001',
  'TX#tx-1',
  'TASK#t-1',
  'VM#i-1',
  'TILE#0#000000000000',
  'VMDIR#000000',
];

describe('every call the functions make is allowed', () => {
  // The calls each function's code makes (lib/adapters/dynamodb, functions/shared): an append is a
  // TransactWriteItems of Puts on HEAD/BLOCK#/TX#/TASK# and Updates on VM#; reads are GetItem,
  // BatchGetItem (TransactGetItems is authorised as GetItem), the lease index Query.
  const appendCalls = (): [string, Request][] => [
    ['Put HEAD', item('PutItem', 'HEAD')],
    ['Put BLOCK#', item('PutItem', 'BLOCK#000000000007')],
    ['Put TX#', item('PutItem', 'TX#tx-1')],
    ['Put TASK#', item('PutItem', 'TASK#t-1')],
    ['Update VM#', item('UpdateItem', 'VM#i-0abc')],
    ['Update TILE#', item('UpdateItem', 'TILE#0#000000000000')],
    ['Put TILE# (genesis)', item('PutItem', 'TILE#0#000000000000')],
    ['Update VMDIR# (VM directory page)', item('UpdateItem', 'VMDIR#000000')],
    ['BatchGet VMDIR#', item('BatchGetItem', 'VMDIR#000000')],
    ['Get HEAD', item('GetItem', 'HEAD')],
    ['BatchGet TASK#', item('BatchGetItem', 'TASK#t-1')],
  ];
  it.each([
    ['scheduler', () => appendCalls()],
    [
      'expire',
      () => [
        ...appendCalls(),
        ['Query lease index', { action: 'dynamodb:Query', resource: `${table.arn}/index/open-leases` }],
      ],
    ],
    [
      'read',
      () => [
        ['Get TASK#', item('GetItem', 'TASK#t-1')],
        ['Get HEAD', item('GetItem', 'HEAD')],
        ['BatchGet BLOCK#', item('BatchGetItem', 'BLOCK#000000000001')],
        ['Scan', { action: 'dynamodb:Scan', resource: table.arn }],
      ],
    ],
    [
      'commandStatus',
      () => [
        ['Get DISPATCH#CMD#', item('GetItem', 'DISPATCH#CMD#c-1')],
        ['Get TASK#', item('GetItem', 'TASK#t-1')],
      ],
    ],
  ] as [string, () => [string, Request][]][])('%s', async (name, calls) => {
    const denied: string[] = [];
    for (const [label, request] of calls()) {
      const decision = await decide(fn[name]!, request);
      if (decision !== 'Allowed') denied.push(`${label}: ${decision}`);
    }
    expect(denied).toEqual([]);
  });

  it("dispatch: gives a final task's records their expiry (UpdateItem on DISPATCH# only)", async () => {
    for (const key of ['DISPATCH#SPEC#t-1', 'DISPATCH#RUN#t-1', 'DISPATCH#CMD#c-1']) {
      expect(await decide(fn.dispatch!, item('UpdateItem', key))).toBe('Allowed');
    }
    expect(await decide(fn.dispatch!, item('UpdateItem', 'TASK#t-1'))).not.toBe('Allowed');
    expect(await decide(fn.dispatch!, item('UpdateItem', 'ACCEPTED#t-1'))).not.toBe('Allowed');
  });

  it('verify: reads by key, publishes DIGEST# items, signs with its key', async () => {
    const key = arnOfResource(template, 'VerifierDigestKey', 'AWS::KMS::Key');
    const decisions = {
      get: await decide(fn.verify!, item('GetItem', 'BLOCK#000000000001')),
      batchGet: await decide(fn.verify!, item('BatchGetItem', 'BLOCK#000000000001')),
      publish: await decide(fn.verify!, item('PutItem', 'DIGEST#000000000001')),
      sign: await decide(fn.verify!, { action: 'kms:Sign', resource: key, resourcePolicy: keyPolicy() }),
    };
    expect(decisions).toEqual({ get: 'Allowed', batchGet: 'Allowed', publish: 'Allowed', sign: 'Allowed' });
  });

  it('publish-log: reads the chain by key, writes log objects, lists the bucket, signs with the digest key', async () => {
    const key = arnOfResource(template, 'VerifierDigestKey', 'AWS::KMS::Key');
    const decisions = {
      head: await decide(fn.publishLog!, item('GetItem', 'HEAD')),
      blocks: await decide(fn.publishLog!, item('BatchGetItem', 'BLOCK#000000000001')),
      tiles: await decide(fn.publishLog!, item('BatchGetItem', 'TILE#0#000000000000')),
      putTile: await decide(fn.publishLog!, logBucket('PutObject', 'tile/0/000')),
      putCheckpoint: await decide(fn.publishLog!, logBucket('PutObject', 'checkpoint')),
      getCheckpoint: await decide(fn.publishLog!, logBucket('GetObject', 'checkpoint')),
      // S3 answers a missing key with 404 only to a caller that may list the bucket (403 otherwise).
      list: await decide(fn.publishLog!, logBucket('ListBucket')),
      sign: await decide(fn.publishLog!, { action: 'kms:Sign', resource: key, resourcePolicy: keyPolicy() }),
      publicKey: await decide(fn.publishLog!, {
        action: 'kms:GetPublicKey',
        resource: key,
        resourcePolicy: keyPolicy(),
      }),
    };
    expect(Object.entries(decisions).filter(([, d]) => d !== 'Allowed')).toEqual([]);
  });

  it('full audit: the verify function records the job and starts the state machine, which runs the range and merge functions', async () => {
    const lambda = (name: 'auditRange' | 'auditMerge') =>
      arnOfResource(
        template,
        name === 'auditRange' ? 'FullAuditRangeFunction' : 'FullAuditMergeFunction',
        'AWS::Lambda::Function',
      );
    const key = arnOfResource(template, 'VerifierDigestKey', 'AWS::KMS::Key');
    const decisions = {
      createJob: await decide(fn.verify!, item('PutItem', 'AUDIT#0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9')),
      start: await decide(fn.verify!, { action: 'states:StartExecution', resource: auditMachineArn }),
      invokeRange: await decide(auditMachine, {
        action: 'lambda:InvokeFunction',
        resource: lambda('auditRange'),
      }),
      invokeMerge: await decide(auditMachine, {
        action: 'lambda:InvokeFunction',
        resource: lambda('auditMerge'),
      }),
      rangeReadsBlocks: await decide(fn.auditRange!, item('BatchGetItem', 'BLOCK#000000000001')),
      rangeReadsIndex: await decide(fn.auditRange!, item('GetItem', 'TX#tx-1')),
      rangeWritesResult: await decide(fn.auditRange!, item('PutItem', 'AUDIT#j#RANGE#000000000000')),
      mergeReadsJob: await decide(fn.auditMerge!, item('GetItem', 'AUDIT#j')),
      mergeReadsRanges: await decide(fn.auditMerge!, item('BatchGetItem', 'AUDIT#j#RANGE#000000000000')),
      mergeReadsTiles: await decide(fn.auditMerge!, item('BatchGetItem', 'TILE#0#000000000000')),
      mergeRecordsJob: await decide(fn.auditMerge!, item('PutItem', 'AUDIT#j')),
      mergePublishes: await decide(fn.auditMerge!, item('PutItem', 'DIGEST#000000000001')),
      mergeCheckpoint: await decide(fn.auditMerge!, item('PutItem', 'DIGEST#CHECKPOINT')),
      mergeSigns: await decide(fn.auditMerge!, {
        action: 'kms:Sign',
        resource: key,
        resourcePolicy: keyPolicy(),
      }),
      apiReadsJob: await decide(fn.read!, item('GetItem', 'AUDIT#j')),
    };
    expect(Object.entries(decisions).filter(([, d]) => d !== 'Allowed')).toEqual([]);
  });

  it('read: serves GET /checkpoint from the log bucket (GetObject of that key, ListBucket so that a missing one is a 404)', async () => {
    expect(await decide(fn.read!, logBucket('GetObject', 'checkpoint'))).toBe('Allowed');
    expect(await decide(fn.read!, logBucket('ListBucket'))).toBe('Allowed');
    expect(await decide(fn.read!, logBucket('GetObject', 'tile/0/000'))).not.toBe('Allowed');
    expect(await decide(fn.read!, logBucket('PutObject', 'checkpoint'))).not.toBe('Allowed');
  });

  it('enqueue: sends to the task queue', async () => {
    const queue = arnOfResource(template, 'TasksQueue', 'AWS::SQS::Queue');
    expect(await decide(fn.enqueue!, { action: 'sqs:SendMessage', resource: queue })).toBe('Allowed');
  });

  it('dispatch: dead-letters undelivered commands to the failure queue, not to the task queues', async () => {
    const failures = arnOfResource(template, 'DispatchFailures', 'AWS::SQS::Queue');
    const tasks = arnOfResource(template, 'TasksQueue', 'AWS::SQS::Queue');
    expect(await decide(fn.dispatch!, { action: 'sqs:SendMessage', resource: failures })).toBe('Allowed');
    expect(await decide(fn.dispatch!, { action: 'sqs:SendMessage', resource: tasks })).not.toBe('Allowed');
  });

  it('the API and command-status functions queue completions; only the lease closer consumes them', async () => {
    const completions = arnOfResource(template, 'CompletionsQueue', 'AWS::SQS::Queue');
    for (const name of ['read', 'commandStatus']) {
      expect(await decide(fn[name]!, { action: 'sqs:SendMessage', resource: completions })).toBe('Allowed');
      expect(await decide(fn[name]!, { action: 'sqs:ReceiveMessage', resource: completions })).not.toBe(
        'Allowed',
      );
    }
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
      expect(await decide(fn.expire!, { action, resource: completions })).toBe('Allowed');
    }
    const tasks = arnOfResource(template, 'TasksQueue', 'AWS::SQS::Queue');
    expect(await decide(fn.read!, { action: 'sqs:SendMessage', resource: tasks })).not.toBe('Allowed');
  });

  it('scheduler: forwards unplaceable tasks to the DLQ', async () => {
    const dlq = arnOfResource(template, 'TasksDeadLetterQueue', 'AWS::SQS::Queue');
    expect(await decide(fn.scheduler!, { action: 'sqs:SendMessage', resource: dlq })).toBe('Allowed');
  });
});

describe('deny matrix', () => {
  const expectDecision = async (principal: Principal, request: Request, decision: Decision) =>
    expect(
      `${request.action} ${request.leadingKeys ?? request.resource}: ${await decide(principal, request)}`,
    ).toBe(`${request.action} ${request.leadingKeys ?? request.resource}: ${decision}`);

  it('no principal can delete a chain or digest item, not even an administrator', async () => {
    for (const principal of [...Object.values(fn), adminPrincipal()]) {
      for (const key of [...CHAIN_KEYS, 'DIGEST#000000000001']) {
        expect(await decide(principal, item('DeleteItem', key))).not.toBe('Allowed');
      }
    }
    // For the administrator it is the table's policy that denies, whatever the identity policy says.
    await expectDecision(adminPrincipal(), item('DeleteItem', 'BLOCK#000000000001'), 'ExplicitlyDenied');
    await expectDecision(adminPrincipal(), item('BatchWriteItem', 'BLOCK#000000000001'), 'ExplicitlyDenied');
  });

  it('an administrator cannot write chain items nor digests (only the writer roles can)', async () => {
    for (const key of CHAIN_KEYS) {
      await expectDecision(adminPrincipal(), item('PutItem', key), 'ExplicitlyDenied');
      await expectDecision(adminPrincipal(), item('UpdateItem', key), 'ExplicitlyDenied');
      await expectDecision(adminPrincipal(), item('PartiQLUpdate', key), 'ExplicitlyDenied');
    }
    await expectDecision(adminPrincipal(), item('PutItem', 'DIGEST#000000000001'), 'ExplicitlyDenied');
    // Other items stay the administrator's (e.g. dispatch records).
    await expectDecision(adminPrincipal(), item('PutItem', 'DISPATCH#x'), 'Allowed');
  });

  it('writers update only VM#, TILE# and VMDIR# items, never Put VM# or VMDIR#, never use ConditionCheckItem', async () => {
    for (const name of ['scheduler', 'expire']) {
      for (const key of ['HEAD', 'BLOCK#000000000001', 'TX#tx-1', 'TASK#t-1']) {
        expect(await decide(fn[name]!, item('UpdateItem', key))).not.toBe('Allowed');
      }
      for (const key of ['VM#i-1', 'VMDIR#000000']) {
        expect(await decide(fn[name]!, item('PutItem', key))).not.toBe('Allowed');
      }
      expect(await decide(fn[name]!, item('ConditionCheckItem', 'HEAD'))).not.toBe('Allowed');
    }
  });

  it('the verify function writes no chain item (DIGEST# items, and AUDIT# jobs)', async () => {
    for (const key of CHAIN_KEYS) {
      expect(await decide(fn.verify!, item('PutItem', key))).not.toBe('Allowed');
      expect(await decide(fn.verify!, item('UpdateItem', key))).not.toBe('Allowed');
    }
    expect(await decide(fn.verify!, item('UpdateItem', 'DIGEST#000000000001'))).not.toBe('Allowed');
    expect(await decide(fn.verify!, { action: 'dynamodb:Scan', resource: table.arn })).not.toBe('Allowed');
    // Its audit checkpoint is a DIGEST# item too.
    expect(await decide(fn.verify!, item('PutItem', 'DIGEST#CHECKPOINT'))).toBe('Allowed');
  });

  it('the full audit writes no chain item; the range function writes only its AUDIT# results, signs nothing', async () => {
    const key = arnOfResource(template, 'VerifierDigestKey', 'AWS::KMS::Key');
    for (const name of ['auditRange', 'auditMerge']) {
      for (const key of CHAIN_KEYS) {
        expect(await decide(fn[name]!, item('PutItem', key))).not.toBe('Allowed');
        expect(await decide(fn[name]!, item('UpdateItem', key))).not.toBe('Allowed');
      }
      for (const action of ['UpdateItem', 'DeleteItem']) {
        expect(await decide(fn[name]!, item(action, 'AUDIT#j'))).not.toBe('Allowed');
      }
      expect(await decide(fn[name]!, { action: 'dynamodb:Scan', resource: table.arn })).not.toBe('Allowed');
      expect(await decide(fn[name]!, { action: 'dynamodb:Query', resource: table.arn })).not.toBe('Allowed');
    }
    expect(await decide(fn.auditRange!, item('PutItem', 'DIGEST#000000000001'))).not.toBe('Allowed');
    expect(await decide(fn.auditRange!, item('PutItem', 'DIGEST#CHECKPOINT'))).not.toBe('Allowed');
    expect(
      await decide(fn.auditRange!, { action: 'kms:Sign', resource: key, resourcePolicy: keyPolicy() }),
    ).not.toBe('Allowed');
    // The verify function creates jobs but writes no range result's key space beyond AUDIT#, and the
    // API function only reads them.
    expect(await decide(fn.read!, item('PutItem', 'AUDIT#j'))).not.toBe('Allowed');
    expect(await decide(fn.enqueue!, item('GetItem', 'AUDIT#j'))).not.toBe('Allowed');
  });

  it('the state machine invokes only its two functions and is started only by the verify function', async () => {
    const scheduler = arnOfResource(template, 'SchedulerFunction', 'AWS::Lambda::Function');
    const verify = arnOfResource(template, 'VerifierVerifyFunction', 'AWS::Lambda::Function');
    for (const other of [scheduler, verify]) {
      expect(await decide(auditMachine, { action: 'lambda:InvokeFunction', resource: other })).not.toBe(
        'Allowed',
      );
    }
    expect(await decide(auditMachine, item('GetItem', 'HEAD'))).not.toBe('Allowed');
    for (const name of ['scheduler', 'read', 'enqueue', 'expire', 'auditRange', 'auditMerge']) {
      expect(
        await decide(fn[name]!, { action: 'states:StartExecution', resource: auditMachineArn }),
      ).not.toBe('Allowed');
    }
    const elsewhere = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:someone-elses`;
    expect(await decide(fn.verify!, { action: 'states:StartExecution', resource: elsewhere })).not.toBe(
      'Allowed',
    );
  });

  it('no chain writer but the verify function can publish a digest', async () => {
    for (const name of ['scheduler', 'expire', 'read', 'commandStatus', 'dispatch', 'fleetMonitor']) {
      expect(await decide(fn[name]!, item('PutItem', 'DIGEST#000000000001'))).not.toBe('Allowed');
    }
  });

  it('only the verify function and the full audit merge can sign digests: not the other functions, not an administrator', async () => {
    const key = arnOfResource(template, 'VerifierDigestKey', 'AWS::KMS::Key');
    const sign = { action: 'kms:Sign', resource: key, resourcePolicy: keyPolicy() };
    for (const principal of [
      adminPrincipal(),
      fn.scheduler!,
      fn.read!,
      fn.expire!,
      fn.auditRange!,
      auditMachine,
    ]) {
      expect(await decide(principal, sign)).not.toBe('Allowed');
    }
  });

  it('the dispatcher, the fleet monitor and the enqueue function cannot write chain items', async () => {
    for (const name of ['dispatch', 'fleetMonitor', 'enqueue']) {
      for (const key of CHAIN_KEYS) {
        expect(await decide(fn[name]!, item('PutItem', key))).not.toBe('Allowed');
        expect(await decide(fn[name]!, item('UpdateItem', key))).not.toBe('Allowed');
      }
    }
  });

  it('the log publisher writes no chain item nor digest, deletes no log object, and needs TLS', async () => {
    for (const key of [...CHAIN_KEYS, 'DIGEST#000000000001']) {
      expect(await decide(fn.publishLog!, item('PutItem', key))).not.toBe('Allowed');
      expect(await decide(fn.publishLog!, item('UpdateItem', key))).not.toBe('Allowed');
    }
    for (const action of ['DeleteObject', 'DeleteObjectVersion', 'PutBucketPolicy', 'PutBucketVersioning'])
      expect(
        await decide(fn.publishLog!, logBucket(action, action.includes('Bucket') ? undefined : 'checkpoint')),
      ).not.toBe('Allowed');
    // The bucket policy refuses plain HTTP, even to the writer.
    await expectDecision(fn.publishLog!, logBucket('PutObject', 'checkpoint', false), 'ExplicitlyDenied');
    // No other function may write the log.
    for (const name of ['scheduler', 'expire', 'read', 'verify', 'enqueue', 'dispatch', 'fleetMonitor'])
      expect(await decide(fn[name]!, logBucket('PutObject', 'checkpoint'))).not.toBe('Allowed');
  });

  it('listing reads only where the code lists: Scan for the API, the lease index for expiry', async () => {
    const scan = { action: 'dynamodb:Scan', resource: table.arn };
    const queryIndex = { action: 'dynamodb:Query', resource: `${table.arn}/index/open-leases` };
    const queryTable = { action: 'dynamodb:Query', resource: table.arn };
    const decisions: Record<string, [string, string, string]> = {};
    for (const name of ['scheduler', 'expire', 'read', 'commandStatus']) {
      decisions[name] = [
        await decide(fn[name]!, scan),
        await decide(fn[name]!, queryIndex),
        await decide(fn[name]!, queryTable),
      ];
    }
    const denied = 'ImplicitlyDenied';
    expect(decisions).toEqual({
      scheduler: [denied, denied, denied],
      expire: [denied, 'Allowed', denied],
      read: ['Allowed', denied, denied],
      commandStatus: [denied, denied, denied],
    });
  });

  it('the fleet monitor reads by key only', async () => {
    expect(await decide(fn.fleetMonitor!, item('BatchGetItem', 'VM#i-1'))).toBe('Allowed');
    expect(await decide(fn.fleetMonitor!, { action: 'dynamodb:Scan', resource: table.arn })).not.toBe(
      'Allowed',
    );
    expect(
      await decide(fn.fleetMonitor!, {
        action: 'dynamodb:Query',
        resource: `${table.arn}/index/open-leases`,
      }),
    ).not.toBe('Allowed');
  });

  it("the dispatcher sends only the stack's command document, never AWS-RunShellScript, only to fleet instances", async () => {
    const documents = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::SSM::Document');
    expect(documents).toHaveLength(1);
    const own = `arn:aws:ssm:${REGION}:${ACCOUNT}:document/${documents[0]![0]}`;
    const instance = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0abc`;
    const send = (resource: string, tags: Record<string, string> = {}) =>
      decide(fn.dispatch!, {
        action: 'ssm:SendCommand',
        resource,
        context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ssm:resourceTag/${k}`, v])),
      });
    expect(await send(own)).toBe('Allowed');
    expect(await send(instance, { 'bcs:pool': 'workers' })).toBe('Allowed');
    expect(await send(instance, { 'bcs:pool': 'other' })).not.toBe('Allowed');
    // AWS-owned documents have no account in their ARN, which the simulator cannot parse; evaluated
    // here with the account (the role grants no document but its own, so neither form is allowed;
    // tests/unit/cdk/dispatch.test.ts checks the statements name no AWS- document at all).
    for (const managed of ['AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript']) {
      expect(await send(`arn:aws:ssm:${REGION}:${ACCOUNT}:document/${managed}`)).not.toBe('Allowed');
    }
    expect(await send(`arn:aws:ssm:${REGION}:${ACCOUNT}:document/someone-elses`)).not.toBe('Allowed');
  });

  it('the enqueue function sends only to its queue', async () => {
    const sqs = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    for (const other of [
      arnOfResource(template, 'TasksDeadLetterQueue', 'AWS::SQS::Queue'),
      arnOfResource(template, 'DispatchFailures', 'AWS::SQS::Queue'),
      sqs('someone-elses-queue'),
    ]) {
      expect(await decide(fn.enqueue!, { action: 'sqs:SendMessage', resource: other })).not.toBe('Allowed');
    }
    expect(
      await decide(fn.enqueue!, {
        action: 'sqs:ReceiveMessage',
        resource: arnOfResource(template, 'TasksQueue', 'AWS::SQS::Queue'),
      }),
    ).not.toBe('Allowed');
    expect(await decide(fn.enqueue!, item('GetItem', 'HEAD'))).not.toBe('Allowed');
  });

  it('the enqueue function writes and reads its acceptance records, nothing else of the table', async () => {
    for (const action of ['PutItem', 'GetItem']) {
      expect(await decide(fn.enqueue!, item(action, 'ACCEPTED#t-1'))).toBe('Allowed');
      expect(await decide(fn.enqueue!, item(action, 'TASK#t-1'))).not.toBe('Allowed');
      expect(await decide(fn.enqueue!, item(action, 'DISPATCH#SPEC#t-1'))).not.toBe('Allowed');
    }
    for (const action of ['UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
      expect(await decide(fn.enqueue!, item(action, 'ACCEPTED#t-1'))).not.toBe('Allowed');
    }
    // The API function answers GET /tasks/{id} `queued` from them.
    expect(await decide(fn.read!, item('GetItem', 'ACCEPTED#t-1'))).toBe('Allowed');
  });

  it('only the scheduler and the lease closer write chain items: not the API, not command status', async () => {
    // The identity policies grant the API and command-status roles no chain write, and the table's
    // policy denies it to them even if someone adds one (they queue completions instead).
    for (const name of ['read', 'commandStatus']) {
      for (const key of CHAIN_KEYS) {
        for (const action of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
          expect(await decide(fn[name]!, item(action, key))).not.toBe('Allowed');
        }
      }
    }
    const policy = table.resourcePolicy!;
    const chainWriters = (
      policy.Statement as { Sid?: string; Condition?: Record<string, Record<string, unknown>> }[]
    ).find((st) => st.Sid === 'ChainWritersOnly')!.Condition!.ArnNotEquals!['aws:PrincipalArn'] as unknown[];
    expect(chainWriters).toHaveLength(2);
    // A role that any administrator might give a chain write is still refused by the table's policy:
    // an identity-policy allow on the API role is overridden (the simulator evaluates both).
    for (const key of ['HEAD', 'BLOCK#000000000001']) {
      const granted = await decide(
        {
          ...fn.read!,
          policies: [
            ...fn.read!.policies,
            {
              name: 'AddedByMistake',
              policy: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: table.arn }],
              },
            },
          ],
        },
        item('PutItem', key),
      );
      expect(granted).toBe('ExplicitlyDenied');
    }
  });
});
