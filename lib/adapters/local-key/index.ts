export { LocalKeySigner } from './local-key-signer';
