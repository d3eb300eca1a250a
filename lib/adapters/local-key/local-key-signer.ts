import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ValidationError } from '../../errors';
import { p256PublicKey, publicKeyFingerprint } from '../../ledger/signed-digest';
import type { DigestSigner } from '../../ports/digest-signer';

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
    let created = false;
    let pem: string;
    try {
      pem = await readKeyFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      try {
        await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
        created = true;
      } catch (writeError) {
        // Another process created it between our read and our write: use theirs.
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
        pem = await readKeyFile(path);
      }
    }
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

async function readKeyFile(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isFile()) throw keyFileError(path, 'is not a regular file');
  // Group or other permission bits: the private key would be readable by other users.
  if ((info.mode & 0o077) !== 0) {
    throw keyFileError(
      path,
      `is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600`,
    );
  }
  return readFile(path, 'utf8');
}

function keyFileError(path: string, message: string): ValidationError {
  return new ValidationError([{ field: 'keyFile', message: `${path} ${message}` }], 'digest signing key');
}
