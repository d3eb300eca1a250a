import type { SignedDigest } from '../ledger/signed-digest';

/**
 * Where signed digests are kept (DIGEST# items on AWS). Every run, scheduled or requested, checks the
 * chain against the latest one, so a chain rolled back or rewritten past a signed head is reported even
 * when every hash in it was recomputed.
 */
export interface SignedDigestLog {
  latest(): Promise<SignedDigest | null>;
  publish(signed: SignedDigest): Promise<void>;
}
