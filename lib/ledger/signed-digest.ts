import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
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

export const SIGNED_DIGEST_FORMAT = 'bcs-signed-digest/1';
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export interface SignedDigest extends Digest {
  format: typeof SIGNED_DIGEST_FORMAT;
  key_id: string;
  signing_algorithm: typeof SIGNING_ALGORITHM;
  /** Base64 (RFC 4648 section 4, padded) of the ASN.1 DER ECDSA signature. */
  signature: string;
}

// A DER ECDSA P-256 signature is 8 to 72 bytes: at most 96 base64 characters.
const base64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be padded base64')
  .min(12)
  .max(96);

export const signedDigestSchema = z
  .strictObject({
    ...digestSchema.shape,
    format: z.literal(SIGNED_DIGEST_FORMAT),
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
  }) satisfies z.ZodType<SignedDigest>;

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
  const signature = await signer.sign(signedDigestStatement(unsigned));
  return { ...unsigned, signature: Buffer.from(signature).toString('base64') };
}

export type SignatureCheck =
  | { valid: true; digest: Digest; key_id: string }
  | { valid: false; reason: string };

/**
 * Checks a signed digest against a public key (SPKI PEM, or a KeyObject): the shape first, then that
 * the key is an EC P-256 public key, then the ECDSA signature over signedDigestStatement. Never throws
 * for a bad digest or signature: those are findings, reported with the reason.
 * Throws ValidationError when `publicKey` is not a P-256 public key (a usage error, not a finding).
 */
export function verifySignedDigest(value: unknown, publicKey: string | KeyObject): SignatureCheck {
  const key = p256PublicKey(publicKey);
  const parsed = signedDigestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(digest)'}: ${i.message}`);
    return { valid: false, reason: `not a signed digest: ${issues.join('; ')}` };
  }
  const signed = parsed.data;
  const ok = verify(
    'sha256',
    signedDigestStatement(signed),
    { key, dsaEncoding: 'der' },
    Buffer.from(signed.signature, 'base64'),
  );
  if (!ok) {
    return {
      valid: false,
      reason: `the signature does not verify with this public key (the digest names key ${signed.key_id})`,
    };
  }
  return { valid: true, digest: digestOf(signed), key_id: signed.key_id };
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
