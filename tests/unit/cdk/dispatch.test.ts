import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { propsFromContext } from '../../../cdk/lib/context';
import {
  actionsOf,
  DESCRIPTIONS,
  functionId,
  SSM_TEMPLATES,
  type Statement,
  statementsOf,
  synth,
} from './helpers';

const DISPATCH = 'Publishes TaskAssigned events';
const COMMAND_STATUS = 'Completes the task of a dispatched command';

let off: Template;
let events: Template;
let ssm: Template;
/** The SSM configuration is synthesised once, with cdk-nag and CloudFormation validation on. */
let ssmSynthError: unknown;

beforeAll(() => {
  off = synth().template();
  events = synth({ dispatch: true }).template();
  try {
    ssm = synth(
      {
        dispatch: true,
        dispatchViaSsm: true,
        commandTemplates: SSM_TEMPLATES,
        vmTagKey: 'fleet',
        vmTagValue: 'blue',
      },
      { nag: true },
    ).template();
  } catch (error) {
    ssmSynthError = error;
  }
}, 120_000);

const leadingKeys = (s: Statement) =>
  (s.Condition?.['ForAllValues:StringLike'] as Record<string, string[]> | undefined)?.[
    'dynamodb:LeadingKeys'
  ];
const dynamoStatements = (t: Template, description: string) =>
  statementsOf(t, description).filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
const descriptions = (t: Template) =>
  Object.values(t.findResources('AWS::Lambda::Function')).map((f) => String(f.Properties.Description));

describe('dispatch off (the default)', () => {
  it('adds no stream, bus, function or scheduler setting', () => {
    off.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: Match.absent() });
    off.resourceCountIs('AWS::Events::EventBus', 0);
    expect(descriptions(off).filter((d) => d.startsWith(DISPATCH) || d.startsWith(COMMAND_STATUS))).toEqual(
      [],
    );
    const scheduler = off.findResources('AWS::Lambda::Function')[functionId(off, DESCRIPTIONS.scheduler)]!;
    expect(Object.keys(scheduler.Properties.Environment.Variables)).not.toContain('DISPATCH_SPECS');
  });
});

describe('dispatch on', () => {
  it('streams new images and feeds only inserted blocks to the dispatcher, from the oldest record, checkpointing', () => {
    events.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
    events.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(events, DISPATCH) },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { Keys: { pk: { S: [{ prefix: 'BLOCK#' }] } } },
            }),
          },
        ],
      },
    });
  });

  it('lets the dispatcher put events on its own bus only, and touch only task and DISPATCH# items', () => {
    const statements = statementsOf(events, DISPATCH);
    const puts = statements.filter((s) => actionsOf([s]).includes('events:PutEvents'));
    const [busId] = Object.keys(events.findResources('AWS::Events::EventBus'));
    expect(puts.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [busId, 'Arn'] }]);
    expect(actionsOf(statements).filter((a) => a.startsWith('ssm:'))).toEqual([]);
    const item = dynamoStatements(events, DISPATCH).filter(
      (s) => !actionsOf([s]).some((a) => a.includes('Stream')),
    );
    expect(item.map((s) => [actionsOf([s]), leadingKeys(s)])).toEqual([
      [
        ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        ['TASK#*', 'DISPATCH#SPEC#*', 'DISPATCH#RUN#*'],
      ],
      [
        ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        ['DISPATCH#RUN#*', 'DISPATCH#CMD#*'],
      ],
      // The expiry of a final task's records (the table's TTL attribute).
      [['dynamodb:UpdateItem'], ['DISPATCH#SPEC#*', 'DISPATCH#RUN#*', 'DISPATCH#CMD#*']],
    ]);
  });

  it('the table expires items by expires_at, which only dispatch records carry', () => {
    for (const template of [off, events]) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      });
    }
  });

  it('tells the scheduler to record task specs and lets it write those items only (beyond the ledger)', () => {
    const scheduler =
      events.findResources('AWS::Lambda::Function')[functionId(events, DESCRIPTIONS.scheduler)]!;
    expect(scheduler.Properties.Environment.Variables.DISPATCH_SPECS).toBe('true');
    const specs = dynamoStatements(events, DESCRIPTIONS.scheduler).filter((s) =>
      leadingKeys(s)?.some((k) => k.startsWith('DISPATCH#')),
    );
    expect(specs.map((s) => [actionsOf([s]), leadingKeys(s)])).toEqual([
      [['dynamodb:PutItem'], ['DISPATCH#SPEC#*']],
    ]);
  });

  it('without dispatchViaSsm, has no completion function and no rule on SSM events', () => {
    expect(descriptions(events).some((d) => d.startsWith(COMMAND_STATUS))).toBe(false);
    expect(JSON.stringify(events.findResources('AWS::Events::Rule'))).not.toContain('aws.ssm');
    expect(Object.keys(events.findOutputs('EventBusName'))).toEqual(['EventBusName']);
  });
});

