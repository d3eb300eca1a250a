import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonl } from '../../lib/ledger/jsonl';
import { verifyTransactionProof } from '../../lib/ledger/proofs';
import type { Block, TransactionProof } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import { eventually, postJson, type RunningServer, startServer, task } from './helpers/server';

let server: RunningServer;
let url: string;

beforeAll(async () => {
  server = await startServer({ config: { fleet: { size: 4 }, max_body_bytes: 64 * 1024, seed: 7 } });
  url = server.url;
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const getJson = async (path: string) => {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const exportText = async () => (await fetch(`${url}/ledger/export`)).text();
const decided = (id: string) =>
  eventually(async () => {
    const { body } = await getJson(`/tasks/${id}`);
    return body.status !== 'queued' && body.status !== undefined ? body : undefined;
  }, `a decision on ${id}`);

describe('POST /tasks validation', () => {
  it('answers 400 naming each bad field and writes nothing, not even the valid tasks of the request', async () => {
    const before = await exportText();
    const response = await postJson(`${url}/tasks`, [
      task('v-ok'),
      task('v-bad', { cpu: -1, deadline: 'soon' }),
    ]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; issues: { field: string }[] };
    expect(body.error).toBe('ValidationError');
    expect(body.issues.map((i) => i.field).sort()).toEqual(['1.cpu', '1.deadline']);
    expect((await getJson('/tasks/v-ok')).status).toBe(404);
    expect(await exportText()).toBe(before);
  });

  it.each([
    ['a single task without any resource', { id: 'n-1', deadline: 1, duration: 1 }, ''],
    ['an unknown field', { ...task('n-2'), colour: 'red' }, ''],
    ['a bad id', task('bad id with spaces'), 'id'],
    ['an empty array', [], ''],
  ])('rejects %s', async (_name, payload, field) => {
    const response = await postJson(`${url}/tasks`, payload);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toContain(field);
  });

  it('answers 400 on a body that is not JSON', async () => {
    const response = await postJson(`${url}/tasks`, '{"id":');
    expect(response.status).toBe(400);
  });

  it('answers 413 for a body over the configured limit', async () => {
    const big = Array.from({ length: 1300 }, (_, i) => task(`big-${i}`));
    expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);
    const response = await postJson(`${url}/tasks`, big);
    expect(response.status).toBe(413);
    expect((await getJson('/tasks/big-0')).status).toBe(404);
  });
});

describe('tasks', () => {
  it('accepts one task in the original shape, then records a decision', async () => {
    const response = await postJson(`${url}/tasks`, task('t-1'));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: ['t-1'], duplicates: [] });
    const status = await decided('t-1');
    expect(status).toMatchObject({ task_id: 't-1', status: 'assigned' });
    expect(status.vm_id).toMatch(/^vm-/);
    expect(typeof status.transaction_id).toBe('string');
    expect(status.block_height).toBeGreaterThan(0);
    expect(typeof status.reason).toBe('string');
  });

  it('is idempotent by id: a re-sent request reports duplicates and writes no second decision', async () => {
    const d1 = task('d-1');
    const first = await postJson(`${url}/tasks`, [d1, task('d-2')]);
    expect(((await first.json()) as { accepted: string[] }).accepted).toEqual(['d-1', 'd-2']);
    await decided('d-2');
    const again = await postJson(`${url}/tasks`, [d1, task('d-3')]);
    expect(await again.json()).toEqual({ accepted: ['d-3'], duplicates: ['d-1'] });
    await decided('d-3');
    // The same id with a different body is another task: refused whole, naming the id.
    const before = await exportText();
    const changed = await postJson(`${url}/tasks`, [task('d-4'), { ...d1, duration: 1 }]);
    expect(changed.status).toBe(409);
    expect(await changed.json()).toMatchObject({ error: 'TaskConflictError', task_ids: ['d-1'] });
    expect((await getJson('/tasks/d-4')).status).toBe(404);
    expect(await exportText()).toBe(before);
    const blocks: Block[] = [];
    for await (const b of parseJsonl((await exportText()).split('\n'))) blocks.push(b);
    const decisions = blocks.flatMap((b) => b.transactions).filter((t) => t.task_id === 'd-1');
    expect(decisions).toHaveLength(1);
  });

  it('accepts the first of same-body twins in one request and lists the id once as a duplicate (docs/reliability.md)', async () => {
    const twin = task('twin', { cpu: 100 });
    const response = await postJson(`${url}/tasks`, [twin, twin, task('single'), { ...twin, priority: 0 }]);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: ['twin', 'single'], duplicates: ['twin'] });
    await decided('twin');
    const blocks: Block[] = [];
    for await (const b of parseJsonl((await exportText()).split('\n'))) blocks.push(b);
    const decisions = blocks.flatMap((b) => b.transactions).filter((t) => t.task_id === 'twin');
    expect(decisions.map((t) => t.task_requirements.cpu)).toEqual([100]);
  });

  it('refuses twins with different bodies in one request with 409 naming the id; nothing is queued', async () => {
    const response = await postJson(`${url}/tasks`, [
      task('twin-x', { cpu: 100 }),
      task('lone'),
      task('twin-x', { cpu: 200 }),
    ]);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: 'TaskConflictError', task_ids: ['twin-x'] });
    for (const id of ['twin-x', 'lone']) expect((await getJson(`/tasks/${id}`)).status).toBe(404);
  });

  it('refuses an amount with more than 6 decimal places, naming the field, and writes nothing', async () => {
    const before = await exportText();
    const response = await postJson(`${url}/tasks`, [
      task('frac-ok', { io: 33.333333 }),
      task('frac', { io: 0.1234567 }),
    ]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string; message: string }[] };
    expect(body.issues).toEqual([{ field: '1.io', message: 'must have at most 6 decimal places' }]);
    expect(await exportText()).toBe(before);
  });

  it('rejects a task no VM can hold, with a reason', async () => {
    await postJson(`${url}/tasks`, task('huge', { cpu: 1e9 }));
    const status = await decided('huge');
    expect(status.status).toBe('rejected');
    expect(status.vm_id).toBeNull();
    expect(String(status.reason)).toMatch(/cpu/);
  });

  it('answers 404 for an unknown task and 400 for a malformed id', async () => {
    expect((await getJson('/tasks/never-submitted')).status).toBe(404);
    expect((await getJson('/tasks/%20bad')).status).toBe(400);
  });

  it('completes an assigned task once; a repeat is already-final; unknown is 404', async () => {
    await postJson(`${url}/tasks`, task('c-1'));
    await decided('c-1');
    const first = await postJson(`${url}/tasks/c-1/complete`, {});
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ task_id: 'c-1', status: 'closed', task_status: 'completed' });
    const before = await exportText();
    const second = await postJson(`${url}/tasks/c-1/complete`, {});
    expect(await second.json()).toMatchObject({ status: 'already-final', task_status: 'completed' });
    expect(await exportText()).toBe(before);
    expect((await getJson('/tasks/c-1')).body.status).toBe('completed');
    expect((await postJson(`${url}/tasks/nobody/complete`, {})).status).toBe(404);
  });

  it('records a reported non-zero exit as failed with its outcome; a bad outcome is a 400 naming the field', async () => {
    await postJson(`${url}/tasks`, task('f-1'));
    await decided('f-1');
    const sha = 'ab'.repeat(32);
    const bad = await postJson(`${url}/tasks/f-1/complete`, {
      outcome: { exit_code: 1, signal: 'SIGKILL', duration_ms: 5, output_sha256: sha },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('outcome.exit_code');
    const badHash = await postJson(`${url}/tasks/f-1/complete`, {
      outcome: { exit_code: 1, duration_ms: 5, output_sha256: 'XYZ' },
    });
    expect(badHash.status).toBe(400);
    expect(JSON.stringify(await badHash.json())).toContain('outcome.output_sha256');
    expect((await getJson('/tasks/f-1')).body.status).toBe('assigned');

    const done = await postJson(`${url}/tasks/f-1/complete`, {
      outcome: { exit_code: 3, duration_ms: 1234, output_sha256: sha },
    });
    expect(await done.json()).toMatchObject({ status: 'closed', task_status: 'failed' });
    expect((await getJson('/tasks/f-1')).body.status).toBe('failed');
    const closing = (await exportText())
      .trim()
      .split('\n')
      .flatMap((line) => JSON.parse(line).transactions)
      .find((t: { task_id: string; status: string }) => t.task_id === 'f-1' && t.status === 'failed');
    expect(closing).toMatchObject({
      format_version: 3,
      outcome: { exit_code: 3, signal: null, duration_ms: 1234, output_sha256: sha },
    });
    const summary = (await getJson('/ledger')).body;
    expect(summary.failed).toBeGreaterThanOrEqual(1);
  });
});

