import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postJson, type RunningServer, startServer, task } from './helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ config: { fleet: { size: 4 }, seed: 3 } });
});
afterAll(async () => {
  await server.stop();
});

async function decided(ids: string[]): Promise<number> {
  expect(
    (
      await postJson(
        `${server.url}/tasks`,
        ids.map((id) => task(id)),
      )
    ).status,
  ).toBe(202);
  return eventually(
    async () => {
      for (const id of ids) {
        const body = (await (await fetch(`${server.url}/tasks/${id}`)).json()) as { status?: string };
        if (body.status === 'queued' || body.status === undefined) return undefined;
      }
      const digest = (await (await fetch(`${server.url}/ledger/digest`)).json()) as { height: number };
      return digest.height;
    },
    `decisions on ${ids.join(', ')}`,
  );
}

async function verify(query = '') {
  const response = await fetch(`${server.url}/ledger/verify${query}`, { method: 'POST' });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /ledger/verify', { timeout: 120_000 }, () => {
  it('checks the whole chain first, then only the blocks committed since; ?full=1 checks everything again', async () => {
    const first = await decided(['v-1', 'v-2', 'v-3']);
    const full = await verify();
    expect(full.body).toMatchObject({ valid: true, problem: null });
    const fullHeight = full.body.height as number;
    expect(fullHeight).toBeGreaterThanOrEqual(first);
    expect(full.body.blocks_checked).toBe(fullHeight + 1);

    const second = await decided(['v-4', 'v-5']);
    const since = await verify();
    expect(since.body).toMatchObject({ valid: true, height: second, problem: null });
    // Only the blocks after the first run's head were read.
    expect(since.body.blocks_checked).toBe(second - fullHeight);
    const digest = (await (await fetch(`${server.url}/ledger/digest`)).json()) as { head_hash: string };
    expect(since.body.head_hash).toBe(digest.head_hash);

    const again = await verify('?full=1');
    expect(again.body).toMatchObject({ valid: true, blocks_checked: (again.body.height as number) + 1 });
    const bad = await verify('?full=maybe');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/full/);
  });
});
