import type { SignedDigest } from '../ledger/signed-digest';

/**
 * Where signed digests are kept (DIGEST# items of the ledger table on AWS). Every verification,
 * scheduled or requested, checks the chain against the latest one, so a chain rolled back or
 * rewritten past a signed head is reported even when every hash in it was recomputed; auditors read
 * the latest one (`bcs ledger digest --stack NAME --sign`).
 */
export interface SignedDigestLog {
  /** The highest digest signed so far, as stored (the caller checks it against the key), or null. */
  latest(): Promise<SignedDigest | null>;
  publish(signed: SignedDigest): Promise<void>;
}
