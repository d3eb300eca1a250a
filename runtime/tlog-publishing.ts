import { join } from 'node:path';
import { Ed25519NoteKey } from '../lib/adapters/local-key';
import { HttpWitnessClient } from '../lib/adapters/witness';
import { Checkpointer, parseWitnesses } from '../lib/engine/checkpointer';
import { storeConsistency } from '../lib/engine/tlog-tiles';
import { defaultOrigin, ecdsaNoteSigner, ecdsaVerifierKeyOf } from '../lib/ledger/checkpoint';
import type { Digest } from '../lib/ledger/types';
import type { DigestSigner } from '../lib/ports/digest-signer';
import { isMerkleLedgerStore, type LedgerStore } from '../lib/ports/ledger-store';
import type { RuntimeConfig } from '../lib/schemas/config';
import type { TlogPublishing } from './runtime';

/** The log's Ed25519 checkpoint key in data_dir (witnesses verify only Ed25519 log signatures). */
export const CHECKPOINT_KEY_FILE = 'checkpoint-ed25519.pem';

/**
 * The local runtime's transparency log: checkpoints signed by the digest key (ECDSA P-256, type 0x02)
 * and the Ed25519 key of data_dir (type 0x01), under the configured origin, submitted to the
 * configured witnesses, with consistency proofs read from the store's tiles.
 */
export async function openTlogPublishing(options: {
  config: RuntimeConfig;
  signer: DigestSigner;
  store: LedgerStore;
  digest: () => Promise<Digest>;
  log: (message: string) => void;
}): Promise<TlogPublishing> {
  const { config, signer, store, log } = options;
  const witnesses = parseWitnesses(config.witnesses);
  const origin = config.checkpoint_origin ?? defaultOrigin(await signer.keyId());
  const edKey = await Ed25519NoteKey.open(join(config.data_dir, CHECKPOINT_KEY_FILE));
  if (edKey.created) log(`created the checkpoint signing key ${edKey.path} (mode 0600)`);
  if (!isMerkleLedgerStore(store)) throw new RangeError('checkpoints need a store that keeps tiles');
  const checkpointer = new Checkpointer({
    origin,
    signers: [await ecdsaNoteSigner(origin, signer), edKey.signer(origin)],
    digest: options.digest,
    consistency: storeConsistency(store),
    witnesses,
    witnessClient: new HttpWitnessClient(),
    now: () => Date.now(),
    log,
  });
  return {
    checkpointer,
    verifierKeys: [await ecdsaVerifierKeyOf(origin, signer), edKey.verifierKey(origin)],
  };
}
