import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../../cdk/lib/context';
import { resolveProps, validateProps } from '../../../cdk/lib/props';
import { enqueueEnvSchema, readEnv, schedulerFunctionEnvSchema } from '../../../functions/shared/config';
import type { ValidationError } from '../../../lib/errors';
import { DESCRIPTIONS, functionId, synth } from './helpers';

/** maxWaitSeconds and tasksPerMessage reach the functions that read them, and only valid values do. */

function variables(template: Template, description: string): Record<string, unknown> {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(template, description)]!;
  return fn.Properties.Environment.Variables as Record<string, unknown>;
}

describe('stack props maxWaitSeconds and tasksPerMessage', () => {
  it('set MAX_WAIT_SECONDS on the scheduler and TASKS_PER_MESSAGE on the enqueue function', () => {
    const template = synth({ maxWaitSeconds: 120, tasksPerMessage: 7 }).template();
    const scheduler = variables(template, DESCRIPTIONS.scheduler);
    const enqueue = variables(template, DESCRIPTIONS.enqueue);
    expect(scheduler.MAX_WAIT_SECONDS).toBe('120');
    expect(enqueue.TASKS_PER_MESSAGE).toBe('7');
    // The values are read back by the functions' own schemas as the numbers given.
    const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks';
    expect(
      readEnv(enqueueEnvSchema, {
        ...enqueue,
        QUEUE_URL: queueUrl,
        TABLE_NAME: 'ledger',
      } as NodeJS.ProcessEnv).TASKS_PER_MESSAGE,
    ).toBe(7);
    const schedulerEnv = Object.fromEntries(
      Object.entries(scheduler).map(([k, v]) => [
        k,
        typeof v === 'string'
          ? v
          : k.endsWith('QUEUE_URL')
            ? queueUrl
            : k.endsWith('QUEUE_ARN')
              ? 'arn:aws:sqs:eu-west-1:123456789012:tasks-exhausted'
              : `resolved-${k}`,
      ]),
    );
    expect(readEnv(schedulerFunctionEnvSchema, schedulerEnv).MAX_WAIT_SECONDS).toBe(120);
  }, 120_000);

  it('default to the engine and sender defaults', () => {
    expect(resolveProps()).toMatchObject({ maxWaitSeconds: 900, tasksPerMessage: 25 });
  });

  it.each([
    [{ maxWaitSeconds: -1 }, 'maxWaitSeconds', 'must be from 0 to 86400 (got -1)'],
    [{ maxWaitSeconds: Number.NaN }, 'maxWaitSeconds', 'must be from 0 to 86400 (got NaN)'],
    [{ tasksPerMessage: 0 }, 'tasksPerMessage', 'must be an integer from 1 to 100 (got 0)'],
    [{ tasksPerMessage: 101 }, 'tasksPerMessage', 'must be an integer from 1 to 100 (got 101)'],
    [{ tasksPerMessage: 2.5 }, 'tasksPerMessage', 'must be an integer from 1 to 100 (got 2.5)'],
  ])('refuse %o', (props, field, message) => {
    let error: unknown;
    try {
      validateProps(resolveProps(props));
    } catch (e) {
      error = e;
    }
    expect((error as ValidationError).issues).toEqual([{ field, message }]);
  });

  it('can be given as context', () => {
    const context: Record<string, string> = { maxWaitSeconds: '30', tasksPerMessage: '1' };
    expect(propsFromContext((k) => context[k])).toEqual({ maxWaitSeconds: 30, tasksPerMessage: 1 });
  });
});
