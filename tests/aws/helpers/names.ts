import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or earlier run against a long-lived emulator) has used, valid as a DynamoDB
 * table, SQS queue or tag value: `<prefix>-<base36 time>-<random hex>`.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
