import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Hono } from 'hono';

/**
 * Serves a Hono app behind an API Gateway REST (v1) proxy integration: the event becomes a fetch
 * Request, the Response becomes the proxy result. The function only ever returns JSON, so the body
 * is always text. (hono/aws-lambda does this too, but is deprecated ahead of Hono 5.)
 */
export function restApiHandler(app: Hono) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const query = new URLSearchParams();
    const multi = event.multiValueQueryStringParameters ?? {};
    for (const [key, values] of Object.entries(multi)) for (const v of values ?? []) query.append(key, v);
    if (Object.keys(multi).length === 0) {
      for (const [key, v] of Object.entries(event.queryStringParameters ?? {}))
        if (v !== undefined) query.append(key, v);
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(event.headers ?? {}))
      if (value !== undefined) headers.set(name, value);
    const search = query.size > 0 ? `?${query}` : '';
    const hasBody =
      event.body !== null && event.body !== '' && event.httpMethod !== 'GET' && event.httpMethod !== 'HEAD';
    const request = new Request(
      `https://${headers.get('host') ?? 'lambda.internal'}${routePath(event)}${search}`,
      {
        method: event.httpMethod,
        headers,
        ...(hasBody
          ? { body: event.isBase64Encoded ? Buffer.from(event.body!, 'base64') : event.body! }
          : {}),
      },
    );
    const response = await app.fetch(request);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    return {
      statusCode: response.status,
      headers: out,
      body: await response.text(),
    };
  };
}

/**
 * The path the app routes on, rebuilt from the API resource (`/tasks/{id}/complete`) and its path
 * parameters rather than taken from `event.path`: behind a custom domain with a base path mapping
 * (`https://api.example.com/v1/tasks/t-1`) `event.path` carries the mapping's base path, which no
 * route knows. Parameters arrive decoded and are encoded again as one segment (`{name+}`: per
 * segment). An event without the parameters its resource names falls back to `event.path`.
 */
export function routePath(event: Pick<APIGatewayProxyEvent, 'path' | 'resource' | 'pathParameters'>): string {
  const resource = event.resource;
  if (!resource) return pathForUrl(event.path);
  const params = event.pathParameters ?? {};
  let complete = true;
  const path = resource.replace(/\{([^}+]+)(\+?)\}/g, (_match, name: string, greedy: string) => {
    const value = params[name];
    if (value === undefined) {
      complete = false;
      return '';
    }
    return greedy ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
  });
  return pathForUrl(complete ? path : event.path);
}

/**
 * API Gateway hands the path percent-encoded as the client sent it; some emulators hand it decoded.
 * A decoded `?`, `#`, space or control character would end or break the URL's path (an id `a%3Fb`
 * would reach the router as `a` with a query), so those are encoded again. None of them can appear
 * raw in an encoded path, so on AWS this changes nothing.
 */
export function pathForUrl(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped
  return path.replace(/[?#\s\x00-\x1f\x7f]/g, (c) => encodeURIComponent(c));
}
