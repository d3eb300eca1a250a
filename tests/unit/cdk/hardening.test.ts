import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOUDWATCH_AGENT_CONFIG } from '../../../cdk/lib/constructs/autoscaling';
import { propsFromContext } from '../../../cdk/lib/context';
import { resolveProps, validateProps } from '../../../cdk/lib/props';
import { templateScript } from '../../../lib/dispatch/command-templates';
import { functionId, SSM_TEMPLATES, synth } from './helpers';

/** What the emulator cannot show (issue 16): template assertions on the hardened stack. */
let prod: Template;
let full: Template;
let test: Template;

beforeAll(() => {
  prod = synth().template();
  full = synth({
    dispatch: true,
    dispatchViaSsm: true,
    commandTemplates: SSM_TEMPLATES,
    autoScaling: true,
    alarmEmails: ['ops@example.com', 'oncall@example.com'],
  }).template();
  test = synth({ stage: 'test', dispatch: true }).template();
}, 120_000);

describe('SSM commands: only allow-listed templates, as an unprivileged user', () => {
  it('need at least one valid template with SSM dispatch, each problem named', () => {
    expect(() => validateProps(resolveProps({ dispatch: true, dispatchViaSsm: true }))).toThrow(
      'commandTemplates: must name at least one command template when dispatchViaSsm is on',
    );
    expect(() =>
      validateProps(
        resolveProps({
          dispatch: true,
          dispatchViaSsm: true,
          commandTemplates: {
            'Bad Name': { run: ['/bin/true'] },
            relative: { run: ['train.sh'] },
            pattern: { run: ['/bin/echo'], argumentPattern: '([', maxArguments: 99 },
          },
        }),
      ),
    ).toThrow(
      /commandTemplates\.Bad Name: Invalid key in record.*commandTemplates\.relative\.run: must start with the program as an absolute path.*commandTemplates\.pattern\.argumentPattern: must be a regular expression.*commandTemplates\.pattern\.maxArguments/,
    );
    expect(
      propsFromContext((k) => (k === 'commandTemplates' ? JSON.stringify(SSM_TEMPLATES) : undefined)),
    ).toEqual({ commandTemplates: SSM_TEMPLATES });
  });

  it("the stack's document takes only template names it lists and safe arguments, as environment variables", () => {
    const documents = full.findResources('AWS::SSM::Document');
    expect(Object.keys(documents)).toHaveLength(1);
    const document = Object.values(documents)[0]!.Properties;
    expect(document.DocumentType).toBe('Command');
    const { parameters, mainSteps } = document.Content;
    expect(parameters.template).toMatchObject({
      allowedValues: ['report', 'train'],
      interpolationType: 'ENV_VAR',
    });
    expect(parameters.arguments).toMatchObject({ interpolationType: 'ENV_VAR' });
    const allowed = new RegExp(parameters.arguments.allowedPattern);
    expect(['', '--epochs=3', 'a b', 'x/y.z'].filter((a) => !allowed.test(a))).toEqual([]);
    for (const hostile of ['$(id)', 'a;b', 'a|b', '`id`', 'a  b', ' a', 'a\nb', '*', "'", '"', '>x', '&']) {
      expect(allowed.test(hostile), hostile).toBe(false);
    }
    const script: string[] = mainSteps[0].inputs.runCommand;
    // No parameter is pasted into the script's text: the values arrive as SSM_template and SSM_arguments.
    expect(script.join('\n')).not.toMatch(/\{\{\s*(template|arguments)\s*\}\}/);
    expect(script).toContain('set -f');
    expect(script.at(-1)).toBe('exec runuser -u bcs-task -- "$program" $SSM_arguments');
    // The dispatcher gets the document and the same allow-list; the completion rule listens to it only.
    const dispatcher =
      full.findResources('AWS::Lambda::Function')[functionId(full, 'Publishes TaskAssigned')]!;
    const env = dispatcher.Properties.Environment.Variables;
    expect(env.COMMAND_DOCUMENT_NAME).toEqual({ Ref: Object.keys(documents)[0] });
    expect(JSON.parse(env.COMMAND_TEMPLATES)).toEqual(SSM_TEMPLATES);
    full.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ 'document-name': [{ Ref: Object.keys(documents)[0] }] }),
      }),
    });
  });

  it('workers create the task user and install each template as a root-owned program', () => {
    const templates = Object.values(full.findResources('AWS::EC2::LaunchTemplate'));
    const userData = JSON.stringify(templates[0]!.Properties.LaunchTemplateData.UserData);
    expect(userData).toContain(
      'useradd --system --no-create-home --home-dir /nonexistent --shell /sbin/nologin bcs-task',
    );
    for (const template of Object.values(SSM_TEMPLATES)) {
      expect(userData).toContain(JSON.stringify(templateScript(template).trimEnd()).slice(1, -1));
    }
    expect(userData).toContain('chown root:root /opt/bcs/templates/train');
    expect(templateScript(SSM_TEMPLATES.train)).toBe(`#!/bin/sh\nexec '/opt/app/train.sh' '--quiet' "$@"\n`);
  });
});

describe('props', () => {
  it('refuse api-key authentication together with SSM dispatch', () => {
    expect(() =>
      validateProps(
        resolveProps({
          authMode: 'api-key',
          dispatch: true,
          dispatchViaSsm: true,
          commandTemplates: SSM_TEMPLATES,
        }),
      ),
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
    // DLQ, exhausted queue waiting, completion DLQ, invalid chain, dispatch failures.
    expect(alarms).toHaveLength(5);
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
