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

async function verify(body?: unknown) {
  const response = await fetch(`${server.url}/ledger/verify`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /ledger/verify', { timeout: 120_000 }, () => {
  it('checks the whole chain first, then only the blocks committed since; {"full": true} re-audits everything in the background', async () => {
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

    const started = await verify({ full: true });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'running', report: null });
    const jobId = started.body.job_id as string;
    const head = started.body.head as { height: number; hash: string };
    const done = await eventually(async () => {
      const job = (await (await fetch(`${server.url}/ledger/verify/${jobId}`)).json()) as Record<
        string,
        unknown
      >;
      return job.state === 'running' ? undefined : job;
    }, `audit job ${jobId}`);
    expect(done).toMatchObject({
      state: 'done',
      report: { valid: true, height: head.height, head_hash: head.hash, blocks_checked: head.height + 1 },
      digest: { height: head.height, head_hash: head.hash },
    });
    expect((await fetch(`${server.url}/ledger/verify/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9`)).status).toBe(
      404,
    );
    const bad = await verify({ full: 'maybe' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/full/);
  });
});
