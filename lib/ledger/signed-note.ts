import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { SchedulerError } from '../errors';

/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line,
 * then one signature line per signer, `— <key name> base64(key ID || signature)`, where the key ID is
 * 4 bytes. The ledger's checkpoints (lib/ledger/checkpoint.ts) are signed notes, so that clients this
 * project did not write (golang.org/x/mod/sumdb/note, github.com/transparency-dev/formats/note,
 * witnesses such as litewitness) read them. Three signature types are used:
 *
 * - 0x02, ECDSA P-256 over SHA-256 of the text, DER signature (the transparency-dev/witness
 *   convention, which formats/note verifies): the KMS key on AWS, the PEM key file locally, the same
 *   key that signs digests. Key ID = SHA-256(SPKI DER)[:4]; verifier key `name+hex(id)+base64(0x02 || SPKI DER)`.
 * - 0x01, Ed25519 over the text (the note specification's own type): litewitness, like every witness of
 *   the public witness network, verifies only this one (tlog-tiles: a log talking to witnesses MUST
 *   carry one), so checkpoints carry it too when there is an Ed25519 key.
 *   Key ID = SHA-256(name || "\n" || 0x01 || 32-byte public key)[:4].
 * - 0x04, timestamped Ed25519 cosignatures (https://c2sp.org/tlog-cosignature, `cosignature/v1`), what
 *   witnesses return: verified, never made, here.
 *
 * Written here, not taken from a package: no npm package implements signed notes (searched npm for
 * signed-note, sumdb note, c2sp); the format is a few lines over node:crypto, and the Go client test
 * (tests/tlog) checks this code against the Go implementations.
 */

export const SIG_ED25519 = 0x01;
export const SIG_ECDSA = 0x02;
export const SIG_COSIGNATURE_V1 = 0x04;

/** At most this many signature lines are read (the note spec: accept at least 16). */
export const MAX_NOTE_SIGNATURES = 64;
const MAX_NOTE_BYTES = 1_000_000;

export class NoteError extends SchedulerError {
  override name = 'NoteError';
}

export interface NoteSignature {
  name: string;
  /** The 4-byte key ID as an unsigned integer. */
  keyHash: number;
  /** The signature bytes after the key ID. */
  signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, final newline included. */
  text: string;
  signatures: NoteSignature[];
}

/** A key a note is signed with: the signer side. */
export interface NoteSigner {
  name: string;
  keyHash: number;
  /** The signature over the note text (without the key ID). */
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/** A key a note is checked with: what a verifier key string (vkey) names. */
export interface NoteVerifier {
  name: string;
  keyHash: number;
  type: number;
  /** The verifier key string, `name+hex(id)+base64(type || key)`. */
  vkey: string;
  /** Whether `signature` is valid over `text`; for cosignatures also its timestamp (seconds). */
  verify(text: Uint8Array, signature: Uint8Array): { valid: boolean; timestamp?: number };
}

const DASH = '\u2014';

/** Whether `s` holds an ASCII control character (below U+0020, or U+007F), newlines allowed or not. */
export function hasControlCharacter(s: string, allowNewline = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && !(allowNewline && c === 0x0a)) || c === 0x7f) return true;
  }
  return false;
}

function isValidName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControlCharacter(name);
}

function hash4(...parts: Uint8Array[]): number {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest().readUInt32BE(0);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Key ID of a type-0x02 key: the first 4 bytes of SHA-256 of its SPKI DER. */
export function ecdsaKeyHash(spkiDer: Uint8Array): number {
  return hash4(spkiDer);
}

/** Key ID of the types that hash the name in (0x01, 0x04): SHA-256(name || "\n" || type || key)[:4]. */
export function namedKeyHash(name: string, type: number, key: Uint8Array): number {
  return hash4(Buffer.from(`${name}\n`, 'utf8'), Uint8Array.of(type), key);
}

/** A signature line, `— name base64(id || sig)` and its newline. */
export function signatureLine(name: string, keyHash: number, signature: Uint8Array): string {
  const bytes = Buffer.alloc(4 + signature.length);
  bytes.writeUInt32BE(keyHash, 0);
  bytes.set(signature, 4);
  return `${DASH} ${name} ${bytes.toString('base64')}\n`;
}

/** Signs `text` (which must end in a newline) with every signer, in order. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkText(text);
  const bytes = Buffer.from(text, 'utf8');
  let lines = '';
  for (const signer of signers) lines += signatureLine(signer.name, signer.keyHash, await signer.sign(bytes));
  return `${text}\n${lines}`;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  if (hasControlCharacter(text, true)) throw new NoteError('note text has a control character');
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses one signature line (without its newline); null when it is not one. */
export function parseSignatureLine(line: string): NoteSignature | null {
  if (!line.startsWith(`${DASH} `)) return null;
  const rest = line.slice(2);
  const space = rest.indexOf(' ');
  if (space <= 0) return null;
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidName(name) || !STRICT_BASE64.test(b64)) return null;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < 5) return null;
  return { name, keyHash: bytes.readUInt32BE(0), signature: new Uint8Array(bytes.subarray(4)) };
}

/**
 * Splits a signed note into its text and signature lines (the text ends at the last blank line).
 * Throws NoteError for anything that is not a signed note.
 */
