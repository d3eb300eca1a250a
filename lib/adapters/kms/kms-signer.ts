import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import { SchedulerError } from '../../errors';
import { p256PublicKey, publicKeyFingerprint, SIGNING_ALGORITHM } from '../../ledger/signed-digest';
import type { DigestSigner } from '../../ports/digest-signer';

/** KMS refused or failed a request; the SDK error is the cause. */
export class KmsSigningError extends SchedulerError {
  override name = 'KmsSigningError';
  constructor(
    readonly operation: 'Sign' | 'GetPublicKey',
    readonly keyId: string,
    cause: unknown,
  ) {
    super(
      `KMS ${operation} on ${keyId} failed: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
      { cause },
    );
  }
}

/**
 * A DigestSigner on a KMS asymmetric key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY). The private key
 * never leaves KMS. Messages are hashed here and sent as MessageType DIGEST, so their size never meets
 * KMS's 4,096-byte limit on raw messages; KMS signs that SHA-256 as it would have hashed the message, so
 * the signature is the same ECDSA_SHA_256 over the message that openssl checks. The key id is the
 * fingerprint of the public key (`sha256:<hex of the SPKI DER>`, docs/ledger-format.md section 10), so
 * that a verifier can check it names the key it holds; `keyArn()` gives the key's ARN as GetPublicKey
 * reports it (an alias or bare key id in the configuration resolves to one name).
 */
export class KmsDigestSigner implements DigestSigner {
  private publicKey?: Promise<{ arn: string; pem: string; fingerprint: string }>;

  constructor(
    private readonly client: KMSClient,
    /** A key id, key ARN, alias name or alias ARN. */
    private readonly keyRef: string,
  ) {}

  async keyId(): Promise<string> {
    return (await this.describe()).fingerprint;
  }

  /** The key's ARN, as GetPublicKey reports it. */
  async keyArn(): Promise<string> {
    return (await this.describe()).arn;
  }

  async publicKeyPem(): Promise<string> {
    return (await this.describe()).pem;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const keyId = await this.keyArn();
    const response = await this.call('Sign', () =>
      this.client.send(
        new SignCommand({
          KeyId: keyId,
          Message: createHash('sha256').update(message).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: SIGNING_ALGORITHM,
        }),
      ),
    );
    if (!response.Signature || response.SigningAlgorithm !== SIGNING_ALGORITHM) {
      throw new KmsSigningError(
        'Sign',
        keyId,
        new Error(`no ${SIGNING_ALGORITHM} signature in the response (${response.SigningAlgorithm})`),
      );
    }
    return response.Signature;
  }

  private describe(): Promise<{ arn: string; pem: string; fingerprint: string }> {
    // One GetPublicKey per signer; a failed one is retried on the next call rather than cached.
    this.publicKey ??= this.fetchPublicKey().catch((error) => {
      this.publicKey = undefined;
      throw error;
    });
    return this.publicKey;
  }

  private async fetchPublicKey(): Promise<{ arn: string; pem: string; fingerprint: string }> {
    const response = await this.call('GetPublicKey', () =>
      this.client.send(new GetPublicKeyCommand({ KeyId: this.keyRef })),
    );
    const fail = (message: string) => new KmsSigningError('GetPublicKey', this.keyRef, new Error(message));
    if (response.KeyUsage !== 'SIGN_VERIFY' || response.KeySpec !== 'ECC_NIST_P256') {
      throw fail(
        `the key is ${response.KeySpec} for ${response.KeyUsage}; ECC_NIST_P256 for SIGN_VERIFY is required`,
      );
    }
    if (!response.SigningAlgorithms?.includes(SIGNING_ALGORITHM)) {
      throw fail(`the key does not offer ${SIGNING_ALGORITHM}`);
    }
    if (!response.PublicKey || !response.KeyId) throw fail('no public key or key id in the response');
    const key = p256PublicKey(
      createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' }),
    );
    return {
      arn: response.KeyId,
      pem: key.export({ type: 'spki', format: 'pem' }).toString(),
      fingerprint: publicKeyFingerprint(key),
    };
  }

  private async call<T>(operation: 'Sign' | 'GetPublicKey', send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof KMSServiceException) throw new KmsSigningError(operation, this.keyRef, error);
      throw error;
    }
  }
}
