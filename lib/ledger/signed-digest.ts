import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../errors';
import type { DigestSigner } from '../ports/digest-signer';
import { canonicalBytes } from './canonical';
import { digestSchema } from './digest';
import { sha256Hex } from './hash';
import type { Digest } from './types';

/**
 * A signed digest: the digest's fields, the signer's key id, the format and algorithm names, and an
 * ECDSA P-256 / SHA-256 signature over the RFC 8785 canonical JSON of every other member
 * (docs/ledger-format.md, "Signed digests"). Signing the format name keeps the signature from being
 * replayed as a statement of any other kind; signing the key id binds the digest to one key.
 */

/**
 * Format 2 binds `key_id` to the key: it must be `sha256:<hex SHA-256 of the SPKI DER>` of the public
 * key the signature verifies with, whoever signs (KMS or a local key).
 */
export const SIGNED_DIGEST_FORMAT = 'bcs-signed-digest/2';
/**
 * Format 1, written before format 2: `key_id` was a KMS key ARN or the fingerprint. Still accepted; a
 * fingerprint must match the key, an ARN cannot be checked against it (reported as `key_bound: false`).
 */
export const SIGNED_DIGEST_FORMAT_V1 = 'bcs-signed-digest/1';
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export type SignedDigestFormat = typeof SIGNED_DIGEST_FORMAT | typeof SIGNED_DIGEST_FORMAT_V1;

export interface SignedDigest extends Digest {
  format: SignedDigestFormat;
  key_id: string;
  signing_algorithm: typeof SIGNING_ALGORITHM;
  /** Base64 (RFC 4648 section 4, padded) of the ASN.1 DER ECDSA signature, low-S. */
  signature: string;
}

/** What checking a signed digest can find wrong (docs/ledger-format.md section 10.1). */
export type SignedDigestProblem =
  | 'malformed-digest'
  | 'key-id-mismatch'
  | 'high-s-signature'
  | 'bad-signature';

// A DER ECDSA P-256 signature is 8 to 72 bytes: at most 96 base64 characters.
const base64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be padded base64')
  .min(12)
  .max(96);

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

export const signedDigestSchema = z
  .strictObject({
    ...digestSchema.shape,
    format: z.enum([SIGNED_DIGEST_FORMAT, SIGNED_DIGEST_FORMAT_V1], {
      error: `must be ${SIGNED_DIGEST_FORMAT} (or ${SIGNED_DIGEST_FORMAT_V1})`,
    }),
    key_id: z
      .string()
      .min(1)
      .max(2048)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    signing_algorithm: z.literal(SIGNING_ALGORITHM),
    signature: base64,
  })
  .refine((d) => d.tree_size === d.height + 1, {
    path: ['tree_size'],
    message: 'must be height + 1 (the genesis block is leaf 0)',
  })
  .refine((d) => d.format !== SIGNED_DIGEST_FORMAT || FINGERPRINT.test(d.key_id), {
    path: ['key_id'],
    message: `must be sha256:<64 hex digits> (the public key's fingerprint) in ${SIGNED_DIGEST_FORMAT}`,
  }) satisfies z.ZodType<SignedDigest>;

// P-256 group order n (SEC 2 section 2.4.2); a signature (r, s) is low-S when s <= n / 2.
const P256_ORDER = p256.Point.CURVE().n;

/**
 * The low-S form of a DER ECDSA P-256 signature: (r, n - s) when s > n/2, else the same signature.
 * ECDSA accepts both (r, s) and (r, n - s), so anyone could turn one valid signature into another;
 * format 2 allows only the low one, and every signer is normalised here, KMS and local alike (KMS
 * returns either form). Throws ValidationError when `der` is not a strict DER P-256 signature.
 */
export function lowS(der: Uint8Array): Uint8Array {
  const signature = parseDerSignature(der);
  if (signature === null) {
    throw new ValidationError([{ field: 'signature', message: 'is not a DER ECDSA P-256 signature' }]);
  }
  if (!signature.hasHighS()) return der;
  return new p256.Signature(signature.r, P256_ORDER - signature.s).toBytes('der');
}

// @noble/curves (audited) parses DER strictly: minimal lengths and integers, nothing after the sequence.
function parseDerSignature(der: Uint8Array): InstanceType<typeof p256.Signature> | null {
  try {
    return p256.Signature.fromBytes(der, 'der');
  } catch {
    return null;
  }
}

