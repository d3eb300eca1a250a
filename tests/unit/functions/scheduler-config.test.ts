import { describe, expect, it } from 'vitest';
import { readEnv, schedulerFunctionEnvSchema } from '../../../functions/shared/config';
import { ValidationError } from '../../../lib/errors';

const base = {
  TABLE_NAME: 'ledger',
  ALGORITHM: 'best-fit',
  VM_TAG_KEY: 'bcs:pool',
  VM_TAG_VALUE: 'workers',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks-dlq',
  MAX_RECEIVE_COUNT: '3',
  EXHAUSTED_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:tasks-exhausted',
};

describe('scheduler function configuration', () => {
  it('reads the DLQ URL and maxReceiveCount', () => {
    expect(readEnv(schedulerFunctionEnvSchema, base)).toMatchObject({
      DEAD_LETTER_QUEUE_URL: base.DEAD_LETTER_QUEUE_URL,
      MAX_RECEIVE_COUNT: 3,
    });
  });

  it.each([
    [{ DEAD_LETTER_QUEUE_URL: undefined }, 'DEAD_LETTER_QUEUE_URL'],
    [{ DEAD_LETTER_QUEUE_URL: 'tasks-dlq' }, 'DEAD_LETTER_QUEUE_URL'],
    [{ MAX_RECEIVE_COUNT: undefined }, 'MAX_RECEIVE_COUNT'],
    [{ MAX_RECEIVE_COUNT: '0' }, 'MAX_RECEIVE_COUNT'],
    [{ MAX_RECEIVE_COUNT: '2.5' }, 'MAX_RECEIVE_COUNT'],
    [{ EXHAUSTED_QUEUE_ARN: undefined }, 'EXHAUSTED_QUEUE_ARN'],
    [{ EXHAUSTED_QUEUE_ARN: 'https://sqs.eu-west-1.amazonaws.com/123456789012/x' }, 'EXHAUSTED_QUEUE_ARN'],
  ])('refuses %o naming %s', (override, field) => {
    const error = (() => {
      try {
        readEnv(schedulerFunctionEnvSchema, { ...base, ...override });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual([field]);
  });
});
