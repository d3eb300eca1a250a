import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionOfExecuteApiHost, signingRegion } from '../../cli/aws-sigv4';
import type { Block } from '../../lib/ledger/types';
import { buildChain, clone, sampleTransactions } from '../unit/ledger/helpers/transactions';
import { type FakeApi, type SeenRequest, startFakeApi } from './helpers/fake-api';
import { eventually, postJson, type RunningServer, runCli, startServer, task } from './helpers/server';

/**
 * `bcs ledger … --url` against the two runtimes' shared read routes: an API Gateway-like stage
 * (stage prefix, SigV4 or an API key, no export route) and the real local server.
 */

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
// Credentials through the SDK's default chain from the environment only: no ~/.aws, no instance metadata.
const ISOLATED = {
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PROFILE: '',
  AWS_REGION: '',
  AWS_DEFAULT_REGION: '',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
};
const SIGNING_ENV = {
  ...ISOLATED,
  AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
  AWS_SESSION_TOKEN: 'session-token-example',
};
const API_KEY = 'k'.repeat(40);

// 1010 transactions, 5 a block: genesis + 202 blocks, so three pages of at most 100.
const chain = buildChain(sampleTransactions(1010, 11));
const head = chain.at(-1)!;

class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined ? undefined : Buffer.from(secret as string);
    this.#hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

/** The signature a gateway computes from the request as it arrived, at the time the request claims. */
async function expectedAuthorization(request: SeenRequest, region: string): Promise<string> {
  const url = new URL(request.url, `http://${request.headers.host}`);
  const date = request.headers['x-amz-date'] as string;
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: { ...KEYS, sessionToken: SIGNING_ENV.AWS_SESSION_TOKEN },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: request.headers.host! },
    },
    {
      signingDate: new Date(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      ),
    },
  );
  return signed.headers.authorization!;
}

const verify = (url: string, extra: string[], env: Record<string, string> = SIGNING_ENV) =>
  runCli(['ledger', 'verify', '--url', url, '--json', ...extra], env);

describe('bcs ledger verify --url on an API Gateway stage', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi({ blocks: chain, requireHeader: 'authorization' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('signs every request with SigV4 for execute-api and reads the chain page by page under the stage', async () => {
    api.requests.length = 0;
    const result = await verify(api.url, ['--aws-sigv4', 'eu-west-1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: true,
      height: head.height,
      head_hash: head.block_hash,
      blocks_checked: chain.length,
      transactions_checked: 1010,
    });

    // The digest first (it bounds the pages), then contiguous pages, each no larger than the API allows.
    expect(api.requests.map((r) => r.url)).toEqual([
      '/prod/ledger/digest',
      '/prod/ledger/blocks?from=0&limit=100',
      '/prod/ledger/blocks?from=100&limit=100',
      '/prod/ledger/blocks?from=200&limit=3',
    ]);
    for (const request of api.requests) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-security-token']).toBe(SIGNING_ENV.AWS_SESSION_TOKEN);
      expect(request.headers.authorization).toBe(await expectedAuthorization(request, 'eu-west-1'));
    }
  });

  it('refuses without credentials, hinting at the flags a stage needs', async () => {
    const result = await verify(api.url, [], ISOLATED);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HTTP 403');
    expect(result.stderr).toContain('--aws-sigv4 or --api-key');
  });

  it('exits 2 when the default chain finds no credentials', async () => {
    const result = await verify(api.url, ['--aws-sigv4', 'us-east-1'], ISOLATED);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^--aws-sigv4: cannot sign/);
  });
});

describe('bcs ledger --url with an API key', () => {
  it('sends x-api-key on every request and no signature; digest and export work the same way', async () => {
    const api = await startFakeApi({ blocks: chain, requireHeader: 'x-api-key' });
    try {
      const verified = await verify(api.url, ['--api-key', API_KEY], ISOLATED);
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout).valid).toBe(true);

      const digest = await runCli(['ledger', 'digest', '--url', api.url, '--api-key', API_KEY], ISOLATED);
      expect(digest.code).toBe(0);
      expect(JSON.parse(digest.stdout)).toMatchObject({ height: head.height, head_hash: head.block_hash });

      const exported = await runCli(['ledger', 'export', '--url', api.url, '--api-key', API_KEY], ISOLATED);
      expect(exported.code).toBe(0);
      const lines = exported.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(chain.length);
      expect(JSON.parse(lines[150]!)).toEqual(chain[150]);

      expect(api.requests.length).toBeGreaterThan(0);
      for (const request of api.requests) {
        expect(request.headers['x-api-key']).toBe(API_KEY);
        expect(request.headers.authorization).toBeUndefined();
      }
    } finally {
      await api.close();
    }
  });
});

