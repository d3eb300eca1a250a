import { createPublicKey } from 'node:crypto';
import { ValidationError } from '../errors';
import type { DigestSigner } from '../ports/digest-signer';
import { fromHex, toHex } from './hash';
import { lowS } from './signed-digest';
import {
  ecdsaKeyHash,
  ecdsaVerifierKey,
  hasControlCharacter,
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  openNote,
} from './signed-note';
import type { Digest } from './types';

/**
 * The ledger's digest as a C2SP checkpoint (https://c2sp.org/tlog-checkpoint), the tree head every
 * transparency-log client reads (docs/ledger-format.md section 12):
 *
 *     <origin>
 *     <tree_size>
 *     <base64 of blocks_root>
 *     bcs-head <head_hash>
 *     bcs-transactions <transaction_count>
 *     bcs-time <timestamp>
 *
 * The first three lines are the checkpoint proper: the block-hash tree (section 4) is an RFC 6962 tree,
 * so any tlog client checks inclusion and consistency against them. The extension lines carry the rest
 * of the digest (section 7) so that the digest is recovered from the checkpoint alone; `bcs-time` is the
 * head block's timestamp, so that a checkpoint, like a digest, is a function of the chain.
 */

export const EXTENSION_HEAD = 'bcs-head';
export const EXTENSION_TRANSACTIONS = 'bcs-transactions';
export const EXTENSION_TIME = 'bcs-time';

export interface Checkpoint {
  origin: string;
  tree_size: number;
  /** hex of the root hash. */
  root_hash: string;
  /** Extension lines, each without its newline. */
  extensions: string[];
}

/** Checks an origin line: non-empty, printable, no spaces and no '+' (so it can also be a key name). */
export function checkOrigin(origin: string, field = 'origin'): string {
  if (origin.length === 0 || origin.length > 255 || /[\s+]/u.test(origin) || hasControlCharacter(origin)) {
    throw new ValidationError(
      [
        {
          field,
          message: 'must be 1-255 printable characters without spaces or "+" (e.g. example.com/ledger)',
        },
      ],
      'invalid checkpoint origin',
    );
  }
  return origin;
}

/** The origin used when none is configured: unique per signing key, stable for its life. */
export function defaultOrigin(keyFingerprint: string): string {
  const hex = keyFingerprint.replace(/^sha256:/, '');
  return `bcs-ledger/${hex.slice(0, 16)}`;
}

/** The checkpoint of a digest. */
export function checkpointOf(origin: string, digest: Digest): Checkpoint {
  return {
    origin: checkOrigin(origin),
    tree_size: digest.tree_size,
    root_hash: digest.blocks_root,
    extensions: [
      `${EXTENSION_HEAD} ${digest.head_hash}`,
      `${EXTENSION_TRANSACTIONS} ${digest.transaction_count}`,
      `${EXTENSION_TIME} ${digest.timestamp}`,
    ],
  };
}

/** The note text of a checkpoint (ends with a newline). */
export function checkpointText(checkpoint: Checkpoint): string {
  const root = Buffer.from(fromHex(checkpoint.root_hash)).toString('base64');
  const lines = [checkpoint.origin, String(checkpoint.tree_size), root, ...checkpoint.extensions];
  return `${lines.join('\n')}\n`;
}

/** Parses a checkpoint's note text; throws NoteError naming the line that is wrong. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new NoteError('checkpoint text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('checkpoint has fewer than three lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new NoteError('checkpoint origin line is empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new NoteError('checkpoint tree size line is not a decimal without leading zeros');
  }
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root) {
    throw new NoteError('checkpoint root hash line is not the base64 of 32 bytes');
  }
  if (extensions.some((line) => line.length === 0))
    throw new NoteError('checkpoint has an empty extension line');
  return { origin, tree_size: Number(size), root_hash: toHex(rootBytes), extensions };
}

/** The digest a checkpoint carries in its extension lines; null when they are not all there. */
export function digestOfCheckpoint(checkpoint: Checkpoint): Digest | null {
  const value = (key: string) => {
    const line = checkpoint.extensions.find((l) => l.startsWith(`${key} `));
    return line === undefined ? undefined : line.slice(key.length + 1);
  };
  const head = value(EXTENSION_HEAD);
  const transactions = value(EXTENSION_TRANSACTIONS);
  const time = value(EXTENSION_TIME);
  if (head === undefined || transactions === undefined || time === undefined) return null;
  if (!/^[0-9a-f]{64}$/.test(head) || !/^(0|[1-9][0-9]{0,15})$/.test(transactions)) return null;
  if (checkpoint.tree_size < 1) return null;
  return {
    height: checkpoint.tree_size - 1,
    head_hash: head,
    tree_size: checkpoint.tree_size,
    blocks_root: checkpoint.root_hash,
    transaction_count: Number(transactions),
    timestamp: time,
  };
}

/**
 * The type-0x02 note signer over a DigestSigner (the KMS key on AWS, the key file locally): ECDSA P-256
 * over SHA-256 of the note text, DER, normalised to low S like signed digests.
 */
export async function ecdsaNoteSigner(name: string, signer: DigestSigner): Promise<NoteSigner> {
  const spki = createPublicKey(await signer.publicKeyPem()).export({ type: 'spki', format: 'der' });
  return {
    name: checkOrigin(name, 'key name'),
    keyHash: ecdsaKeyHash(spki),
    sign: async (text) => lowS(await signer.sign(text)),
  };
}

/** The type-0x02 verifier key of a DigestSigner's public key. */
export async function ecdsaVerifierKeyOf(name: string, signer: DigestSigner): Promise<string> {
  return ecdsaVerifierKey(name, createPublicKey(await signer.publicKeyPem()));
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** Verified witness cosignatures: the witness key name and the cosignature's time (seconds). */
  cosignatures: { name: string; timestamp: number }[];
}

/**
 * Opens a signed checkpoint: the log's signature must verify with `logKey` (whose name must be the
 * origin), and at least `quorum` of `witnesses` must have cosigned it. Throws NoteError otherwise.
 */
export function openCheckpoint(
  note: string,
  logKey: NoteVerifier,
  witnesses: readonly NoteVerifier[] = [],
  quorum = 0,
): OpenedCheckpoint {
  const opened = openNote(note, [logKey, ...witnesses]);
  if (!opened.verified.some((v) => v.verifier === logKey)) {
    throw new NoteError(
      `checkpoint carries no signature by the log key ${logKey.name}+${logKey.keyHash.toString(16).padStart(8, '0')}`,
    );
  }
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== logKey.name) {
    throw new NoteError(`checkpoint origin ${checkpoint.origin} is not the log key's name ${logKey.name}`);
  }
  const cosignatures = opened.verified
    .filter((v) => v.verifier !== logKey)
    .map((v) => ({ name: v.verifier.name, timestamp: v.timestamp ?? 0 }));
  if (cosignatures.length < quorum) {
    throw new NoteError(
      `checkpoint has ${cosignatures.length} valid witness cosignatures, the quorum is ${quorum}`,
    );
  }
  return { checkpoint, cosignatures };
}
