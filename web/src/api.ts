import type * as z from 'zod';
import { parseOrThrow } from '../../lib/errors';
import { errorBodySchema } from './wire';

/** A non-2xx answer from the API, carrying the server's own explanation (it names the bad field). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly issues: { field: string; message: string }[] = [],
  ) {
    super(message);
  }

  /** One line for the UI: the fields the server rejected, or its message. */
  describe(): string {
    if (this.status === 401)
      return 'this server requires an API token for changes: enter it at the top right';
    if (this.issues.length === 0) return this.message;
    return this.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = errorBodySchema.safeParse(JSON.parse(text));
    if (body.success) return new ApiError(response.status, body.data.message, body.data.issues);
  } catch {
    // Not JSON (a proxy page, an empty 503): fall through to the status line.
  }
  return new ApiError(response.status, `${response.status} ${response.statusText}`.trim());
}

const TOKEN_KEY = 'bcs.api-token';

/**
 * The bearer token a server started with BCS_TOKEN requires on mutating routes. Kept for the tab's
 * session only: closing the tab forgets it.
 */
export function setApiToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function apiToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Calls the API and parses the answer with `schema`; same origin, so paths are relative. */
export async function request<S extends z.ZodType>(
  schema: S,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<z.output<S>> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const token = apiToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw await toApiError(response);
  return parseOrThrow(schema, await response.json(), `${init.method ?? 'GET'} ${path}`);
}
