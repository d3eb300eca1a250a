import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { ValidationError } from '../../../lib/errors';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bcs-local-key-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('LocalKeySigner', () => {
  it('creates a P-256 key file readable by its owner only, and reopens the same key', async () => {
    const path = join(dir, 'digest-key.pem');
    const first = await LocalKeySigner.open(path);
    expect(first.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const again = await LocalKeySigner.open(path);
    expect(again.created).toBe(false);
    expect(await again.keyId()).toBe(await first.keyId());
    expect(await again.keyId()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await again.publicKeyPem()).toBe(await first.publicKeyPem());
  });

  it('two processes starting at once end up with one key', async () => {
    const path = join(dir, 'digest-key.pem');
    const signers = await Promise.all([1, 2, 3, 4].map(() => LocalKeySigner.open(path)));
    const ids = new Set(await Promise.all(signers.map((s) => s.keyId())));
    expect(ids.size).toBe(1);
    expect(signers.filter((s) => s.created)).toHaveLength(1);
  });

  it.each([0o640, 0o604, 0o644])(
    'refuses a key file with mode %o, without printing the key',
    async (mode) => {
      const path = join(dir, 'digest-key.pem');
      await LocalKeySigner.open(path);
      await chmod(path, mode);
      const pem = await readFile(path, 'utf8');
      const error = await LocalKeySigner.open(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]).toMatchObject({ field: 'keyFile' });
      expect(String((error as Error).message)).toContain('chmod 600');
      expect(String((error as Error).message)).not.toContain(pem.split('\n')[1]!);
    },
  );

  it.each([
    ['not PEM', 'hello\n', /is not a PEM private key/],
    [
      'an RSA key',
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      /EC P-256/,
    ],
  ])('refuses a key file holding %s, naming the path only', async (_what, content, message) => {
    const path = join(dir, 'digest-key.pem');
    await writeFile(path, content, { mode: 0o600 });
    const error = (await LocalKeySigner.open(path).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(path);
    expect(error.message).not.toContain(content.split('\n')[1] || content.trim());
  });
});
