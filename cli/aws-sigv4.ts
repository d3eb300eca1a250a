import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RequestSigner } from '../http/client';
import { CliExit, EXIT_USAGE } from './exit';

/** Where the signing keys come from: static keys or a provider (the SDK's default chain). */
export type AwsCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto (the SDK's own hash class is internal). */
class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The region in an API Gateway default endpoint (`{id}.execute-api.{region}.amazonaws.com`), if it is one. */
export function regionOfExecuteApiHost(hostname: string): string | undefined {
  return EXECUTE_API_HOST.exec(hostname)?.[1];
}

/**
 * The region to sign for: the one given with the flag, else the one in the API's default endpoint,
 * else AWS_REGION / AWS_DEFAULT_REGION. A custom domain or an emulator needs the flag or the variable.
 */
export function signingRegion(
  given: string | undefined,
  url: URL,
  env: NodeJS.ProcessEnv = process.env,
): string {
  // An empty variable counts as unset, as it does for the SDK.
  const region =
    given ?? regionOfExecuteApiHost(url.hostname) ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  if (!region) {
    throw new CliExit(
      EXIT_USAGE,
      `--aws-sigv4: no region: ${url.hostname} is not an execute-api endpoint and AWS_REGION is not set; give --aws-sigv4 REGION`,
    );
  }
  return region;
}

/**
 * Signs requests for API Gateway (service `execute-api`) with Signature Version 4, the stack's default
 * authorization. Credentials come from the AWS SDK's default chain (environment, SSO, web identity,
 * shared files, container and instance metadata), resolved once and refreshed when they expire;
 * temporary credentials add x-amz-security-token.
 */
export function awsSigv4Signer(
  region: string,
  credentials: AwsCredentials = defaultProvider(),
): RequestSigner {
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  return async (method, url, body) => {
    const query: Record<string, string[]> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key);
    try {
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        // Already percent-encoded: SigV4 for execute-api encodes each segment once more.
        path: url.pathname,
        query,
        headers: { host: url.host },
        ...(body === undefined ? {} : { body }),
      });
      return signed.headers;
    } catch (error) {
      throw new CliExit(EXIT_USAGE, `--aws-sigv4: cannot sign: ${(error as Error).message}`);
    }
  };
}
