import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../cdk/lib/defaults';
import { resolveProps, validateProps } from '../../../cdk/lib/props';
import { readEnv, schedulerEnvSchema } from '../../../functions/shared/config';
import {
  DEFAULT_SETTINGS,
  SETTING_NAMES,
  type SettingName,
  type SurfaceNames,
  settingsSchema,
} from '../../../lib/engine/settings';
import { ValidationError } from '../../../lib/errors';
import { resolveParams } from '../../../lib/scheduling/params';
import { runtimeConfigSchema } from '../../../lib/schemas/config';

const SETTINGS = Object.keys(settingsSchema.shape) as SettingName[];

/** The environment a stack sets at the least (ALGORITHM has no default there: the stack always sets it). */
const ENV = {
  TABLE_NAME: 'ledger',
  ALGORITHM: 'blockchain',
  VM_TAG_KEY: 'bcs:pool',
  VM_TAG_VALUE: 'workers',
};

const at = (value: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

/** How each surface reads a value set under its own name, and what it holds with nothing set. */
const surfaces: Record<
  keyof typeof SETTING_NAMES,
  {
    defaults: () => unknown;
    set: (name: string, value: unknown) => () => unknown;
    field: (i: ValidationError) => string[];
  }
> = {
  environment: {
    defaults: () => readEnv(schedulerEnvSchema, ENV),
    set: (name, value) => () =>
      readEnv(schedulerEnvSchema, { ...ENV, [name]: Array.isArray(value) ? value.join(',') : String(value) }),
    field: (e) => e.issues.map((i) => i.field),
  },
  cdk: {
    defaults: () => resolveProps(),
    set: (name, value) => () => validateProps(resolveProps({ [name]: value })),
    field: (e) => e.issues.map((i) => i.field),
  },
  localConfig: {
    defaults: () => runtimeConfigSchema.parse({}),
    set: (name, value) => () => {
      const [head, ...rest] = name.split('.');
      runtimeConfigSchema.parse({ [head!]: rest.length > 0 ? { [rest.join('.')]: value } : value });
    },
    field: (e) => e.issues.map((i) => i.field),
  },
};

/** A value outside the core's bounds for each setting, and one every surface accepts. */
const OUT_OF_BOUNDS: Record<SettingName, unknown> = {
  algorithm: '',
  alpha: -1,
  beta: -1,
  tau: 0,
  historyWindow: 0,
  dimensions: ['Cpu'],
  blockSize: 0,
  leaseGraceSeconds: -1,
  maxWaitSeconds: -1,
};

function thrown(attempt: () => unknown): ValidationError {
  try {
    attempt();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    // zod's own error (runtimeConfigSchema.parse): the same fields, as paths.
    const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    if (issues)
      return new ValidationError(issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
    throw e;
  }
  throw new Error('accepted');
}

describe('one settings schema, mapped by every surface', () => {
  it.each(Object.keys(SETTING_NAMES) as (keyof typeof SETTING_NAMES)[])(
    '%s names every setting, or says why not',
    (surface) => {
      const names: SurfaceNames = SETTING_NAMES[surface];
      expect(Object.keys(names).sort()).toEqual([...SETTINGS].sort());
      for (const name of Object.values(names)) {
        if (typeof name !== 'string') expect(name.absent.length).toBeGreaterThan(10);
      }
    },
  );

  it.each(Object.keys(SETTING_NAMES) as (keyof typeof SETTING_NAMES)[])(
    '%s defaults every setting to the schema default',
    (surface) => {
      const defaults = surfaces[surface].defaults();
      for (const setting of SETTINGS) {
        const name = SETTING_NAMES[surface][setting];
        let value = at(defaults, name);
        // The local file leaves the algorithm parameters out; the engine fills them (resolveParams).
        if (value === undefined && name.startsWith('params.')) value = at(resolveParams({}), name.slice(7));
        expect([setting, value]).toEqual([setting, DEFAULT_SETTINGS[setting]]);
      }
    },
  );

  it.each(Object.keys(SETTING_NAMES) as (keyof typeof SETTING_NAMES)[])(
    '%s refuses a value outside the core bounds, naming its own field',
    (surface) => {
      for (const setting of SETTINGS) {
        const name = SETTING_NAMES[surface][setting];
        const error = thrown(surfaces[surface].set(name, OUT_OF_BOUNDS[setting]));
        const fields = surfaces[surface]
          .field(error)
          .map((f) => f.split('.').slice(0, name.split('.').length).join('.'));
        expect([setting, fields]).toEqual([setting, expect.arrayContaining([name])]);
      }
    },
  );

  it('CDK holds the core bounds beyond its own (duplicate dimensions), naming the prop once', () => {
    const error = thrown(() => validateProps(resolveProps({ dimensions: ['cpu', 'cpu'] })));
    expect(error.issues).toEqual([{ field: 'dimensions', message: 'dimensions must be unique' }]);
    const both = thrown(() => validateProps(resolveProps({ blockSize: 0 })));
    expect(both.issues.filter((i) => i.field === 'blockSize')).toHaveLength(1);
  });

  it('the stack defaults are the settings defaults', () => {
    for (const setting of SETTINGS) expect(DEFAULTS[setting]).toEqual(DEFAULT_SETTINGS[setting]);
  });
});
