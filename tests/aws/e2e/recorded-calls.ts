import { readFile } from 'node:fs/promises';
import {
  type CloudFormationClient,
  DescribeStackResourcesCommand,
  type StackResource,
} from '@aws-sdk/client-cloudformation';
import type { RecordedCall } from '../../../lib/adapters/aws/call-recorder';
import {
  ACCOUNT,
  decide,
  keyPolicyOf,
  REGION,
  type Request,
  rolePrincipal,
  type TemplateJson,
  tableOf,
} from '../../unit/cdk/iam-model';

/**
 * IAM evaluated on the calls the functions really made: the deployed functions append every AWS call
 * to the emulator's call log (lib/adapters/aws/call-recorder.ts, turned on by tests/aws/setup/emulator.ts);
 * here each recorded request of one stack's functions is evaluated with the IAM policy simulator
 * (tests/unit/cdk/iam-model.ts) against that function's role in the synthesized template, with the
 * table's resource policy (and the KMS key's policy) as AWS would apply them.
 *
 * The recorded ARNs name the emulator's physical resources; they are mapped back to the template's
 * logical ids through the stack's resources, in the account and region the model uses.
 */

export interface Evaluation {
  /** Distinct IAM requests evaluated per function (logical id), e.g. `{ ApiReadFunction…: 12 }`. */
  readonly requests: Record<string, number>;
  /** Every request the simulator did not allow: `<function> <action> <resource> [keys]: <decision>`. */
  readonly denied: string[];
  /** The distinct actions evaluated per function. */
  readonly actions: Record<string, string[]>;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

export async function evaluateRecordedCalls(options: {
  callLog: string;
  stackName: string;
  templatePath: string;
  cloudFormation: CloudFormationClient;
  /** The tags of a resource the calls named (aws:ResourceTag/<key> in conditions), e.g. an instance's. */
  resourceTags?: (arn: string) => Promise<Record<string, string>>;
}): Promise<Evaluation> {
  const template = JSON.parse(await readFile(options.templatePath, 'utf8')) as TemplateJson;
  const resources: StackResource[] =
    (await options.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: options.stackName })))
      .StackResources ?? [];
  const logicalOf = new Map<string, string>();
  for (const r of resources) {
    if (!r.PhysicalResourceId || !r.LogicalResourceId) continue;
    // A queue's physical id is its URL; its ARN names it by the last path segment.
    const name =
      r.ResourceType === 'AWS::SQS::Queue' ? r.PhysicalResourceId.split('/').at(-1)! : r.PhysicalResourceId;
    logicalOf.set(name, r.LogicalResourceId);
  }
  const functions = new Map(
    resources
      .filter((r) => r.ResourceType === 'AWS::Lambda::Function')
      .map((r) => [r.PhysicalResourceId!, r.LogicalResourceId!]),
  );

  const table = tableOf(template);
  const tableId = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')![0];
  const toModel = (arn: string): string => {
    if (!arn.startsWith('arn:')) return arn;
    const [, partition, service, region, account, ...rest] = arn.split(':');
    const resource = rest
      .join(':')
      .split('/')
      .map((segment) => logicalOf.get(segment) ?? segment)
      .join('/');
    return [
      'arn',
      partition,
      service,
      region ? REGION : '',
      account ? ACCOUNT : '',
      logicalOf.get(resource) ?? resource,
    ].join(':');
  };

  const lines = (await readFile(options.callLog, 'utf8')).split('\n').filter(Boolean);
  const seen = new Set<string>();
  const requests: Record<string, number> = {};
  const actions: Record<string, Set<string>> = {};
  const denied: string[] = [];
  for (const line of lines) {
    const call = JSON.parse(line) as RecordedCall & { error?: string };
    const fn = functions.get(call.function);
    if (!fn) continue; // another stack's function (the call log is the whole emulator's)
    if (call.error) {
      denied.push(`${fn} ${call.action}: the recorder could not read the call (${call.error})`);
      continue;
    }
    const resource = toModel(call.resource);
    const key = JSON.stringify([fn, call.action, resource, call.leadingKeys, call.context]);
    if (seen.has(key)) continue;
    seen.add(key);
    requests[fn] = (requests[fn] ?? 0) + 1;
    const fnActions = actions[fn] ?? new Set<string>();
    fnActions.add(call.action);
    actions[fn] = fnActions;

    const roleId = (
      (template.Resources[fn] as Resource).Properties!.Role as { 'Fn::GetAtt': [string, string] }
    )['Fn::GetAtt'][0];
    const request: Request = {
      action: call.action,
      resource,
      ...(call.leadingKeys ? { leadingKeys: call.leadingKeys } : {}),
      ...(resource.includes(`:table/${tableId}`) && table.resourcePolicy
        ? { resourcePolicy: table.resourcePolicy }
        : {}),
      ...(call.action.startsWith('kms:') ? { resourcePolicy: keyPolicyFor(template, resource) } : {}),
      context: {
        ...(call.context as Record<string, string | string[]> | undefined),
        ...(await resourceTagContext(call.resource, options.resourceTags)),
      },
    };
    const decision = await decide(rolePrincipal(template, roleId), request);
    if (decision !== 'Allowed') {
      denied.push(
        `${fn} ${call.action} ${resource}${call.leadingKeys ? ` ${call.leadingKeys.join(',')}` : ''}: ${decision}`,
      );
    }
  }
  return {
    requests,
    denied,
    actions: Object.fromEntries(Object.entries(actions).map(([fn, set]) => [fn, [...set].sort()])),
  };
}

/** aws:ResourceTag/<key> of the (emulator's, physical) resource the call named. */
async function resourceTagContext(
  arn: string,
  resourceTags?: (arn: string) => Promise<Record<string, string>>,
): Promise<Record<string, string>> {
  if (!resourceTags || !arn.startsWith('arn:')) return {};
  const tags = await resourceTags(arn);
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

/** The key policy of the template's KMS key named by `arn` (…:key/<logical id>). */
function keyPolicyFor(template: TemplateJson, arn: string) {
  const id = arn.split('/').at(-1)!;
  return keyPolicyOf(template, id);
}
