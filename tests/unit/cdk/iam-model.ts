import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';

/**
 * The synthesized template's IAM, made concrete for a policy simulator: every intrinsic
 * (Ref, Fn::GetAtt, Fn::Join) resolved to the name or ARN the resource would have in the test
 * account, so that @cloud-copilot/iam-simulate evaluates the policies exactly as written.
 */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

type Resource = { Type: string; Properties?: Record<string, unknown> };
export type TemplateJson = { Resources: Record<string, Resource> };
type PolicyDocument = { Version?: string; Statement: unknown[] };

/** ARN (GetAtt Arn) of a resource of the template, from its type and logical id. */
function arnOf(id: string, type: string): string {
  const arn = (service: string, resource: string, region = REGION) =>
    `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return arn('dynamodb', `table/${id}`);
    case 'AWS::SQS::Queue':
      return arn('sqs', id);
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    case 'AWS::KMS::Key':
      return arn('kms', `key/${id}`);
    case 'AWS::Logs::LogGroup':
      return arn('logs', `log-group:${id}:*`);
    case 'AWS::Events::EventBus':
      return arn('events', `event-bus/${id}`);
    case 'AWS::SNS::Topic':
      return arn('sns', id);
    case 'AWS::Lambda::Function':
      return arn('lambda', `function:${id}`);
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${id.toLowerCase()}`;
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${id}`);
    default:
      throw new Error(`no ARN model for ${type} (${id})`);
  }
}

/** Ref of a resource: the name CloudFormation returns (a queue's URL, a topic's ARN, else the id). */
function refOf(id: string, type: string): string {
  if (type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
  if (type === 'AWS::SNS::Topic' || type === 'AWS::StepFunctions::StateMachine') return arnOf(id, type);
  if (type === 'AWS::S3::Bucket') return id.toLowerCase();
  return id;
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Test/00000000-0000-0000-0000-000000000000`,
};

export function resolve(template: TemplateJson, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(template, v));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const type = (id: string) => {
    const r = template.Resources[id];
    if (!r) throw new Error(`unknown logical id ${id}`);
    return r.Type;
  };
  if ('Ref' in obj) {
    const name = obj.Ref as string;
    if (PSEUDO[name] !== undefined) return PSEUDO[name];
    // A stage's Ref is its name (execute-api ARNs hold it).
    if (type(name) === 'AWS::ApiGateway::Stage') return template.Resources[name]!.Properties!.StageName;
    return refOf(name, type(name));
  }
  if ('Fn::GetAtt' in obj) {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    if (attr === 'Arn') return arnOf(id, type(id));
    if (attr === 'StreamArn' && type(id) === 'AWS::DynamoDB::Table') {
      return `${arnOf(id, type(id))}/stream/2026-01-01T00:00:00.000`;
    }
    throw new Error(`no model for GetAtt ${id}.${attr}`);
  }
  if ('Fn::Join' in obj) {
    const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(template, p)).join(sep);
  }
  if ('Fn::Split' in obj) {
    const [sep, source] = obj['Fn::Split'] as [string, unknown];
    return String(resolve(template, source)).split(sep);
  }
  if ('Fn::Select' in obj) {
    const [index, list] = obj['Fn::Select'] as [number | string, unknown];
    return (resolve(template, list) as unknown[])[Number(index)];
  }
  const key = Object.keys(obj).find((k) => k.startsWith('Fn::'));
  if (key) throw new Error(`no model for ${key}`);
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(template, v)]));
}

export interface Principal {
  readonly roleId: string;
  readonly arn: string;
  readonly policies: { name: string; policy: PolicyDocument }[];
}

/** The role (and every policy attached to it) of the Lambda function with that description prefix. */
export function functionPrincipal(template: TemplateJson, description: string): Principal {
  const fns = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).startsWith(description),
  );
  if (fns.length !== 1) throw new Error(`expected one function "${description}", found ${fns.length}`);
  const roleId = (fns[0]!.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return rolePrincipal(template, roleId);
}

