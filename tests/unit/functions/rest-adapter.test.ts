import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { restApiHandler, routePath } from '../../../lib/adapters/apigateway/rest-adapter';
import { apiEvent } from './helpers/events';

/** Echoes what the app received, so each test sees the translated request. */
const echo = new Hono().all('/*', async (c) =>
  c.json(
    {
      method: c.req.method,
      path: c.req.path,
      query: c.req.queries(),
      header: c.req.header('x-trace'),
      body: await c.req.text(),
    },
    201,
    { 'x-answer': '42' },
  ),
);
const handler = restApiHandler(echo);

describe('REST (v1) proxy event <-> Hono', () => {
  it('carries method, path, repeated query values, headers and status back and forth', async () => {
    const event = apiEvent('GET', '/ledger/blocks', { query: { from: '3' } });
    event.multiValueQueryStringParameters = { from: ['3'], tag: ['a', 'b'] };
    event.headers['x-trace'] = 'abc';
    const res = await handler(event);
    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({
      'x-answer': '42',
      'content-type': expect.stringContaining('application/json'),
    });
    expect(JSON.parse(res.body)).toEqual({
      method: 'GET',
      path: '/ledger/blocks',
      query: { from: ['3'], tag: ['a', 'b'] },
      header: 'abc',
      body: '',
    });
  });

  it.each([
    ['plain', false, '{"a":1}'],
    ['base64-encoded', true, Buffer.from('{"a":1}').toString('base64')],
  ])('passes a %s body through as text', async (_name, isBase64Encoded, raw) => {
    const event = { ...apiEvent('POST', '/tasks', { rawBody: raw }), isBase64Encoded };
    expect(JSON.parse((await handler(event)).body).body).toBe('{"a":1}');
  });

  it.each([
    ['a decoded path (as some emulators send it)', '/tasks/a?b#c d\n'],
    ['an encoded path (as API Gateway sends it)', '/tasks/a%3Fb%23c%20d%0A'],
  ])('routes the same id from %s', async (_name, path) => {
    const ids = new Hono().get('/tasks/:id', (c) =>
      c.json({ id: c.req.param('id'), query: c.req.queries() }),
    );
    const res = await restApiHandler(ids)(apiEvent('GET', path));
    expect(JSON.parse(res.body)).toEqual({ id: 'a?b#c d\n', query: {} });
  });

  it('routes on the resource and its parameters, not on a path carrying a custom domain base path', async () => {
    const ids = new Hono().post('/tasks/:id/complete', (c) => c.json({ id: c.req.param('id') }));
    const event = apiEvent('POST', '/v1/tasks/a%2Fb%3Fc/complete', {
      resource: '/tasks/{id}/complete',
      pathParameters: { id: 'a/b?c' },
    });
    const res = await restApiHandler(ids)(event);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ id: 'a/b?c' });
  });

  it('encodes a greedy parameter per segment, and falls back to the path when parameters are missing', () => {
    expect(
      routePath({ resource: '/files/{key+}', pathParameters: { key: 'a b/c' }, path: '/base/files/a%20b/c' }),
    ).toBe('/files/a%20b/c');
    expect(routePath({ resource: '/tasks/{id}', pathParameters: null, path: '/tasks/t-1' })).toBe(
      '/tasks/t-1',
    );
  });

  it('falls back to the single-value query map when the multi-value one is absent', async () => {
    const event = { ...apiEvent('GET', '/x'), queryStringParameters: { limit: '5' } };
    expect(JSON.parse((await handler(event)).body).query).toEqual({ limit: ['5'] });
  });
});
