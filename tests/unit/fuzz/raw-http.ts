import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';

export interface RawAnswer {
  status: number;
  /** The body parsed as JSON, or its text when it is not JSON (judged as such). */
  body: unknown;
}

/**
 * One request with node:http rather than fetch, on a fresh connection: a server may answer an
 * oversized body with 413 before reading it and close the connection, which fetch reports as a
 * failed request although the answer arrived. The path is sent exactly as given.
 */
export function sendRaw(
  target: {
    host: string;
    port?: string | number;
    method: string;
    path: string;
    headers: OutgoingHttpHeaders;
  },
  body: Buffer | undefined,
  label: string,
  timeoutMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ ...target, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // judged as a body that is not JSON
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET while still writing a body the server already refused: the response decides.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    // A request the server neither answers nor refuses is a failure of its own, not a hung suite.
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer within ${timeoutMs / 1000} s to ${label}`)),
    );
    req.end(body);
  });
}
