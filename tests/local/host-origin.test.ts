import { request } from 'node:http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostName, refuseForeignHostsForWrites } from '../../runtime/http/host-check';
import { type RunningServer, startServer } from './helpers/server';

/** One request with exactly the headers given (fetch would not let a test set Host). */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, method, path, headers, setHost: !('Host' in headers) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function app(boundHost: string, allowedHosts: string[] = [], interfaces: string[] = []) {
  const hono = new Hono();
  hono.use(
    '*',
    refuseForeignHostsForWrites({ boundHost, allowedHosts, interfaceAddresses: () => interfaces }),
  );
  hono.all('*', (c) => c.text('ok'));
  return (method: string, headers: Record<string, string>) =>
    hono.request('http://ignored/config/algorithm', { method, headers });
}

describe('hostName', () => {
  it.each([
    ['LOCALHOST:8080', 'localhost'],
    ['example.com.', 'example.com'],
    ['[::1]:8080', '::1'],
    ['::1', '::1'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['evil example', undefined],
    ['[::1', undefined],
    ['a@b', undefined],
  ])('%s -> %s', (value, expected) => {
    expect(hostName(value)).toBe(expected);
  });
});

describe('refuseForeignHostsForWrites', () => {
  it('lets reads through from any host, so the ledger stays auditable', async () => {
    expect((await app('127.0.0.1')('GET', { host: 'evil.example' })).status).toBe(200);
  });

  it.each([
    ['the bound address', '127.0.0.1', '127.0.0.1:8080'],
    ['localhost', '127.0.0.1', 'localhost:8080'],
    ['a *.localhost name', '127.0.0.1', 'app.localhost'],
    ['another loopback address', '127.0.0.1', '127.0.0.2:8080'],
    ['IPv6 loopback', '::1', '[::1]:8080'],
    ['a bound name', 'sched.internal', 'SCHED.internal:8080'],
  ])('accepts a write addressed to %s', async (_label, bound, host) => {
    expect((await app(bound)('PUT', { host })).status).toBe(200);
  });

  it('takes the request URL host when no Host header came (in-process requests, HTTP/1.0)', async () => {
    expect((await app('127.0.0.1')('POST', {})).status).toBe(421); // the helper's URL host is "ignored"
    const hono = new Hono();
    hono.use('*', refuseForeignHostsForWrites({ boundHost: '127.0.0.1', allowedHosts: [] }));
    hono.all('*', (c) => c.text('ok'));
    expect((await hono.request('/fleet/vms', { method: 'POST' })).status).toBe(200); // http://localhost/
  });

  it('answers 421 naming the host for a write addressed to another name (DNS rebinding)', async () => {
    const response = await app('127.0.0.1')('PUT', { host: 'evil.example' });
    expect(response.status).toBe(421);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('MisdirectedRequest');
    expect(body.message).toContain('"evil.example"');
    expect(body.message).toContain('--allowed-host');
  });

  it('accepts an allow-listed name, and the machine addresses when bound to every interface', async () => {
    expect(
      (await app('127.0.0.1', ['sched.example.org'])('POST', { host: 'sched.example.org' })).status,
    ).toBe(200);
    const wildcard = app('0.0.0.0', [], ['10.1.2.3', 'fe80::1']);
    expect((await wildcard('POST', { host: '10.1.2.3:8080' })).status).toBe(200);
    expect((await wildcard('POST', { host: '[fe80::1]:8080' })).status).toBe(200);
    expect((await wildcard('POST', { host: '10.9.9.9:8080' })).status).toBe(421);
    expect((await wildcard('POST', { host: 'evil.example' })).status).toBe(421);
  });

  it('answers 403 naming the origin for a cross-site write, and accepts its own pages', async () => {
    const send = app('127.0.0.1');
    for (const origin of ['http://evil.example', 'null', 'file://', 'http://localhost.evil.example']) {
      const response = await send('POST', { host: '127.0.0.1:8080', origin });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { message: string }).message).toContain(JSON.stringify(origin));
    }
    for (const origin of ['http://127.0.0.1:8080', 'http://localhost:8080']) {
      expect((await send('POST', { host: '127.0.0.1:8080', origin })).status).toBe(200);
    }
  });
});

describe('a running bcs start (the issue 21 repro)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: ['--allowed-host', 'sched.test'] });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('refuses PUT /config/algorithm with Host: evil.example (421) and changes nothing', async () => {
    const json = { 'content-type': 'application/json' };
    const before = await (await fetch(`${server.url}/config`)).json();
    const body = JSON.stringify({ algorithm: 'round-robin' });
    const evil = await send(server.url, 'PUT', '/config/algorithm', { ...json, Host: 'evil.example' }, body);
    expect(evil.status).toBe(421);
    expect(evil.body).toContain('evil.example');
    const crossSite = await send(
      server.url,
      'PUT',
      '/config/algorithm',
      { ...json, Origin: 'http://evil.example' },
      body,
    );
    expect(crossSite.status).toBe(403);
    expect(await (await fetch(`${server.url}/config`)).json()).toEqual(before);

    const allowed = await send(
      server.url,
      'PUT',
      '/config/algorithm',
      { ...json, Host: 'sched.test:1' },
      body,
    );
    expect(allowed.status).toBe(200);
    expect(((await (await fetch(`${server.url}/config`)).json()) as { algorithm: string }).algorithm).toBe(
      'round-robin',
    );
  });
});