describe('bcs ledger verify --url findings', () => {
  async function verifyServed(blocks: Block[], digestOverride = {}) {
    const api = await startFakeApi({ blocks, digestOverride });
    try {
      const result = await verify(api.url, [], ISOLATED);
      return { code: result.code, report: JSON.parse(result.stdout) };
    } finally {
      await api.close();
    }
  }

  it('names a tampered block on the second page', async () => {
    const tampered = clone(chain);
    tampered[150]!.transactions[2]!.reason = 'rewritten after the fact';
    const { code, report } = await verifyServed(tampered);
    expect(code).toBe(1);
    expect(report).toMatchObject({ valid: false, first_bad_height: 150, problem: 'wrong-merkle-root' });
  });

  it('reports a published digest that the served chain does not reproduce', async () => {
    const { code, report } = await verifyServed(chain, { blocks_root: 'ab'.repeat(32) });
    expect(code).toBe(1);
    expect(report).toMatchObject({
      valid: false,
      first_bad_height: head.height,
      problem: 'inconsistent-with-digest',
    });
    expect(report.detail).toContain('ab'.repeat(32));
  });

  it('reports a chain that ends before the head the digest published', async () => {
    const { code, report } = await verifyServed(chain.slice(0, 120), {
      height: head.height,
      head_hash: head.block_hash,
      tree_size: head.height + 1,
    });
    expect(code).toBe(1);
    expect(report).toMatchObject({ valid: false, blocks_checked: 120 });
  });
});

describe('remote flags', () => {
  it.each([
    ['a region that is not one', ['--url', 'http://127.0.0.1:9', '--aws-sigv4', 'moon-base'], '--aws-sigv4'],
    ['a short API key', ['--url', 'http://127.0.0.1:9', '--api-key', 'short'], '--api-key'],
    [
      'two ways to authenticate',
      ['--url', 'http://127.0.0.1:9', '--token', 't', '--aws-sigv4', 'us-east-1'],
      '--aws-sigv4',
    ],
    ['a URL that is not http', ['--url', 'ftp://127.0.0.1/prod'], '--url'],
    ['authentication without --url', ['--db', 'ledger.db', '--api-key', API_KEY], '--api-key needs --url'],
    [
      'SigV4 with no region anywhere',
      ['--url', 'http://127.0.0.1:9', '--aws-sigv4'],
      '--aws-sigv4: no region',
    ],
  ])('exit 2 naming the flag for %s', async (_name, args, named) => {
    const result = await runCli(['ledger', 'verify', ...args], SIGNING_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it('takes the signing region from an execute-api URL, else the flag, else AWS_REGION', () => {
    const apiUrl = new URL('https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/prod/');
    expect(regionOfExecuteApiHost(apiUrl.hostname)).toBe('ap-southeast-2');
    expect(regionOfExecuteApiHost('api.example.com')).toBeUndefined();
    expect(signingRegion(undefined, apiUrl, {})).toBe('ap-southeast-2');
    expect(signingRegion('eu-west-3', apiUrl, {})).toBe('eu-west-3');
    const custom = new URL('https://api.example.com/');
    expect(signingRegion(undefined, custom, { AWS_REGION: '', AWS_DEFAULT_REGION: 'us-west-2' })).toBe(
      'us-west-2',
    );
    expect(() => signingRegion(undefined, custom, {})).toThrow(/no region/);
  });
});

describe('bcs ledger --url on the local server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // No waiting for capacity: the 600 tasks (10 h each) are all decided at once, placed or rejected.
    server = await startServer({ config: { seed: 5, max_wait_s: 0 } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('verifies over the paged routes, and export equals the server own export byte for byte', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `p-${i}`);
    for (let i = 0; i < ids.length; i += 200) {
      expect(
        (
          await postJson(
            `${server.url}/tasks`,
            ids.slice(i, i + 200).map((id) => task(id)),
          )
        ).status,
      ).toBe(202);
    }
    const digest = await eventually(async () => {
      const d = (await (await fetch(`${server.url}/ledger/digest`)).json()) as { transaction_count: number };
      return d.transaction_count === ids.length ? d : undefined;
    }, 'all 600 tasks to be decided');

    const verified = await runCli(['ledger', 'verify', '--url', server.url, '--json']);
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report).toMatchObject({ valid: true, transactions_checked: ids.length });
    expect(report.digest).toMatchObject(digest);
    expect(report.blocks_checked).toBeGreaterThan(100);

    const exported = await runCli(['ledger', 'export', '--url', server.url]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(await (await fetch(`${server.url}/ledger/export`)).text());

    const digestRun = await runCli(['ledger', 'digest', '--url', server.url]);
    expect(JSON.parse(digestRun.stdout)).toEqual(digest);
  });
});