export function rolePrincipal(template: TemplateJson, roleId: string): Principal {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
  if (role.Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies: not modelled`);
  const policies = Object.entries(template.Resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties!.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .map(([id, r]) => ({
      name: id,
      policy: resolve(template, r.Properties!.PolicyDocument) as PolicyDocument,
    }));
  return { roleId, arn: arnOf(roleId, 'AWS::IAM::Role'), policies };
}

/** A principal of the account whose identity policy allows every DynamoDB action (an administrator). */
export function adminPrincipal(): Principal {
  return {
    roleId: 'Administrator',
    arn: `arn:aws:iam::${ACCOUNT}:role/Administrator`,
    policies: [
      {
        name: 'AdministratorAccess',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      },
    ],
  };
}

export function tableOf(template: TemplateJson): { arn: string; resourcePolicy?: PolicyDocument } {
  const tables = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`expected one table, found ${tables.length}`);
  const [id, table] = tables[0]!;
  const rp = table.Properties?.ResourcePolicy as { PolicyDocument: unknown } | undefined;
  return {
    arn: arnOf(id, 'AWS::DynamoDB::Table'),
    ...(rp ? { resourcePolicy: resolve(template, rp.PolicyDocument) as PolicyDocument } : {}),
  };
}

/** The key policy of the one KMS key whose logical id starts with `logicalIdPrefix`. */
export function keyPolicyOf(template: TemplateJson, logicalIdPrefix: string): PolicyDocument {
  const keys = Object.entries(template.Resources).filter(
    ([id, r]) => id.startsWith(logicalIdPrefix) && r.Type === 'AWS::KMS::Key',
  );
  if (keys.length !== 1) throw new Error(`expected one key ${logicalIdPrefix}*, found ${keys.length}`);
  return resolve(template, keys[0]![1].Properties!.KeyPolicy) as PolicyDocument;
}

/** The bucket policy of the one bucket whose logical id starts with `logicalIdPrefix` (none: undefined). */
export function bucketPolicyOf(template: TemplateJson, logicalIdPrefix: string): PolicyDocument | undefined {
  const policies = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::S3::BucketPolicy' &&
      String((r.Properties?.Bucket as { Ref?: string } | undefined)?.Ref).startsWith(logicalIdPrefix),
  );
  if (policies.length > 1)
    throw new Error(`expected at most one policy of ${logicalIdPrefix}*, found ${policies.length}`);
  return policies[0]
    ? (resolve(template, policies[0].Properties!.PolicyDocument) as PolicyDocument)
    : undefined;
}

/** ARN of the one resource of `type` whose logical id starts with `logicalIdPrefix`. */
export function arnOfResource(template: TemplateJson, logicalIdPrefix: string, type: string): string {
  const ids = Object.keys(template.Resources).filter(
    (id) => id.startsWith(logicalIdPrefix) && template.Resources[id]!.Type === type,
  );
  if (ids.length !== 1) throw new Error(`expected one resource ${logicalIdPrefix}*, found ${ids.length}`);
  return arnOf(ids[0]!, template.Resources[ids[0]!]!.Type);
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Request {
  readonly action: string;
  readonly resource: string;
  /** dynamodb:LeadingKeys of the request (the partition keys it touches). */
  readonly leadingKeys?: readonly string[];
  /** The resource's own policy (the table's, the key's), evaluated with the identity policies. */
  readonly resourcePolicy?: PolicyDocument;
  readonly context?: Record<string, string | string[]>;
}

/** The simulator's decision for `principal` making `request`; a simulator error throws. */
export async function decide(principal: Principal, request: Request): Promise<Decision> {
  const simulation: Simulation = {
    identityPolicies: principal.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: {
        'aws:PrincipalArn': principal.arn,
        'aws:PrincipalAccount': ACCOUNT,
        ...(request.leadingKeys ? { 'dynamodb:LeadingKeys': [...request.leadingKeys] } : {}),
        ...request.context,
      },
    },
  } as Simulation;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`simulation of ${request.action} failed: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}
