/** Where the local runtime keeps its signing key and the digests it signed, inside data_dir. */
export const DIGEST_KEY_FILE = 'digest-key.pem';
export const SIGNED_DIGESTS_FILE = 'signed-digests.jsonl';