export function parseNote(note: string): ParsedNote {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) throw new NoteError('note too large');
  if (note.includes('\uFFFD')) throw new NoteError('note is not valid UTF-8');
  if (hasControlCharacter(note, true)) throw new NoteError('note has a control character');
  if (!note.endsWith('\n')) throw new NoteError('note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new NoteError(`note has over ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const parsed = parseSignatureLine(line);
    if (!parsed) throw new NoteError(`malformed signature line ${JSON.stringify(line.slice(0, 80))}`);
    signatures.push(parsed);
  }
  return { text, signatures };
}

export interface OpenedNote {
  text: string;
  /** The signatures that verified, with the verifier that checked each (and a cosignature's time). */
  verified: { verifier: NoteVerifier; timestamp?: number }[];
  /** Signature lines from keys not among the verifiers (ignored, as the spec requires). */
  unknown: NoteSignature[];
}

/**
 * Verifies a note's signatures with the keys given: lines from other keys are ignored; a line whose
 * name and key ID match a known key but does not verify rejects the whole note (NoteError), as the
 * note specification advises. The caller decides how many verified signatures it needs.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const bytes = Buffer.from(text, 'utf8');
  const verified: OpenedNote['verified'] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyHash === sig.keyHash);
    if (!verifier) {
      unknown.push(sig);
      continue;
    }
    const check = verifier.verify(bytes, sig.signature);
    if (!check.valid) throw new NoteError(`signature by ${sig.name}+${hex8(sig.keyHash)} does not verify`);
    if (verified.some((v) => v.verifier === verifier)) continue;
    verified.push(check.timestamp === undefined ? { verifier } : { verifier, timestamp: check.timestamp });
  }
  return { text, verified, unknown };
}

function vkeyString(name: string, keyHash: number, type: number, key: Uint8Array): string {
  return `${name}+${hex8(keyHash)}+${Buffer.concat([Uint8Array.of(type), key]).toString('base64')}`;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function ed25519Key(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32-byte Ed25519 public key of a KeyObject. */
export function ed25519RawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** The verifier key (type 0x02) of a P-256 public key, under `name`. */
export function ecdsaVerifierKey(name: string, publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return vkeyString(name, ecdsaKeyHash(spki), SIG_ECDSA, spki);
}

/** The verifier key (type 0x01) of an Ed25519 public key, under `name`. */
export function ed25519VerifierKey(name: string, publicKey: KeyObject): string {
  const raw = ed25519RawPublicKey(publicKey);
  return vkeyString(name, namedKeyHash(name, SIG_ED25519, raw), SIG_ED25519, raw);
}

/**
 * Parses a verifier key string `name+hex(id)+base64(type || key)` of type 0x01, 0x02 or 0x04.
 * Throws NoteError naming what is wrong (the key ID must be the one the key implies).
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The base64 key material may itself hold '+': only the first two separate parts.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new NoteError('verifier key must be name+id+key');
  const [name, id, b64] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  if (!isValidName(name))
    throw new NoteError('verifier key name is empty or has a space or control character');
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError('verifier key id must be 8 lowercase hex digits');
  if (!STRICT_BASE64.test(b64) || b64.length < 4) throw new NoteError('verifier key material is not base64');
  const bytes = Buffer.from(b64, 'base64');
  const type = bytes[0]!;
  const key = new Uint8Array(bytes.subarray(1));
  const keyHash = Number.parseInt(id, 16);
  const expected =
    type === SIG_ECDSA
      ? ecdsaKeyHash(key)
      : type === SIG_ED25519 || type === SIG_COSIGNATURE_V1
        ? namedKeyHash(name, type, key)
        : null;
  if (expected === null)
    throw new NoteError(`verifier key type 0x${type.toString(16).padStart(2, '0')} is not supported`);
  if (expected !== keyHash)
    throw new NoteError(`verifier key id ${id} is not the id of its key (${hex8(expected)})`);
  let publicKey: KeyObject;
  try {
    publicKey =
      type === SIG_ECDSA
        ? createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' })
        : ed25519Key(key);
  } catch {
    throw new NoteError('verifier key material is not a public key of its type');
  }
  if (type === SIG_ECDSA && publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new NoteError('type 0x02 verifier key must be an EC P-256 key');
  }
  if (type !== SIG_ECDSA && key.length !== 32) throw new NoteError('Ed25519 verifier key must be 32 bytes');
  const check = (message: Uint8Array, signature: Uint8Array, algorithm: string | null): boolean => {
    try {
      return verify(algorithm, message, { key: publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  };
  return {
    name,
    keyHash,
    type,
    vkey,
    verify(text, signature) {
      if (type === SIG_ECDSA) return { valid: check(text, signature, 'sha256') };
      if (type === SIG_ED25519) return { valid: signature.length === 64 && check(text, signature, null) };
      // cosignature/v1: 8-byte big-endian timestamp, then Ed25519 over the timestamped message.
      if (signature.length !== 72) return { valid: false };
      const timestamp = Buffer.from(signature).readBigUInt64BE(0);
      if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return { valid: false };
      const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timestamp}\n`, 'utf8'), text]);
      return { valid: check(message, signature.subarray(8), null), timestamp: Number(timestamp) };
    },
  };
}
