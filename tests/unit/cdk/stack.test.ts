import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WRITER_LEADING_KEYS } from '../../../cdk/lib/ledger-access';
import { actionsOf, DESCRIPTIONS, functionId, type Statement, statementsOf, synth } from './helpers';

let prod: Template;
let test: Template;

beforeAll(() => {
  prod = synth().template();
  test = synth({
    stage: 'test',
    authMode: 'api-key',
    cloudWatchRole: false,
    maxReceiveCount: 3,
    batchSize: 25,
    maxBatchingWindowSeconds: 2,
    maxConcurrency: 4,
    schedulerTimeoutSeconds: 30,
    verifyIntervalMinutes: 5,
    dimensions: ['cpu', 'mem', 'gpu'],
    algorithm: 'p2c',
    fullAuditMaxConcurrency: 25,
    fullAuditBlocksPerRange: 5000,
  }).template();
}, 120_000);

describe('ledger table', () => {
  it('has only the partition key pk, on demand, with PITR, encryption and the open-leases index', () => {
    prod.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'open-leases',
          KeySchema: [
            { AttributeName: 'lease_pk', KeyType: 'HASH' },
            { AttributeName: 'lease_expires_at', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it.each([
    ['prod', () => prod, 'Retain', true],
    ['test', () => test, 'Delete', false],
  ])('in stage %s is kept with %s and deletion protection %s', (_stage, t, policy, protect) => {
    t().hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: policy,
      UpdateReplacePolicy: policy,
      Properties: Match.objectLike({ DeletionProtectionEnabled: protect }),
    });
  });
});

describe('log groups', () => {
  it.each([
    ['prod', () => prod, 'Retain'],
    ['test', () => test, 'Delete'],
  ])('in stage %s are kept with %s, a month of retention each', (_stage, t, policy) => {
    const groups = Object.values(t().findResources('AWS::Logs::LogGroup'));
    // nine functions (the fleet monitor, the full audit's two and the transparency-log publisher
    // included), the API's access log and the full-audit state machine's log
    expect(groups).toHaveLength(11);
    for (const g of groups) {
      expect(g).toMatchObject({ DeletionPolicy: policy, Properties: { RetentionInDays: 30 } });
    }
  });
});

describe('task queue', () => {
  it('is encrypted, TLS-only, and redrives to the exhausted queue after maxReceiveCount', () => {
    test.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180, // six times the 30 s scheduler timeout
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
    // The task queue, the exhausted queue (its redrive target) and the DLQ; the completion queue and its DLQ.
    expect(Object.keys(test.findResources('AWS::SQS::Queue'))).toHaveLength(5);
    const policies = Object.values(test.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(5);
    for (const p of policies) {
      expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('drives the scheduler through an event source mapping with the configured batching', () => {
    test.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(test, DESCRIPTIONS.scheduler) },
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    prod.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });
});

describe('functions', () => {
  it('run on nodejs22.x with the scheduling settings in their environment', () => {
    const fns = Object.values(test.findResources('AWS::Lambda::Function'));
    // The transparency-log publisher is one of them: the log is on by default.
    expect(fns).toHaveLength(9);
    test.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(DESCRIPTIONS.publishLog),
    });
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    }
    test.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(DESCRIPTIONS.scheduler),
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: Match.anyValue(),
          LEASE_INDEX_NAME: 'open-leases',
          DIMENSIONS: 'cpu,mem,gpu',
          ALGORITHM: 'p2c',
          VM_TAG_KEY: 'bcs:pool',
          VM_TAG_VALUE: 'workers',
          POWERTOOLS_METRICS_NAMESPACE: 'BlockchainCloudScheduler',
        }),
      },
    });
  });
});

