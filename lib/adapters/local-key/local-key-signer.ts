import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { p256PublicKey, publicKeyFingerprint } from '../../ledger/signed-digest';
import type { DigestSigner } from '../../ports/digest-signer';
import { keyFileError, openKeyPem } from './key-file';

/**
 * A DigestSigner on an EC P-256 private key in a PKCS#8 PEM file: the local runtime's counterpart of
 * the KMS key. The file is created on first use with mode 0600 (exclusively, so two processes starting
 * at once cannot overwrite each other's key), and a key file that group or others can read is refused,
 * as ssh refuses one. Errors name the path, never the key.
 */
export class LocalKeySigner implements DigestSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    readonly path: string,
    /** Whether this call created the key file. */
    readonly created: boolean,
  ) {}

  /** Opens the key at `path`, creating it (0600) when no file is there. */
  static async open(path: string): Promise<LocalKeySigner> {
    const { pem, created } = await openKeyPem(path, () =>
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    );
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw keyFileError(path, 'is not a PEM private key');
    }
    let publicKey: KeyObject;
    try {
      publicKey = p256PublicKey(createPublicKey(privateKey));
    } catch {
      throw keyFileError(path, 'must hold an EC P-256 private key');
    }
    return new LocalKeySigner(privateKey, publicKey, path, created);
  }

  async keyId(): Promise<string> {
    return publicKeyFingerprint(this.publicKey);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, { key: this.privateKey, dsaEncoding: 'der' });
  }

  async publicKeyPem(): Promise<string> {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
}
