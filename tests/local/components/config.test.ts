import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { loadConfig } from '../../../runtime/config';
import { tempDir } from '../helpers/server';

async function configFile(content: unknown): Promise<string> {
  const path = join(await tempDir('bcs-config-'), 'bcs.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function fields(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((i) => i.field).sort();
  }
  throw new Error('expected a ValidationError');
}

describe('loadConfig', () => {
  it('fills defaults', async () => {
    const config = await loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      data_dir: './data',
      algorithm: 'blockchain',
      block_size: 5,
      batch_size: 500,
      fleet: { size: 8, speed: 1 },
    });
    expect(config.token).toBeUndefined();
  });

  it('layers file < environment < flags, merging nested objects', async () => {
    const file = await configFile({ port: 1000, fleet: { size: 3, speed: 5 }, algorithm: 'p2c' });
    const config = await loadConfig({
      file,
      env: { PORT: '2000', DATA_DIR: '/tmp/x', BCS_TOKEN: 'token-123456' },
      overrides: { port: 3000, fleet: { size: undefined, speed: 7 } },
    });
    expect(config).toMatchObject({ port: 3000, data_dir: '/tmp/x', token: 'token-123456', algorithm: 'p2c' });
    expect(config.fleet).toMatchObject({ size: 3, speed: 7 });
  });

  it('names every bad field of the file', async () => {
    const file = await configFile({ fleet: { size: -1, colour: 'red' }, block_size: 0, params: { tau: 0 } });
    expect(await fields(loadConfig({ file }))).toEqual(['block_size', 'fleet', 'fleet.size', 'params.tau']);
  });

  it('names the environment variable that is not a number', async () => {
    expect(await fields(loadConfig({ env: { PORT: '80a' } }))).toEqual(['PORT']);
  });

  it('refuses a file that is missing, not JSON, or not an object', async () => {
    await expect(loadConfig({ file: '/nonexistent/bcs.json' })).rejects.toThrow(/cannot read/);
    await expect(loadConfig({ file: await configFile('{port:') })).rejects.toThrow(/not JSON/);
    await expect(loadConfig({ file: await configFile([1]) })).rejects.toThrow(/JSON object/);
  });
});
