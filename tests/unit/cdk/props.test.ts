import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../../cdk/lib/context';
import { DEFAULTS } from '../../../cdk/lib/defaults';
import { resolveProps, validateProps } from '../../../cdk/lib/props';
import { ValidationError } from '../../../lib/errors';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { synth } from './helpers';

describe('props validation', () => {
  it('accepts the defaults', () => {
    expect(() => validateProps(resolveProps())).not.toThrow();
    expect(resolveProps()).toEqual(DEFAULTS);
  });

  it('reports every problem in one error naming each prop, before any resource is created', () => {
    const attempt = () =>
      synth({
        stage: 'Prod',
        alpha: 1.5,
        maxReceiveCount: 0,
        maxConcurrency: 1,
        batchSize: 50,
        maxBatchingWindowSeconds: 0,
        metricsPeriodSeconds: 90,
        algorithm: 'fastest',
        dimensions: [],
      });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(
      'invalid BlockchainScheduler props: ' +
        [
          'stage: must be 1-16 lower-case letters, digits or - (got "Prod")',
          `algorithm: must be one of ${algorithmNames().join(', ')} (got "fastest")`,
          'alpha: must be between 0 and 1 (got 1.5)',
          'dimensions: must be a non-empty list of lower-case identifiers (got [])',
          'metricsPeriodSeconds: must be a multiple of 60 from 60 to 86400 (got 90)',
          'maxReceiveCount: must be an integer from 1 to 1000 (got 0)',
          'batchSize: above 10 needs maxBatchingWindowSeconds of at least 1 (got batchSize 50, window 0)',
          'maxConcurrency: must be an integer from 2 to 1000 (got 1)',
        ].join('; '),
    );
  });

  it.each([
    [{ authMode: 'basic' as 'iam' }, 'authMode', `must be 'iam' or 'api-key' (got "basic")`],
    [{ tau: 0 }, 'tau', 'must be greater than 0 (got 0)'],
    [
      { schedulerTimeoutSeconds: 901 },
      'schedulerTimeoutSeconds',
      'must be an integer from 3 to 900 (got 901)',
    ],
    [{ blockSize: 2.5 }, 'blockSize', 'must be an integer from 1 to 1000 (got 2.5)'],
    [{ vmTagKey: '' }, 'vmTagKey', 'must be 1-128 characters'],
    [{ leaseSweepMinutes: 0 }, 'leaseSweepMinutes', 'must be an integer from 1 to 1440 (got 0)'],
  ])('refuses %o', (props, field, message) => {
    let error: unknown;
    try {
      validateProps(resolveProps(props));
    } catch (e) {
      error = e;
    }
    expect((error as ValidationError).issues).toEqual([{ field, message }]);
  });
});

describe('context', () => {
  it('converts -c strings to typed props', () => {
    const context: Record<string, unknown> = {
      stage: 'test',
      batchSize: '20',
      alpha: '0.5',
      cloudWatchRole: 'false',
      authMode: 'api-key',
      dimensions: 'cpu,mem,gpu',
      unrelated: 'ignored',
    };
    expect(propsFromContext((k) => context[k])).toEqual({
      stage: 'test',
      batchSize: 20,
      alpha: 0.5,
      cloudWatchRole: false,
      authMode: 'api-key',
      dimensions: ['cpu', 'mem', 'gpu'],
    });
  });

  it('lets a non-number through as NaN so that validation names it', () => {
    const props = propsFromContext((k) => (k === 'batchSize' ? 'ten' : undefined));
    expect(() => validateProps(resolveProps(props))).toThrow(
      'batchSize: must be an integer from 1 to 10000 (got NaN)',
    );
  });

  it('refuses a boolean flag that is not true or false', () => {
    expect(() => propsFromContext((k) => (k === 'cloudWatchRole' ? 'yes' : undefined))).toThrow(
      'invalid context: cloudWatchRole: must be true or false (got "yes")',
    );
  });
});