describe('fleet', () => {
  it('lists VMs, adds some, drains one', async () => {
    const { body } = await getJson('/fleet');
    const vms = body.vms as { id: string; state: string; capacity: Record<string, number> }[];
    expect(vms).toHaveLength(4);
    expect(vms[0]).toMatchObject({ state: 'active', capacity: { cpu: 4000, mem: 16384, io: 500, bw: 1000 } });

    const added = await postJson(`${url}/fleet/vms`, {
      count: 2,
      capacity: { cpu: 8000 },
      labels: { zone: 'z9' },
    });
    expect(added.status).toBe(201);
    const { added: ids } = (await added.json()) as { added: string[] };
    expect(ids).toHaveLength(2);
    const after = (await getJson('/fleet')).body.vms as { id: string; capacity: Record<string, number> }[];
    expect(after).toHaveLength(6);
    expect(after.find((v) => v.id === ids[0])?.capacity.cpu).toBe(8000);

    const drained = await postJson(`${url}/fleet/vms/${ids[1]}/drain`, {});
    expect(drained.status).toBe(200);
    // An empty drained VM leaves the fleet at the next tick.
    await eventually(async () => {
      const current = (await getJson('/fleet')).body.vms as { id: string }[];
      return current.some((v) => v.id === ids[1]) ? undefined : true;
    }, 'the drained VM to leave');
  });

  it('places tasks with constraints only on the VM whose labels match, and rejects unmatched ones', async () => {
    const added = await postJson(`${url}/fleet/vms`, { count: 1, labels: { rack: 'r-7' } });
    const [rackVm] = ((await added.json()) as { added: string[] }).added;
    const ids = ['z-1', 'z-2', 'z-3'];
    await postJson(
      `${url}/tasks`,
      ids.map((id) => task(id, { constraints: { rack: 'r-7' }, labels: { team: 'a' }, priority: 5 })),
    );
    for (const id of ids) expect((await decided(id)).vm_id).toBe(rackVm);
    await postJson(`${url}/tasks`, task('z-none', { constraints: { rack: 'r-0' } }));
    expect(await decided('z-none')).toMatchObject({ status: 'rejected', vm_id: null });
  });

  it('answers 400 naming the field for a bad VM request, 404 for draining an unknown VM', async () => {
    const bad = await postJson(`${url}/fleet/vms`, { count: 0, capacity: { cpu: -5 } });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field).sort()).toEqual(['capacity.cpu', 'count']);
    expect((await postJson(`${url}/fleet/vms/vm-999/drain`, {})).status).toBe(404);
  });
});

