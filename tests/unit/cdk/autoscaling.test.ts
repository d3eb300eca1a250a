import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../../cdk/lib/context';
import { ValidationError } from '../../../lib/errors';
import { actionsOf, DESCRIPTIONS, functionId, type Statement, statementsOf, synth } from './helpers';

const MONITOR = 'Publishes backlog per instance';

const bySid = (statements: Statement[], sid: string) => statements.filter((s) => s.Sid === sid);

describe('fleet monitor (always deployed)', () => {
  const t = synth().template();

  it('runs every minute without retries and publishes for this stack', () => {
    const id = functionId(t, MONITOR);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
    const fn = t.findResources('AWS::Lambda::Function')[id]!;
    const env = fn.Properties.Environment.Variables;
    expect(env).toMatchObject({
      FLEET_NAME: 'Test',
      POWERTOOLS_METRICS_NAMESPACE: 'BlockchainCloudScheduler',
    });
    expect(env.QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^TasksQueue/) });
    expect(env.AUTO_SCALING_GROUP_NAME).toBeUndefined();
  });

  it('may read the backlog and put metrics in its namespace only, and touches no group without one', () => {
    const statements = statementsOf(t, MONITOR);
    expect(bySid(statements, 'PublishScalingMetrics')).toEqual([
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'BlockchainCloudScheduler' } },
      }),
    ]);
    expect(bySid(statements, 'ReadBacklog')).toEqual([
      expect.objectContaining({
        Action: 'sqs:GetQueueAttributes',
        Resource: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      }),
    ]);
    expect(actionsOf(statements).filter((a) => a.startsWith('autoscaling:'))).toEqual([]);
    // Reads only: the monitor never writes the ledger.
    expect(
      actionsOf(statements).filter((a) => /^dynamodb:(Put|Update|Delete|Batch ?Write|TransactWrite)/.test(a)),
    ).toEqual([]);
    t.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
  });

  it('lets the read function tag only the draining key, only on fleet instances', () => {
    expect(bySid(statementsOf(t, DESCRIPTIONS.read), 'DrainFleetInstances')).toEqual([
      expect.objectContaining({
        Action: 'ec2:CreateTags',
        Condition: {
          StringEquals: { 'aws:ResourceTag/bcs:pool': 'workers' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['bcs:draining'] },
        },
      }),
    ]);
  });

  it('routes GET /fleet and POST /fleet/vms/{id}/drain to the read function', () => {
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'fleet' });
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'drain' });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestParameters: { 'method.request.path.id': true },
      ResourceId: { Ref: Match.stringLikeRegexp('fleetvmsiddrain') },
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('Apifleet[0-9A-F]+$') },
    });
  });
});

describe('autoScaling', () => {
  const t = synth({
    autoScaling: { minCapacity: 2, maxCapacity: 6, targetBacklogPerInstance: 5, instanceType: 'm7g.large' },
    vmTagValue: 'batch',
  }).template();

  it('is a group of the given bounds whose instances carry the fleet tag', () => {
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '6',
      DesiredCapacity: Match.absent(),
      Tags: Match.arrayWith([{ Key: 'bcs:pool', Value: 'batch', PropagateAtLaunch: true }]),
    });
  });

  it('launches with IMDSv2, detailed monitoring, an encrypted volume and an image for the architecture', () => {
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'm7g.large',
        MetadataOptions: { HttpTokens: 'required' },
        Monitoring: { Enabled: true },
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 20, VolumeType: 'gp3' } },
        ],
        ImageId: { Ref: Match.stringLikeRegexp('arm64') },
      }),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Scheduler workers'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('tracks BacklogPerInstance of this fleet at the target', () => {
    t.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        TargetValue: 5,
        CustomizedMetricSpecification: {
          Namespace: 'BlockchainCloudScheduler',
          MetricName: 'BacklogPerInstance',
          Dimensions: [{ Name: 'Fleet', Value: 'Test' }],
          Statistic: 'Average',
        },
      },
    });
  });

  it('hands the group to the monitor, which may change protection on that group only', () => {
    const groupId = Object.keys(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0]!;
    const fn = t.findResources('AWS::Lambda::Function')[functionId(t, MONITOR)]!;
    expect(fn.Properties.Environment.Variables.AUTO_SCALING_GROUP_NAME).toEqual({ Ref: groupId });
    const statements = statementsOf(t, MONITOR);
    expect(bySid(statements, 'ReadGroup')).toEqual([
      expect.objectContaining({ Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' }),
    ]);
    const [protect] = bySid(statements, 'ProtectBusyInstances');
    expect(protect!.Action).toBe('autoscaling:SetInstanceProtection');
    // arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/<the group>
    expect(JSON.stringify(protect!.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/"');
    expect(JSON.stringify(protect!.Resource)).toContain(`{"Ref":"${groupId}"}`);
  });

  it('synthesises with true as every default', () => {
    const d = synth({ autoScaling: true }).template();
    d.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '4' });
    d.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't3.medium',
        ImageId: { Ref: Match.stringLikeRegexp('x8664') },
      }),
    });
    d.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ TargetValue: 10 }),
    });
  });

  it('refuses bad options naming each field with the other props', () => {
    const attempt = () =>
      synth({
        alpha: 2,
        autoScaling: { minCapacity: 5, maxCapacity: 3, targetBacklogPerInstance: 0, instanceType: 'big' },
      });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(
      'invalid BlockchainScheduler props: ' +
        [
          'alpha: must be between 0 and 1 (got 2)',
          'autoScaling.instanceType: must be an EC2 instance type such as t3.medium (got "big")',
          'autoScaling.maxCapacity: must be at least minCapacity (got 3 < 5)',
          'autoScaling.targetBacklogPerInstance: must be greater than 0 (got 0)',
        ].join('; '),
    );
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const { app } = synth({ autoScaling: true }, { nag: true });
    expect(() => app.synth()).not.toThrow();
  }, 120_000);
});

describe('autoScaling from context', () => {
  const from = (value: unknown) => propsFromContext((key) => (key === 'autoScaling' ? value : undefined));

  it.each([
    ['true', true],
    ['false', false],
    ['{"maxCapacity":8}', { maxCapacity: 8 }],
    [{ minCapacity: 0 }, { minCapacity: 0 }], // an object in cdk.json
  ])('reads %j', (value, expected) => {
    expect(from(value).autoScaling).toEqual(expected);
  });

  it.each(['yes', '{maxCapacity:8}'])('refuses %j naming the key', (value) => {
    expect(() => from(value)).toThrow(/^invalid context: autoScaling: must be true/);
  });
});
