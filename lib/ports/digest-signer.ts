/**
 * Signs ledger digests (lib/ledger/signed-digest.ts) with an ECDSA P-256 key whose private half the
 * caller never sees: KMS on AWS (lib/adapters/kms), a PEM file locally (lib/adapters/local-key).
 * Anyone holding the public key can then check a digest offline, without trusting whoever serves it.
 */
export interface DigestSigner {
  /**
   * What a verifier looks the public key up by, and what the signature commits to:
   * `sha256:<hex of the SPKI DER>` of the public key, for KMS and local keys alike, so that a verifier
   * can check it against the key it holds (docs/ledger-format.md section 10). Stable for the life of the key.
   */
  keyId(): Promise<string>;
  /**
   * ECDSA_SHA_256 over `message` (P-256, SHA-256 of the message): the ASN.1 DER signature
   * (RFC 3279 Ecdsa-Sig-Value), as KMS returns it and as `openssl dgst -verify` reads it.
   */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** The public key as an SPKI PEM ("-----BEGIN PUBLIC KEY-----"). */
  publicKeyPem(): Promise<string>;
}
