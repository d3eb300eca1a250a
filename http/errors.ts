import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TaskConflictError } from '../lib/engine/task-intake';
import {
  LimitExceededError,
  NotFoundError,
  QueueFullError,
  StoreUnavailableError,
  ValidationError,
} from '../lib/errors';
import { conflictBody, errorBody } from '../lib/schemas/http';
import { decodeUtf8, parseJsonText } from '../lib/schemas/json-body';
import { allowedMethods, methodNotAllowedBody, type RouteSpec } from '../lib/schemas/routes';

/** Seconds a client should wait before retrying when the queue is full or the store is busy. */
export const RETRY_AFTER_S = 1;

/**
 * Where the error handler reports what the client is not told: a line of text (the local runtime's
 * log) and the same as fields (the Lambda's structured logger).
 */
export type ErrorLog = (
  message: string,
  detail: { kind: 'unavailable' | 'internal'; error: Error; method: string; path: string },
) => void;

/**
 * The one mapping, for both runtimes, of the errors routes throw to status codes with the API's error
 * body. Anything unexpected is a 500 whose message does not leak internals; it is logged instead.
 */
export function errorHandler(log: ErrorLog) {
  return async (error: Error, c: Context): Promise<Response> => {
    if (error instanceof ValidationError) return c.json(errorBody(error), 400);
    if (error instanceof NotFoundError) return c.json(errorBody(error), 404);
    if (error instanceof LimitExceededError) return c.json(limitBody(error), 409);
    if (error instanceof TaskConflictError) return c.json(conflictBody(error), 409);
    if (error instanceof QueueFullError) {
      c.header('Retry-After', String(RETRY_AFTER_S));
      return c.json(errorBody(error), 429);
    }
    if (error instanceof StoreUnavailableError) {
      log(`store unavailable on ${c.req.method} ${c.req.path}: ${String(error.cause ?? error.message)}`, {
        kind: 'unavailable',
        error,
        method: c.req.method,
        path: c.req.path,
      });
      c.header('Retry-After', String(RETRY_AFTER_S));
      return c.json(errorBody(error), 503);
    }
    if (error instanceof HTTPException) {
      const response = error.getResponse();
      const status = error.status as ContentfulStatusCode;
      // Middleware such as bearerAuth puts its message in the response body, not in the exception.
      const text = error.message || (await response.clone().text()) || response.statusText;
      const body = { error: httpErrorName(status), message: text || `HTTP ${status}` };
      response.headers.forEach((value, name) => {
        if (name.toLowerCase() !== 'content-type') c.header(name, value);
      });
      return c.json(body, status);
    }
    log(`internal error on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`, {
      kind: 'internal',
      error,
      method: c.req.method,
      path: c.req.path,
    });
    return c.json({ error: 'InternalError', message: 'internal error' }, 500);
  };
}

/** The error body of a request refused by a configured limit: names the limit and the field. */
export function limitBody(error: LimitExceededError) {
  return {
    error: error.name,
    message: error.message,
    limit: { name: error.limit, value: error.value },
    ...(error.field === '' ? {} : { issues: [{ field: error.field, message: error.message }] }),
  };
}

function httpErrorName(status: number): string {
  if (status === 400) return 'BadRequest';
  if (status === 401) return 'Unauthorized';
  if (status === 413) return 'PayloadTooLarge';
  if (status === 415) return 'UnsupportedMediaType';
  return 'HttpError';
}

/** JSON bodies are application/json only: a form post or text/plain is refused, not guessed at. */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * The request body as JSON: 415 unless it is declared as application/json, a ValidationError on the
 * body itself when it is not UTF-8, not JSON, or holds a "__proto__" key.
 */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new HTTPException(415, {
      message: `content type ${JSON.stringify(type)} is not accepted; send application/json`,
    });
  }
  return parseJsonText(decodeUtf8(new Uint8Array(await c.req.arrayBuffer())));
}

/** readJson, or undefined for a request without a body (no bytes): a route whose body is optional. */
export async function readOptionalJson(c: Context): Promise<unknown> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length === 0) return undefined;
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new HTTPException(415, {
      message: `content type ${JSON.stringify(type)} is not accepted; send application/json`,
    });
  }
  return parseJsonText(decodeUtf8(bytes));
}

/**
 * 405 with `Allow` when `allowed` (the methods the route table serves at this path) is not empty;
 * undefined otherwise, for the caller's 404.
 */
export function methodNotAllowed(c: Context, allowed: readonly string[]): Response | undefined {
  if (allowed.length === 0) return undefined;
  c.header('Allow', allowed.join(', '));
  return c.json(methodNotAllowedBody(c.req.method, c.req.path, allowed), 405);
}

/**
 * The answer to a request no route took: 405 with `Allow` when the route table serves the path with
 * other methods, else 404.
 */
export function noRoute(routes: readonly RouteSpec[]) {
  return (c: Context): Response =>
    methodNotAllowed(c, allowedMethods(routes, c.req.path)) ??
    c.json({ error: 'NotFoundError', message: `no route ${c.req.method} ${c.req.path}` }, 404);
}
