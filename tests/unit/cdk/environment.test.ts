import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { DEFAULTS } from '../../../cdk/lib/defaults';
import {
  enqueueEnvSchema,
  readEnv,
  schedulerEnvSchema,
  schedulerFunctionEnvSchema,
  tableEnvSchema,
} from '../../../functions/shared/config';
import { DESCRIPTIONS, functionId, synth } from './helpers';

/**
 * The stack and the functions agree on configuration: the environment the template gives each
 * function passes that function's own schema (functions/shared/config.ts), so a renamed or missing
 * variable fails here instead of at the first cold start.
 */

let template: Template;
beforeAll(() => {
  template = synth({ dimensions: ['cpu', 'mem', 'gpu'], blockSize: 7, algorithm: 'urgency' }).template();
}, 120_000);

/** Values CloudFormation fills in at deploy time (Ref, GetAtt) become plausible literals. */
function environmentOf(description: string): Record<string, string> {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(template, description)]!;
  const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [
      k,
      typeof v === 'string'
        ? v
        : k.endsWith('QUEUE_URL')
          ? 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks'
          : k.endsWith('QUEUE_ARN')
            ? 'arn:aws:sqs:eu-west-1:123456789012:tasks-exhausted'
            : `resolved-${k}`,
    ]),
  );
}

describe.each([
  ['scheduler', DESCRIPTIONS.scheduler, schedulerFunctionEnvSchema],
  ['expire', DESCRIPTIONS.expire, schedulerEnvSchema],
  ['api', DESCRIPTIONS.read, schedulerEnvSchema],
  ['verify', DESCRIPTIONS.verify, tableEnvSchema],
  ['enqueue', DESCRIPTIONS.enqueue, enqueueEnvSchema],
] as [string, string, z.ZodType][])('the %s function', (_name, description, schema) => {
  it('gets every setting its configuration schema requires', () => {
    expect(() => readEnv(schema, environmentOf(description))).not.toThrow();
  });
});

it('passes the deployment settings through unchanged', () => {
  const env = readEnv(schedulerFunctionEnvSchema, environmentOf(DESCRIPTIONS.scheduler));
  expect(env).toMatchObject({
    DIMENSIONS: ['cpu', 'mem', 'gpu'],
    BLOCK_SIZE: 7,
    ALGORITHM: 'urgency',
    LEASE_INDEX_NAME: 'open-leases',
    MAX_RECEIVE_COUNT: DEFAULTS.maxReceiveCount,
  });
  expect(readEnv(enqueueEnvSchema, environmentOf(DESCRIPTIONS.enqueue)).DIMENSIONS).toEqual([
    'cpu',
    'mem',
    'gpu',
  ]);
});
