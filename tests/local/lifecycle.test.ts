import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServer, tempDir } from './helpers/server';

describe('bcs start', () => {
  it('exits 2 naming the field for a bad configuration, and writes no database', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ fleet: { size: -2 }, algorithm: 'best-fit' }));
    const result = await runCli(['start', '--config', file], { PORT: '0', DATA_DIR: join(dir, 'data') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('fleet.size');

    const unknown = await runCli(['start', '--algorithm', 'fastest'], {
      PORT: '0',
      DATA_DIR: join(dir, 'data'),
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('algorithm');
    expect(existsSync(join(dir, 'data', 'ledger.db'))).toBe(false);
  });

  it('exits 2 when the port is taken, instead of hanging', async () => {
    const first = await startServer();
    try {
      const port = new URL(first.url).port;
      const result = await runCli(['start'], { PORT: port, DATA_DIR: await tempDir() });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('EADDRINUSE');
    } finally {
      await first.stop();
    }
  });

  it('stops with exit 0 on SIGINT while an event stream is open, and the chain is intact after', async () => {
    const server = await startServer();
    const abort = new AbortController();
    const events = await fetch(`${server.url}/events`, { signal: abort.signal });
    const reader = events.body!.getReader();
    await reader.read();
    server.process.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) =>
      server.process.once('exit', (c) => resolve(c)),
    );
    expect(code).toBe(0);
    abort.abort();
    const verify = await runCli(['ledger', 'verify', '--db', join(server.dataDir, 'ledger.db')]);
    expect(verify.code).toBe(0);
  });
});
