import { SignedDigestFile } from '../lib/adapters/local-key/signed-digest-file';
import {
  latestTrustedDigest,
  signIntoLog,
  stampAndSign,
  type TrustedDigest,
} from '../lib/engine/trusted-digest';
import type { SignedDigest } from '../lib/ledger/signed-digest';
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
  private readonly log: SignedDigestFile | null;

  constructor(
    private readonly options: {
      signer: DigestSigner;
      digest: () => Promise<Digest>;
      clock: Clock;
      /**
       * Appended with each periodic signature (lib/adapters/local-key/signed-digest-file.ts) and read
       * back by full verifications; omitted, nothing is written and nothing is checked.
       */
      logFile?: string;
    },
  ) {
    this.log = options.logFile ? new SignedDigestFile(options.logFile) : null;
  }

  /** Signs the current digest now. */
  async sign(): Promise<SignedDigest> {
    const digest = await this.options.digest();
    return stampAndSign(digest, this.options.signer, this.options.clock);
  }

  /** The periodic run: signs and records the digest if the chain grew since the last one; null if not. */
  async signIfMoved(): Promise<SignedDigest | null> {
    const digest = await this.options.digest();
    if (digest.height <= this.lastSignedHeight) return null;
    const signed = this.log
      ? await signIntoLog(digest, { signer: this.options.signer, digests: this.log }, this.options.clock)
      : await stampAndSign(digest, this.options.signer, this.options.clock);
    this.lastSignedHeight = signed.height;
    return signed;
  }

  /**
   * The latest digest this runtime signed into its log, checked against its key (null when none yet):
   * what a full POST /ledger/verify holds the chain to, as the verify Lambda does with DIGEST# items.
   */
  trusted(): Promise<TrustedDigest | null> {
    return this.log ? latestTrustedDigest(this.log, this.options.signer) : Promise.resolve(null);
  }

  publicKeyPem(): Promise<string> {
    return this.options.signer.publicKeyPem();
  }
}
