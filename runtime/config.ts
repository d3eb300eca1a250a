import { readFile } from 'node:fs/promises';
import { ValidationError } from '../lib/errors';
import { type RuntimeConfig, runtimeConfigSchema } from '../lib/schemas/config';

/** Settings given on the command line; each overrides the file and the environment. */
export interface ConfigOverrides {
  [key: string]: unknown;
}

/** The environment variables the runtime reads, and the config field each sets. */
const ENVIRONMENT: Record<string, { field: string; numeric: boolean }> = {
  HOST: { field: 'host', numeric: false },
  PORT: { field: 'port', numeric: true },
  DATA_DIR: { field: 'data_dir', numeric: false },
  BCS_TOKEN: { field: 'token', numeric: false },
};

/**
 * Builds the runtime configuration: defaults, then the JSON file, then the environment, then
 * flags. Every layer is validated by one schema, so errors name the field whichever layer set it.
 */
export async function loadConfig(options: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
}): Promise<RuntimeConfig> {
  const fromFile = options.file === undefined ? {} : await readConfigFile(options.file);
  const fromEnv = environmentLayer(options.env ?? {});
  const merged = deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {});
  const result = runtimeConfigSchema.safeParse(merged);
  if (!result.success) throw ValidationError.fromZod(result.error, 'invalid configuration');
  return result.data;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(
      [{ field: '', message: `cannot read ${path}: ${(error as Error).message}` }],
      'config file',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      [{ field: '', message: `${path} is not JSON: ${(error as Error).message}` }],
      'config file',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError([{ field: '', message: `${path} must hold a JSON object` }], 'config file');
  }
  return value as Record<string, unknown>;
}

function environmentLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [name, { field, numeric }] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (numeric && !/^\d+$/.test(raw)) {
      throw new ValidationError(
        [{ field: name, message: `must be a non-negative integer, got "${raw}"` }],
        'environment',
      );
    }
    layer[field] = numeric ? Number(raw) : raw;
  }
  return layer;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; anything else (arrays included) is replaced; undefined leaves the base. */
function deepMerge(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}
