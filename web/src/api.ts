import type { z } from 'zod';
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

/** Calls the API and parses the answer with `schema`; same origin, so paths are relative. */
export async function request<S extends z.ZodType>(
  schema: S,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<z.output<S>> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw await toApiError(response);
  return parseOrThrow(schema, await response.json(), `${init.method ?? 'GET'} ${path}`);
}
