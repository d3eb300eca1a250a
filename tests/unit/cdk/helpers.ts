import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { BlockchainSchedulerProps } from '../../../cdk/lib/props';
import { SchedulerStack } from '../../../cdk/lib/scheduler-stack';

/**
 * Synthesises the stack without bundling the functions (esbuild is exercised by `cdk synth` and the
 * end-to-end test; here only the template matters). With `nag`, the AwsSolutions pack and CDK's
 * built-in CloudFormation validation both run; template assertions skip them, they cost seconds.
 */
export function synth(props: BlockchainSchedulerProps = {}, options: { nag?: boolean } = {}) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: options.nag === true,
  });
  const stack = new SchedulerStack(app, 'Test', {
    scheduler: props,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: () => Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, unknown> };
export type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** The function whose Description starts with `description`, by logical id. */
export function functionId(template: Template, description: string): string {
  const fns = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
  const ids = Object.entries(fns)
    .filter(([, r]) => String(r.Properties.Description).startsWith(description))
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`expected one function described "${description}", found ${ids.length}`);
  return ids[0]!;
}

/** Every IAM statement attached to the execution role of the function with that description. */
export function statementsOf(template: Template, description: string): Statement[] {
  const fn = (template.findResources('AWS::Lambda::Function') as Record<string, Resource>)[
    functionId(template, description)
  ]!;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = (template.findResources('AWS::IAM::Role') as Record<string, Resource>)[roleId]!;
  if (role.Properties.ManagedPolicyArns !== undefined) {
    throw new Error(
      `role ${roleId} has managed policies: ${JSON.stringify(role.Properties.ManagedPolicyArns)}`,
    );
  }
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy') as Record<string, Resource>,
  ).filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId));
  return policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

export const DESCRIPTIONS = {
  scheduler: 'Places queued tasks',
  enqueue: 'Validates task submissions',
  read: 'Task and ledger reads',
  verify: 'Verifies the ledger',
  expire: 'Expires the leases',
  publishLog: 'Publishes the ledger as a tiled transparency log',
} as const;

/** The allow-list of command templates the SSM-dispatch variants are synthesized with. */
export const SSM_TEMPLATES = {
  train: { run: ['/opt/app/train.sh', '--quiet'], argumentPattern: '--epochs=[0-9]{1,4}', maxArguments: 1 },
  report: { run: ['/usr/bin/df', '-h'] },
};