describe('dispatchViaSsm', () => {
  it("may SendCommand only with the stack's command document and only to instances carrying the fleet tag", () => {
    const sends = statementsOf(ssm, DISPATCH).filter((s) => actionsOf([s]).includes('ssm:SendCommand'));
    expect(
      sends.map((s) => ({
        actions: actionsOf([s]),
        resource: JSON.stringify(s.Resource),
        condition: s.Condition,
      })),
    ).toEqual([
      {
        actions: ['ssm:SendCommand'],
        resource: expect.stringMatching(/:document\/.*"Ref":"DispatchCommandsDocument/),
        condition: undefined,
      },
      {
        actions: ['ssm:SendCommand'],
        resource: expect.stringContaining(':instance/*'),
        condition: { StringEquals: { 'ssm:resourceTag/fleet': 'blue' } },
      },
    ]);
    expect(JSON.stringify(sends)).not.toContain('document/AWS-');
    const fn = ssm.findResources('AWS::Lambda::Function')[functionId(ssm, DISPATCH)]!;
    expect(fn.Properties.Environment.Variables.DISPATCH_VIA_SSM).toBe('true');
  });

  it('queues completions from final status events of the command document, writing nothing itself', () => {
    const statusFn = functionId(ssm, COMMAND_STATUS);
    ssm.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: {
          'document-name': [{ Ref: Match.stringLikeRegexp('^DispatchCommandsDocument') }],
          status: Match.arrayWith(['Success', 'Failed', 'TimedOut', 'Cancelled']),
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [statusFn, 'Arn'] } })],
    });
    const rule = Object.values(ssm.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.ssm'),
    )!;
    expect(rule.Properties.EventPattern.detail.status).not.toContain('InProgress');
    // Reads by key and one queue; no table write, no fleet read (the lease closer records the completion).
    const statements = statementsOf(ssm, COMMAND_STATUS).filter(
      (st) => !/^(logs|xray):/.test(actionsOf([st])[0]!),
    );
    expect(actionsOf(statements).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'sqs:SendMessage',
    ]);
    ssm.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Completes the task of a dispatched command'),
      Environment: {
        Variables: Match.objectLike({
          COMPLETION_QUEUE_URL: { Ref: Match.stringLikeRegexp('^CompletionsQueue') },
        }),
      },
    });
    expect(actionsOf(statementsOf(ssm, COMMAND_STATUS)).filter((a) => a.startsWith('ssm:'))).toEqual([]);
  });

  it('is refused without dispatch, naming the prop', () => {
    expect(() => synth({ dispatchViaSsm: true })).toThrow(/dispatchViaSsm: needs dispatch/);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(ssmSynthError).toBeUndefined();
  });
});

describe('context flags', () => {
  it('-c dispatch=true -c dispatchViaSsm=true switch both on; anything but true/false is refused by name', () => {
    const context: Record<string, unknown> = { dispatch: 'true', dispatchViaSsm: true };
    expect(propsFromContext((k) => context[k])).toEqual({ dispatch: true, dispatchViaSsm: true });
    expect(() => propsFromContext((k) => (k === 'dispatchViaSsm' ? 'on' : undefined))).toThrow(
      /dispatchViaSsm/,
    );
  });
});
