export { kmsEd25519NoteSigner } from './kms-ed25519-note-signer';
export { KmsDigestSigner, KmsSigningError } from './kms-signer';
