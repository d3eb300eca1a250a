import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServer, tempDir } from './helpers/server';

const TOKEN = 'bind-auth-test-token';

describe('bcs start on a non-loopback address', () => {
  it('exits 2 naming --host and --token when no token is set, and writes nothing', async () => {
    const dir = await tempDir();
    const result = await runCli(['start', '--host', '0.0.0.0'], { PORT: '0', DATA_DIR: join(dir, 'data') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('host');
    expect(result.stderr).toContain('--token');
    expect(result.stderr).toContain('--insecure-no-auth');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('starts with a token, and writes need it', async () => {
    const server = await startServer({ args: ['--host', '0.0.0.0', '--token', TOKEN] });
    try {
      const url = server.url.replace('0.0.0.0', '127.0.0.1');
      const open = await fetch(`${url}/fleet/vms`, { method: 'POST', body: '{"count":1}' });
      expect(open.status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  it('starts without a token only with --insecure-no-auth, and says so', async () => {
    const server = await startServer({ args: ['--host', '0.0.0.0', '--insecure-no-auth'] });
    try {
      expect(server.stderr()).toContain('without a token');
    } finally {
      await server.stop();
    }
  });
});
