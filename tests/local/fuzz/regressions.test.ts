import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialise, withKey } from '../../unit/fuzz/json-text';
import { type RunningServer, startServer, task } from '../helpers/server';

/** Requests the fuzz suite found accepted or mis-answered, kept as they were found. */

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ config: { fleet: { size: 1 }, seed: 3 } });
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

interface Answer {
  status: number;
  body: { error: string; message: string; issues?: { field: string; message: string }[] };
}

async function send(
  method: string,
  path: string,
  body?: string | Uint8Array,
  type = 'application/json',
): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: body as BodyInit, headers: { 'content-type': type } }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const statusOf = async (id: string) => (await fetch(`${server.url}/tasks/${id}`)).status;
const fields = (answer: Answer) => answer.body.issues?.map((i) => i.field);

describe('bodies the fuzz suite found accepted', () => {
  it.each([
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ])('a valid task sent as %s is refused with 415 and not queued', async (type) => {
    const id = `rg-type-${type.length}`;
    const answer = await send('POST', '/tasks', JSON.stringify(task(id)), type);
    expect(answer.status).toBe(415);
    expect(answer.body.error).toBe('UnsupportedMediaType');
    expect(answer.body.message).toContain('application/json');
    expect(await statusOf(id)).toBe(404);
  });

  it('the OpenAPI document lists the 415 answer of every JSON body route', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [path, method] of [
      ['/tasks', 'post'],
      ['/fleet/vms', 'post'],
      ['/config/algorithm', 'put'],
      ['/generator', 'post'],
    ] as const) {
      expect(Object.keys(doc.paths[path]![method]!.responses), `${method} ${path}`).toContain('415');
    }
  });

  it('a command holding the byte 0xff is refused, not stored as U+FFFD', async () => {
    const body = Buffer.concat([
      Buffer.from(JSON.stringify(task('rg-utf8', { command: 'run' })).replace('"run"', '"r')),
      Buffer.from([0xff]),
      Buffer.from('n"'),
    ]);
    const answer = await send('POST', '/tasks', body);
    expect(answer.status).toBe(400);
    expect(answer.body.issues).toEqual([{ field: '', message: 'request body is not UTF-8' }]);
    expect(await statusOf('rg-utf8')).toBe(404);
  });

  it('a "__proto__" label, which zod drops in silence, is refused by name', async () => {
    const body = serialise(task('rg-proto', { labels: withKey({ team: 'a' }, '__proto__', 'x') })) as string;
    const answer = await send('POST', '/tasks', body);
    expect(answer.status).toBe(400);
    expect(fields(answer)).toEqual(['labels.__proto__']);
    expect(await statusOf('rg-proto')).toBe(404);
  });

  it('a "__proto__" algorithm weight is refused and the configuration is unchanged', async () => {
    const before = await (await fetch(`${server.url}/config`)).json();
    const body = serialise({ algorithm: 'least-loaded', params: { weights: withKey({}, '__proto__', 1) } });
    const answer = await send('PUT', '/config/algorithm', body as string);
    expect(answer.status).toBe(400);
    expect(fields(answer)).toEqual(['params.weights.__proto__']);
    expect(await (await fetch(`${server.url}/config`)).json()).toEqual(before);
  });

  it('a body starting with a byte order mark is not JSON (the BOM is not dropped in silence)', async () => {
    const answer = await send('POST', '/generator', '\uFEFF{}');
    expect(answer.status).toBe(400);
    expect(answer.body.issues).toEqual([{ field: '', message: 'request body is not valid JSON' }]);
  });
});

describe('block queries the fuzz suite found accepted', () => {
  it.each([
    ['from', ''],
    ['from', ' '],
    ['from', '1e3'],
    ['limit', '0x10'],
    ['limit', '+5'],
  ])('?%s=%j is 400 naming the parameter (Number() read it as a count)', async (name, value) => {
    const answer = await send('GET', `/ledger/blocks?${name}=${encodeURIComponent(value)}`);
    expect(answer.status).toBe(400);
    expect(fields(answer)).toEqual([name]);
  });

  it('decimal counts still page through the chain', async () => {
    const answer = await fetch(`${server.url}/ledger/blocks?from=0&limit=100`);
    expect(answer.status).toBe(200);
  });
});