describe('config', () => {
  it('reports dimensions, units and algorithms, and switches algorithm at run time', async () => {
    const { body } = await getJson('/config');
    expect(body.dimensions).toEqual(['cpu', 'mem', 'io', 'bw']);
    expect(body.units).toMatchObject({ cpu: 'millicores', mem: 'MiB' });
    expect(body.algorithms).toContain('best-fit');
    expect(body.algorithm).toBe('blockchain');

    const put = await fetch(`${url}/config/algorithm`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ algorithm: 'best-fit', params: { alpha: 0.5 } }),
    });
    expect(put.status).toBe(200);
    const { body: after } = await getJson('/config');
    expect(after.algorithm).toBe('best-fit');
    expect((after.params as { alpha: number }).alpha).toBe(0.5);

    await postJson(`${url}/tasks`, task('alg-1'));
    await decided('alg-1');
    const { body: status } = await getJson('/tasks/alg-1');
    const proof = (await getJson(`/ledger/transactions/${status.transaction_id}`))
      .body as unknown as TransactionProof;
    expect(proof.transaction.algorithm).toBe('best-fit');
  });

  it.each([
    [{ algorithm: 'fastest' }, 'algorithm'],
    [{ algorithm: 'best-fit', params: { tau: -1 } }, 'params.tau'],
    [{}, 'algorithm'],
    // Accepted before, then refused by the scheduler on every batch: nothing was scheduled after it.
    [
      { algorithm: 'resource-based', params: { weights: { cpu: 1, gpu_typo: 2 } } },
      'params.weights.gpu_typo',
    ],
  ])('refuses %j naming %s', async (payload, field) => {
    const response = await fetch(`${url}/config/algorithm`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toContain(field);
    expect((await getJson('/config')).body.algorithm).toBe('best-fit');
  });
});

