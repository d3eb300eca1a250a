import type * as z from 'zod';

/**
 * The one HTTP client of the API both runtimes serve (http/api.ts): the CLI (cli/remote.ts, and
 * through it `bcs enqueue` and the remote ledger reads) and the agent (agent/http.ts) send through it.
 * It resolves paths against the base (keeping an API Gateway stage prefix), adds the caller's
 * authentication headers, bounds every request with a timeout, and reports each failure as one of
 * three errors the callers map onto their own (the CLI's exit codes, the agent's transient/permanent).
 * Answers are parsed with the response schemas of lib/schemas/client.ts.
 */

/** Authentication headers for one request (bearer token, API key, or a SigV4 signature over the body). */
export type RequestSigner = (method: string, url: URL, body?: string) => Promise<Record<string, string>>;

export interface ApiClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080 or an API Gateway stage URL. */
  url: string | URL;
  sign?: RequestSigner;
  /** Per-request limit when the caller gives none, ms. */
  timeoutMs: number;
}

export interface RequestOptions {
  /** A JSON body, sent with content-type application/json. */
  body?: string;
  /** Extra headers (e.g. accept). */
  headers?: Record<string, string>;
  /** Statuses answered as they are instead of as an HttpStatusError (e.g. 404, 429). */
  accept?: readonly number[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The server was not reached, or the request timed out or was aborted. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(
    readonly method: string,
    readonly url: URL,
    override readonly cause: unknown,
  ) {
    super(`${method} ${url.pathname}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** A non-2xx answer the caller did not accept; `text` is the start of its body. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly method: string,
    readonly url: URL,
    readonly status: number,
    readonly text: string,
  ) {
    super(`${method} ${url.pathname}: HTTP ${status} ${text}`);
  }
}

/** An answer that is not JSON, or does not fit its schema; `detail` names the fields. */
export class UnexpectedAnswerError extends Error {
  override name = 'UnexpectedAnswerError';
  constructor(
    readonly what: string,
    readonly detail: string,
    readonly status: number,
  ) {
    super(`${what}: ${detail}`);
  }
}

export class ApiClient {
  /** The base URL, ending in `/` so that relative paths keep an API Gateway stage prefix. */
  readonly base: URL;

  constructor(
    private readonly options: ApiClientOptions,
    /** How much of an error answer's body is kept in the error. */
    private readonly maxErrorBody = 500,
  ) {
    const url = String(options.url);
    this.base = new URL(url.endsWith('/') ? url : `${url}/`);
  }

  /** The URL of `path`, relative to the base (a leading `/` is dropped). */
  url(path: string): URL {
    return new URL(path.replace(/^\/+/, ''), this.base);
  }

  /** Sends one request; a 2xx or an accepted status is answered, anything else thrown. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path);
    const { body } = options;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      ...options.headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    let response: Response;
    try {
      Object.assign(headers, await this.options.sign?.(method, url, body));
      response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
    } catch (error) {
      throw new UnreachableError(method, url, error);
    }
    if (response.ok || options.accept?.includes(response.status)) return response;
    const text = await response.text().catch(() => '');
    throw new HttpStatusError(method, url, response.status, text.slice(0, this.maxErrorBody));
  }

  /** GET or POST `path` and parse the JSON answer with `schema`. */
  async json<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const response = await this.request(method, path, options);
    return parseAnswer(response, `${method} ${this.url(path).pathname}`, schema);
  }
}

/** The JSON body of `response`, parsed with `schema`; an UnexpectedAnswerError naming the fields otherwise. */
export async function parseAnswer<S extends z.ZodType>(
  response: Response,
  what: string,
  schema: S,
): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new UnexpectedAnswerError(what, `not JSON: ${(error as Error).message}`, response.status);
  }
  return parseValue(body, what, schema, response.status);
}

/** `body` parsed with `schema`; an UnexpectedAnswerError naming the fields otherwise. */
export function parseValue<S extends z.ZodType>(
  body: unknown,
  what: string,
  schema: S,
  status = 200,
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new UnexpectedAnswerError(what, `unexpected answer: ${issues.join('; ')}`, status);
}