describe('IAM least privilege', () => {
  const dynamo = (s: Statement[]) => actionsOf(s).filter((a) => a.startsWith('dynamodb:'));

  it('no role may delete from the table or use a wildcard DynamoDB action', () => {
    for (const d of Object.values(DESCRIPTIONS)) {
      for (const action of dynamo(statementsOf(prod, d))) {
        expect(action).not.toBe('dynamodb:DeleteItem');
        expect(action).not.toContain('*');
      }
    }
  });

  it.each([
    ['scheduler', DESCRIPTIONS.scheduler],
    ['expire (the lease closer)', DESCRIPTIONS.expire],
  ])('the %s function writes only items under the writer key prefixes', (_name, description) => {
    const statements = statementsOf(prod, description);
    const writes = statements.filter((s) =>
      actionsOf([s]).some((a) => /PutItem|UpdateItem|ConditionCheck/.test(a)),
    );
    // Put on the chain, task and tile items (a tile is Put whole at genesis and when the Merkle state
    // is built), Update on VM# (reservations), TILE# (Merkle tiles) and VMDIR# (the VM directory) only;
    // never ConditionCheckItem.
    expect(writes.map((s) => [actionsOf([s]), s.Condition])).toEqual([
      [
        ['dynamodb:PutItem'],
        {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['HEAD', 'BLOCK#*', 'TX#*', 'TASK#*', 'TILE#*'],
          },
        },
      ],
      [
        ['dynamodb:UpdateItem'],
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['VM#*', 'TILE#*', 'VMDIR#*'] } },
      ],
    ]);
    expect(WRITER_LEADING_KEYS).toEqual(['HEAD', 'BLOCK#*', 'TX#*', 'TASK#*', 'VM#*', 'TILE#*', 'VMDIR#*']);
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining([
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceTypes',
        'cloudwatch:GetMetricData',
      ]),
    );
  });

  it('the verify function reads the table and writes signed digests and audit jobs only (tests/unit/security/verifier-key.test.ts)', () => {
    // Reads by key only: it never lists (no Query, no Scan). PutItem twice: DIGEST# and AUDIT# (the
    // IAM simulation checks the key prefixes).
    expect(dynamo(statementsOf(prod, DESCRIPTIONS.verify))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:PutItem',
    ]);
    // Reserved concurrency caps it: POST /ledger/verify cannot take the scheduler's concurrency.
    const verify = Object.values(prod.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith(DESCRIPTIONS.verify),
    );
    expect(verify?.Properties.ReservedConcurrentExecutions).toBe(2);
  });

  it('the enqueue function can only send messages to the task queue and write ACCEPTED# items (plus its own logs and traces)', () => {
    const statements = statementsOf(prod, DESCRIPTIONS.enqueue);
    expect(actionsOf(statements)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const send = statements.find((s) => s.Action === 'sqs:SendMessage')!;
    expect(send.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TasksQueue/), 'Arn'] });
    const items = statements.find((s) => Array.isArray(s.Action) && s.Action.includes('dynamodb:PutItem'))!;
    expect(items.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCEPTED#*'] },
    });
  });
});

describe('alarms and schedule', () => {
  it('alarms when any message is in the DLQ', () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TasksDeadLetterQueue'), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('alarms when tasks the task queue gave up on wait over 15 minutes to be recorded', () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TasksExhaustedQueue'), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 900,
    });
  });

  it('alarms when the chain is invalid or verification stops reporting', () => {
    test.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ChainValid',
      Namespace: 'BlockchainCloudScheduler',
      Dimensions: [{ Name: 'service', Value: 'verify' }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      // Twice the 5-minute interval, 2 of 3 periods: one late run does not raise it.
      Period: 600,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
  });

  it('the lease closer consumes the completion queue, which the API sends to; the API writes nothing of the chain', () => {
    const expire = functionId(prod, DESCRIPTIONS.expire);
    prod.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: expire },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CompletionsQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    prod.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CompletionsDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    const api = statementsOf(prod, DESCRIPTIONS.read);
    expect(actionsOf(api).filter((a) => /PutItem|UpdateItem|DeleteItem|BatchWrite/.test(a))).toEqual([]);
    expect(api.find((st) => actionsOf([st]).includes('sqs:SendMessage'))?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^CompletionsQueue/), 'Arn'],
    });
  });

  it('expires leases every minute by default', () => {
    prod.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(prod, DESCRIPTIONS.expire), 'Arn'] } })],
    });
  });

  it('runs verification on the configured schedule', () => {
    test.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(test, DESCRIPTIONS.verify), 'Arn'] } })],
    });
  });
});

describe('full re-audit', () => {
  const definitionOf = (template: Template) => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const body = machines[0]!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
    // The definition is a Join of text and function ARNs: the ARNs stand in as placeholders.
    const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'ARN')).join('');
    return JSON.parse(text) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
  };

  it('runs a Distributed Map over the ranges with MaxConcurrency from the props, then the merge; a failed map is recorded', () => {
    for (const [template, concurrency] of [
      [prod, 10],
      [test, 25],
    ] as const) {
      const definition = definitionOf(template);
      const map = definition.States[definition.StartAt]!;
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.ranges',
        MaxConcurrency: concurrency,
        ResultPath: null,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        Next: 'MergeRanges',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
      });
      expect(definition.States.MergeRanges).toMatchObject({ Type: 'Task', End: true });
      expect(definition.States.RecordFailure).toMatchObject({
        Type: 'Task',
        End: true,
        Parameters: { 'job_id.$': '$.job_id', 'error.$': '$.error' },
      });
    }
  });

  it('gives the verify function the state machine and the range size, and bounds each range function at 15 minutes', () => {
    test.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Verifies the ledger'),
      Environment: {
        Variables: Match.objectLike({
          AUDIT_STATE_MACHINE_ARN: Match.anyValue(),
          AUDIT_BLOCKS_PER_RANGE: '5000',
        }),
      },
    });
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Full re-audit: verifies one block range'),
      Timeout: 900,
    });
    prod.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });
});

