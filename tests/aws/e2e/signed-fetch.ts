import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 / HMAC-SHA-256 for the signer, from node:crypto. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SigV4 for execute-api with the emulator's dummy keys. */
export const emulatorSigner = new SignatureV4({
  service: 'execute-api',
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  sha256: Sha256,
});

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * Calls the API the way an IAM-authorised client does: a SigV4-signed request (the stack's default
 * authorization). `signed: false` sends the same request without a signature.
 */
export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; signed?: boolean } = {},
): Promise<ApiResponse> {
  const url = new URL(path.replace(/^\//, ''), baseUrl);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { host: url.host };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const request = {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers,
    body,
  };
  const signed = options.signed === false ? request : await emulatorSigner.sign(request);
  const res = await fetch(url, { method, headers: signed.headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Non-JSON bodies (gateway errors on some emulators) are returned as text.
  }
  return { status: res.status, body: parsed };
}
