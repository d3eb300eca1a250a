import { createPublicKey } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import {
  ed25519RawPublicKey,
  ed25519VerifierKey,
  type NoteSigner,
  namedKeyHash,
  SIG_ED25519,
} from '../../ledger/signed-note';
import { KmsSigningError } from './kms-signer';

/**
 * The log's Ed25519 note key on AWS: a KMS key of KeySpec ECC_NIST_EDWARDS25519 signing the checkpoint
 * text with ED25519_SHA_512 (pure Ed25519, MessageType RAW; a checkpoint is far below KMS's 4 KB).
 * Witnesses verify only Ed25519 log signatures (docs/ledger-format.md section 12), so the stack creates
 * this key only when witnesses are configured.
 */
export async function kmsEd25519NoteSigner(
  client: KMSClient,
  keyRef: string,
  name: string,
): Promise<{ signer: NoteSigner; verifierKey: string }> {
  let response: GetPublicKeyCommandOutput;
  try {
    response = await client.send(new GetPublicKeyCommand({ KeyId: keyRef }));
  } catch (error) {
    throw new KmsSigningError('GetPublicKey', keyRef, error);
  }
  if (response.KeySpec !== 'ECC_NIST_EDWARDS25519' || !response.PublicKey || !response.KeyId) {
    throw new KmsSigningError(
      'GetPublicKey',
      keyRef,
      new Error(`the key is ${response.KeySpec}; ECC_NIST_EDWARDS25519 is required`),
    );
  }
  const publicKey = createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
  const keyId = response.KeyId;
  return {
    verifierKey: ed25519VerifierKey(name, publicKey),
    signer: {
      name,
      keyHash: namedKeyHash(name, SIG_ED25519, ed25519RawPublicKey(publicKey)),
      async sign(text) {
        try {
          const out = await client.send(
            new SignCommand({
              KeyId: keyId,
              Message: text,
              MessageType: 'RAW',
              SigningAlgorithm: 'ED25519_SHA_512',
            }),
          );
          if (out.Signature?.length !== 64) throw new Error('no 64-byte Ed25519 signature in the response');
          return out.Signature;
        } catch (error) {
          throw new KmsSigningError('Sign', keyId, error);
        }
      },
    },
  };
}
