export { Ed25519NoteKey } from './ed25519-note-key';
export { LocalKeySigner } from './local-key-signer';
