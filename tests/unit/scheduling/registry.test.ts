import { describe, expect, it } from 'vitest';
import { SchedulerError, ValidationError } from '../../../lib/errors';
import { UnknownAlgorithmError } from '../../../lib/scheduling/errors';
import { resolveParams } from '../../../lib/scheduling/params';
import {
  ALGORITHMS,
  algorithmNames,
  createAlgorithm,
  isAlgorithmName,
} from '../../../lib/scheduling/registry';
import { DEFAULT_PARAMS } from '../../../lib/scheduling/types';

describe('the algorithm registry', () => {
  it('holds the ten algorithms by name', () => {
    expect(algorithmNames().sort()).toEqual(
      [
        'best-fit',
        'blockchain',
        'least-connections',
        'least-loaded',
        'p2c',
        'random',
        'fgd',
        'resource-based',
        'round-robin',
        'urgency',
      ].sort(),
    );
  });

  it.each(algorithmNames())('builds %s under its own name, a fresh instance each time', (name) => {
    const first = createAlgorithm(name);
    expect(first.name).toBe(name);
    expect(createAlgorithm(name)).not.toBe(first);
  });

  it.each(['fastest', '', 'toString', '__proto__', 'constructor', 'Blockchain'])(
    'refuses %j, listing the valid names',
    (name) => {
      let error: unknown;
      try {
        createAlgorithm(name);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnknownAlgorithmError);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toBeInstanceOf(SchedulerError);
      const unknown = error as UnknownAlgorithmError;
      expect(unknown.algorithm).toBe(name);
      expect(unknown.validNames).toEqual(algorithmNames());
      expect(unknown.issues).toEqual([
        {
          field: 'algorithm',
          message: `unknown algorithm "${name}"; expected one of: ${algorithmNames().join(', ')}`,
        },
      ]);
      expect(isAlgorithmName(name)).toBe(false);
    },
  );

  it('is a plain map with no inherited entries', () => {
    expect(Object.getPrototypeOf(ALGORITHMS)).toBe(Object.prototype);
    expect(Object.keys(ALGORITHMS)).toEqual(algorithmNames());
  });
});

describe('algorithm parameters', () => {
  it('fills in the defaults', () => {
    expect(resolveParams()).toEqual(DEFAULT_PARAMS);
    expect(resolveParams({ tau: 2 })).toEqual({ ...DEFAULT_PARAMS, tau: 2 });
  });

  it.each([
    { params: { alpha: -0.1 }, field: 'params.alpha' },
    { params: { beta: Number.NaN }, field: 'params.beta' },
    { params: { tau: 0 }, field: 'params.tau' },
    { params: { tau: 1e-12 }, field: 'params.tau' },
    { params: { historyWindow: 0 }, field: 'params.historyWindow' },
    { params: { historyWindow: 2.5 }, field: 'params.historyWindow' },
    { params: { weights: { cpu: -1 } }, field: 'params.weights.cpu' },
    { params: { gamma: 1 } as never, field: 'params' },
  ])('refuses $params, naming $field', ({ params, field }) => {
    let error: unknown;
    try {
      createAlgorithm('blockchain', params);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toContain(field);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => createAlgorithm('p2c', {}, 1.5)).toThrow('seed: must be an integer');
  });
});
