import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsDigestSigner } from '../../lib/adapters/kms';
import { LocalKeySigner } from '../../lib/adapters/local-key';
import { ValidationError } from '../../lib/errors';
import { digestSchema } from '../../lib/ledger/digest';
import {
  p256PublicKey,
  type SignedDigest,
  signDigest,
  signedDigestSchema,
  verifySignedDigest,
} from '../../lib/ledger/signed-digest';
import { toTimestamp } from '../../lib/ledger/time';
import type { Digest } from '../../lib/ledger/types';
import { DIGEST_KEY_FILE } from '../../runtime/digest-signing';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { getJson, openRemote, type RemoteFlags } from '../remote';
import { readStackOutputs, stackOutput } from '../stack';

/**
 * The signing side of `bcs ledger`: reading a digest file that may be signed, signing a digest with the
 * local key, and finding the public key (local key file, a server, or KMS).
 */

export interface KeyFlags extends RemoteFlags {
  db?: string;
  /** A local signing key (PKCS#8 PEM); default digest-key.pem beside --db. */
  key?: string;
  /** A KMS key id, ARN or alias: its public key, read with the AWS default credential chain. */
  kmsKeyId?: string;
}

/**
 * The digest in `path` to check a chain against. A signed digest is checked against `publicKeyFile`
 * first (exit 1 if the signature fails); a signed digest without a key is used as a plain digest, with
 * `warn` saying the signature was not checked. A key with an unsigned digest is a usage error.
 */
export async function readTrustedDigest(
  path: string,
  publicKeyFile: string | undefined,
  warn: (message: string) => void,
): Promise<Digest> {
  const value = await readJsonFile(path, 'digest');
  const signed = typeof value === 'object' && value !== null && 'signature' in value;
  if (!signed) {
    if (publicKeyFile !== undefined) {
      throw new CliExit(EXIT_USAGE, `${path} is not a signed digest: --public-key has nothing to check`);
    }
    return parseFile(digestSchema, value, path, 'a digest');
  }
  const parsed = parseFile(signedDigestSchema, value, path, 'a signed digest');
  if (publicKeyFile === undefined) {
    warn(`${path} is signed by ${parsed.key_id}; its signature is not checked (no --public-key)`);
    const { format: _f, key_id: _k, signing_algorithm: _a, signature: _s, ...digest } = parsed;
    return digest;
  }
  const pem = await readText(publicKeyFile, 'public key');
  let check: ReturnType<typeof verifySignedDigest>;
  try {
    check = verifySignedDigest(parsed, pem);
  } catch (error) {
    if (error instanceof ValidationError) throw new CliExit(EXIT_USAGE, `${publicKeyFile}: ${error.message}`);
    throw error;
  }
  if (!check.valid) throw new CliExit(EXIT_NEGATIVE, `${path}: ${check.reason}`);
  return check.digest;
}

/** The local signing key named by --key, or digest-key.pem beside --db; never created here. */
export async function localSigner(flags: KeyFlags): Promise<LocalKeySigner> {
  const path = flags.key ?? (flags.db !== undefined ? join(dirname(flags.db), DIGEST_KEY_FILE) : undefined);
  if (path === undefined)
    throw new CliExit(EXIT_USAGE, 'give --key (or --db, whose directory holds digest-key.pem)');
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new CliExit(EXIT_USAGE, `no signing key at ${path} (bcs start creates one in its data directory)`);
  }
  try {
    return await LocalKeySigner.open(path);
  } catch (error) {
    if (error instanceof ValidationError) throw new CliExit(EXIT_USAGE, error.message);
    throw error;
  }
}

/** Signs `digest` with the local key of `flags`, stamped with the signing time as the runtime does. */
export async function signLocally(digest: Digest, flags: KeyFlags): Promise<SignedDigest> {
  return signDigest({ ...digest, timestamp: toTimestamp(Date.now()) }, await localSigner(flags));
}

/** The server's signed digest of its current head (GET /ledger/digest?signed=1). */
export async function signedDigestFromServer(flags: RemoteFlags): Promise<SignedDigest> {
  return getJson(await openRemote(flags), 'ledger/digest?signed=1', signedDigestSchema);
}

/** The public key that checks digests: from KMS, a server, or a local key file (one of them). */
export async function publicKey(flags: KeyFlags): Promise<string> {
  const given = [
    flags.kmsKeyId !== undefined && '--kms-key-id',
    flags.stack !== undefined && '--stack',
    flags.url !== undefined && '--url',
    (flags.key !== undefined || flags.db !== undefined) && '--key/--db',
  ].filter((g) => typeof g === 'string');
  if (given.length !== 1)
    throw new CliExit(EXIT_USAGE, 'give exactly one of --kms-key-id, --stack, --url, --key or --db');
  // A stack's API serves no public key: its digests are signed by the KMS key in its outputs.
  const kmsKeyId =
    flags.stack !== undefined
      ? stackOutput(await readStackOutputs(flags.stack), 'DigestKeyArn', flags.stack)
      : flags.kmsKeyId;
  if (kmsKeyId !== undefined) {
    const client = new KMSClient({});
    try {
      return await new KmsDigestSigner(client, kmsKeyId).publicKeyPem();
    } catch (error) {
      throw new CliExit(EXIT_USAGE, (error as Error).message);
    } finally {
      client.destroy();
    }
  }
  if (flags.url !== undefined) {
    const response = await (await openRemote(flags)).get('ledger/public-key');
    const pem = await response.text();
    try {
      p256PublicKey(pem);
    } catch (error) {
      throw new CliExit(EXIT_USAGE, `GET ledger/public-key: ${(error as Error).message}`);
    }
    return pem;
  }
  return (await localSigner(flags)).publicKeyPem();
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `${path} is not JSON: ${(error as Error).message}`);
  }
}

function parseFile<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  value: unknown,
  path: string,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(digest)'}: ${i.message}`)
      .join('; ');
    throw new CliExit(EXIT_USAGE, `${path} is not ${what}: ${issues}`);
  }
  return parsed.data;
}
