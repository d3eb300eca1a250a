import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  ed25519RawPublicKey,
  ed25519VerifierKey,
  type NoteSigner,
  namedKeyHash,
  SIG_ED25519,
} from '../../ledger/signed-note';
import { keyFileError, openKeyPem } from './key-file';

/**
 * The log's Ed25519 checkpoint key in a PKCS#8 PEM file (created 0600 on first use): the signed-note
 * type 0x01 signature that witnesses verify (litewitness and the public witness network accept only
 * Ed25519 log keys; docs/ledger-format.md section 12). The ECDSA P-256 digest key signs checkpoints too.
 */
export class Ed25519NoteKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    readonly path: string,
    readonly created: boolean,
  ) {}

  static async open(path: string): Promise<Ed25519NoteKey> {
    const { pem, created } = await openKeyPem(path, () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw keyFileError(path, 'is not a PEM private key', 'checkpoint signing key');
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw keyFileError(path, 'must hold an Ed25519 private key', 'checkpoint signing key');
    }
    return new Ed25519NoteKey(privateKey, createPublicKey(privateKey), path, created);
  }

  /** The note signer under `name` (the checkpoint origin). */
  signer(name: string): NoteSigner {
    return {
      name,
      keyHash: namedKeyHash(name, SIG_ED25519, ed25519RawPublicKey(this.publicKey)),
      sign: async (text) => new Uint8Array(sign(null, text, this.privateKey)),
    };
  }

  verifierKey(name: string): string {
    return ed25519VerifierKey(name, this.publicKey);
  }
}