describe('REST API', () => {
  const methods = (t: Template) => Object.values(t.findResources('AWS::ApiGateway::Method'));

  it('requires SigV4 on every method by default', () => {
    // Thirteen routes and GET /checkpoint, the transparency log's signed checkpoint (on by default).
    expect(methods(prod)).toHaveLength(14);
    prod.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'checkpoint' });
    // GET /ledger/consistency (docs/ledger-format.md section 7.2) with its query parameters.
    prod.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'consistency' });
    prod.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: {
        'method.request.querystring.from': true,
        'method.request.querystring.to': false,
      },
    });
    for (const m of methods(prod)) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    prod.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    prod.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('requires an API key on every method in api-key mode, without the account role when flagged off', () => {
    for (const m of methods(test)) {
      expect(m.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    }
    test.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    test.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    test.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('bounds the POST /tasks body at the gateway and leaves field rules to the function', () => {
    const model = Object.values(prod.findResources('AWS::ApiGateway::Model'))[0]!;
    const schema = model.Properties.Schema as { oneOf: Record<string, unknown>[] };
    // 4 dimensions + id, deadline, duration, priority, labels, constraints, command
    expect(schema.oneOf[0]).toMatchObject({ type: 'object', maxProperties: 11 });
    expect(schema.oneOf[1]).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    expect(schema.oneOf[0]).not.toHaveProperty('required');
    const gpu = Object.values(test.findResources('AWS::ApiGateway::Model'))[0]!;
    expect((gpu.Properties.Schema as { oneOf: Record<string, unknown>[] }).oneOf[0]).toMatchObject({
      maxProperties: 10,
    });
    prod.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestModels: { 'application/json': Match.anyValue() },
      RequestValidatorId: Match.anyValue(),
    });
  });

  it('logs access and throttles the stage', () => {
    prod.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR' }),
        // POST /ledger/verify (a full chain read on a 1 GB function) has its own, lower throttle.
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1ledger~1verify',
          ThrottlingRateLimit: 1,
          ThrottlingBurstLimit: 2,
        }),
      ],
    });
  });

  it('exports the API URL, table and queue names', () => {
    for (const name of ['ApiUrl', 'TableName', 'QueueName', 'DeadLetterQueueName']) {
      expect(Object.keys(prod.findOutputs(name))).toEqual([name]);
    }
    expect(Object.keys(test.findOutputs('ApiKeyId'))).toEqual(['ApiKeyId']);
  });

  it('exports what bcs --stack reads: the API id, stage and emulator path, the digest key and the verify function', () => {
    const [api] = Object.keys(prod.findResources('AWS::ApiGateway::RestApi'));
    // The digest-signing key (the alarm topic has a key of its own).
    const [key] = Object.keys(
      prod.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } }),
    );
    const [stage] = Object.keys(prod.findResources('AWS::ApiGateway::Stage'));
    const value = (name: string) => prod.findOutputs(name)[name]?.Value;
    expect(value('ApiId')).toEqual({ Ref: api });
    expect(value('ApiStage')).toEqual({ Ref: stage });
    expect(value('DigestKeyArn')).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(value('EmulatorApiPath')).toEqual({
      'Fn::Join': ['', ['/_aws/execute-api/', { Ref: api }, '/', { Ref: stage }, '/']],
    });
    const verify = Object.entries(prod.findResources('AWS::Lambda::Function')).find(([, r]) =>
      JSON.stringify(r.Properties.Environment ?? {}).includes('DIGEST_KEY_ID'),
    )![0];
    expect(value('VerifyFunctionName')).toEqual({ Ref: verify });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['iam', {}],
    ['api-key on the emulator', { stage: 'test', authMode: 'api-key', cloudWatchRole: false }],
  ] as const)(
    'has no unacknowledged finding (%s)',
    (_name, props) => {
      const { app } = synth(props, { nag: true });
      expect(() => app.synth()).not.toThrow();
    },
    120_000,
  );
});
