import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { propsFromContext } from '../../../cdk/lib/context';
import { agentQueuePrefix } from '../../../lib/adapters/sqs/agent-feed';
import { functionId, SSM_TEMPLATES, synth } from './helpers';
import {
  ACCOUNT,
  type Decision,
  decide,
  functionPrincipal,
  type Principal,
  REGION,
  rolePrincipal,
  type TemplateJson,
} from './iam-model';

/**
 * `agents`: the dispatcher feeds one SQS queue per instance and the instances' role may read that
 * queue and call the two API routes `bcs agent` calls, nothing else. The roles are evaluated by the
 * IAM policy simulator, as in iam-simulation.test.ts.
 */
const DISPATCH = 'Publishes TaskAssigned events';
const PREFIX = agentQueuePrefix('Test');
const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const OWN_QUEUE = queue(`${PREFIX}i-0123456789abcdef0`);

let template: Template;
let json: TemplateJson;
let dispatch: Principal;
let agent: Principal;
let worker: Principal;
let api: { id: string; stage: string };

beforeAll(() => {
  // With cdk-nag and CloudFormation validation: every finding must be fixed or acknowledged.
  template = synth({ dispatch: true, agents: true, autoScaling: true }, { nag: true }).template();
  json = template.toJSON() as TemplateJson;
  dispatch = functionPrincipal(json, DISPATCH);
  const roleId = (prefix: string) => {
    const ids = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(prefix));
    expect(ids).toHaveLength(1);
    return ids[0]!;
  };
  agent = rolePrincipal(json, roleId('AgentsAgentRole'));
  // The workers' role carries AWS managed policies (SSM, CloudWatch agent), which the model leaves
  // out; its inline policies are what the agent feed adds.
  const workerRole = roleId('WorkersInstanceRole');
  const { ManagedPolicyArns: _managed, ...rest } = json.Resources[workerRole]!.Properties!;
  worker = rolePrincipal(
    { Resources: { ...json.Resources, [workerRole]: { ...json.Resources[workerRole]!, Properties: rest } } },
    workerRole,
  );
  const restApi = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
  const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!.Properties.StageName;
  api = { id: restApi, stage };
}, 180_000);

const invoke = (method: string, path: string) => ({
  action: 'execute-api:Invoke',
  resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.id}/${api.stage}/${method}${path}`,
});

describe('agents: the feed', () => {
  it("gives the dispatcher the queue prefix, the stack's outputs name it and the instance profile", () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId(template, DISPATCH)]!;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      AGENT_QUEUE_PREFIX: PREFIX,
      DISPATCH_VIA_SSM: 'false',
    });
    template.hasOutput('AgentQueuePrefix', { Value: PREFIX });
    template.hasOutput('AgentInstanceProfileName', {
      Value: { Ref: Match.stringLikeRegexp('^AgentsAgentInstanceProfile') },
    });
    template.resourceCountIs('AWS::IAM::InstanceProfile', 2); // the workers' and the agents'
  });

  it("the dispatcher creates and feeds the stack's agent queues, no other queue", async () => {
    for (const action of ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:SendMessage']) {
      expect(await decide(dispatch, { action, resource: OWN_QUEUE })).toBe('Allowed');
      expect(await decide(dispatch, { action, resource: queue('someone-elses-queue') })).not.toBe('Allowed');
      expect(await decide(dispatch, { action, resource: queue(`Other-agent-i-0123456789abcdef0`) })).not.toBe(
        'Allowed',
      );
    }
    for (const action of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:DeleteQueue',
      'sqs:SetQueueAttributes',
    ]) {
      expect(await decide(dispatch, { action, resource: OWN_QUEUE })).not.toBe('Allowed');
    }
  });
});

describe('agents: the instance role', () => {
  const agentCalls = (): [string, { action: string; resource: string }][] => [
    ['GetQueueUrl', { action: 'sqs:GetQueueUrl', resource: OWN_QUEUE }],
    ['ReceiveMessage', { action: 'sqs:ReceiveMessage', resource: OWN_QUEUE }],
    ['DeleteMessage', { action: 'sqs:DeleteMessage', resource: OWN_QUEUE }],
    ['ChangeMessageVisibility', { action: 'sqs:ChangeMessageVisibility', resource: OWN_QUEUE }],
    ['GET /tasks/{id}', invoke('GET', '/tasks/job-1')],
    ['POST /tasks/{id}/complete', invoke('POST', '/tasks/job-1/complete')],
    [
      'DescribeStacks',
      {
        action: 'cloudformation:DescribeStacks',
        resource: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Test/00000000-0000-0000-0000-000000000000`,
      },
    ],
  ];

  it.each([
    ['the agent role', () => agent],
    ['the Auto Scaling workers', () => worker],
  ])('every call bcs agent --stack makes is allowed for %s', async (_, principal) => {
    const decisions: Record<string, Decision> = {};
    for (const [name, request] of agentCalls()) decisions[name] = await decide(principal(), request);
    expect(decisions).toEqual(Object.fromEntries(agentCalls().map(([name]) => [name, 'Allowed'])));
  });

  it('nothing else: no other route, no task submission, no other queue, no ledger, no EC2 or SSM', async () => {
    const denied: [string, { action: string; resource: string }][] = [
      ['POST /tasks', invoke('POST', '/tasks')],
      ['POST /fleet/vms/{id}/drain', invoke('POST', '/fleet/vms/i-1/drain')],
      ['POST /ledger/verify', invoke('POST', '/ledger/verify')],
      ['GET /ledger', invoke('GET', '/ledger')],
      ['SendMessage to its queue', { action: 'sqs:SendMessage', resource: OWN_QUEUE }],
      ['CreateQueue', { action: 'sqs:CreateQueue', resource: OWN_QUEUE }],
      ['DeleteQueue', { action: 'sqs:DeleteQueue', resource: OWN_QUEUE }],
      ['the task queue', { action: 'sqs:ReceiveMessage', resource: queue('TasksQueue') }],
      [
        'the table',
        { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Ledger` },
      ],
      ['CreateTags', { action: 'ec2:CreateTags', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-1` }],
      [
        'another stack',
        {
          action: 'cloudformation:DescribeStacks',
          resource: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Other/11111111-0000-0000-0000-000000000000`,
        },
      ],
    ];
    const decisions: Record<string, Decision> = {};
    for (const [name, request] of denied) decisions[name] = await decide(agent, request);
    expect(decisions).toEqual(Object.fromEntries(denied.map(([name]) => [name, 'ImplicitlyDenied'])));
  });
});

describe('agents: refused combinations', () => {
  it('is refused with SSM dispatch (one instance, one way to run commands) and without dispatch', () => {
    expect(() =>
      synth({ dispatch: true, dispatchViaSsm: true, commandTemplates: SSM_TEMPLATES, agents: true }),
    ).toThrow(/agents: is refused with dispatchViaSsm/);
    expect(() => synth({ agents: true })).toThrow(/agents: needs dispatch/);
  });

  it('is off by default and read from -c agents=true', () => {
    const off = synth({ dispatch: true }).template();
    off.resourceCountIs('AWS::IAM::InstanceProfile', 0);
    expect(Object.keys(off.findOutputs('AgentQueuePrefix'))).toEqual([]);
    const context: Record<string, unknown> = { agents: 'true' };
    expect(propsFromContext((k) => context[k])).toEqual({ agents: true });
    expect(() => propsFromContext((k) => (k === 'agents' ? 'yes' : undefined))).toThrow(/agents/);
  });
});