describe('ledger', () => {
  it('summarises the chain consistently with the export', async () => {
    const { body } = await getJson('/ledger');
    const blocks: Block[] = [];
    for await (const b of parseJsonl((await exportText()).split('\n'))) blocks.push(b);
    const head = blocks.at(-1)!;
    expect(body.height).toBeGreaterThanOrEqual(head.height);
    if (body.height === head.height) expect(body.head_hash).toBe(head.block_hash);
    const vms = body.vms as { vm_id: string; assignments: number }[];
    expect(vms.reduce((n, v) => n + v.assignments, 0)).toBeGreaterThan(0);
  });

  it('pages blocks and bounds the page size', async () => {
    const { status, body } = await getJson('/ledger/blocks?from=0&limit=2');
    expect(status).toBe(200);
    const blocks = body.blocks as Block[];
    expect(blocks.map((b) => b.height)).toEqual([0, 1]);
    expect(blocks[1]!.previous_hash).toBe(blocks[0]!.block_hash);
    const tooMany = await getJson('/ledger/blocks?limit=101');
    expect(tooMany.status).toBe(400);
    expect((tooMany.body.issues as { field: string }[])[0]!.field).toBe('limit');
    expect((await getJson('/ledger/blocks?from=-1')).status).toBe(400);
  });

  it('serves a transaction with an inclusion proof that verifies against the current digest', async () => {
    const { body: status } = await getJson('/tasks/t-1');
    const { status: code, body } = await getJson(`/ledger/transactions/${status.transaction_id}`);
    expect(code).toBe(200);
    const proof = body as unknown as TransactionProof;
    expect(proof.transaction.task_id).toBe('t-1');
    expect(proof.height).toBe(status.block_height);
    expect(verifyTransactionProof(proof)).toBe(true);
    const digest = (await getJson('/ledger/digest')).body;
    expect(verifyTransactionProof(proof, digest as never)).toBe(digest.height === proof.digest.height);
    expect((await getJson('/ledger/transactions/0000')).status).toBe(404);
    expect((await getJson('/ledger/transactions/%20x')).status).toBe(400);
  });

  it('verifies valid, and the export verifies offline to the same head', async () => {
    const response = await fetch(`${url}/ledger/verify`, { method: 'POST' });
    const report = (await response.json()) as { valid: boolean; height: number; head_hash: string };
    expect(report.valid).toBe(true);
    const exported = await fetch(`${url}/ledger/export`);
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const offline = await verifyChain(parseJsonl((await exported.text()).split('\n')));
    expect(offline.valid).toBe(true);
    expect(offline.height).toBeGreaterThanOrEqual(report.height);
  });
});

