import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One checkov finding accepted for a resource, with the reason a reviewer reads next to it. */
export interface CheckovSkip {
  /** The checkov check id, e.g. 'CKV_AWS_117'. */
  readonly id: string;
  readonly reason: string;
}

/**
 * Records accepted checkov findings in the resource's template metadata (`Metadata.checkov.skip`,
 * the form checkov reads from CloudFormation), next to the resource in code like cdk-nag's
 * acknowledgements. `scope` is the resource itself or a construct whose default child it is.
 * tests/unit/cdk/oracles.test.ts runs checkov on every synthesized variant and fails on any finding
 * that is not skipped here.
 */
export function skipCheckov(scope: IConstruct, ...skips: CheckovSkip[]): void {
  const resource = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`skipCheckov: ${scope.node.path} is not a CloudFormation resource`);
  }
  const existing = (resource.getMetadata('checkov') as { skip?: { id: string; comment: string }[] }) ?? {};
  const skip = [...(existing.skip ?? [])];
  for (const s of skips) {
    if (!skip.some((k) => k.id === s.id)) skip.push({ id: s.id, comment: s.reason });
  }
  resource.addMetadata('checkov', { skip });
}

/** The reasons shared by several resources, so that each is worded once. */
export const CHECKOV_REASONS = {
  sqsManagedEncryption:
    'Encrypted with SQS-managed keys (SqsManagedSseEnabled); CKV_AWS_27 recognises only KmsMasterKeyId. A customer key adds a key policy to keep in step with every producer and consumer for no gain in this threat model.',
  logsDefaultEncryption:
    "CloudWatch Logs encrypts every log group at rest with service keys; the logs hold task ids and errors, no secrets (docs/aws.md, threat model). A customer key is the operator's choice.",
} as const;
