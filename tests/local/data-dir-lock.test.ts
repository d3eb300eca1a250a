import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  postJson,
  type RunningServer,
  runCli,
  startServer,
  task,
  tempDir,
} from './helpers/server';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) if (server.process.exitCode === null) await server.stop();
});

async function start(dataDir: string): Promise<RunningServer> {
  const server = await startServer({ dataDir, config: { fleet: { size: 2 }, seed: 5 } });
  running.push(server);
  return server;
}

const decided = (url: string, id: string) =>
  eventually(async () => {
    const response = await fetch(`${url}/tasks/${id}`);
    const body = (await response.json()) as { status?: string };
    return body.status === 'assigned' || body.status === 'rejected' ? body : undefined;
  }, `a decision on ${id}`);

describe('one bcs start per data directory', () => {
  it('refuses a second start on the same data directory, naming the holder pid, and leaves the first running', async () => {
    const dir = await tempDir();
    const first = await start(dir);

    const second = await runCli(['start', '--data-dir', dir, '--port', '0']);

    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`in use by bcs start pid ${first.process.pid}`);
    expect(second.stderr).toContain('--data-dir');
    expect((await postJson(`${first.url}/tasks`, task('after-refusal'))).status).toBe(202);
    expect(await decided(first.url, 'after-refusal')).toMatchObject({ status: 'assigned' });
    await first.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken over after the holder is killed with SIGKILL, keeping every accepted task', async () => {
    const dir = await tempDir();
    const first = await start(dir);
    const ids = Array.from({ length: 40 }, (_, i) => `k-${i}`);
    expect(
      (
        await postJson(
          `${first.url}/tasks`,
          ids.map((id) => task(id, { io: 1, bw: 1 })),
        )
      ).status,
    ).toBe(202);
    first.process.kill('SIGKILL');
    await new Promise((resolve) => first.process.once('exit', resolve));

    const next = await start(dir);

    for (const id of ids) expect(await decided(next.url, id)).toMatchObject({ status: 'assigned' });
    const verify = (await (await fetch(`${next.url}/ledger/verify`, { method: 'POST' })).json()) as {
      valid: boolean;
    };
    expect(verify.valid).toBe(true);
    // And released on a clean stop: a start after it takes the directory at once.
    expect(await next.stop()).toBe(0);
    const third = await start(dir);
    expect((await fetch(`${third.url}/fleet`)).status).toBe(200);
    await third.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
