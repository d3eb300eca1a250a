import { type SignedDigest, signDigest, verifySignedDigest } from '../ledger/signed-digest';
import { toTimestamp } from '../ledger/time';
import type { Digest } from '../ledger/types';
import type { Clock } from '../ports/clock';
import type { DigestSigner } from '../ports/digest-signer';
import type { SignedDigestLog } from '../ports/signed-digest-log';

/** The digest a verification holds the chain to, or why the latest signed one cannot be trusted. */
export type TrustedDigest = { digest: Digest } | { problem: string };

/**
 * The latest signed digest of `log`, checked against the signing key: null when none was signed yet;
 * a forged or altered one, or one signed by another key, is a finding. Both runtimes' verifications
 * (the verify Lambda, the local POST /ledger/verify) check the chain against it, so a chain rolled
 * back or rewritten past a signed head is reported even with every hash recomputed.
 */
export async function latestTrustedDigest(
  log: SignedDigestLog,
  signer: DigestSigner,
): Promise<TrustedDigest | null> {
  const latest = await log.latest();
  if (!latest) return null;
  const check = verifySignedDigest(latest, await signer.publicKeyPem());
  if (!check.valid)
    return {
      problem: `the latest signed digest (height ${latest.height}) is not genuine: ${check.reason}`,
    };
  // A format-1 digest may name the key by its ARN, which the signature check cannot bind.
  if (check.key_bound && check.key_id !== (await signer.keyId())) {
    return { problem: `the latest signed digest names key ${check.key_id}, not the signing key` };
  }
  return { digest: check.digest };
}

/** Stamps `digest` with the time now and signs it: a signed digest says when it was vouched for. */
export function stampAndSign(digest: Digest, signer: DigestSigner, clock: Clock): Promise<SignedDigest> {
  return signDigest({ ...digest, timestamp: toTimestamp(clock.now()) }, signer);
}

/** stampAndSign, then appended to the signed-digest log later verifications hold the chain to. */
export async function signIntoLog(
  digest: Digest,
  signing: { signer: DigestSigner; digests: SignedDigestLog },
  clock: Clock,
): Promise<SignedDigest> {
  const signed = await stampAndSign(digest, signing.signer, clock);
  await signing.digests.publish(signed);
  return signed;
}
