import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionId, synth } from './helpers';
import {
  ACCOUNT,
  type Decision,
  decide,
  functionPrincipal,
  type Principal,
  REGION,
  type Request,
  type TemplateJson,
  tableOf,
} from './iam-model';

/**
 * The termination lifecycle hook and its function (cdk/lib/constructs/scale-in-hook.ts), with the
 * function's role evaluated by the IAM policy simulator on every call its code makes.
 */
const SCALE_IN = 'Holds a terminating worker';

let template: Template;
let json: TemplateJson;
let fn: Principal;
let groupName: string;

beforeAll(() => {
  template = synth({ autoScaling: true }, { nag: true }).template();
  json = template.toJSON() as TemplateJson;
  fn = functionPrincipal(json, SCALE_IN);
  groupName = Object.keys(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0]!;
}, 180_000);

const groupArn = (name: string) =>
  `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:1234abcd-12ab-34cd-56ef-1234567890ab:autoScalingGroupName/${name}`;
const instance = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const item = (action: string, key: string): Request => {
  const table = tableOf(json);
  return {
    action: `dynamodb:${action}`,
    resource: table.arn,
    leadingKeys: [key],
    ...(table.resourcePolicy ? { resourcePolicy: table.resourcePolicy } : {}),
  };
};
const drainTag = (fleetTag: string, key = 'bcs:draining'): Request => ({
  action: 'ec2:CreateTags',
  resource: instance,
  context: { 'aws:ResourceTag/bcs:pool': fleetTag, 'aws:TagKeys': [key], [`aws:RequestTag/${key}`]: 'true' },
});

describe('the scale-in lifecycle hook', () => {
  it('holds terminating workers (heartbeat 10 min, CONTINUE when it runs out) and runs on its event and every minute', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: groupName },
      LifecycleHookName: 'bcs-drain-before-terminate',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 600,
      DefaultResult: 'CONTINUE',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        detail: {
          AutoScalingGroupName: [{ Ref: groupName }],
          LifecycleHookName: ['bcs-drain-before-terminate'],
        },
      },
    });
    const f = template.findResources('AWS::Lambda::Function')[functionId(template, SCALE_IN)]!;
    // fleetCacheTtlSeconds 30 + schedulerTimeoutSeconds 60: placements that may still commit after the drain.
    expect(f.Properties.Environment.Variables).toMatchObject({
      AUTO_SCALING_GROUP_NAME: { Ref: groupName },
      LIFECYCLE_HOOK_NAME: 'bcs-drain-before-terminate',
      SETTLE_SECONDS: '90',
    });
    expect(f.Properties.Timeout).toBe(150);
  });

  it('is not there without an Auto Scaling group; a settle time over 600 s is refused at synth', () => {
    const off = synth().template();
    off.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    expect(() => synth({ autoScaling: true, fleetCacheTtlSeconds: 600 })).toThrow(
      /fleetCacheTtlSeconds: with autoScaling, fleetCacheTtlSeconds \+ schedulerTimeoutSeconds must be at most 600/,
    );
  });

  it('every call the function makes is allowed', async () => {
    const calls: [string, Request][] = [
      ['DescribeAutoScalingGroups', { action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' }],
      [
        'CompleteLifecycleAction',
        { action: 'autoscaling:CompleteLifecycleAction', resource: groupArn(groupName) },
      ],
      [
        'RecordLifecycleActionHeartbeat',
        { action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: groupArn(groupName) },
      ],
      ['CreateTags bcs:draining on a fleet instance', drainTag('workers')],
      ['BatchGetItem VM#', item('BatchGetItem', 'VM#i-0123456789abcdef0')],
      ['GetItem VM#', item('GetItem', 'VM#i-0123456789abcdef0')],
    ];
    const decisions: Record<string, Decision> = {};
    for (const [name, request] of calls) decisions[name] = await decide(fn, request);
    expect(decisions).toEqual(Object.fromEntries(calls.map(([name]) => [name, 'Allowed'])));
  });

  it('and nothing else: no other group, tag, instance or ledger item, no protection, no termination', async () => {
    const denied: [string, Request][] = [
      ['another group', { action: 'autoscaling:CompleteLifecycleAction', resource: groupArn('other') }],
      [
        'SetInstanceProtection',
        { action: 'autoscaling:SetInstanceProtection', resource: groupArn(groupName) },
      ],
      [
        'TerminateInstanceInAutoScalingGroup',
        { action: 'autoscaling:TerminateInstanceInAutoScalingGroup', resource: groupArn(groupName) },
      ],
      ['CreateTags on an instance outside the fleet', drainTag('someone-else')],
      ['CreateTags of another key', drainTag('workers', 'bcs:pool')],
      ['TerminateInstances', { action: 'ec2:TerminateInstances', resource: instance }],
      ['GetItem TASK#', item('GetItem', 'TASK#t-1')],
      ['PutItem VM#', item('PutItem', 'VM#i-1')],
      ['UpdateItem VM#', item('UpdateItem', 'VM#i-1')],
    ];
    const decisions: Record<string, Decision> = {};
    for (const [name, request] of denied) decisions[name] = await decide(fn, request);
    for (const [name] of denied) expect(decisions[name], name).not.toBe('Allowed');
  });
});
