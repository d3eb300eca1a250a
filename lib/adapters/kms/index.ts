export { KmsDigestSigner, KmsSigningError } from './kms-signer';
