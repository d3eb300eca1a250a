import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeDigest } from '../../../lib/ledger/digest';
import type { Block, Digest } from '../../../lib/ledger/types';

export interface SeenRequest {
  method: string;
  /** Path and query as received, stage prefix included. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FakeApi {
  /** The stage URL the CLI is given, e.g. http://127.0.0.1:1234/prod */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export interface FakeApiOptions {
  blocks: Block[];
  /** Replaces fields of the digest the server publishes (a server lying about its chain). */
  digestOverride?: Partial<Digest>;
  /** Answer 403 to requests without this header, as API Gateway does without credentials. */
  requireHeader?: string;
}

const STAGE = '/prod';

/**
 * The read routes of the API as API Gateway serves them: under a stage prefix, GET /ledger/digest and
 * GET /ledger/blocks?from=&limit= (at most 100 per page). Every request is recorded with its headers.
 */
export async function startFakeApi(options: FakeApiOptions): Promise<FakeApi> {
  const requests: SeenRequest[] = [];
  const digest = {
    ...computeDigest(options.blocks, options.blocks.at(-1)!.timestamp),
    ...options.digestOverride,
  };
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (options.requireHeader && req.headers[options.requireHeader] === undefined) {
      return send(403, { message: 'Missing Authentication Token' });
    }
    const url = new URL(req.url!, 'http://fake');
    if (url.pathname === `${STAGE}/ledger/digest`) return send(200, digest);
    if (url.pathname === `${STAGE}/ledger/blocks`) {
      const from = Number(url.searchParams.get('from') ?? 0);
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 20), 100);
      return send(200, {
        height: options.blocks.length - 1,
        blocks: options.blocks.slice(from, from + limit),
      });
    }
    return send(404, { error: 'NotFoundError', message: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${STAGE}`,
    requests,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
