import { ApiClient, HttpStatusError, type RequestSigner, UnreachableError } from '../http/client';
import { PermanentError, TransientError } from '../lib/ports/assignment-source';

const MAX_ERROR_BODY = 300;

export type { RequestSigner };

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

/**
 * The agent's HTTP calls, through the one API client (http/client.ts): classifies every failure as
 * transient or permanent, never leaks the token.
 */
export class AgentHttp {
  private readonly client: ApiClient;

  constructor(options: HttpOptions) {
    const { token, sign } = options;
    this.client = new ApiClient(
      {
        url: options.url,
        timeoutMs: options.timeoutMs ?? 15_000,
        sign: async (method, url, body) => ({
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(await sign?.(method, url, body)),
        }),
      },
      MAX_ERROR_BODY,
    );
  }

  /** Answers the parsed JSON of a 2xx, or throws TransientError / PermanentError. */
  async json(
    method: 'GET' | 'POST',
    path: string,
    init: { signal?: AbortSignal; timeoutMs?: number; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    // A body (the completion's outcome) is JSON; a SigV4 signature covers it.
    const { body, ...rest } = init;
    let response: Response;
    try {
      response = await this.client.request(method, path, {
        headers: { accept: 'application/json' },
        ...rest,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if (error instanceof UnreachableError) throw new TransientError(error.message);
      if (error instanceof HttpStatusError) {
        if (error.status === 429 || error.status >= 500) throw new TransientError(error.message);
        throw new PermanentError(error.message, error.status);
      }
      throw error;
    }
    const text = await response.text().catch(() => '');
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      throw new PermanentError(
        `${method} ${this.client.url(path).pathname}: the answer is not JSON`,
        response.status,
      );
    }
  }
}