describe('generator', () => {
  it('generates the requested number of tasks through the same intake', async () => {
    const before = (await getJson('/ledger')).body.transaction_count as number;
    const started = await postJson(`${url}/generator`, {
      running: true,
      rate: 200,
      count: 20,
      size: 'small',
    });
    expect(started.status).toBe(200);
    await eventually(async () => {
      const { body } = await getJson('/generator');
      return body.generated === 20 ? body : undefined;
    }, 'the generator to produce 20 tasks');
    await eventually(async () => {
      const { body } = await getJson('/ledger');
      return (body.transaction_count as number) >= before + 20 ? true : undefined;
    }, '20 more transactions');
  });

  it('answers 400 naming the field for bad settings and keeps the old ones', async () => {
    const before = (await getJson('/generator')).body;
    const response = await postJson(`${url}/generator`, { rate: -3, duration_s: [10, 5] });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field).sort()).toEqual(['duration_s', 'rate']);
    expect((await getJson('/generator')).body).toEqual(before);
  });
});

describe('events and documents', () => {
  it('streams a snapshot on connect, then the decisions of new tasks', async () => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 15_000);
    try {
      const response = await fetch(`${url}/events`, { signal: abort.signal });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('event: snapshot')) text += (await reader.read()).value ?? '';
      const snapshotLine = text
        .split('\n')
        .find((l, i, all) => all[i - 1] === 'event: snapshot' && l.startsWith('data:'));
      const snapshot = JSON.parse(snapshotLine!.slice(5)) as Record<string, unknown>;
      expect(Object.keys(snapshot).sort()).toEqual([
        'config',
        'dead_letters',
        'fleet',
        'ledger',
        'metrics',
        'queue_depth',
      ]);
      await postJson(`${url}/tasks`, task('sse-1'));
      while (!/event: decisions\ndata: .*"task_id":"sse-1"/.test(text))
        text += (await reader.read()).value ?? '';
      while (!text.includes('event: metrics')) text += (await reader.read()).value ?? '';
      await reader.cancel();
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  });

  it('serves the OpenAPI document and the dashboard', async () => {
    const { body } = await getJson('/openapi.json');
    expect(Object.keys(body.paths as object)).toEqual(
      expect.arrayContaining(['/tasks', '/tasks/{id}', '/ledger/verify', '/generator', '/events']),
    );
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await getJson('/no/such/route')).status).toBe(404);
  });
});

describe('a server with a token and a small queue', () => {
  let guarded: RunningServer;
  beforeAll(async () => {
    guarded = await startServer({ env: { BCS_TOKEN: 'secret-token-1' }, config: { max_queue_depth: 1 } });
  });
  afterAll(async () => {
    await guarded.stop();
  });

  it('requires the bearer token on mutating routes only', async () => {
    expect((await postJson(`${guarded.url}/tasks`, task('a-1'))).status).toBe(401);
    expect(
      (await postJson(`${guarded.url}/tasks`, task('a-1'), { authorization: 'Bearer wrong-token' })).status,
    ).toBe(401);
    expect((await fetch(`${guarded.url}/tasks/a-1`)).status).toBe(404);
    const ok = await postJson(`${guarded.url}/tasks`, task('a-1'), {
      authorization: 'Bearer secret-token-1',
    });
    expect(ok.status).toBe(202);
    expect((await fetch(`${guarded.url}/ledger`)).status).toBe(200);
    expect((await fetch(`${guarded.url}/ledger/verify`, { method: 'POST' })).status).toBe(200);
  });

  it('answers 429 with Retry-After when the queue would exceed its limit, and queues nothing', async () => {
    const response = await postJson(`${guarded.url}/tasks`, [task('q-1'), task('q-2')], {
      authorization: 'Bearer secret-token-1',
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${guarded.url}/tasks/q-1`)).status).toBe(404);
  });
});