/** The bytes that are signed: canonical JSON of the signed digest without `signature`. */
export function signedDigestStatement(signed: Omit<SignedDigest, 'signature'>): Uint8Array {
  const { signature: _signature, ...statement } = signed as SignedDigest;
  return canonicalBytes(statement);
}

/** The Digest inside a signed digest (what verifyChain's trustedDigest takes). */
export function digestOf(signed: SignedDigest): Digest {
  const { height, head_hash, tree_size, blocks_root, transaction_count, timestamp } = signed;
  return { height, head_hash, tree_size, blocks_root, transaction_count, timestamp };
}

/** Signs `digest` (validated first) with `signer`. */
export async function signDigest(digest: Digest, signer: DigestSigner): Promise<SignedDigest> {
  const checked = parseOrThrow(digestSchema, digest, 'digest');
  const unsigned = {
    ...checked,
    format: SIGNED_DIGEST_FORMAT,
    key_id: await signer.keyId(),
    signing_algorithm: SIGNING_ALGORITHM,
  } as const;
  const signature = lowS(await signer.sign(signedDigestStatement(unsigned)));
  return { ...unsigned, signature: Buffer.from(signature).toString('base64') };
}

export type SignatureCheck =
  | {
      valid: true;
      digest: Digest;
      key_id: string;
      /** False only for a format-1 digest whose key_id is a KMS ARN, which no public key can confirm. */
      key_bound: boolean;
    }
  | { valid: false; problem: SignedDigestProblem; reason: string };

/**
 * Checks a signed digest against a public key (SPKI PEM, or a KeyObject), in the order of
 * docs/ledger-format.md section 10.1: the shape (`malformed-digest`), that key_id names this key
 * (`key-id-mismatch`), that the signature is strict DER with a low S (`high-s-signature`), then the
 * ECDSA signature over signedDigestStatement (`bad-signature`). Never throws for a bad digest or
 * signature: those are findings, reported with the problem and the reason.
 * Throws ValidationError when `publicKey` is not a P-256 public key (a usage error, not a finding).
 */
export function verifySignedDigest(value: unknown, publicKey: string | KeyObject): SignatureCheck {
  const key = p256PublicKey(publicKey);
  const parsed = signedDigestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(digest)'}: ${i.message}`);
    return { valid: false, problem: 'malformed-digest', reason: `not a signed digest: ${issues.join('; ')}` };
  }
  const signed = parsed.data;
  const fingerprint = publicKeyFingerprint(key);
  const keyBound = signed.format === SIGNED_DIGEST_FORMAT || FINGERPRINT.test(signed.key_id);
  if (keyBound && signed.key_id !== fingerprint) {
    return {
      valid: false,
      problem: 'key-id-mismatch',
      reason: `the digest names key ${signed.key_id}, the public key given is ${fingerprint}`,
    };
  }
  const der = Buffer.from(signed.signature, 'base64');
  const signature = parseDerSignature(der);
  if (signature === null) {
    return {
      valid: false,
      problem: 'bad-signature',
      reason: 'the signature is not a DER ECDSA P-256 signature',
    };
  }
  if (signed.format === SIGNED_DIGEST_FORMAT && signature.hasHighS()) {
    return {
      valid: false,
      problem: 'high-s-signature',
      reason: 'the signature has a high S (s > n/2); format 2 accepts only the low-S form',
    };
  }
  const ok = verify('sha256', signedDigestStatement(signed), { key, dsaEncoding: 'der' }, der);
  if (!ok) {
    return {
      valid: false,
      problem: 'bad-signature',
      reason: `the signature does not verify with this public key (the digest names key ${signed.key_id})`,
    };
  }
  return { valid: true, digest: digestOf(signed), key_id: signed.key_id, key_bound: keyBound };
}

/** Parses and checks a public key: SPKI PEM (or a KeyObject) of an EC key on P-256. */
export function p256PublicKey(publicKey: string | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  } catch (error) {
    throw new ValidationError(
      [{ field: 'publicKey', message: `not a PEM public key (${(error as Error).message})` }],
      'public key',
    );
  }
  if (
    key.type !== 'public' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new ValidationError(
      [
        {
          field: 'publicKey',
          message:
            `must be an EC P-256 public key, got ${key.type} ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trimEnd(),
        },
      ],
      'public key',
    );
  }
  return key;
}

/** `sha256:<hex>` of a public key's SPKI DER: the key id of a key that has no other name. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  return `sha256:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`;
}
