import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { signedDigestTable } from '../../lib/adapters/dynamodb/signed-digest-table';
import { KmsDigestSigner } from '../../lib/adapters/kms';
import { LocalKeySigner } from '../../lib/adapters/local-key';
import { DIGEST_KEY_FILE } from '../../lib/adapters/local-key/files';
import { ValidationError } from '../../lib/errors';
import { digestSchema } from '../../lib/ledger/digest';
import { duplicateMemberPath } from '../../lib/ledger/json-duplicates';
import {
  digestOf,
  p256PublicKey,
  type SignedDigest,
  signDigest,
  signedDigestSchema,
  verifySignedDigest,
} from '../../lib/ledger/signed-digest';
import { toTimestamp } from '../../lib/ledger/time';
import type { Digest } from '../../lib/ledger/types';
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
 * first; a signed digest without a key is used as a plain digest, with `warn` saying the signature was
 * not checked. Any content that fails a check (not JSON, a repeated member name, a wrong shape, a
 * key_id that does not name the key, a high-S or bad signature) ends with exit 1 and the problem's name
 * (docs/ledger-format.md section 10.1); a missing file, an unreadable or non-P-256 key, or a key with an
 * unsigned digest is a usage error (exit 2).
 */
export async function readTrustedDigest(
  path: string,
  publicKeyFile: string | undefined,
  warn: (message: string) => void,
): Promise<Digest> {
  const value = await readDigestJson(path);
  const signed = typeof value === 'object' && value !== null && 'signature' in value;
  if (!signed) {
    if (publicKeyFile !== undefined) {
      throw new CliExit(EXIT_USAGE, `${path} is not a signed digest: --public-key has nothing to check`);
    }
    return parseDigestFile(digestSchema, value, path, 'a digest');
  }
  if (publicKeyFile === undefined) {
    const parsed = parseDigestFile(signedDigestSchema, value, path, 'a signed digest');
    warn(`${path} is signed by ${parsed.key_id}; its signature is not checked (no --public-key)`);
    return digestOf(parsed);
  }
  const pem = await readText(publicKeyFile, 'public key');
  let check: ReturnType<typeof verifySignedDigest>;
  try {
    check = verifySignedDigest(value, pem);
  } catch (error) {
    if (error instanceof ValidationError) throw new CliExit(EXIT_USAGE, `${publicKeyFile}: ${error.message}`);
    throw error;
  }
  if (!check.valid) throw new CliExit(EXIT_NEGATIVE, `${path}: ${check.problem}: ${check.reason}`);
  if (!check.key_bound) {
    warn(`${path} is a format-1 digest naming key ${check.key_id}, which cannot be checked against the key`);
  }
  return check.digest;
}

/** A digest file's JSON: unreadable is a usage error; not JSON or a repeated name is malformed-digest. */
export async function readDigestJson(path: string): Promise<unknown> {
  const text = await readText(path, 'digest');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliExit(EXIT_NEGATIVE, `${path}: malformed-digest: not JSON: ${(error as Error).message}`);
  }
  const duplicate = duplicateMemberPath(text);
  if (duplicate !== null) {
    throw new CliExit(EXIT_NEGATIVE, `${path}: malformed-digest: ${duplicate}: duplicate member name`);
  }
  return value;
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

/**
 * The latest digest a deployed stack signed: its verify function signs the head on each *scheduled*
 * run (every `verifyIntervalMinutes`) and keeps the highest in the `DIGEST#LATEST` item of the ledger
 * table, which is read here by key (the table from the stack's TableName output, the AWS default
 * credentials). Before the first scheduled run there is none: exit 1 saying so, after waiting up to
 * `waitSeconds` for one. The shape is checked here; the signature by `verify --public-key`.
 */
export async function latestSignedDigestOfStack(
  stack: string,
  waitSeconds: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<SignedDigest> {
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600)
    throw new CliExit(EXIT_USAGE, '--wait: must be 0 to 3600 seconds');
  const table = stackOutput(await readStackOutputs(stack), 'TableName', stack);
  const client = new DynamoDBClient({});
  const deadline = Date.now() + waitSeconds * 1000;
  try {
    const digests = signedDigestTable(client, table);
    for (;;) {
      let latest: unknown;
      try {
        latest = await digests.latest();
      } catch (error) {
        throw new CliExit(EXIT_USAGE, `--stack: cannot read ${table}: ${(error as Error).message}`);
      }
      if (latest !== null)
        return parseDigestFile(signedDigestSchema, latest, `${table} DIGEST#LATEST`, 'a signed digest');
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CliExit(
          EXIT_NEGATIVE,
          `no signed digest yet: ${stack} signs its head on each scheduled verification (every verifyIntervalMinutes, 15 by default) and none has run since it was deployed; try again later (--wait SECONDS waits for it), or keep the unsigned digest (without --sign)`,
        );
      }
      await sleep(Math.min(5000, left));
    }
  } finally {
    client.destroy();
  }
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

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

function parseDigestFile<T>(
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
    throw new CliExit(EXIT_NEGATIVE, `${path}: malformed-digest: not ${what}: ${issues}`);
  }
  return parsed.data;
}
