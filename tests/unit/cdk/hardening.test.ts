import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOUDWATCH_AGENT_CONFIG } from '../../../cdk/lib/constructs/autoscaling';
import { propsFromContext } from '../../../cdk/lib/context';
import { resolveProps, validateProps } from '../../../cdk/lib/props';
import { functionId, synth } from './helpers';

/** What the emulator cannot show (issue 16): template assertions on the hardened stack. */
let prod: Template;
let full: Template;
let test: Template;

beforeAll(() => {
  prod = synth().template();
  full = synth({
    dispatch: true,
    dispatchViaSsm: true,
    autoScaling: true,
    alarmEmails: ['ops@example.com', 'oncall@example.com'],
  }).template();
  test = synth({ stage: 'test', dispatch: true }).template();
}, 120_000);

describe('props', () => {
  it('refuse api-key authentication together with SSM dispatch', () => {
    expect(() =>
      validateProps(resolveProps({ authMode: 'api-key', dispatch: true, dispatchViaSsm: true })),
    ).toThrow(
      "invalid BlockchainScheduler props: authMode: must be 'iam' when dispatchViaSsm is on: with one shared API key every key holder could run commands on the fleet",
    );
    expect(() => validateProps(resolveProps({ authMode: 'api-key', dispatch: true }))).not.toThrow();
  });

  it('check alarm emails and cap the verify interval so the alarm window fits one day', () => {
    expect(() =>
      validateProps(
        resolveProps({ alarmEmails: ['ops@example.com', 'not an address'], verifyIntervalMinutes: 241 }),
      ),
    ).toThrow(
      'invalid BlockchainScheduler props: verifyIntervalMinutes: must be an integer from 1 to 240 (got 241); alarmEmails: must be at most 10 email addresses (got ["ops@example.com","not an address"])',
    );
  });

  it('read alarm emails from context as a comma-separated list', () => {
    expect(
      propsFromContext((k) => (k === 'alarmEmails' ? 'a@example.com, b@example.com' : undefined)).alarmEmails,
    ).toEqual(['a@example.com', 'b@example.com']);
  });
});

describe('alarms reach someone', () => {
  it('every alarm notifies the topic on ALARM and on OK', () => {
    const topicRef = { Ref: Match.stringLikeRegexp('^AlarmsTopic') };
    const alarms = Object.values(full.findResources('AWS::CloudWatch::Alarm'));
    // DLQ, exhausted queue waiting, invalid chain, dispatch failures.
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [expect.anything()],
        OKActions: [expect.anything()],
      });
    }
    full.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  it('the topic is encrypted with a key CloudWatch may use, TLS only, with the email subscriptions', () => {
    full.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsKey'), 'Arn'] },
    });
    full.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchAlarmsPublish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    full.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const email of ['ops@example.com', 'oncall@example.com']) {
      full.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    }
    prod.resourceCountIs('AWS::SNS::Subscription', 0);
    prod.resourceCountIs('AWS::SNS::Topic', 1);
  });

  it('the dispatch failure queue has its alarm', () => {
    full.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DispatchFailures'), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('the invalid-chain alarm reads 2 of 3 periods of twice the interval (15 min by default)', () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ChainValid',
      Period: 1800,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
  });
});

describe('dispatch', () => {
  it('dead-letters commands refused on every attempt to the failure queue, which it alone may send to', () => {
    const id = functionId(full, 'Publishes TaskAssigned events');
    full.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Publishes TaskAssigned events'),
      Environment: {
        Variables: Match.objectLike({
          UNDELIVERED_COMMANDS_QUEUE_URL: { Ref: Match.stringLikeRegexp('^DispatchFailures') },
        }),
      },
    });
    expect(id).toMatch(/^Dispatch/);
    full.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DeadLetterUndeliveredCommands',
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DispatchFailures'), 'Arn'] },
          }),
        ]),
      },
    });
  });
});

describe('scheduled functions', () => {
  it.each([
    ['verify', 'Verifies the ledger'],
    ['expire', 'Expires the leases'],
    ['fleet monitor', 'Publishes backlog per instance'],
  ])('%s: no Lambda-side async retries (the next run replaces a failed one)', (_name, description) => {
    prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId(prod, description) },
      MaximumRetryAttempts: 0,
    });
  });
});

describe('retention', () => {
  it.each([
    ['prod', () => prod, 'Retain'],
    ['test', () => test, 'Delete'],
  ])('in stage %s the queues are kept with %s', (_stage, t, policy) => {
    const queues = Object.values(t().findResources('AWS::SQS::Queue'));
    // Task queue, its DLQ, the dispatch failure queue (test has dispatch on).
    expect(queues.length).toBeGreaterThanOrEqual(2);
    for (const q of queues) expect(q).toMatchObject({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
  });
});

describe('worker instances', () => {
  it('have an instance profile with the SSM core and CloudWatch agent policies', () => {
    full.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore'],
          ],
        },
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/CloudWatchAgentServerPolicy'],
          ],
        },
      ],
    });
    full.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        IamInstanceProfile: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkersLaunchTemplateProfile'), 'Arn'] },
        },
        UserData: Match.anyValue(),
      }),
    });
  });

  it('boot the CloudWatch agent publishing mem_used_percent by InstanceId alone, and the SSM agent', () => {
    const [template] = Object.values(full.findResources('AWS::EC2::LaunchTemplate'));
    // CDK renders the script as one literal under Fn::Base64 (CloudFormation encodes it).
    const text = (template!.Properties.LaunchTemplateData.UserData as { 'Fn::Base64': string })['Fn::Base64'];
    expect(text).toContain('dnf install -y amazon-cloudwatch-agent');
    expect(text).toContain('systemctl enable --now amazon-ssm-agent');
    const json = text.slice(text.indexOf("<<'BCS_EOF'\n") + 12, text.indexOf('\nBCS_EOF'));
    expect(JSON.parse(json)).toEqual(CLOUDWATCH_AGENT_CONFIG);
    expect(CLOUDWATCH_AGENT_CONFIG.metrics.aggregation_dimensions).toEqual([['InstanceId']]);
  });
});
