import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileRequest, hostileRequests, judge } from '../../unit/fuzz/hostile';
import { type RawAnswer, sendRaw } from '../../unit/fuzz/raw-http';
import { eventually, postJson, type RunningServer, startServer, task } from '../helpers/server';

/**
 * Issue 5, "Bad input": a thousand malformed or hostile requests against one running local runtime.
 * Each must be refused with a 4xx naming the problem, and together they must leave the ledger and
 * the queue exactly as they were and the process answering.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

let server: RunningServer;
let algorithms: string[];
const now = Math.floor(Date.now() / 1000);

beforeAll(async () => {
  server = await startServer({ config: { fleet: { size: 2 }, seed: 5 } });
  algorithms = ((await (await fetch(`${server.url}/config`)).json()) as { algorithms: string[] }).algorithms;
  // A decided task, so the ledger under test is not empty and a resubmission has something to collide with.
  expect((await postJson(`${server.url}/tasks`, task('fz-seed'))).status).toBe(202);
  await eventually(async () => {
    const body = (await (await fetch(`${server.url}/tasks/fz-seed`)).json()) as { status?: string };
    return body.status === 'assigned' ? body : undefined;
  }, 'the seed task to be assigned');
  // The runtime trusts a measured depth for a moment; wait until it reports the queue drained.
  await eventually(async () => ((await queueDepth()) === 0 ? true : undefined), 'an empty queue');
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const exportText = async () => (await fetch(`${server.url}/ledger/export`)).text();

/** The queue depth the runtime reports in the first event of GET /events. */
async function queueDepth(): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/events`, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended before its snapshot');
      text += value;
      const data = /^event: snapshot\ndata: (.*)$/m.exec(text);
      if (data && text.includes('\n\n')) return (JSON.parse(data[1]!) as { queue_depth: number }).queue_depth;
    }
  } finally {
    controller.abort();
  }
}

/** Sends exactly the hostile bytes (tests/unit/fuzz/raw-http.ts says why not fetch). */
function send(request: HostileRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(server.url);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  return sendRaw(
    {
      host: hostname,
      port,
      method: request.method,
      path: request.path,
      headers: body ? { 'content-type': request.contentType, 'content-length': body.length } : {},
    },
    body,
    request.label,
    10_000,
  );
}

describe('hostile requests to the local API', () => {
  it(`refuses ${RUNS} of them with a 4xx naming the problem, and writes nothing`, async () => {
    const ledgerBefore = await exportText();
    const depthBefore = await queueDepth();
    expect(ledgerBefore).not.toBe('');
    let sent = 0;

    await fc.assert(
      fc.asyncProperty(hostileRequests(now, algorithms), async (request) => {
        sent++;
        const { status, body } = await send(request);
        const problems = judge(request, status, body);
        if (problems.length > 0) throw new Error(`${request.label}: ${problems.join('; ')}`);
      }),
      { numRuns: RUNS },
    );

    expect(sent).toBeGreaterThanOrEqual(RUNS);
    expect(await exportText()).toBe(ledgerBefore);
    expect(await queueDepth()).toBe(depthBefore);
    expect(server.process.exitCode).toBeNull();
    expect((await fetch(`${server.url}/config`)).status).toBe(200);
  });

  it('resubmitting a recorded task id with a different body is a 409 naming it: nothing queued, nothing written', async () => {
    const ledgerBefore = await exportText();
    const response = await postJson(`${server.url}/tasks`, task('fz-seed', { cpu: 999, duration: 5 }));
    // An id names one task: the same body again is a duplicate, a different body a conflict.
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: 'TaskConflictError', task_ids: ['fz-seed'] });
    expect(await exportText()).toBe(ledgerBefore);
    expect(await queueDepth()).toBe(0);
  });

  it('one id twice in a request with different bodies: 409, neither is queued', async () => {
    const ledgerBefore = await exportText();
    const response = await postJson(`${server.url}/tasks`, [
      task('fz-twin', { cpu: 1 }),
      task('fz-twin', { cpu: 2 }),
    ]);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ task_ids: ['fz-twin'] });
    expect((await fetch(`${server.url}/tasks/fz-twin`)).status).toBe(404);
    expect(await queueDepth()).toBe(0);
    expect(await exportText()).toBe(ledgerBefore);
  });
});
