import { PermanentError, TransientError } from '../lib/ports/assignment-source';

const MAX_ERROR_BODY = 300;

/** Authentication headers for one request (bearer token, API key, or a SigV4 signature). */
export type RequestSigner = (method: string, url: URL, body?: string) => Promise<Record<string, string>>;

export interface HttpOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080 (a path prefix such as an API stage is kept). */
  url: string;
  /** Bearer token, sent on every request and never logged. */
  token?: string;
  /** Adds authentication headers instead of the token (the AWS stack's API key or SigV4). */
  sign?: RequestSigner;
  /** Per-request limit when the caller gives none, ms. */
  timeoutMs?: number;
}

/** The agent's HTTP calls: classifies every failure as transient or permanent, never leaks the token. */
export class AgentHttp {
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Answers the parsed JSON of a 2xx, or throws TransientError / PermanentError. */
  async json(
    method: 'GET' | 'POST',
    path: string,
    init: { signal?: AbortSignal; timeoutMs?: number; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const timeout = AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    // A body (the completion's outcome) is JSON; a SigV4 signature covers it.
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    let response: Response;
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
      Object.assign(headers, await this.options.sign?.(method, url, body));
      response = await fetch(url, { method, headers, signal, ...(body === undefined ? {} : { body }) });
    } catch (error) {
      throw new TransientError(`${method} ${url.pathname}: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    if (response.status === 429 || response.status >= 500) {
      throw new TransientError(
        `${method} ${url.pathname}: HTTP ${response.status} ${text.slice(0, MAX_ERROR_BODY)}`,
      );
    }
    if (!response.ok) {
      throw new PermanentError(
        `${method} ${url.pathname}: HTTP ${response.status} ${text.slice(0, MAX_ERROR_BODY)}`,
        response.status,
      );
    }
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      throw new PermanentError(`${method} ${url.pathname}: the answer is not JSON`, response.status);
    }
  }
}
