import { appendFile } from 'node:fs/promises';
import { type SignedDigest, signDigest } from '../lib/ledger/signed-digest';
import { toTimestamp } from '../lib/ledger/time';
import type { Digest } from '../lib/ledger/types';
import type { Clock } from '../lib/ports/clock';
import type { DigestSigner } from '../lib/ports/digest-signer';

/**
 * The local runtime's counterpart of the verify function's scheduled signing: on an interval, when the
 * head has moved, the current digest is signed with the data directory's key and appended to
 * signed-digests.jsonl (one signed digest per line, for auditors); GET /ledger/digest?signed=1 signs
 * on request. Digests are stamped with the signing time.
 */
export class DigestSigning {
  private lastSignedHeight = -1;

  constructor(
    private readonly options: {
      signer: DigestSigner;
      digest: () => Promise<Digest>;
      clock: Clock;
      /** Appended with each periodic signature; omitted, nothing is written. */
      logFile?: string;
    },
  ) {}

  /** Signs the current digest now. */
  async sign(): Promise<SignedDigest> {
    const digest = await this.options.digest();
    return signDigest({ ...digest, timestamp: toTimestamp(this.options.clock.now()) }, this.options.signer);
  }

  /** The periodic run: signs and records the digest if the chain grew since the last one; null if not. */
  async signIfMoved(): Promise<SignedDigest | null> {
    const digest = await this.options.digest();
    if (digest.height <= this.lastSignedHeight) return null;
    const signed = await signDigest(
      { ...digest, timestamp: toTimestamp(this.options.clock.now()) },
      this.options.signer,
    );
    if (this.options.logFile)
      await appendFile(this.options.logFile, `${JSON.stringify(signed)}\n`, { mode: 0o644 });
    this.lastSignedHeight = signed.height;
    return signed;
  }

  publicKeyPem(): Promise<string> {
    return this.options.signer.publicKeyPem();
  }
}
